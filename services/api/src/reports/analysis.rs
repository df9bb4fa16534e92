//! An experiment's newest analysis, read back from the JSON ds stored (`analyses.results`):
//! the parts the results page and the CSV download show. Fields ds may leave out are
//! optional, so an older analysis still reads.

use diesel::{ExpressionMethods as _, OptionalExtension as _, QueryDsl as _};
use diesel_async::{AsyncPgConnection, RunQueryDsl as _};
use models::experiments::Analysis;
use models::schema::analyses;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct ArmCounts {
    pub key: String,
    pub variant_id: Option<i64>,
    pub is_control: bool,
    pub holdout: bool,
    pub planned_share: f64,
    pub assigned: i64,
    pub delivered: i64,
    pub unique_opens: i64,
    pub unique_human_clicks: i64,
    pub conversions: i64,
    pub revenue: f64,
    pub open_rate: Option<f64>,
    pub click_rate: Option<f64>,
    pub conversion_rate: Option<f64>,
    pub revenue_per_assigned: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Comparison {
    pub variant: String,
    pub control_value: Option<f64>,
    pub value: Option<f64>,
    pub absolute_lift: Option<f64>,
    pub relative_lift: Option<f64>,
    pub ci_absolute: Option<[f64; 2]>,
    pub ci_relative: Option<[f64; 2]>,
    pub p_value: Option<f64>,
    pub p_value_adjusted: Option<f64>,
    pub significant: bool,
    pub chance_to_win: Option<f64>,
    pub sequential_p_value_adjusted: Option<f64>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MetricResult {
    pub metric: String,
    pub goal: bool,
    pub kind: String,
    pub test: String,
    pub comparisons: Vec<Comparison>,
    pub holdout: Option<Comparison>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SrmResult {
    pub p_value: Option<f64>,
    pub mismatch: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SrmChecks {
    pub assignments: SrmResult,
    pub deliveries: Option<SrmResult>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Recommendation {
    pub decision: String,
    pub variant: Option<String>,
    pub reason: String,
    #[serde(default)]
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Breakdown {
    pub dimension: String,
    pub value: String,
    pub arms: Vec<ArmCounts>,
    pub goal: Option<MetricResult>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AnalysisResults {
    pub alpha: f64,
    pub goal_metric: String,
    pub planned_sample_size: Option<i64>,
    pub assigned: i64,
    pub arms: Vec<ArmCounts>,
    pub metrics: Vec<MetricResult>,
    pub srm: SrmChecks,
    pub recommendation: Recommendation,
    #[serde(default)]
    pub breakdowns: Vec<Breakdown>,
}

impl ArmCounts {
    /// The arm's value of `metric` (`open`, `click`, `conversion` or `revenue`).
    pub fn rate(&self, metric: &str) -> Option<f64> {
        match metric {
            "open" => self.open_rate,
            "click" => self.click_rate,
            "conversion" => self.conversion_rate,
            "revenue" => self.revenue_per_assigned,
            _ => None,
        }
    }

    /// The arm's count of `metric`'s successes (`None` for revenue, a mean).
    pub fn successes(&self, metric: &str) -> Option<i64> {
        match metric {
            "open" => Some(self.unique_opens),
            "click" => Some(self.unique_human_clicks),
            "conversion" => Some(self.conversions),
            _ => None,
        }
    }
}

/// The experiment's newest analysis and its results; `None` before the first.
pub async fn latest_analysis(
    connection: &mut AsyncPgConnection,
    experiment_id: i64,
) -> Result<Option<(Analysis, Result<AnalysisResults, serde_json::Error>)>, diesel::result::Error> {
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
