//! From an experiment's counts to its analysis: each metric tested against control with the
//! calculators' code (goal metric first, the other metrics adjusted together for
//! multiplicity), the sample-ratio checks, a recommendation in words, and the goal metric
//! per breakdown. Pure: the counts in, the report out.

use models::analysis::{
    ArmResult, Breakdown, Decision, MetricComparison, MetricResult, Recommendation, Report,
    SrmChecks, SrmResult,
};
use models::enums::Metric as GoalMetric;
use models::stats::{MeansRequest, MeansVariant, ProportionsRequest, ProportionsVariant};
use serde::Serialize;
use service::Problem;

use super::query::Cell;
use crate::calculators::{holm_adjusted, means, proportions};

/// p-values of the sample-ratio check below this say the split is broken (the usual SRM
/// threshold: strict, because a real mismatch is common and a false alarm costly).
pub const SRM_THRESHOLD: f64 = 0.001;

/// An arm of the experiment as designed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Arm {
    /// `None` for the holdout.
    pub variant_id: Option<i64>,
    pub key: String,
    pub is_control: bool,
    /// Planned share of the assignments.
    pub planned_share: f64,
}

/// What the analysis needs to know about the experiment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Design {
    pub experiment_id: i64,
    pub goal_metric: GoalMetric,
    pub alpha: f64,
    pub attribution_window_days: i32,
    pub planned_sample_size: Option<i64>,
    /// Control first, then the treatments, then the holdout if it has a share.
    pub arms: Vec<Arm>,
}

/// Sets a comparison's adjusted p-value and whether it is significant at `alpha`.
fn adjust(comparison: &mut MetricComparison, p_value_adjusted: Option<f64>, alpha: f64) {
    comparison.p_value_adjusted = p_value_adjusted;
    comparison.significant = p_value_adjusted.is_some_and(|p| p < alpha);
}

const METRICS: [GoalMetric; 4] = [
    GoalMetric::Conversion,
    GoalMetric::Revenue,
    GoalMetric::Click,
    GoalMetric::Open,
];

fn ratio(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// The arms' counts in one group, in the design's order (arms without customers count 0).
fn arm_results(design: &Design, cells: &[&Cell]) -> Vec<ArmResult> {
    design
        .arms
        .iter()
        .map(|arm| {
            let cell = cells.iter().find(|cell| cell.variant_id == arm.variant_id);
            let get = |read: fn(&Cell) -> i64| cell.map_or(0, |cell| read(cell));
            let assigned = get(|cell| cell.assigned);
            let revenue = cell.map_or(0.0, |cell| cell.revenue_sum);
            ArmResult {
                key: arm.key.clone(),
                variant_id: arm.variant_id,
                is_control: arm.is_control,
                holdout: arm.variant_id.is_none(),
                planned_share: arm.planned_share,
                assigned,
                delivered: get(|cell| cell.delivered),
                unique_opens: get(|cell| cell.opened),
                unique_human_clicks: get(|cell| cell.clicked),
                conversions: get(|cell| cell.converted),
                revenue,
                revenue_sum_squares: cell.map_or(0.0, |cell| cell.revenue_sum_squares),
                open_rate: ratio(get(|cell| cell.opened), assigned),
                click_rate: ratio(get(|cell| cell.clicked), assigned),
                conversion_rate: ratio(get(|cell| cell.converted), assigned),
                revenue_per_assigned: (assigned > 0).then(|| revenue / assigned as f64),
            }
        })
        .collect()
}

/// How a metric is measured and tested: a rate per assigned customer (pooled z-test) or a
/// mean (revenue per assigned customer, Welch's t-test).
fn kind_and_test(metric: GoalMetric) -> (&'static str, &'static str) {
    if metric == GoalMetric::Revenue {
        ("mean", "welch_t")
    } else {
        ("proportion", "two_proportion_z_pooled")
    }
}

/// One metric tested for every arm against the first, by the calculators' code; none with
/// fewer than two arms. `significant` is set once the p-values are adjusted (see `report`).
fn compare_arms(
    metric: GoalMetric,
    arms: &[ArmResult],
    alpha: f64,
) -> Result<Vec<MetricComparison>, Problem> {
    if arms.len() < 2 {
        return Ok(Vec::new());
    }
    let comparison = |variant: String, design_arm: &ArmResult| MetricComparison {
        variant,
        variant_id: design_arm.variant_id,
        control_value: None,
        value: None,
        absolute_lift: None,
        relative_lift: None,
        ci_absolute: None,
        ci_relative: None,
        p_value: None,
        p_value_adjusted: None,
        significant: false,
        chance_to_win: None,
        expected_loss: None,
        sequential_p_value: None,
        sequential_p_value_adjusted: None,
        note: None,
    };
    if metric == GoalMetric::Revenue {
        let variants = arms
            .iter()
            .map(|arm| MeansVariant {
                name: arm.key.clone(),
                n: Some(arm.assigned),
                sum: Some(arm.revenue),
                sum_squares: Some(arm.revenue_sum_squares),
                ..MeansVariant::default()
            })
            .collect();
        let answer = means::answer(&MeansRequest { variants, alpha })?;
        let control_value = answer.variants[0].mean;
        return Ok(answer
            .comparisons
            .into_iter()
            .zip(&answer.variants[1..])
            .zip(&arms[1..])
            .map(|((tested, arm), design_arm)| MetricComparison {
                control_value,
                value: arm.mean,
                absolute_lift: tested.difference,
                relative_lift: tested.relative_lift,
                ci_absolute: tested.welch.ci,
                ci_relative: tested.ci_relative,
                p_value: tested.welch.p_value,
                p_value_adjusted: tested.p_value_adjusted,
                chance_to_win: tested.chance_to_win,
                expected_loss: tested.expected_loss,
                sequential_p_value: tested.sequential.p_value,
                note: tested.welch.note,
                ..comparison(tested.variant, design_arm)
            })
            .collect());
    }
    let variants = arms
        .iter()
        .map(|arm| ProportionsVariant {
            name: arm.key.clone(),
            // Revenue is a mean, tested above: only rates come here.
            successes: arm.successes(metric).unwrap_or(arm.conversions),
            trials: arm.assigned,
        })
        .collect();
    let answer = proportions::answer(&ProportionsRequest {
        variants,
        alpha,
        weights: None,
        prior: None,
    })?;
    let control_value = answer.variants[0].rate;
    Ok(answer
        .comparisons
        .into_iter()
        .zip(&answer.variants[1..])
        .zip(&arms[1..])
        .map(|((tested, arm), design_arm)| MetricComparison {
            control_value,
            value: arm.rate,
            absolute_lift: tested.absolute_lift,
            relative_lift: tested.relative_lift,
            ci_absolute: tested.ci_absolute,
            ci_relative: tested.ci_relative,
            p_value: tested.z_test.p_value,
            p_value_adjusted: tested.p_value_adjusted,
            chance_to_win: tested.chance_to_win,
            expected_loss: tested.expected_loss,
            sequential_p_value: tested.sequential.p_value,
            note: tested.z_test.note,
            ..comparison(tested.variant, design_arm)
        })
        .collect())
}

/// One metric: each treatment against control (Holm-adjusted across the treatments, for the
/// fixed-horizon and the sequential p-values), and the holdout against control on its own.
fn metric_result(
    metric: GoalMetric,
    goal: bool,
    arms: &[ArmResult],
    alpha: f64,
) -> Result<MetricResult, Problem> {
    let sending: Vec<ArmResult> = arms.iter().filter(|arm| !arm.holdout).cloned().collect();
    let mut comparisons = compare_arms(metric, &sending, alpha)?;
    for comparison in &mut comparisons {
        let p_value = comparison.p_value_adjusted;
        adjust(comparison, p_value, alpha);
    }
    let sequential: Vec<Option<f64>> = comparisons.iter().map(|c| c.sequential_p_value).collect();
    for (comparison, adjusted) in comparisons.iter_mut().zip(holm_adjusted(&sequential)) {
        comparison.sequential_p_value_adjusted = adjusted;
    }
    let holdout = match (sending.first(), arms.iter().find(|arm| arm.holdout)) {
        (Some(control), Some(holdout)) => {
            let pair = [control.clone(), holdout.clone()];
            compare_arms(metric, &pair, alpha)?
                .into_iter()
                .next()
                .map(|mut holdout| {
                    let p_value = holdout.p_value_adjusted;
                    adjust(&mut holdout, p_value, alpha);
                    holdout
                })
        }
        _ => None,
    };
    let (kind, test) = kind_and_test(metric);
    Ok(MetricResult {
        metric,
        goal,
        kind: kind.to_owned(),
        test: test.to_owned(),
        comparisons,
        holdout,
    })
}

fn srm(observed: &[i64], shares: &[f64]) -> Option<SrmResult> {
    let observed: Vec<u64> = observed.iter().map(|count| count.unsigned_abs()).collect();
    let result = stats::srm::sample_ratio_mismatch(&observed, shares).ok()?;
    Some(SrmResult {
        mismatch: result.p_value.is_some_and(|p| p < SRM_THRESHOLD),
        statistic: result.statistic,
        df: result.df,
        p_value: result.p_value,
    })
}

fn percent(value: f64) -> String {
    format!("{:.1}%", value * 100.0)
}

fn describe(metric: GoalMetric, value: Option<f64>) -> String {
    match (metric, value) {
        (_, None) => "undefined".to_owned(),
        (GoalMetric::Revenue, Some(value)) => format!("{value:.2} per customer"),
        (_, Some(value)) => percent(value),
    }
}

fn recommend(
    design: &Design,
    assigned: i64,
    goal: &MetricResult,
    srm: &SrmChecks,
) -> Recommendation {
    let control = design
        .arms
        .first()
        .map(|arm| arm.key.clone())
        .unwrap_or_default();
    let mut warnings = Vec::new();
    if let Some(deliveries) = &srm.deliveries
        && deliveries.mismatch
        && !srm.assignments.mismatch
    {
        warnings.push(format!(
            "deliveries do not follow the planned split (p = {:.2e}): a delivery problem may bias opens and clicks; conversions counted by assignment are unaffected",
            deliveries.p_value.unwrap_or_default()
        ));
    }
    let decide = |decision, variant: Option<String>, reason: String| Recommendation {
        decision,
        variant,
        reason,
        warnings: warnings.clone(),
    };
    if assigned == 0 {
        return decide(
            Decision::KeepRunning,
            None,
            "no customer is assigned yet".to_owned(),
        );
    }
    if srm.assignments.mismatch {
        return decide(
            Decision::Investigate,
            None,
            format!(
                "sample ratio mismatch (p = {:.2e}): the assignments do not follow the planned split, so the results are untrustworthy",
                srm.assignments.p_value.unwrap_or_default()
            ),
        );
    }
    if goal.comparisons.is_empty() {
        return decide(
            Decision::Investigate,
            None,
            "the experiment has one variant: there is nothing to compare it with".to_owned(),
        );
    }
    let metric = goal.metric;
    // Before the planned sample is in (or without a plan) only the always-valid sequential
    // test may end the experiment: the fixed-horizon p-value, looked at early, is not valid.
    let plan_reached = design
        .planned_sample_size
        .is_some_and(|planned| assigned >= planned);
    let (basis, p_of): (&str, fn(&MetricComparison) -> Option<f64>) = if plan_reached {
        ("adjusted p", |c| c.p_value_adjusted)
    } else {
        ("always-valid p", |c| c.sequential_p_value_adjusted)
    };
    let alpha = design.alpha;
    let significant = |c: &&MetricComparison| p_of(c).is_some_and(|p| p < alpha);
    let treatments: Vec<&MetricComparison> = goal.comparisons.iter().collect();
    let winner = treatments
        .iter()
        .filter(|c| significant(c) && c.absolute_lift.is_some_and(|lift| lift > 0.0))
        .max_by(|a, b| {
            a.absolute_lift
                .partial_cmp(&b.absolute_lift)
                .unwrap_or(std::cmp::Ordering::Equal)
        });
    if let Some(winner) = winner {
        return decide(
            Decision::Ship,
            Some(winner.variant.clone()),
            format!(
                "ship {}: {metric} {} against {} for {control} ({}{}, {basis} = {:.4}, chance to beat {control} {})",
                winner.variant,
                describe(metric, winner.value),
                describe(metric, winner.control_value),
                winner
                    .relative_lift
                    .map_or(String::new(), |lift| format!("{:+.1}%", lift * 100.0)),
                winner
                    .ci_relative
                    .map_or(String::new(), |[low, high]| format!(
                        ", {:.0}% CI {:+.1}% to {:+.1}%",
                        (1.0 - design.alpha) * 100.0,
                        low * 100.0,
                        high * 100.0
                    )),
                p_of(winner).unwrap_or_default(),
                winner.chance_to_win.map_or("unknown".to_owned(), percent),
            ),
        );
    }
    if let Some(loser) = treatments.iter().find(|c| significant(c)) {
        return decide(
            Decision::KeepControl,
            Some(control.clone()),
            format!(
                "keep {control}: {} lowers {metric} to {} from {} ({basis} = {:.4})",
                loser.variant,
                describe(metric, loser.value),
                describe(metric, loser.control_value),
                p_of(loser).unwrap_or_default()
            ),
        );
    }
    match design.planned_sample_size {
        Some(planned) if !plan_reached => decide(
            Decision::KeepRunning,
            None,
            format!(
                "keep running: not enough data: {:.0}% of the planned sample ({assigned} of {planned}) and no significant difference on {metric} yet by the always-valid test",
                100.0 * assigned as f64 / planned as f64
            ),
        ),
        Some(_) => decide(
            Decision::KeepControl,
            Some(control.clone()),
            format!(
                "keep {control}: no treatment differs significantly from it on {metric} at alpha {alpha} with the planned sample in"
            ),
        ),
        None => decide(
            Decision::KeepRunning,
            None,
            format!(
                "keep running: no significant difference on {metric} yet by the always-valid test (set a planned sample size to end with a fixed-horizon test)"
            ),
        ),
    }
}

/// The analysis of `cells` (as the query returns them) for `design`.
pub fn report(design: &Design, cells: &[Cell]) -> Result<Report, Problem> {
    let overall: Vec<&Cell> = cells
        .iter()
        .filter(|cell| cell.dimension == "all")
        .collect();
    let arms = arm_results(design, &overall);
    let assigned: i64 = arms.iter().map(|arm| arm.assigned).sum();
    let alpha = design.alpha;
    let mut metrics = Vec::with_capacity(METRICS.len());
    metrics.push(metric_result(design.goal_metric, true, &arms, alpha)?);
    for metric in METRICS
        .into_iter()
        .filter(|metric| *metric != design.goal_metric)
    {
        metrics.push(metric_result(metric, false, &arms, alpha)?);
    }
    // The secondary metrics share one Holm adjustment over every treatment and metric.
    let secondary: Vec<Option<f64>> = metrics[1..]
        .iter()
        .flat_map(|metric| metric.comparisons.iter().map(|c| c.p_value))
        .collect();
    let mut adjusted = holm_adjusted(&secondary).into_iter();
    for metric in &mut metrics[1..] {
        for comparison in &mut metric.comparisons {
            adjust(comparison, adjusted.next().flatten(), alpha);
        }
    }
    let observed: Vec<i64> = arms.iter().map(|arm| arm.assigned).collect();
    let shares: Vec<f64> = arms.iter().map(|arm| arm.planned_share).collect();
    let assignments = srm(&observed, &shares).unwrap_or(SrmResult {
        statistic: None,
        df: 0,
        p_value: None,
        mismatch: false,
    });
    let sending: Vec<&ArmResult> = arms.iter().filter(|arm| !arm.holdout).collect();
    let deliveries = srm(
        &sending.iter().map(|arm| arm.delivered).collect::<Vec<_>>(),
        &sending
            .iter()
            .map(|arm| arm.planned_share)
            .collect::<Vec<_>>(),
    )
    .filter(|_| sending.iter().any(|arm| arm.delivered > 0));
    let srm = SrmChecks {
        assignments,
        deliveries,
    };
    let recommendation = recommend(design, assigned, &metrics[0], &srm);
    let mut breakdowns = Vec::new();
    let mut groups: Vec<(&str, &str)> = cells
        .iter()
        .filter(|cell| cell.dimension != "all")
        .map(|cell| (cell.dimension.as_str(), cell.value.as_str()))
        .collect();
    groups.sort_unstable();
    groups.dedup();
    for (dimension, value) in groups {
        let group: Vec<&Cell> = cells
            .iter()
            .filter(|cell| cell.dimension == dimension && cell.value == value)
            .collect();
        let group_arms = arm_results(design, &group);
        let goal = metric_result(design.goal_metric, true, &group_arms, alpha).ok();
        breakdowns.push(Breakdown {
            dimension: dimension.to_owned(),
            value: value.to_owned(),
            arms: group_arms,
            goal,
        });
    }
    Ok(Report {
        experiment_id: design.experiment_id,
        alpha,
        goal_metric: design.goal_metric,
        attribution_window_days: design.attribution_window_days,
        planned_sample_size: design.planned_sample_size,
        assigned,
        arms,
        metrics,
        srm,
        recommendation,
        breakdowns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn design() -> Design {
        let arm = |variant_id, key: &str, is_control| Arm {
            variant_id,
            key: key.to_owned(),
            is_control,
            planned_share: 0.5,
        };
        Design {
            experiment_id: 1,
            goal_metric: GoalMetric::Conversion,
            alpha: 0.05,
            attribution_window_days: 7,
            planned_sample_size: Some(10_000),
            arms: vec![arm(Some(1), "A", true), arm(Some(2), "B", false)],
        }
    }

    fn cell(variant_id: i64, assigned: i64, delivered: i64, converted: i64) -> Cell {
        Cell {
            variant_id: Some(variant_id),
            dimension: "all".to_owned(),
            value: String::new(),
            assigned,
            delivered,
            opened: 0,
            clicked: 0,
            converted,
            revenue_sum: converted as f64 * 10.0,
            revenue_sum_squares: converted as f64 * 100.0,
        }
    }

    #[test]
    fn a_delivery_problem_is_a_warning_not_a_broken_split() {
        let report = report(
            &design(),
            &[cell(1, 5000, 4950, 500), cell(2, 5000, 4000, 505)],
        )
        .unwrap();
        assert!(!report.srm.assignments.mismatch);
        assert!(report.srm.deliveries.as_ref().unwrap().mismatch);
        let recommendation = &report.recommendation;
        assert_eq!(recommendation.decision, Decision::KeepControl);
        assert_eq!(recommendation.variant.as_deref(), Some("A"));
        assert!(recommendation.warnings[0].starts_with("deliveries do not follow"));
    }

    #[test]
    fn a_significantly_worse_treatment_keeps_control() {
        let report = report(
            &design(),
            &[cell(1, 5000, 5000, 600), cell(2, 5000, 5000, 450)],
        )
        .unwrap();
        assert_eq!(report.recommendation.decision, Decision::KeepControl);
        assert!(
            report
                .recommendation
                .reason
                .starts_with("keep A: B lowers conversion to 9.0% from 12.0%")
        );
    }

    #[test]
    fn before_the_plan_only_the_sequential_test_decides() {
        let mut early = design();
        early.planned_sample_size = Some(40_000);
        // z = 2.05 (p = 0.04) at a quarter of the plan: significant by a peek, not by the
        // always-valid test, so the experiment keeps running.
        let report = report(
            &early,
            &[cell(1, 5000, 5000, 500), cell(2, 5000, 5000, 565)],
        )
        .unwrap();
        let goal = &report.metrics[0].comparisons[0];
        assert!(goal.p_value.unwrap() < 0.05, "{goal:?}");
        assert!(goal.sequential_p_value.unwrap() > 0.05, "{goal:?}");
        assert_eq!(report.recommendation.decision, Decision::KeepRunning);
        assert!(
            report
                .recommendation
                .reason
                .contains("25% of the planned sample (10000 of 40000)"),
            "{}",
            report.recommendation.reason
        );
    }

    #[test]
    fn one_variant_is_reported_not_failed() {
        let mut single = design();
        single.arms.truncate(1);
        let report = report(&single, &[cell(1, 5000, 5000, 500)]).unwrap();
        assert!(report.metrics[0].comparisons.is_empty());
        assert_eq!(report.recommendation.decision, Decision::Investigate);
    }
}
