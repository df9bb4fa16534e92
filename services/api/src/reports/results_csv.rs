//! `GET /api/v1/reports/experiments/{id}/results.csv`: the counts behind the newest analysis,
//! one row per arm for the whole experiment and for each breakdown, for a spreadsheet.

use actix_web::http::header;
use actix_web::{HttpResponse, get, web};
use service::Problem;
use service::auth::ReadAccess;
use service::problem::connection;
use service::responses::GetErrors;

use models::analysis::{ArmResult, Report};

use super::analysis::latest_analysis;

const COLUMNS: [&str; 16] = [
    "dimension",
    "value",
    "arm",
    "is_control",
    "holdout",
    "planned_share",
    "assigned",
    "delivered",
    "unique_opens",
    "unique_human_clicks",
    "conversions",
    "revenue",
    "open_rate",
    "click_rate",
    "conversion_rate",
    "revenue_per_assigned",
];

fn optional(value: Option<f64>) -> String {
    value.map(|value| value.to_string()).unwrap_or_default()
}

/// Text from the data as a spreadsheet cell: a leading `=`, `+`, `-`, `@` (or tab / carriage
/// return) would make the spreadsheet run it as a formula, so such text starts with `'`.
fn cell_text(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

fn row(dimension: &str, value: &str, arm: &ArmResult) -> [String; 16] {
    [
        dimension.to_owned(),
        cell_text(value),
        cell_text(&arm.key),
        arm.is_control.to_string(),
        arm.holdout.to_string(),
        arm.planned_share.to_string(),
        arm.assigned.to_string(),
        arm.delivered.to_string(),
        arm.unique_opens.to_string(),
        arm.unique_human_clicks.to_string(),
        arm.conversions.to_string(),
        arm.revenue.to_string(),
        optional(arm.open_rate),
        optional(arm.click_rate),
        optional(arm.conversion_rate),
        optional(arm.revenue_per_assigned),
    ]
}

/// The CSV text of an analysis's counts.
pub fn results_csv(results: &Report) -> Result<String, Problem> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let internal = |error: csv::Error| Problem::internal(&error);
    writer.write_record(COLUMNS).map_err(internal)?;
    for arm in &results.arms {
        writer.write_record(row("all", "", arm)).map_err(internal)?;
    }
    for breakdown in &results.breakdowns {
        for arm in &breakdown.arms {
            writer
                .write_record(row(&breakdown.dimension, &breakdown.value, arm))
                .map_err(internal)?;
        }
    }
    let bytes = writer
        .into_inner()
        .map_err(|error| Problem::internal(&error.into_error()))?;
    String::from_utf8(bytes).map_err(|error| Problem::internal(&error))
}

/// The counts behind the experiment's newest analysis as CSV: per arm, for the whole
/// experiment (`dimension` = `all`) and by segment, age band, region and device.
#[utoipa::path(
    tag = "reports",
    security(("api_key" = [])),
    params(("id" = i64, Path, description = "The experiment's id")),
    responses(
        (status = 200, description = "The counts", body = String, content_type = "text/csv"),
        (status = 404, description = "No such experiment, or not analysed yet", body = Problem, content_type = "application/problem+json"),
        GetErrors,
    )
)]
#[get("/reports/experiments/{id}/results.csv")]
pub async fn get_results_csv(
    _: ReadAccess,
    pool: web::Data<models::db::Pool>,
    id: web::Path<i64>,
) -> Result<HttpResponse, Problem> {
    let experiment_id = id.into_inner();
    let mut connection = connection(&pool).await?;
    let (analysis, results) = latest_analysis(&mut connection, experiment_id)
        .await?
        .ok_or_else(|| {
            Problem::not_found(format!(
                "experiment {experiment_id} does not exist or has no analysis yet"
            ))
        })?;
    let results = results.map_err(|error| Problem::internal(&error))?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"experiment-{experiment_id}-analysis-{}.csv\"",
                analysis.id
            ),
        ))
        .body(results_csv(&results)?))
}

#[cfg(test)]
mod tests {
    use super::cell_text;

    #[test]
    fn text_a_spreadsheet_would_run_is_quoted() {
        assert_eq!(cell_text("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(cell_text("-1+2"), "'-1+2");
        assert_eq!(cell_text("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell_text("Quebec"), "Quebec");
        assert_eq!(cell_text("18-24"), "18-24");
    }
}
