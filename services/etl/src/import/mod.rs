//! `etl import`: the analyst's own CSV exports (one file per table, named after it), checked
//! row by row and loaded in one transaction. A file with bad rows is rejected as a whole with
//! a report naming each bad row, unless `skip_invalid`, which loads the good rows and writes
//! the report beside the input. Customers and titles are upserted on their keys, the facts
//! inserted once per natural key: importing the same files twice changes nothing the second
//! time.

pub mod file;
mod load;
pub mod spec;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use diesel::Connection as _;
use models::db::{DatabaseUrl, DbError, connect_sync};

use file::ParsedFile;
pub use spec::ImportTable;

/// A row that cannot be loaded, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub file: String,
    /// The line in the file (the header is line 1).
    pub line: u64,
    pub column: Option<String>,
    pub reason: String,
}

impl RowError {
    pub fn new(file: &str, line: u64, column: Option<&str>, reason: String) -> RowError {
        RowError {
            file: file.to_owned(),
            line,
            column: column.map(str::to_owned),
            reason,
        }
    }
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.column {
            Some(column) => write!(
                f,
                "{} line {}: {column} {}",
                self.file, self.line, self.reason
            ),
            None => write!(f, "{} line {}: {}", self.file, self.line, self.reason),
        }
    }
}

/// What happened to one file's rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableOutcome {
    pub table: &'static str,
    pub inserted: u64,
    pub updated: u64,
    /// Already there, as they are in the file.
    pub unchanged: u64,
    pub invalid: u64,
}

#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    pub tables: Vec<TableOutcome>,
    pub errors: Vec<RowError>,
    /// With `skip_invalid`, the report files written beside the inputs.
    pub report_files: Vec<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// A file that cannot be read, has a wrong header or is not UTF-8.
    #[error("{0}")]
    File(String),
    #[error("{} bad row(s); nothing was loaded:\n{}", .0.errors.len(), summarise(&.0.errors))]
    Rejected(ImportReport),
    #[error(transparent)]
    Connect(#[from] DbError),
    #[error("the import failed, nothing was loaded: {0}")]
    Database(#[from] diesel::result::Error),
}

/// At most this many bad rows are listed in a message; the report file has them all.
const LISTED_ERRORS: usize = 50;

fn summarise(errors: &[RowError]) -> String {
    let mut lines: Vec<String> = errors
        .iter()
        .take(LISTED_ERRORS)
        .map(|error| format!("  {error}"))
        .collect();
    if errors.len() > LISTED_ERRORS {
        lines.push(format!("  ... and {} more", errors.len() - LISTED_ERRORS));
    }
    lines.join("\n")
}

/// The files to import: each path is a CSV file named after its table, or a folder of them.
pub fn collect_files(paths: &[PathBuf]) -> Result<BTreeMap<ImportTable, PathBuf>, ImportError> {
    let mut files = BTreeMap::new();
    let mut add = |path: &Path| -> Result<(), ImportError> {
        let stem = path
            .file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
            .unwrap_or_default();
        let table = ImportTable::from_name(&stem).ok_or_else(|| {
            let names: Vec<&str> = ImportTable::ALL.iter().map(|table| table.name()).collect();
            ImportError::File(format!(
                "{}: the file name must be a table's: {}.csv",
                path.display(),
                names.join(".csv, ")
            ))
        })?;
        if files.insert(table, path.to_owned()).is_some() {
            return Err(ImportError::File(format!("two files for {}", table.name())));
        }
        Ok(())
    };
    for path in paths {
        if path.is_dir() {
            let entries = std::fs::read_dir(path)
                .map_err(|error| ImportError::File(format!("{}: {error}", path.display())))?;
            let mut csvs: Vec<PathBuf> = entries
                .flatten()
                .map(|entry| entry.path())
                .filter(|path| path.extension().is_some_and(|extension| extension == "csv"))
                .filter(|path| !path.to_string_lossy().ends_with(".errors.csv"))
                .collect();
            csvs.sort();
            for csv in csvs {
                add(&csv)?;
            }
        } else {
            add(path)?;
        }
    }
    if files.is_empty() {
        return Err(ImportError::File("no CSV files to import".to_owned()));
    }
    Ok(files)
}

/// Imports the files at `paths` into the database at `url`.
pub fn import(
    url: &DatabaseUrl,
    paths: &[PathBuf],
    skip_invalid: bool,
) -> Result<ImportReport, ImportError> {
    let files = collect_files(paths)?;
    let mut parsed: Vec<ParsedFile> = Vec::new();
    let mut errors = Vec::new();
    for (table, path) in &files {
        let (file, file_errors) = file::read(path, *table)?;
        parsed.push(file);
        errors.extend(file_errors);
    }
    let mut connection = connect_sync(url)?;
    let outcome = connection.transaction(|connection| {
        let mut report = ImportReport::default();
        for file in &parsed {
            let mut file_errors: Vec<RowError> = errors
                .iter()
                .filter(|error| error.file == file.file_name())
                .cloned()
                .collect();
            let outcome = load::load(connection, file, &mut file_errors)?;
            report.tables.push(TableOutcome {
                invalid: file_errors.len() as u64,
                ..outcome
            });
            report.errors.extend(file_errors);
        }
        report
            .errors
            .sort_by(|a, b| (a.file.as_str(), a.line).cmp(&(b.file.as_str(), b.line)));
        if !report.errors.is_empty() && !skip_invalid {
            return Err(ImportError::Rejected(report));
        }
        Ok(report)
    })?;
    let mut report = outcome;
    if skip_invalid {
        report.report_files = write_reports(&parsed, &report.errors)?;
    }
    Ok(report)
}

/// `<input>.errors.csv` beside each input that had bad rows: line, column, reason.
fn write_reports(files: &[ParsedFile], errors: &[RowError]) -> Result<Vec<PathBuf>, ImportError> {
    let mut written = Vec::new();
    for file in files {
        let own: Vec<&RowError> = errors
            .iter()
            .filter(|error| error.file == file.file_name())
            .collect();
        if own.is_empty() {
            continue;
        }
        let path = file.path.with_extension("errors.csv");
        let mut writer = csv::Writer::from_path(&path).map_err(|error| {
            ImportError::File(format!("cannot write {}: {error}", path.display()))
        })?;
        let write_error = |error: csv::Error| {
            ImportError::File(format!("cannot write {}: {error}", path.display()))
        };
        writer
            .write_record(["line", "column", "reason"])
            .map_err(write_error)?;
        for error in own {
            writer
                .write_record([
                    error.line.to_string().as_str(),
                    error.column.as_deref().unwrap_or(""),
                    error.reason.as_str(),
                ])
                .map_err(write_error)?;
        }
        writer.flush().map_err(|error| {
            ImportError::File(format!("cannot write {}: {error}", path.display()))
        })?;
        written.push(path);
    }
    Ok(written)
}
