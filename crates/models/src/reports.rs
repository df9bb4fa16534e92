//! The dashboard's overview: the business at a glance, computed from the whole data set.
//!
//! The series end at the latest data loaded (or today, if that is earlier), so that an import
//! of last year's exports shows last year rather than empty weeks.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Months of churn and weeks of activity in the overview.
pub const MONTHS: i32 = 12;
pub const WEEKS: i32 = 26;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Overview {
    /// When the figures were computed.
    pub computed_at: DateTime<Utc>,
    /// The end of the series: the latest sign-up or viewing session, or now if earlier.
    pub as_of: DateTime<Utc>,
    pub customers: i64,
    /// Customers with a paying (`active`) subscription.
    pub active_subscribers: i64,
    /// Monthly recurring revenue: the monthly prices of active subscriptions, summed, in cents.
    pub mrr_cents: i64,
    /// The last complete months before `as_of`.
    pub monthly_churn: Vec<MonthlyChurn>,
    /// The last complete weeks (Monday to Sunday) before `as_of`'s week.
    pub weekly: Vec<WeeklyActivity>,
    /// The segments of the latest succeeded segmentation run.
    pub segment_mix: Vec<SegmentCount>,
    /// The id of that run, if any.
    pub segmentation_run_id: Option<i64>,
    /// Experiments running or paused.
    pub running_experiments: Vec<RunningExperiment>,
}

/// Churn in one month: subscriptions active at its start that churned in it, over those
/// active at its start (trials excluded).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MonthlyChurn {
    /// The month's first day.
    pub month: NaiveDate,
    pub active_at_start: i64,
    pub churned: i64,
    /// `churned / active_at_start`; absent when nothing was active.
    pub rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WeeklyActivity {
    /// The week's Monday.
    pub week: NaiveDate,
    /// Customers who watched anything that week.
    pub active_users: i64,
    pub signups: i64,
    /// Subscriptions that churned that week.
    pub churned: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SegmentCount {
    pub segment_id: i64,
    pub segment: String,
    pub customers: i64,
    pub share: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RunningExperiment {
    pub id: i64,
    pub name: String,
    pub status: String,
    pub phase: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub assigned: i64,
    pub sent: i64,
}

#[cfg(feature = "db")]
pub use compute::{latest_overview, overview, overview_or_first, refresh_overview};

#[cfg(feature = "db")]
mod compute {
    use chrono::{DateTime, NaiveDate, Utc};
    use diesel::sql_types::{BigInt, Date, Double, Integer, Nullable, Text, Timestamptz};
    use diesel::{QueryableByName, sql_query};
    use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl as _};

    use super::{
        MONTHS, MonthlyChurn, Overview, RunningExperiment, SegmentCount, WEEKS, WeeklyActivity,
    };

    #[derive(QueryableByName)]
    struct Totals {
        #[diesel(sql_type = Timestamptz)]
        as_of: DateTime<Utc>,
        #[diesel(sql_type = BigInt)]
        customers: i64,
        #[diesel(sql_type = BigInt)]
        active_subscribers: i64,
        #[diesel(sql_type = BigInt)]
        mrr_cents: i64,
    }

    #[derive(QueryableByName)]
    struct ChurnRow {
        #[diesel(sql_type = Date)]
        month: NaiveDate,
        #[diesel(sql_type = BigInt)]
        active_at_start: i64,
        #[diesel(sql_type = BigInt)]
        churned: i64,
    }

    #[derive(QueryableByName)]
    struct WeekRow {
        #[diesel(sql_type = Date)]
        week: NaiveDate,
        #[diesel(sql_type = BigInt)]
        active_users: i64,
        #[diesel(sql_type = BigInt)]
        signups: i64,
        #[diesel(sql_type = BigInt)]
        churned: i64,
    }

    #[derive(QueryableByName)]
    struct SegmentRow {
        #[diesel(sql_type = BigInt)]
        run_id: i64,
        #[diesel(sql_type = BigInt)]
        segment_id: i64,
        #[diesel(sql_type = Text)]
        segment: String,
        #[diesel(sql_type = BigInt)]
        customers: i64,
        #[diesel(sql_type = Double)]
        share: f64,
    }

    #[derive(QueryableByName)]
    struct ExperimentRow {
        #[diesel(sql_type = BigInt)]
        id: i64,
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = Text)]
        status: String,
        #[diesel(sql_type = Nullable<Text>)]
        phase: Option<String>,
        #[diesel(sql_type = Nullable<Timestamptz>)]
        started_at: Option<DateTime<Utc>>,
        #[diesel(sql_type = BigInt)]
        assigned: i64,
        #[diesel(sql_type = BigInt)]
        sent: i64,
    }

    /// Computes the overview (a few seconds on a million customers).
    pub async fn overview(
        connection: &mut AsyncPgConnection,
    ) -> Result<Overview, diesel::result::Error> {
        let totals: Totals = sql_query(
            "SELECT least(now(), greatest(
                        (SELECT max(signup_at) FROM customers),
                        (SELECT max(started_at) FROM watch_sessions)))
                        AS as_of,
                    (SELECT count(*) FROM customers) AS customers,
                    count(DISTINCT s.customer_id) AS active_subscribers,
                    coalesce(sum(p.monthly_price_cents), 0)::bigint AS mrr_cents
             FROM subscriptions s JOIN plans p ON p.id = s.plan_id
             WHERE s.status = 'active'",
        )
        .get_result(connection)
        .await?;
        // An empty database has no as_of from its data: now.
        let as_of = totals.as_of;
        let churn: Vec<ChurnRow> = sql_query(
            "WITH months AS (
                 SELECT generate_series(date_trunc('month', $1) - make_interval(months => $2),
                                        date_trunc('month', $1) - interval '1 month',
                                        interval '1 month') AS start
             )
             SELECT m.start::date AS month,
                    count(s.id) AS active_at_start,
                    count(s.id) FILTER (WHERE s.churned_at >= m.start
                                          AND s.churned_at < m.start + interval '1 month') AS churned
             FROM months m
             LEFT JOIN subscriptions s
                    ON s.started_at < m.start AND (s.ended_at IS NULL OR s.ended_at >= m.start)
                   AND s.status <> 'trial'
             GROUP BY m.start ORDER BY m.start",
        )
        .bind::<Timestamptz, _>(as_of)
        .bind::<Integer, _>(MONTHS)
        .load(connection)
        .await?;
        let weeks: Vec<WeekRow> = sql_query(
            "WITH weeks AS (
                 SELECT generate_series(date_trunc('week', $1) - make_interval(weeks => $2),
                                        date_trunc('week', $1) - interval '1 week',
                                        interval '1 week') AS start
             ),
             span AS (SELECT min(start) AS first, max(start) + interval '1 week' AS last FROM weeks),
             viewers AS (
                 SELECT date_trunc('week', w.started_at) AS start, count(DISTINCT w.customer_id) AS n
                 FROM watch_sessions w, span
                 WHERE w.started_at >= span.first AND w.started_at < span.last
                 GROUP BY 1
             ),
             signups AS (
                 SELECT date_trunc('week', c.signup_at) AS start, count(*) AS n
                 FROM customers c, span
                 WHERE c.signup_at >= span.first AND c.signup_at < span.last
                 GROUP BY 1
             ),
             churn AS (
                 SELECT date_trunc('week', s.churned_at) AS start, count(*) AS n
                 FROM subscriptions s, span
                 WHERE s.churned_at >= span.first AND s.churned_at < span.last
                 GROUP BY 1
             )
             SELECT weeks.start::date AS week,
                    coalesce(viewers.n, 0) AS active_users,
                    coalesce(signups.n, 0) AS signups,
                    coalesce(churn.n, 0) AS churned
             FROM weeks
             LEFT JOIN viewers ON viewers.start = weeks.start
             LEFT JOIN signups ON signups.start = weeks.start
             LEFT JOIN churn ON churn.start = weeks.start
             ORDER BY weeks.start",
        )
        .bind::<Timestamptz, _>(as_of)
        .bind::<Integer, _>(WEEKS)
        .load(connection)
        .await?;
        let segments: Vec<SegmentRow> = sql_query(
            "WITH latest AS (SELECT max(id) AS run_id FROM segmentation_runs WHERE status = 'succeeded')
             SELECT latest.run_id, s.id AS segment_id, s.name AS segment, count(*) AS customers,
                    count(*)::float8 / sum(count(*)) OVER () AS share
             FROM latest
             JOIN segment_memberships m ON m.run_id = latest.run_id
             JOIN segments s ON s.id = m.segment_id
             GROUP BY latest.run_id, s.id, s.name, s.sort_order
             ORDER BY s.sort_order",
        )
        .load(connection)
        .await?;
        let experiments: Vec<ExperimentRow> = sql_query(
            "SELECT e.id, e.name, e.status, e.phase, e.started_at,
                    (SELECT count(*) FROM assignments a WHERE a.experiment_id = e.id) AS assigned,
                    (SELECT count(*) FROM messages m WHERE m.experiment_id = e.id AND m.status = 'sent') AS sent
             FROM experiments e WHERE e.status IN ('running', 'paused')
             ORDER BY e.started_at DESC NULLS LAST, e.id DESC",
        )
        .load(connection)
        .await?;
        Ok(Overview {
            computed_at: Utc::now(),
            as_of,
            customers: totals.customers,
            active_subscribers: totals.active_subscribers,
            mrr_cents: totals.mrr_cents,
            monthly_churn: churn
                .into_iter()
                .map(|row| MonthlyChurn {
                    month: row.month,
                    active_at_start: row.active_at_start,
                    churned: row.churned,
                    rate: (row.active_at_start > 0)
                        .then(|| row.churned as f64 / row.active_at_start as f64),
                })
                .collect(),
            weekly: weeks
                .into_iter()
                .map(|row| WeeklyActivity {
                    week: row.week,
                    active_users: row.active_users,
                    signups: row.signups,
                    churned: row.churned,
                })
                .collect(),
            segmentation_run_id: segments.as_slice().first().map(|row| row.run_id),
            segment_mix: segments
                .into_iter()
                .map(|row| SegmentCount {
                    segment_id: row.segment_id,
                    segment: row.segment,
                    customers: row.customers,
                    share: row.share,
                })
                .collect(),
            running_experiments: experiments
                .into_iter()
                .map(|row| RunningExperiment {
                    id: row.id,
                    name: row.name,
                    status: row.status,
                    phase: row.phase,
                    started_at: row.started_at,
                    assigned: row.assigned,
                    sent: row.sent,
                })
                .collect(),
        })
    }

    #[derive(QueryableByName)]
    struct Snapshot {
        #[diesel(sql_type = diesel::sql_types::Jsonb)]
        data: serde_json::Value,
    }

    /// Stores `overview` as the snapshot, in place of the ones before it (only the newest is
    /// ever read).
    async fn store_overview(
        connection: &mut AsyncPgConnection,
        overview: &Overview,
        job_id: Option<i64>,
        duration_ms: i32,
    ) -> Result<(), diesel::result::Error> {
        let data = serde_json::to_value(overview)
            .map_err(|error| diesel::result::Error::SerializationError(Box::new(error)))?;
        sql_query(
            "WITH stored AS (
                 INSERT INTO report_snapshots (kind, job_id, duration_ms, data)
                 VALUES ('overview', $1, $2, $3) RETURNING id
             )
             DELETE FROM report_snapshots
             WHERE kind = 'overview' AND id < (SELECT id FROM stored)",
        )
        .bind::<Nullable<BigInt>, _>(job_id)
        .bind::<Integer, _>(duration_ms)
        .bind::<diesel::sql_types::Jsonb, _>(data)
        .execute(connection)
        .await
        .map(|_| ())
    }

    /// Computes the overview and stores it, one computation at a time across every process
    /// (an advisory lock); with `keep_stored`, a snapshot found once the lock is held is
    /// answered instead (someone computed it meanwhile).
    async fn compute_under_lock(
        connection: &mut AsyncPgConnection,
        job_id: Option<i64>,
        keep_stored: bool,
    ) -> Result<Overview, diesel::result::Error> {
        connection
            .transaction(async |connection| {
                sql_query("SELECT pg_advisory_xact_lock(hashtext('streamlab.overview'))")
                    .execute(connection)
                    .await?;
                if keep_stored && let Some(stored) = latest_overview(connection).await? {
                    return Ok(stored);
                }
                let started = std::time::Instant::now();
                let computed = overview(connection).await?;
                let duration_ms = started.elapsed().as_millis().min(i32::MAX as u128) as i32;
                store_overview(connection, &computed, job_id, duration_ms).await?;
                Ok(computed)
            })
            .await
    }

    /// Computes the overview now and stores it (the `report` job).
    pub async fn refresh_overview(
        connection: &mut AsyncPgConnection,
        job_id: Option<i64>,
    ) -> Result<Overview, diesel::result::Error> {
        compute_under_lock(connection, job_id, false).await
    }

    /// The newest stored overview; on a database without one, computed and stored first
    /// (requests arriving meanwhile wait for it and read it).
    pub async fn overview_or_first(
        connection: &mut AsyncPgConnection,
    ) -> Result<Overview, diesel::result::Error> {
        match latest_overview(connection).await? {
            Some(stored) => Ok(stored),
            None => compute_under_lock(connection, None, true).await,
        }
    }

    /// The newest stored overview, if any; one stored by an older version that no longer
    /// reads counts as none (it is computed again).
    pub async fn latest_overview(
        connection: &mut AsyncPgConnection,
    ) -> Result<Option<Overview>, diesel::result::Error> {
        let snapshot: Option<Snapshot> = diesel::OptionalExtension::optional(
            sql_query(
                "SELECT data FROM report_snapshots WHERE kind = 'overview'
                 ORDER BY computed_at DESC, id DESC LIMIT 1",
            )
            .get_result(connection)
            .await,
        )?;
        Ok(snapshot.and_then(|snapshot| serde_json::from_value(snapshot.data).ok()))
    }
}
