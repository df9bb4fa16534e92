//! Experiment analysis, as a job: the experiment's counts by arm (intention to treat), the
//! tests on each metric, the sample-ratio checks, a recommendation and the breakdowns, stored
//! as an analysis row with everything it read.

pub mod query;
pub mod report;
pub mod routes;

use std::time::Instant;

use diesel::{
    ExpressionMethods as _, OptionalExtension as _, QueryDsl as _, RunQueryDsl as _,
    SelectableHelper as _,
};
use models::db::DatabaseUrl;
use models::experiments::{AnalysisInsertForm, Experiment, Variant};
use models::schema::{analyses, experiments, variants};
use serde_json::{Value, json};

use report::{Arm, Design};

/// The method an analysis row names: intention to treat, these tests, this version.
pub const METHOD: &str = "itt_v1";

#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    #[error(transparent)]
    Connect(#[from] models::db::DbError),
    #[error("database: {0}")]
    Database(#[from] diesel::result::Error),
    #[error("experiment {0} does not exist")]
    NoExperiment(i64),
    #[error("experiment {0} has no variants")]
    NoVariants(i64),
    #[error("the analysis failed: {0}")]
    Report(String),
}

/// The design of `experiment`: control first (the flagged one, else the first variant), then
/// the other variants, then the holdout when it has a share.
pub fn design(experiment: &Experiment, variants: &[Variant]) -> Result<Design, AnalysisError> {
    let mut ordered: Vec<&Variant> = variants.iter().collect();
    ordered.sort_by_key(|variant| (!variant.is_control, variant.id));
    if ordered.is_empty() {
        return Err(AnalysisError::NoVariants(experiment.id));
    }
    let weights: Vec<f64> = ordered.iter().map(|variant| variant.weight).collect();
    let (arm_shares, holdout_share) = models::assignment::planned_shares(
        experiment.holdout_fraction,
        experiment.test_fraction,
        &weights,
    );
    let mut arms: Vec<Arm> = ordered
        .iter()
        .zip(arm_shares)
        .enumerate()
        .map(|(index, (variant, planned_share))| Arm {
            variant_id: Some(variant.id),
            key: variant.key.clone(),
            is_control: index == 0,
            planned_share,
        })
        .collect();
    if experiment.holdout_fraction > 0.0 {
        arms.push(Arm {
            variant_id: None,
            key: "holdout".to_owned(),
            is_control: false,
            planned_share: holdout_share,
        });
    }
    Ok(Design {
        experiment_id: experiment.id,
        goal_metric: experiment.goal_metric,
        alpha: experiment.alpha,
        attribution_window_days: experiment.attribution_window_days,
        planned_sample_size: experiment.planned_sample_size,
        arms,
    })
}

/// Analyses experiment `experiment_id` and stores the result; the job's counts.
pub fn analyze(
    url: &DatabaseUrl,
    experiment_id: i64,
    job_id: Option<i64>,
) -> Result<Value, AnalysisError> {
    let started = Instant::now();
    let mut connection = models::db::connect_sync(url)?;
    let experiment: Experiment = experiments::table
        .find(experiment_id)
        .select(Experiment::as_select())
        .first(&mut connection)
        .optional()?
        .ok_or(AnalysisError::NoExperiment(experiment_id))?;
    let variants: Vec<Variant> = variants::table
        .filter(variants::experiment_id.eq(experiment_id))
        .select(Variant::as_select())
        .load(&mut connection)?;
    let design = design(&experiment, &variants)?;
    let cells = query::cells(
        &mut connection,
        experiment_id,
        experiment.attribution_window_days,
    )?;
    let counted = started.elapsed().as_secs_f64();
    let report = report::report(&design, &cells).map_err(|problem| {
        let fields: Vec<String> = problem
            .errors
            .iter()
            .map(|error| format!("{}: {}", error.field, error.message))
            .collect();
        AnalysisError::Report(format!("{} {}", problem.detail, fields.join("; ")))
    })?;
    let to_json = |value: Result<Value, serde_json::Error>| {
        value.map_err(|error| AnalysisError::Report(error.to_string()))
    };
    let inputs = json!({"design": to_json(serde_json::to_value(&design))?,
                        "cells": to_json(serde_json::to_value(&cells))?,
                        "status": experiment.status});
    let results = to_json(serde_json::to_value(&report))?;
    let analysis_id: i64 = diesel::insert_into(analyses::table)
        .values(&AnalysisInsertForm {
            experiment_id,
            job_id,
            method: METHOD.to_owned(),
            inputs,
            results,
        })
        .returning(analyses::id)
        .get_result(&mut connection)?;
    Ok(json!({
        "analysis_id": analysis_id,
        "assigned": report.assigned,
        "decision": report.recommendation.decision,
        "seconds": started.elapsed().as_secs_f64(),
        // Where the time went: PostgreSQL's aggregate (with loading the design), the tests.
        "phases": [{"phase": "count", "seconds": counted},
                   {"phase": "test_and_store", "seconds": started.elapsed().as_secs_f64() - counted}],
    }))
}
