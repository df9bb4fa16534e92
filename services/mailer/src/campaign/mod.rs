//! Launching an experiment's e-mail: who is in the audience, which arm each customer lands in,
//! and the send ledger's rows; all of it in set-based SQL inside the caller's transaction.

pub mod routes;
pub mod winner;

use diesel::sql_query;
use diesel::sql_types::{BigInt, Bool, Double, Jsonb, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl as _};
use models::enums::ExperimentPhase;
use models::experiments::{ArmCount, Experiment};

/// Which customers of the audience this pass assigns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// At start: the holdout, and the test group (or everyone, without a test fraction).
    Start,
    /// After the test: the holdout's newcomers, and the rest, all given `winner` (or none).
    Winner { winner: Option<i64> },
}

/// Launches (starts and winner passes) one at a time, so that mutual exclusion sees every
/// other audience: taken inside the launching transaction.
pub async fn lock_launches(
    connection: &mut AsyncPgConnection,
) -> Result<(), diesel::result::Error> {
    sql_query("SELECT pg_advisory_xact_lock(hashtext('streamlab.experiment-launch'))")
        .execute(connection)
        .await
        .map(|_| ())
}

/// Assigns this pass's customers: bucket = `assignment_bucket(salt, id)` (see
/// `models::assignment`, which computes the same), below the holdout fraction the holdout,
/// then the test group, then the arms by cumulative weight in variant-id order.
pub async fn assign(
    connection: &mut AsyncPgConnection,
    experiment: &Experiment,
    pass: Pass,
    frequency_cap: i64,
) -> Result<Vec<ArmCount>, diesel::result::Error> {
    let (phase, winner, winner_pass) = match pass {
        Pass::Start => (start_phase(experiment), None, false),
        Pass::Winner { winner } => (ExperimentPhase::Winner, winner, true),
    };
    sql_query(
        "WITH latest AS (SELECT max(id) AS run_id FROM segmentation_runs WHERE status = 'succeeded'),
         arms AS (
             SELECT id, sum(weight) OVER (ORDER BY id) / sum(weight) OVER () AS upper
             FROM variants WHERE experiment_id = $1
         ),
         audience AS (
             SELECT c.id AS customer_id, sm.segment_id, assignment_bucket($2, c.id) AS bucket
             FROM customers c
             LEFT JOIN segment_memberships sm
                    ON sm.customer_id = c.id AND sm.run_id = (SELECT run_id FROM latest)
             WHERE c.email_consent
               AND ($5::bigint IS NULL OR sm.segment_id = $5)
               AND ($6::jsonb IS NULL OR (
                       (jsonb_typeof($6->'country') IS DISTINCT FROM 'array' OR c.country IN (SELECT jsonb_array_elements_text($6->'country')))
                   AND (jsonb_typeof($6->'region') IS DISTINCT FROM 'array' OR c.region IN (SELECT jsonb_array_elements_text($6->'region')))
                   AND (jsonb_typeof($6->'city') IS DISTINCT FROM 'array' OR c.city IN (SELECT jsonb_array_elements_text($6->'city')))
                   AND (jsonb_typeof($6->'age_band') IS DISTINCT FROM 'array' OR c.age_band IN (SELECT jsonb_array_elements_text($6->'age_band')))
                   AND (jsonb_typeof($6->'device') IS DISTINCT FROM 'array' OR c.device IN (SELECT jsonb_array_elements_text($6->'device')))
                   AND (jsonb_typeof($6->'acquisition_channel') IS DISTINCT FROM 'array'
                        OR c.acquisition_channel IN (SELECT jsonb_array_elements_text($6->'acquisition_channel')))
                   AND (jsonb_typeof($6->'signed_up_after') IS DISTINCT FROM 'string' OR c.signup_at >= ($6->>'signed_up_after')::timestamptz)
                   AND (jsonb_typeof($6->'signed_up_before') IS DISTINCT FROM 'string' OR c.signup_at < ($6->>'signed_up_before')::timestamptz)))
               AND NOT EXISTS (SELECT 1 FROM suppressions s WHERE s.email = lower(c.email))
               AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.experiment_id = $1 AND a.customer_id = c.id)
               AND NOT EXISTS (
                       SELECT 1 FROM assignments a JOIN experiments e ON e.id = a.experiment_id
                       WHERE a.customer_id = c.id AND a.experiment_id <> $1
                         AND e.status IN ('running', 'paused') AND ($7 OR e.exclusive))
               AND (SELECT count(*) FROM messages m
                    WHERE m.customer_id = c.id AND m.experiment_id <> $1
                      AND m.queued_at > now() - interval '7 days'
                      AND m.status NOT IN ('cancelled', 'failed')) < $8
         ),
         placed AS (
             SELECT customer_id, segment_id, bucket,
                    CASE WHEN bucket < $3 THEN NULL ELSE (bucket - $3) / (1 - $3) END AS position
             FROM audience
         ),
         inserted AS (
             INSERT INTO assignments (experiment_id, customer_id, variant_id, bucket, phase, segment_id)
             SELECT $1, p.customer_id,
                    CASE WHEN p.position IS NULL THEN NULL
                         WHEN $11 THEN $10::bigint
                         ELSE (SELECT a.id FROM arms a
                               WHERE a.upper > CASE WHEN $4::float8 IS NULL THEN p.position
                                                    ELSE p.position / $4::float8 END
                               ORDER BY a.upper, a.id LIMIT 1)
                    END,
                    p.bucket, $9, p.segment_id
             FROM placed p
             WHERE CASE WHEN $11
                        THEN p.position IS NULL OR ($10::bigint IS NOT NULL AND p.position >= $4::float8)
                        ELSE p.position IS NULL OR $4::float8 IS NULL OR p.position < $4::float8
                   END
             RETURNING variant_id
         )
         SELECT variant_id, count(*) AS assigned FROM inserted GROUP BY variant_id ORDER BY variant_id",
    )
    .bind::<BigInt, _>(experiment.id)
    .bind::<Text, _>(&experiment.salt)
    .bind::<Double, _>(experiment.holdout_fraction)
    .bind::<Nullable<Double>, _>(test_fraction(experiment))
    .bind::<Nullable<BigInt>, _>(experiment.segment_id)
    .bind::<Nullable<Jsonb>, _>(&experiment.audience_filter)
    .bind::<Bool, _>(experiment.exclusive)
    .bind::<BigInt, _>(frequency_cap)
    .bind::<Text, _>(phase.as_str())
    .bind::<Nullable<BigInt>, _>(winner)
    .bind::<Bool, _>(winner_pass)
    .load(connection)
    .await
}

/// Writes the ledger's rows for the assignments of `phase` that get an e-mail.
pub async fn queue_messages(
    connection: &mut AsyncPgConnection,
    experiment_id: i64,
    phase: ExperimentPhase,
) -> Result<usize, diesel::result::Error> {
    sql_query(
        "INSERT INTO messages (experiment_id, customer_id, variant_id, email)
         SELECT a.experiment_id, a.customer_id, a.variant_id, c.email
         FROM assignments a JOIN customers c ON c.id = a.customer_id
         WHERE a.experiment_id = $1 AND a.phase = $2 AND a.variant_id IS NOT NULL
         ON CONFLICT (experiment_id, customer_id) DO NOTHING",
    )
    .bind::<BigInt, _>(experiment_id)
    .bind::<Text, _>(phase.as_str())
    .execute(connection)
    .await
}

/// A test fraction of 1 is the whole audience: no winner phase.
fn test_fraction(experiment: &Experiment) -> Option<f64> {
    experiment.test_fraction.filter(|fraction| *fraction < 1.0)
}

pub fn start_phase(experiment: &Experiment) -> ExperimentPhase {
    if test_fraction(experiment).is_some() {
        ExperimentPhase::Test
    } else {
        ExperimentPhase::Full
    }
}
