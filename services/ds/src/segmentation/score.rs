//! Scoring one customer's metrics with a run's rules: pure, so every band and edge is tested
//! without a database.

use models::segmentation_rules::{
    Band, ClassicRules, Comparison, Metric, MetricRule, QuantileRules, SegmentRules,
};

/// One customer's metrics over the run's window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CustomerMetrics {
    pub frequency: i64,
    pub minutes: i64,
    /// Monthly price of the current plan in currency units; 0 without a plan.
    pub monetary: f64,
    pub likes: i64,
    pub dislikes: i64,
    /// Days since the latest session; `None` without sessions.
    pub recency_days: Option<i64>,
}

impl CustomerMetrics {
    pub fn value(&self, metric: Metric) -> Option<f64> {
        match metric {
            Metric::Frequency => Some(self.frequency as f64),
            Metric::Minutes => Some(self.minutes as f64),
            Metric::Monetary => Some(self.monetary),
            Metric::Likes => Some(self.likes as f64),
            Metric::Dislikes => Some(self.dislikes as f64),
            Metric::RecencyDays => self.recency_days.map(|days| days as f64),
        }
    }
}

fn matches(band: &Band, value: f64) -> bool {
    match band.op {
        Comparison::Below => value < band.value,
        Comparison::AtMost => value <= band.value,
        Comparison::Equal => value == band.value,
    }
}

/// The score of `value` under `rule`: the first matching band's, else `otherwise`.
pub fn score_metric(rule: &MetricRule, value: Option<f64>) -> f64 {
    match value {
        None => rule.missing.unwrap_or(rule.otherwise),
        Some(value) => rule
            .bands
            .iter()
            .find(|band| matches(band, value))
            .map_or(rule.otherwise, |band| band.score),
    }
}

/// The segment of a total score; a customer without sessions goes to the rules' chosen
/// segment whatever the score.
pub fn segment_of(rules: &SegmentRules, total: f64, sessions: i64) -> i64 {
    if sessions == 0
        && let Some(segment) = rules.no_sessions_segment_id
    {
        return segment;
    }
    rules
        .bands
        .iter()
        .find(|band| total <= band.max_total)
        .map_or(rules.otherwise_segment_id, |band| band.segment_id)
}

/// A scored customer: each metric's value and score, the total and the segment.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    pub values: Vec<(Metric, Option<f64>)>,
    pub scores: Vec<(Metric, f64)>,
    pub total: f64,
    pub segment_id: i64,
}

/// Scores `customer` under classic-form rules (a quantile run's rules are made classic by
/// `quintile_rules` first).
pub fn score(rules: &ClassicRules, customer: &CustomerMetrics) -> Scored {
    let mut values = Vec::with_capacity(rules.metrics.len());
    let mut scores = Vec::with_capacity(rules.metrics.len());
    let mut total = 0.0;
    for rule in &rules.metrics {
        let value = customer.value(rule.metric);
        let score = score_metric(rule, value);
        total += score;
        values.push((rule.metric, value));
        scores.push((rule.metric, score));
    }
    Scored {
        values,
        scores,
        total,
        segment_id: segment_of(&rules.segments, total, customer.frequency),
    }
}

/// The quintile cut points of one metric: the 20th, 40th, 60th and 80th percentiles.
pub type Quintiles = [f64; 4];

/// The classic form of a quantile scheme for the cut points measured at run time: a value up
/// to the first cut scores 1, up to the second 2, and so on to 5; where less is better
/// (recency, dislikes) the scores run the other way; recency scores 1 without sessions.
pub fn quintile_rules(rules: &QuantileRules, cuts: &[(Metric, Quintiles)]) -> ClassicRules {
    let metrics = rules
        .metrics
        .iter()
        .map(|&metric| {
            let cut = cuts
                .iter()
                .find(|(measured, _)| *measured == metric)
                .map_or([0.0; 4], |(_, cut)| *cut);
            let reversed = matches!(metric, Metric::RecencyDays | Metric::Dislikes);
            let bands = cut
                .iter()
                .enumerate()
                .map(|(index, &value)| Band {
                    op: Comparison::AtMost,
                    value,
                    score: if reversed {
                        5.0 - index as f64
                    } else {
                        1.0 + index as f64
                    },
                })
                .collect();
            MetricRule {
                metric,
                bands,
                otherwise: if reversed { 1.0 } else { 5.0 },
                missing: Some(1.0),
            }
        })
        .collect();
    ClassicRules {
        metrics,
        segments: rules.segments.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn customer(
        frequency: i64,
        minutes: i64,
        monetary: f64,
        likes: i64,
        dislikes: i64,
    ) -> CustomerMetrics {
        CustomerMetrics {
            frequency,
            minutes,
            monetary,
            likes,
            dislikes,
            recency_days: (frequency > 0).then_some(3),
        }
    }

    fn scores_of(scored: &Scored) -> Vec<f64> {
        scored.scores.iter().map(|(_, score)| *score).collect()
    }

    #[test]
    fn classic_bands_score_every_edge_as_the_original() {
        let rules = ClassicRules::original();
        // frequency: <2 -> 1, <=4 -> 3, <=7 -> 5, <=10 -> 8, else 10
        let frequency = |n| scores_of(&score(&rules, &customer(n, 0, 5.0, 0, 0)))[0];
        assert_eq!(
            [0, 1, 2, 4, 5, 7, 8, 10, 11].map(frequency),
            [1.0, 1.0, 3.0, 3.0, 5.0, 5.0, 8.0, 8.0, 10.0]
        );
        // minutes: <200 -> 1, <=600 -> 3, <=900 -> 5, <=1500 -> 8, else 10
        let minutes = |m| scores_of(&score(&rules, &customer(1, m, 5.0, 0, 0)))[1];
        assert_eq!(
            [199, 200, 600, 601, 900, 901, 1500, 1501].map(minutes),
            [1.0, 3.0, 3.0, 5.0, 5.0, 8.0, 8.0, 10.0]
        );
        // price: <=5 -> 1 (and no plan, 0), <=7 -> 3, <=9 -> 7, else 10
        let price = |p| scores_of(&score(&rules, &customer(1, 0, p, 0, 0)))[2];
        assert_eq!(
            [0.0, 4.99, 5.0, 6.0, 7.0, 8.0, 9.0, 9.5, 10.0, 25.0].map(price),
            [1.0, 1.0, 1.0, 3.0, 3.0, 7.0, 7.0, 10.0, 10.0, 10.0]
        );
        // likes: 0 -> 1, 1 -> 3, <=3 -> 5, <=5 -> 8, else 10
        let likes = |n| scores_of(&score(&rules, &customer(1, 0, 5.0, n, 0)))[3];
        assert_eq!(
            [0, 1, 2, 3, 4, 5, 6].map(likes),
            [1.0, 3.0, 5.0, 5.0, 8.0, 8.0, 10.0]
        );
        // dislikes: 0 -> 10, <=2 -> 7, <=4 -> 5, else 2
        let dislikes = |n| scores_of(&score(&rules, &customer(1, 0, 5.0, 0, n)))[4];
        assert_eq!(
            [0, 1, 2, 3, 4, 5].map(dislikes),
            [10.0, 7.0, 7.0, 5.0, 5.0, 2.0]
        );
    }

    #[test]
    fn totals_fall_in_the_original_segments() {
        let rules = ClassicRules::original().segments;
        assert_eq!(
            [15.0, 15.5, 25.0, 26.0, 30.0, 31.0].map(|total| segment_of(&rules, total, 3)),
            [1, 2, 2, 3, 3, 4]
        );
        // No sessions: Lost Cause whatever the score.
        assert_eq!(segment_of(&rules, 40.0, 0), 1);
        let scored = score(&ClassicRules::original(), &customer(9, 2000, 10.0, 6, 0));
        assert_eq!(scored.total, 48.0);
        assert_eq!(scored.segment_id, 4);
        let idle = score(&ClassicRules::original(), &customer(0, 0, 10.0, 0, 0));
        assert_eq!(
            (idle.total, idle.segment_id),
            (1.0 + 1.0 + 10.0 + 1.0 + 10.0, 1)
        );
    }

    #[test]
    fn quintiles_score_one_to_five_and_recency_reversed() {
        let rules = models::segmentation_rules::QuantileRules::standard();
        let cuts = [
            (Metric::RecencyDays, [2.0, 5.0, 10.0, 30.0]),
            (Metric::Frequency, [1.0, 2.0, 4.0, 8.0]),
            (Metric::Minutes, [50.0, 100.0, 300.0, 900.0]),
            (Metric::Monetary, [5.0, 7.0, 7.0, 9.0]),
        ];
        let classic = quintile_rules(&rules, &cuts);
        let mut best = customer(9, 1000, 10.0, 0, 0);
        best.recency_days = Some(1);
        let scored = score(&classic, &best);
        assert_eq!(scores_of(&scored), [5.0, 5.0, 5.0, 5.0]);
        assert_eq!((scored.total, scored.segment_id), (20.0, 4));
        let mut middling = customer(3, 200, 7.0, 0, 0);
        middling.recency_days = Some(7);
        assert_eq!(scores_of(&score(&classic, &middling)), [3.0, 3.0, 3.0, 2.0]);
        let idle = score(&classic, &customer(0, 0, 0.0, 0, 0));
        assert_eq!(scores_of(&idle), [1.0, 1.0, 1.0, 1.0]);
        assert_eq!(idle.segment_id, 1);
    }
}
