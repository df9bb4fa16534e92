//! `/segments`: the latest run's distribution and score profiles, who moved where since the
//! run before, the rule sets with an editor, and a button that runs segmentation and follows
//! its job.

use actix_web::{HttpResponse, get};
use askama::Template;
use diesel::QueryDsl as _;
use diesel_async::RunQueryDsl as _;
use models::schema::segmentation_rule_sets;
use models::segmentation::SegmentationRuleSet;

use super::charts::{Chart, Shape, number};
use super::error_page::unavailable;
use super::login::html;
use super::signed_in::SignedIn;
use crate::reports::segments::{SegmentsReport, segments_report};

struct Profile {
    name: String,
    customers: i64,
    share: String,
    scores: Vec<String>,
}

struct RuleSet {
    id: i64,
    name: String,
    scheme: String,
    rules: String,
}

#[derive(Template)]
#[template(path = "segments.html")]
struct SegmentsPage {
    page: &'static str,
    csrf_token: String,
    admin: bool,
    run: Option<String>,
    previous_run: Option<String>,
    charts: Vec<Chart>,
    profiles: Vec<Profile>,
    /// Column heads of the moves table: the latest run's segments, then "not scored now".
    move_columns: Vec<String>,
    /// One row per previous segment (and "not in the previous run"): its counts per column.
    move_rows: Vec<(String, Vec<String>)>,
    rule_sets: Vec<RuleSet>,
}

fn describe(run: &models::segmentation::SegmentationRun) -> String {
    format!(
        "run {} ({} scheme{}, {} customers scored, finished {})",
        run.id,
        run.scheme,
        run.window_days
            .map_or(String::new(), |days| format!(", last {days} days")),
        run.customers_scored,
        run.finished_at.map_or("-".to_owned(), |at| at
            .format("%Y-%m-%d %H:%M UTC")
            .to_string())
    )
}

fn score(value: Option<f64>) -> String {
    value.map_or("-".to_owned(), |value| format!("{value:.2}"))
}

/// The moves as a table: previous segments down, latest segments across.
fn move_table(report: &SegmentsReport) -> (Vec<String>, Vec<(String, Vec<String>)>) {
    if report.previous_run.is_none() {
        return (Vec::new(), Vec::new());
    }
    let mut segments: Vec<(Option<i64>, String)> = report
        .segments
        .iter()
        .map(|segment| (Some(segment.segment_id), segment.segment_name.clone()))
        .collect();
    // A segment only the previous run had still needs a row and a column.
    for found in &report.moves {
        for id in [found.from_segment_id, found.to_segment_id]
            .into_iter()
            .flatten()
        {
            if !segments.iter().any(|(known, _)| *known == Some(id)) {
                segments.push((Some(id), format!("segment {id}")));
            }
        }
    }
    let count = |from: Option<i64>, to: Option<i64>| {
        report
            .moves
            .iter()
            .find(|found| found.from_segment_id == from && found.to_segment_id == to)
            .map_or(0, |found| found.customers)
    };
    let mut columns: Vec<String> = segments.iter().map(|(_, name)| name.clone()).collect();
    columns.push("not in the latest run".to_owned());
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    let mut sources = segments.clone();
    sources.push((None, "not in the previous run".to_owned()));
    for (from, name) in sources {
        let mut cells: Vec<String> = segments
            .iter()
            .map(|(to, _)| count(from, *to).to_string())
            .collect();
        cells.push(count(from, None).to_string());
        rows.push((name, cells));
    }
    (columns, rows)
}

#[get("/segments")]
pub async fn segments_page(signed_in: SignedIn) -> HttpResponse {
    let SignedIn {
        session,
        mut connection,
    } = signed_in;
    let report = match segments_report(&mut connection).await {
        Ok(report) => report,
        Err(problem) => return unavailable(&problem.detail),
    };
    let rule_sets: Vec<SegmentationRuleSet> = match segmentation_rule_sets::table
        .order(segmentation_rule_sets::id)
        .load(&mut connection)
        .await
    {
        Ok(rule_sets) => rule_sets,
        Err(error) => return unavailable(&error),
    };
    let points = |value: fn(&crate::reports::segments::SegmentProfile) -> f64| {
        report
            .segments
            .iter()
            .map(|segment| (segment.segment_name.clone(), value(segment)))
            .collect::<Vec<_>>()
    };
    let charts = if report.segments.is_empty() {
        Vec::new()
    } else {
        vec![
            Chart::new(
                "Customers by segment (latest run)",
                "Segment",
                "Customers",
                points(|segment| segment.customers as f64),
                Shape::Bars,
            ),
            Chart::new(
                "Mean total score by segment",
                "Segment",
                "Score (points)",
                points(|segment| (segment.mean_total_score * 100.0).round() / 100.0),
                Shape::Bars,
            ),
        ]
    };
    let (move_columns, move_rows) = move_table(&report);
    html(&SegmentsPage {
        page: "segments",
        admin: session.is_admin(),
        csrf_token: session.csrf_token,
        run: report.run.as_ref().map(describe),
        previous_run: report.previous_run.as_ref().map(describe),
        charts,
        profiles: report
            .segments
            .iter()
            .map(|segment| Profile {
                name: segment.segment_name.clone(),
                customers: segment.customers,
                share: format!("{:.1}%", segment.share * 100.0),
                scores: vec![
                    number((segment.mean_total_score * 100.0).round() / 100.0),
                    score(segment.frequency),
                    score(segment.minutes),
                    score(segment.monetary),
                    score(segment.likes),
                    score(segment.dislikes),
                    score(segment.recency_days),
                ],
            })
            .collect(),
        move_columns,
        move_rows,
        rule_sets: rule_sets
            .into_iter()
            .map(|rule_set| RuleSet {
                id: rule_set.id,
                name: rule_set.name,
                scheme: rule_set.scheme.to_string(),
                rules: serde_json::to_string_pretty(&rule_set.rules).unwrap_or_default(),
            })
            .collect(),
    })
}
