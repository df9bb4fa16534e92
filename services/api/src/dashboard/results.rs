//! `/experiments/{id}/results`: the newest analysis in pictures and words: each arm's rate
//! with its confidence interval, lifts with theirs, p-values, chance to win, the sample-ratio
//! check as a banner when it fails, the goal over time, the breakdowns, the recommendation,
//! and the CSV of the counts.

use actix_web::{HttpResponse, get, web};
use askama::Template;

use super::charts::{Chart, Estimate};
use super::error_page::unavailable;
use super::experiment::experiment_or_answer;
use super::login::html;
use super::signed_in::SignedIn;
use crate::reports::analysis::latest_analysis;
use crate::reports::timeline::{Timeline, timeline};
use models::analysis::{ArmResult, MetricComparison, Report};
use models::enums::Metric;

struct ArmRow {
    key: String,
    role: String,
    assigned: i64,
    delivered: i64,
    opens: i64,
    clicks: i64,
    conversions: i64,
    revenue: String,
    goal_rate: String,
    goal_interval: String,
}

struct ComparisonRow {
    variant: String,
    control_value: String,
    value: String,
    absolute_lift: String,
    relative_lift: String,
    p_value: String,
    p_value_adjusted: String,
    sequential_p_value_adjusted: String,
    chance_to_win: String,
    significant: bool,
    note: String,
}

struct MetricTable {
    metric: String,
    goal: bool,
    test: String,
    rows: Vec<ComparisonRow>,
}

struct BreakdownRow {
    value: String,
    arms: Vec<String>,
    lift: String,
    p_value: String,
}

struct BreakdownTable {
    /// As the analysis names it (`age_band`).
    key: String,
    /// As people read it (`age band`).
    dimension: String,
    arm_keys: Vec<String>,
    rows: Vec<BreakdownRow>,
}

#[derive(Template)]
#[template(path = "results.html")]
struct ResultsPage {
    page: &'static str,
    csrf_token: String,
    admin: bool,
    id: i64,
    name: String,
    analysed: Option<String>,
    srm_warning: Option<String>,
    decision: String,
    reason: String,
    warnings: Vec<String>,
    goal_metric: String,
    charts: Vec<Chart>,
    arms: Vec<ArmRow>,
    metrics: Vec<MetricTable>,
    breakdowns: Vec<BreakdownTable>,
    problem: Option<String>,
}

fn percent(value: Option<f64>) -> String {
    value.map_or("-".to_owned(), |value| format!("{:.2}%", value * 100.0))
}

fn p(value: Option<f64>) -> String {
    match value {
        None => "-".to_owned(),
        Some(value) if value < 0.0001 => "< 0.0001".to_owned(),
        Some(value) => format!("{value:.4}"),
    }
}

/// A metric's value as it reads: a rate in percent, revenue in dollars.
fn metric_value(metric: Metric, value: Option<f64>) -> String {
    if metric == Metric::Revenue {
        value.map_or("-".to_owned(), |value| format!("${value:.2}"))
    } else {
        percent(value)
    }
}

/// What the goal metric measures, in words.
fn metric_name(metric: Metric) -> String {
    match metric {
        Metric::Revenue => "revenue per customer".to_owned(),
        other => format!("{other} rate"),
    }
}

fn capitalised(text: &str) -> String {
    let mut characters = text.chars();
    characters.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(characters).collect()
    })
}

fn with_interval(
    text: String,
    interval: Option<[f64; 2]>,
    format: &dyn Fn(f64) -> String,
) -> String {
    match interval {
        Some([low, high]) => format!("{text} [{}, {}]", format(low), format(high)),
        None => text,
    }
}

fn comparison_row(metric: Metric, comparison: &MetricComparison) -> ComparisonRow {
    let absolute = |value: f64| {
        if metric == Metric::Revenue {
            format!("${value:.2}")
        } else {
            format!("{:+.2} pp", value * 100.0)
        }
    };
    let relative = |value: f64| format!("{:+.1}%", value * 100.0);
    ComparisonRow {
        variant: comparison.variant.clone(),
        control_value: metric_value(metric, comparison.control_value),
        value: metric_value(metric, comparison.value),
        absolute_lift: with_interval(
            comparison.absolute_lift.map_or("-".to_owned(), absolute),
            comparison.ci_absolute,
            &absolute,
        ),
        relative_lift: with_interval(
            comparison.relative_lift.map_or("-".to_owned(), relative),
            comparison.ci_relative,
            &relative,
        ),
        p_value: p(comparison.p_value),
        p_value_adjusted: p(comparison.p_value_adjusted),
        sequential_p_value_adjusted: p(comparison.sequential_p_value_adjusted),
        chance_to_win: percent(comparison.chance_to_win),
        significant: comparison.significant,
        note: comparison.note.clone().unwrap_or_default(),
    }
}

/// Each arm's goal rate with its Wilson interval (revenue, a mean, has no interval here).
fn goal_estimate(arm: &ArmResult, metric: Metric, alpha: f64) -> Estimate {
    let interval = arm.successes(metric).and_then(|successes| {
        let counts = stats::proportions::Counts::new(
            u64::try_from(successes).ok()?,
            u64::try_from(arm.assigned).ok()?,
        )
        .ok()?;
        stats::proportions::wilson_interval(counts, alpha)
            .ok()
            .flatten()
            .map(|[low, high]| (low, high))
    });
    Estimate {
        label: arm.key.clone(),
        value: arm.rate(metric).unwrap_or(0.0),
        interval,
    }
}

fn timeline_chart(timeline: &Timeline, arms: &[ArmResult]) -> Option<Chart> {
    let mut days: Vec<chrono::NaiveDate> = timeline.points.iter().map(|point| point.day).collect();
    days.dedup();
    if days.is_empty() {
        return None;
    }
    let series = arms
        .iter()
        .map(|arm| {
            let values = days
                .iter()
                .map(|day| {
                    timeline
                        .points
                        .iter()
                        .find(|point| point.day == *day && point.variant_id == arm.variant_id)
                        .filter(|point| point.assigned > 0)
                        .map_or(0.0, |point| {
                            (point.successes as f64 / point.assigned as f64 * 10_000.0).round()
                                / 100.0
                        })
                })
                .collect();
            (arm.key.clone(), values)
        })
        .collect();
    Some(Chart::lines(
        &format!("Cumulative {} rate by day", timeline.metric),
        "Day (UTC)",
        "% of assigned",
        days.iter()
            .map(|day| day.format("%m-%d").to_string())
            .collect(),
        series,
    ))
}

fn breakdown_tables(results: &Report) -> Vec<BreakdownTable> {
    let mut tables: Vec<BreakdownTable> = Vec::new();
    let metric = results.goal_metric;
    for breakdown in &results.breakdowns {
        let arm_keys: Vec<String> = breakdown.arms.iter().map(|arm| arm.key.clone()).collect();
        let goal = breakdown.goal.as_ref();
        let best = goal.and_then(|goal| goal.comparisons.first());
        let row = BreakdownRow {
            value: breakdown.value.clone(),
            arms: breakdown
                .arms
                .iter()
                .map(|arm| {
                    format!(
                        "{} of {}",
                        metric_value(metric, arm.rate(metric)),
                        arm.assigned
                    )
                })
                .collect(),
            lift: best.map_or("-".to_owned(), |c| {
                c.relative_lift
                    .map_or("-".to_owned(), |lift| format!("{:+.1}%", lift * 100.0))
            }),
            p_value: best.map_or("-".to_owned(), |c| p(c.p_value)),
        };
        match tables
            .iter_mut()
            .find(|table| table.key == breakdown.dimension)
        {
            Some(table) => table.rows.push(row),
            None => tables.push(BreakdownTable {
                key: breakdown.dimension.clone(),
                dimension: breakdown.dimension.replace('_', " "),
                arm_keys,
                rows: vec![row],
            }),
        }
    }
    tables
}

#[get("/experiments/{id}/results")]
pub async fn results_page(signed_in: SignedIn, id: web::Path<i64>) -> HttpResponse {
    let SignedIn {
        session,
        mut connection,
    } = signed_in;
    let id = id.into_inner();
    let experiment = match experiment_or_answer(&mut connection, id).await {
        Ok(experiment) => experiment,
        Err(response) => return response,
    };
    let latest = match latest_analysis(&mut connection, id).await {
        Ok(latest) => latest,
        Err(error) => return unavailable(&error),
    };
    let mut page = ResultsPage {
        page: "experiments",
        admin: session.is_admin(),
        csrf_token: session.csrf_token,
        id,
        name: experiment.experiment.name.clone(),
        analysed: None,
        srm_warning: None,
        decision: String::new(),
        reason: String::new(),
        warnings: Vec::new(),
        goal_metric: experiment.experiment.goal_metric.to_string(),
        charts: Vec::new(),
        arms: Vec::new(),
        metrics: Vec::new(),
        breakdowns: Vec::new(),
        problem: None,
    };
    let Some((analysis, results)) = latest else {
        return html(&page);
    };
    page.analysed = Some(analysis.created_at.format("%Y-%m-%d %H:%M UTC").to_string());
    let results = match results {
        Ok(results) => results,
        Err(error) => {
            page.problem = Some(format!("The stored analysis cannot be read: {error}"));
            return html(&page);
        }
    };
    let metric = results.goal_metric;
    if results.srm.assignments.mismatch {
        page.srm_warning = Some(format!(
            "Sample-ratio mismatch: the arms' sizes differ from the planned split (p = {}). \
             Something broke the assignment; do not trust these results until it is explained.",
            p(results.srm.assignments.p_value)
        ));
    } else if let Some(deliveries) = results.srm.deliveries.as_ref().filter(|d| d.mismatch) {
        page.srm_warning = Some(format!(
            "Delivery mismatch: the arms' delivered e-mails differ from the planned split (p = {}): \
             look for a delivery problem in one arm.",
            p(deliveries.p_value)
        ));
    }
    page.decision = format!(
        "{}{}",
        results.recommendation.decision.words(),
        results
            .recommendation
            .variant
            .as_ref()
            .map_or(String::new(), |variant| format!(": {variant}"))
    );
    page.reason = results.recommendation.reason.clone();
    page.warnings = results.recommendation.warnings.clone();
    // Rates drawn in percent, as the tables show them; revenue in dollars.
    let scale = if metric == Metric::Revenue {
        1.0
    } else {
        100.0
    };
    let rounded = |value: f64| (value * scale * 100.0).round() / 100.0;
    page.charts.push(Chart::intervals(
        &format!(
            "{} by arm, with {:.0}% confidence intervals",
            capitalised(&metric_name(metric)),
            (1.0 - results.alpha) * 100.0
        ),
        "Arm",
        if metric == Metric::Revenue {
            "$ per assigned customer"
        } else {
            "% of assigned"
        },
        results
            .arms
            .iter()
            .map(|arm| {
                let estimate = goal_estimate(arm, metric, results.alpha);
                Estimate {
                    value: rounded(estimate.value),
                    interval: estimate
                        .interval
                        .map(|(low, high)| (rounded(low), rounded(high))),
                    label: estimate.label,
                }
            })
            .collect(),
    ));
    if let Ok(timeline) = timeline(&mut connection, id).await
        && let Some(chart) = timeline_chart(&timeline, &results.arms)
    {
        page.charts.push(chart);
    }
    page.arms = results
        .arms
        .iter()
        .map(|arm| {
            let estimate = goal_estimate(arm, metric, results.alpha);
            ArmRow {
                key: arm.key.clone(),
                role: if arm.holdout {
                    "holdout (no e-mail)".to_owned()
                } else if arm.is_control {
                    "control".to_owned()
                } else {
                    "treatment".to_owned()
                },
                assigned: arm.assigned,
                delivered: arm.delivered,
                opens: arm.unique_opens,
                clicks: arm.unique_human_clicks,
                conversions: arm.conversions,
                revenue: format!("${:.2}", arm.revenue),
                goal_rate: metric_value(metric, arm.rate(metric)),
                goal_interval: estimate.interval.map_or("-".to_owned(), |(low, high)| {
                    format!("{} to {}", percent(Some(low)), percent(Some(high)))
                }),
            }
        })
        .collect();
    page.metrics = results
        .metrics
        .iter()
        .map(|result| {
            let mut rows: Vec<ComparisonRow> = result
                .comparisons
                .iter()
                .map(|comparison| comparison_row(result.metric, comparison))
                .collect();
            if let Some(holdout) = &result.holdout {
                let mut row = comparison_row(result.metric, holdout);
                row.variant = format!("{} (no e-mail vs control)", row.variant);
                rows.push(row);
            }
            MetricTable {
                metric: result.metric.to_string(),
                goal: result.goal,
                test: format!("{} ({})", result.test, result.kind),
                rows,
            }
        })
        .collect();
    page.breakdowns = breakdown_tables(&results);
    html(&page)
}
