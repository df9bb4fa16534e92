//! An experiment's analysis as ds computes it and stores it (`analyses.results`), and as the
//! api reads it back for the results page and the CSV: one definition for both sides.

use serde::{Deserialize, Serialize};

use crate::enums::Metric;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ArmResult {
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
    /// For revenue's variance (the t-test); kept out of the report.
    #[serde(skip)]
    pub revenue_sum_squares: f64,
    pub open_rate: Option<f64>,
    pub click_rate: Option<f64>,
    pub conversion_rate: Option<f64>,
    pub revenue_per_assigned: Option<f64>,
}

/// One treatment (or the holdout) against control on one metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricComparison {
    pub variant: String,
    /// `None` for the holdout.
    pub variant_id: Option<i64>,
    pub control_value: Option<f64>,
    pub value: Option<f64>,
    pub absolute_lift: Option<f64>,
    pub relative_lift: Option<f64>,
    pub ci_absolute: Option<[f64; 2]>,
    pub ci_relative: Option<[f64; 2]>,
    pub p_value: Option<f64>,
    /// Holm-adjusted: across treatments for the goal metric; across every treatment and
    /// metric for the others.
    pub p_value_adjusted: Option<f64>,
    pub significant: bool,
    pub chance_to_win: Option<f64>,
    pub expected_loss: Option<f64>,
    /// Always valid under peeking (mixture SPRT).
    pub sequential_p_value: Option<f64>,
    /// Holm-adjusted across the treatments, as `p_value_adjusted` for the goal metric.
    pub sequential_p_value_adjusted: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricResult {
    pub metric: Metric,
    pub goal: bool,
    /// `proportion` (per assigned customer) or `mean` (revenue per assigned customer).
    pub kind: String,
    /// The test behind `p_value`.
    pub test: String,
    /// Each treatment against control; the holdout is not one of them.
    pub comparisons: Vec<MetricComparison>,
    /// The holdout against control (what sending the control e-mail does), unadjusted.
    pub holdout: Option<MetricComparison>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SrmResult {
    pub statistic: Option<f64>,
    pub df: u64,
    pub p_value: Option<f64>,
    pub mismatch: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SrmChecks {
    /// Assignments against the planned split: a mismatch makes every result untrustworthy.
    pub assignments: SrmResult,
    /// Deliveries of the sending arms against their planned split: a mismatch with sound
    /// assignments points at a delivery problem.
    pub deliveries: Option<SrmResult>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Ship,
    KeepControl,
    KeepRunning,
    Investigate,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    pub decision: Decision,
    /// The variant to ship or keep.
    pub variant: Option<String>,
    pub reason: String,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Breakdown {
    pub dimension: String,
    pub value: String,
    pub arms: Vec<ArmResult>,
    /// The goal metric only, unadjusted: for exploring, not for deciding.
    pub goal: Option<MetricResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub experiment_id: i64,
    pub alpha: f64,
    pub goal_metric: Metric,
    pub attribution_window_days: i32,
    pub planned_sample_size: Option<i64>,
    pub assigned: i64,
    pub arms: Vec<ArmResult>,
    pub metrics: Vec<MetricResult>,
    pub srm: SrmChecks,
    pub recommendation: Recommendation,
    pub breakdowns: Vec<Breakdown>,
}

impl ArmResult {
    /// The arm's value of `metric`: a rate per assigned customer, or revenue per assigned.
    pub fn rate(&self, metric: Metric) -> Option<f64> {
        match metric {
            Metric::Open => self.open_rate,
            Metric::Click => self.click_rate,
            Metric::Conversion => self.conversion_rate,
            Metric::Revenue => self.revenue_per_assigned,
        }
    }

    /// How many of the arm's customers `metric` counts (`None` for revenue, a mean).
    pub fn successes(&self, metric: Metric) -> Option<i64> {
        match metric {
            Metric::Open => Some(self.unique_opens),
            Metric::Click => Some(self.unique_human_clicks),
            Metric::Conversion => Some(self.conversions),
            Metric::Revenue => None,
        }
    }
}

impl Decision {
    /// The decision as the dashboard says it.
    pub fn words(self) -> &'static str {
        match self {
            Decision::Ship => "ship the winner",
            Decision::KeepControl => "keep the control",
            Decision::KeepRunning => "keep running",
            Decision::Investigate => "investigate",
        }
    }

    /// As stored in the report's JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Ship => "ship",
            Decision::KeepControl => "keep_control",
            Decision::KeepRunning => "keep_running",
            Decision::Investigate => "investigate",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Decision;

    #[test]
    fn a_decision_reads_as_its_json() {
        for decision in [
            Decision::Ship,
            Decision::KeepControl,
            Decision::KeepRunning,
            Decision::Investigate,
        ] {
            let json = serde_json::to_value(decision).unwrap_or_default();
            assert_eq!(json, decision.as_str());
            assert_eq!(
                serde_json::from_value::<Decision>(json).ok(),
                Some(decision)
            );
        }
    }
}
