//! An experiment's newest analysis, read back from the JSON ds stored (`analyses.results`)
//! as the report type ds wrote it with (`models::analysis::Report`).

use diesel::{ExpressionMethods as _, OptionalExtension as _, QueryDsl as _};
use diesel_async::{AsyncPgConnection, RunQueryDsl as _};
use models::analysis::Report;
use models::experiments::Analysis;
use models::schema::analyses;

/// The experiment's newest analysis and its results; `None` before the first.
pub async fn latest_analysis(
    connection: &mut AsyncPgConnection,
    experiment_id: i64,
) -> Result<Option<(Analysis, Result<Report, serde_json::Error>)>, diesel::result::Error> {
    let analysis: Option<Analysis> = analyses::table
        .filter(analyses::experiment_id.eq(experiment_id))
        .order(analyses::id.desc())
        .first(connection)
        .await
        .optional()?;
    Ok(analysis.map(|analysis| {
        let results = serde_json::from_value(analysis.results.clone());
        (analysis, results)
    }))
}
