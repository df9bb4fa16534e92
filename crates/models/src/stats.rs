//! The statistics calculators' requests and answers (ds computes, api fronts). Every interval
//! is `[low, high]`; a test the data leave undefined (a zero cell where it needs none) has
//! `p_value: null` and a `note` saying why, instead of failing the request.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An interval `[low, high]`.
pub type Interval = [f64; 2];

/// The smallest significance level taken: below it the normal quantiles behind every interval
/// run out of double precision (at 5e-324 they are infinite).
pub const MIN_ALPHA: f64 = 1e-9;

fn default_alpha() -> f64 {
    0.05
}

/// A Beta prior for the Bayesian summaries of rates; Beta(1, 1) (uniform) when absent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BetaPrior {
    pub alpha: f64,
    pub beta: f64,
}

/// A test statistic and its p-value; `p_value` null with a `note` when undefined.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TestOutcome {
    pub statistic: Option<f64>,
    pub p_value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A chi-square test: statistic, degrees of freedom, p-value (null with a `note` when undefined).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChiSquareOutcome {
    pub statistic: Option<f64>,
    pub df: u64,
    pub p_value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One arm's conversions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProportionsVariant {
    pub name: String,
    #[schema(minimum = 0)]
    pub successes: i64,
    #[schema(minimum = 0)]
    pub trials: i64,
}

/// Two or more arms, the first the control.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"variants": [{"name": "A", "successes": 120, "trials": 1000},
    {"name": "B", "successes": 150, "trials": 1000}], "alpha": 0.05}))]
pub struct ProportionsRequest {
    #[schema(min_items = 2)]
    pub variants: Vec<ProportionsVariant>,
    /// 0.05 when absent.
    #[serde(default = "default_alpha")]
    #[schema(minimum = 1e-9, exclusive_maximum = 1.0, default = 0.05)]
    pub alpha: f64,
    /// Planned share of each arm for the sample-ratio check; equal when absent.
    pub weights: Option<Vec<f64>>,
    pub prior: Option<BetaPrior>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProportionsArm {
    pub name: String,
    pub successes: i64,
    pub trials: i64,
    /// Null without trials.
    pub rate: Option<f64>,
    /// Wilson score interval.
    #[schema(value_type = Option<Vec<f64>>)]
    pub ci: Option<Interval>,
    /// Equal-tailed interval of the Beta posterior.
    #[schema(value_type = Option<Vec<f64>>)]
    pub credible_interval: Option<Interval>,
}

/// A p-value alone (Fisher's exact test).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PValue {
    pub p_value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The mixture sequential probability ratio test (always valid under continuous peeking).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SequentialOutcome {
    /// Always-valid p-value (null with a `note` when undefined).
    pub p_value: Option<f64>,
    /// Confidence sequence of the absolute difference.
    #[schema(value_type = Option<Vec<f64>>)]
    pub ci: Option<Interval>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One treatment against the control.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProportionsComparison {
    pub variant: String,
    /// Treatment rate minus control rate.
    pub absolute_lift: Option<f64>,
    /// Treatment rate over control rate, minus 1.
    pub relative_lift: Option<f64>,
    /// Newcombe's interval of the difference.
    #[schema(value_type = Option<Vec<f64>>)]
    pub ci_absolute: Option<Interval>,
    /// Delta-method interval of the relative lift.
    #[schema(value_type = Option<Vec<f64>>)]
    pub ci_relative: Option<Interval>,
    /// Pooled two-proportion z-test.
    pub z_test: TestOutcome,
    /// Holm-adjusted z-test p-value over all treatments (equal to it with one treatment).
    pub p_value_adjusted: Option<f64>,
    /// Pearson chi-square of the 2x2 table, without correction.
    pub chi_square: ChiSquareOutcome,
    /// With Yates' continuity correction.
    pub chi_square_yates: ChiSquareOutcome,
    pub g_test: ChiSquareOutcome,
    /// Fisher's exact test, two-sided.
    pub fisher: PValue,
    /// P(treatment rate > control rate) under the Beta posteriors, computed exactly.
    pub chance_to_win: Option<f64>,
    /// E[max(control rate - treatment rate, 0)]: what shipping the treatment risks.
    pub expected_loss: Option<f64>,
    pub sequential: SequentialOutcome,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProportionsAnswer {
    pub alpha: f64,
    pub variants: Vec<ProportionsArm>,
    pub comparisons: Vec<ProportionsComparison>,
    /// Pearson chi-square over all arms at once.
    pub chi_square_all: ChiSquareOutcome,
    /// Sample-ratio mismatch of the trials against the planned weights.
    pub srm: ChiSquareOutcome,
}

/// One arm of a metric: its summary or its raw values.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeansVariant {
    pub name: String,
    pub n: Option<i64>,
    pub sum: Option<f64>,
    pub sum_squares: Option<f64>,
    /// Raw values instead of `n`, `sum` and `sum_squares` (also enables Mann-Whitney).
    pub values: Option<Vec<f64>>,
    /// For CUPED: each unit's pre-period value, in the order of `values`.
    pub covariate: Option<Vec<f64>>,
    /// For CUPED with sums: the sums of the pre-period values, of their squares, and of
    /// metric times pre-period value.
    pub covariate_sum: Option<f64>,
    pub covariate_sum_squares: Option<f64>,
    pub cross_sum: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"variants": [{"name": "A", "values": [3.1, 2.5, 4.0, 3.3]},
    {"name": "B", "values": [3.9, 4.4, 3.6, 4.8]}]}))]
pub struct MeansRequest {
    #[schema(min_items = 2)]
    pub variants: Vec<MeansVariant>,
    #[serde(default = "default_alpha")]
    #[schema(minimum = 1e-9, exclusive_maximum = 1.0, default = 0.05)]
    pub alpha: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MeansArm {
    pub name: String,
    pub n: i64,
    pub mean: Option<f64>,
    /// Sample standard deviation.
    pub sd: Option<f64>,
}

/// A t-test with the interval of the difference (treatment minus control).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TTestOutcome {
    pub statistic: Option<f64>,
    pub df: Option<f64>,
    pub p_value: Option<f64>,
    #[schema(value_type = Option<Vec<f64>>)]
    pub ci: Option<Interval>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MannWhitneyOutcome {
    /// U of the control sample.
    pub u: f64,
    pub p_value: f64,
    /// Exact distribution (small samples without ties) or normal approximation.
    pub exact: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MeansComparison {
    pub variant: String,
    pub difference: Option<f64>,
    pub relative_lift: Option<f64>,
    /// Delta-method interval of the relative lift.
    #[schema(value_type = Option<Vec<f64>>)]
    pub ci_relative: Option<Interval>,
    pub welch: TTestOutcome,
    pub student: TTestOutcome,
    /// Holm-adjusted Welch p-value over all treatments.
    pub p_value_adjusted: Option<f64>,
    /// Present when both arms came as raw values.
    pub mann_whitney: Option<MannWhitneyOutcome>,
    /// P(treatment mean > control mean) under normal posteriors (flat prior).
    pub chance_to_win: Option<f64>,
    pub expected_loss: Option<f64>,
    /// Credible interval of the difference.
    #[schema(value_type = Option<Vec<f64>>)]
    pub credible_interval: Option<Interval>,
    pub sequential: SequentialOutcome,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MeansAnswer {
    pub alpha: f64,
    pub variants: Vec<MeansArm>,
    pub comparisons: Vec<MeansComparison>,
    /// Present when every variant gave a pre-period covariate.
    pub cuped: Option<CupedAnswer>,
}

/// CUPED: each arm's mean adjusted by the pre-period covariate (theta pooled over all units),
/// and Welch's test on the adjusted values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CupedAnswer {
    pub theta: f64,
    /// 1 - adjusted variance / variance, over all units.
    pub variance_reduction: Option<f64>,
    /// Adjusted mean per variant, in the request's order.
    pub adjusted_means: Vec<f64>,
    pub comparisons: Vec<CupedComparison>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CupedComparison {
    pub variant: String,
    pub welch: TTestOutcome,
}

/// What the power calculator sizes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PowerKind {
    /// A conversion rate (`baseline` is the control's rate).
    #[default]
    Proportions,
    /// A mean (`sd` is the metric's standard deviation).
    Means,
}

/// Give two of `mde`, `power` and `n_per_variant`; the third is computed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"baseline": 0.10, "mde": 0.02, "alpha": 0.05, "power": 0.8}))]
pub struct PowerRequest {
    #[serde(default)]
    pub kind: PowerKind,
    /// The control's rate (proportions) or mean (means; needed with `relative`).
    pub baseline: Option<f64>,
    /// The effect to detect: absolute, or a fraction of `baseline` with `relative`.
    pub mde: Option<f64>,
    #[serde(default)]
    pub relative: bool,
    /// Standard deviation of the metric (means).
    pub sd: Option<f64>,
    #[serde(default = "default_alpha")]
    #[schema(minimum = 1e-9, exclusive_maximum = 1.0, default = 0.05)]
    pub alpha: f64,
    #[schema(exclusive_minimum = 0.0, exclusive_maximum = 1.0)]
    pub power: Option<f64>,
    /// The control arm's size.
    #[schema(minimum = 2)]
    pub n_per_variant: Option<i64>,
    /// Treatment arm size over control arm size; 1 when absent.
    pub ratio: Option<f64>,
    /// Two-sided unless false.
    pub two_sided: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PowerAnswer {
    pub kind: PowerKind,
    pub alpha: f64,
    pub ratio: f64,
    pub two_sided: bool,
    /// The control arm's size (rounded up when computed).
    pub n_per_variant: Option<i64>,
    /// The treatment arm's size: `ratio` times the control's, rounded up.
    pub n_treatment: Option<i64>,
    pub total: Option<i64>,
    pub power: Option<f64>,
    /// The absolute effect.
    pub mde: Option<f64>,
    /// The effect as a fraction of `baseline`, when there is a baseline other than 0.
    pub mde_relative: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"observed": [1000, 1200], "weights": [0.5, 0.5]}))]
pub struct SrmRequest {
    #[schema(min_items = 2)]
    pub observed: Vec<i64>,
    /// Planned shares; equal when absent.
    pub weights: Option<Vec<f64>>,
}

/// Multiple-comparison adjustments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AdjustMethod {
    /// Holm-Bonferroni: controls the family-wise error rate.
    Holm,
    /// Benjamini-Hochberg: controls the false discovery rate.
    Bh,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"p_values": [0.01, 0.04, 0.03], "method": "holm"}))]
pub struct AdjustRequest {
    /// Each between 0 and 1.
    pub p_values: Vec<f64>,
    pub method: AdjustMethod,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AdjustAnswer {
    pub method: AdjustMethod,
    /// In the order of the input.
    pub adjusted: Vec<f64>,
}
