//! What an analysis reads: one aggregate over the experiment's assignments, by arm, for the
//! whole experiment and for each breakdown (segment, age band, region, device). Every
//! assigned customer counts (intention to treat), the holdout included.

use diesel::RunQueryDsl as _;
use diesel::pg::PgConnection;
use diesel::sql_types::{BigInt, Double, Integer, Nullable, Text};
use serde::Serialize;

/// The aggregate. `$1` is the experiment, `$2` the attribution window in days. Customers
/// assigned in the winner phase all got the winning variant, not a random one: they are left
/// out of the comparison. Delivered: sent and not bounced. Opens and clicks: unique per
/// recipient, machines and scanners left out (each message keeps its first human open and
/// click, see migration 000012).
/// A conversion counts when it falls within the window after the customer's assignment. The
/// segment is the customer's when assigned (recorded on the assignment), never one measured
/// after the e-mail.
const CELLS_SQL: &str = "\
WITH outcome AS (
    SELECT a.customer_id, sum(c.revenue_cents) / 100.0 AS revenue
    FROM assignments a
    JOIN conversions c ON c.customer_id = a.customer_id
     AND c.occurred_at >= a.assigned_at
     AND c.occurred_at < a.assigned_at + make_interval(days => $2)
    WHERE a.experiment_id = $1 AND a.phase <> 'winner'
    GROUP BY a.customer_id
), units AS (
    SELECT a.variant_id,
           (m.status = 'sent' AND m.bounced_at IS NULL) AS delivered,
           m.opened_at IS NOT NULL AS opened,
           m.clicked_at IS NOT NULL AS clicked,
           o.customer_id IS NOT NULL AS converted,
           coalesce(o.revenue, 0)::float8 AS revenue,
           coalesce(s.name, '(not recorded)') AS segment,
           coalesce(cu.age_band, '(unknown)') AS age_band,
           coalesce(cu.region, '(unknown)') AS region,
           coalesce(cu.device, '(unknown)') AS device
    FROM assignments a
    JOIN customers cu ON cu.id = a.customer_id
    LEFT JOIN messages m ON m.experiment_id = a.experiment_id AND m.customer_id = a.customer_id
    LEFT JOIN outcome o ON o.customer_id = a.customer_id
    LEFT JOIN segments s ON s.id = a.segment_id
    WHERE a.experiment_id = $1 AND a.phase <> 'winner'
), cells AS (
    -- One row per arm and combination of the breakdowns first (hundreds, not a million):
    -- the grouping sets below then add up counts.
    SELECT variant_id, segment, age_band, region, device,
           count(*) AS assigned,
           count(*) FILTER (WHERE delivered) AS delivered,
           count(*) FILTER (WHERE opened) AS opened,
           count(*) FILTER (WHERE clicked) AS clicked,
           count(*) FILTER (WHERE converted) AS converted,
           sum(revenue) AS revenue_sum,
           sum(revenue * revenue) AS revenue_sum_squares
    FROM units
    GROUP BY variant_id, segment, age_band, region, device
)
SELECT variant_id,
       CASE WHEN grouping(segment) = 0 THEN 'segment'
            WHEN grouping(age_band) = 0 THEN 'age_band'
            WHEN grouping(region) = 0 THEN 'region'
            WHEN grouping(device) = 0 THEN 'device'
            ELSE 'all' END AS dimension,
       coalesce(CASE WHEN grouping(segment) = 0 THEN segment
                     WHEN grouping(age_band) = 0 THEN age_band
                     WHEN grouping(region) = 0 THEN region
                     WHEN grouping(device) = 0 THEN device END, '') AS value,
       sum(assigned)::bigint AS assigned,
       sum(delivered)::bigint AS delivered,
       sum(opened)::bigint AS opened,
       sum(clicked)::bigint AS clicked,
       sum(converted)::bigint AS converted,
       sum(revenue_sum) AS revenue_sum,
       sum(revenue_sum_squares) AS revenue_sum_squares
FROM cells
GROUP BY GROUPING SETS ((variant_id), (variant_id, segment), (variant_id, age_band),
                        (variant_id, region), (variant_id, device))";

/// One arm's counts in one group (`dimension` `all` for the whole experiment).
#[derive(Debug, Clone, PartialEq, Serialize, diesel::QueryableByName)]
pub struct Cell {
    /// `None` for the holdout.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub variant_id: Option<i64>,
    #[diesel(sql_type = Text)]
    pub dimension: String,
    #[diesel(sql_type = Text)]
    pub value: String,
    #[diesel(sql_type = BigInt)]
    pub assigned: i64,
    #[diesel(sql_type = BigInt)]
    pub delivered: i64,
    #[diesel(sql_type = BigInt)]
    pub opened: i64,
    #[diesel(sql_type = BigInt)]
    pub clicked: i64,
    #[diesel(sql_type = BigInt)]
    pub converted: i64,
    #[diesel(sql_type = Double)]
    pub revenue_sum: f64,
    #[diesel(sql_type = Double)]
    pub revenue_sum_squares: f64,
}

pub fn cells(
    connection: &mut PgConnection,
    experiment_id: i64,
    attribution_window_days: i32,
) -> diesel::QueryResult<Vec<Cell>> {
    use diesel::Connection as _;
    connection.transaction(|connection| {
        // The defaults price parallel workers for small queries; this one reads every
        // recipient's rows, where two workers pay for themselves.
        diesel::sql_query("SET LOCAL parallel_setup_cost = 10").execute(connection)?;
        diesel::sql_query("SET LOCAL parallel_tuple_cost = 0.001").execute(connection)?;
        diesel::sql_query(CELLS_SQL)
            .bind::<BigInt, _>(experiment_id)
            .bind::<Integer, _>(attribution_window_days)
            .load(connection)
    })
}
