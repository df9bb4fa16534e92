//! The loader: worker threads generate a table's rows customer by customer, in chunks;
//! the connection's thread streams them, in customer order, into one COPY. Memory stays
//! flat: each worker holds at most one chunk in flight.

use std::io::Write as _;
use std::sync::mpsc::sync_channel;
use std::time::Instant;

use diesel::pg::{CopyFormat, CopyTarget, PgConnection};
use diesel::{ExecuteCopyFromDsl as _, Table};
use indicatif::ProgressBar;

use super::world::World;

/// Customers per chunk handed to a worker.
const CHUNK: u64 = 2_000;

/// Appends the rows of one customer to a buffer; returns how many.
pub type RowsOf = fn(&World, u64, &mut Vec<u8>) -> u64;

pub use service::worker::Progress;

/// What loading one table took.
#[derive(Debug, Clone)]
pub struct TableLoad {
    pub table: &'static str,
    pub rows: u64,
    pub seconds: f64,
}

impl TableLoad {
    pub fn rows_per_second(&self) -> f64 {
        if self.seconds > 0.0 {
            self.rows as f64 / self.seconds
        } else {
            0.0
        }
    }
}

/// Where a table's rows come from.
pub struct CustomerRows {
    pub name: &'static str,
    pub rows_of: RowsOf,
    /// The rows come without their first column (the id) and the loader numbers them 1, 2, ...
    pub numbered: bool,
}

/// Copies the rows `source` gives for every customer into `columns` of `table`.
pub fn copy_customer_rows<T, C>(
    connection: &mut PgConnection,
    table: T,
    columns: C,
    source: CustomerRows,
    world: &World,
    bar: &ProgressBar,
    progress: &Progress,
) -> Result<TableLoad, diesel::result::Error>
where
    T: Table,
    C: CopyTarget<Table = T>,
{
    let started = Instant::now();
    let CustomerRows {
        name,
        rows_of,
        numbered,
    } = source;
    let customers = world.scenario.customers;
    let chunks = customers.div_ceil(CHUNK);
    let workers = std::thread::available_parallelism()
        .map(|count| count.get())
        .unwrap_or(2)
        .clamp(1, 8) as u64;
    bar.set_length(customers);
    bar.set_position(0);
    let rows = std::cell::Cell::new(0_u64);
    std::thread::scope(|scope| {
        let mut receivers = Vec::new();
        for worker in 0..workers {
            let (sender, receiver) = sync_channel::<(Vec<u8>, u64, u64)>(1);
            receivers.push(receiver);
            scope.spawn(move || {
                let mut chunk = worker;
                while chunk < chunks {
                    let first = chunk * CHUNK + 1;
                    let last = ((chunk + 1) * CHUNK).min(customers);
                    let mut buffer = Vec::with_capacity(64 * 1024);
                    let mut count = 0;
                    for id in first..=last {
                        count += rows_of(world, id, &mut buffer);
                    }
                    // The loader stopped (an error): nothing more to do.
                    if sender.send((buffer, count, last - first + 1)).is_err() {
                        return;
                    }
                    chunk += workers;
                }
            });
        }
        let outcome = diesel::copy_from(table)
            .from_raw_data(columns, |copy| -> Result<(), diesel::result::Error> {
                let mut numbered_buffer = Vec::new();
                for chunk in 0..chunks {
                    let (buffer, count, customers_in_chunk) =
                        receivers[(chunk % workers) as usize].recv().map_err(|_| {
                            diesel::result::Error::QueryBuilderError(
                                "a generator thread stopped".into(),
                            )
                        })?;
                    let write = if numbered {
                        numbered_buffer.clear();
                        let lines = buffer.split_inclusive(|byte| *byte == b'\n');
                        for (id, line) in (rows.get() + 1..).zip(lines) {
                            let _ = write!(numbered_buffer, "{id}\t");
                            numbered_buffer.extend_from_slice(line);
                        }
                        copy.write_all(&numbered_buffer)
                    } else {
                        copy.write_all(&buffer)
                    };
                    write
                        .map_err(|error| diesel::result::Error::QueryBuilderError(error.into()))?;
                    rows.set(rows.get() + count);
                    bar.inc(customers_in_chunk);
                    progress.advance(customers_in_chunk);
                }
                Ok(())
            })
            .with_format(CopyFormat::Text)
            .execute(connection);
        // Dropping the receivers stops the workers if the copy failed half-way.
        drop(receivers);
        outcome
    })?;
    let load = TableLoad {
        table: name,
        rows: rows.get(),
        seconds: started.elapsed().as_secs_f64(),
    };
    bar.finish_with_message(format!(
        "{} rows, {:.0} rows/s",
        load.rows,
        load.rows_per_second()
    ));
    Ok(load)
}
