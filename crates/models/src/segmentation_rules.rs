//! The rules a segmentation scheme applies, as data: what each metric's value scores, and
//! which segment a total score falls in. Stored as JSON on a rule set, copied onto each run.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A metric computed per customer over the run's window.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Watch sessions.
    Frequency,
    /// Minutes watched, all sessions together.
    Minutes,
    /// Monthly price of the current plan in currency units (0 without a plan).
    Monetary,
    /// Sessions the customer liked.
    Likes,
    /// Sessions the customer disliked.
    Dislikes,
    /// Days since the latest session; absent without sessions.
    RecencyDays,
}

impl Metric {
    pub const ALL: [Metric; 6] = [
        Metric::Frequency,
        Metric::Minutes,
        Metric::Monetary,
        Metric::Likes,
        Metric::Dislikes,
        Metric::RecencyDays,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Frequency => "frequency",
            Metric::Minutes => "minutes",
            Metric::Monetary => "monetary",
            Metric::Likes => "likes",
            Metric::Dislikes => "dislikes",
            Metric::RecencyDays => "recency_days",
        }
    }
}

/// How a band compares a value with its limit. The original system mixed all three.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum Comparison {
    #[serde(rename = "<")]
    Below,
    #[serde(rename = "<=")]
    AtMost,
    #[serde(rename = "==")]
    Equal,
}

/// Scores `score` when the value compares with `value` as `op` says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Band {
    pub op: Comparison,
    pub value: f64,
    pub score: f64,
}

/// The bands of one metric, tried in order; the first that matches scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MetricRule {
    pub metric: Metric,
    pub bands: Vec<Band>,
    /// The score when no band matches.
    pub otherwise: f64,
    /// The score when the metric has no value (recency without sessions); `otherwise` if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing: Option<f64>,
}

/// A total score at most `max_total` puts the customer in `segment_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SegmentBand {
    pub max_total: f64,
    pub segment_id: i64,
}

/// Which segment a total score (the sum of the metrics' scores) falls in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SegmentRules {
    /// Tried in order; the first whose `max_total` is not exceeded wins.
    pub bands: Vec<SegmentBand>,
    /// The segment of a total above every band.
    pub otherwise_segment_id: i64,
    /// The segment of a customer with no session in the window, whatever the score.
    pub no_sessions_segment_id: Option<i64>,
}

/// The `classic` scheme: fixed bands per metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClassicRules {
    pub metrics: Vec<MetricRule>,
    pub segments: SegmentRules,
}

/// The `quantile` scheme: each metric scores 1 to 5 by the quintile of its value among all
/// customers at run time (reversed where less is better, recency and dislikes: the most recent
/// fifth scores 5), so the segments keep their meaning when the business changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuantileRules {
    pub metrics: Vec<Metric>,
    pub segments: SegmentRules,
}

/// A problem with a rule set, naming the field at fault (a path under `rules`).
#[derive(Debug, Clone, PartialEq)]
pub struct RuleError {
    pub field: String,
    pub message: String,
}

fn rule_error(field: String, message: &str) -> RuleError {
    RuleError {
        field,
        message: message.to_owned(),
    }
}

impl SegmentRules {
    /// Segment ids in use, to check that they exist.
    pub fn segment_ids(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self.bands.iter().map(|band| band.segment_id).collect();
        ids.push(self.otherwise_segment_id);
        ids.extend(self.no_sessions_segment_id);
        ids
    }

    fn check(&self, field: &str) -> Result<(), RuleError> {
        for (index, band) in self.bands.iter().enumerate() {
            if !band.max_total.is_finite() {
                return Err(rule_error(
                    format!("{field}.bands[{index}].max_total"),
                    "must be a finite number",
                ));
            }
            if index > 0 && band.max_total <= self.bands[index - 1].max_total {
                return Err(rule_error(
                    format!("{field}.bands[{index}].max_total"),
                    "must be above the band before",
                ));
            }
        }
        Ok(())
    }
}

impl ClassicRules {
    /// The original system's thresholds, as its own code applies them (README of
    /// `shared/reference/ds223-seed10`), except that a price up to 5 scores 1 (it said `== 5`:
    /// its plans never cost less).
    pub fn original() -> ClassicRules {
        use Comparison::{AtMost, Below, Equal};
        let band = |op, value, score| Band { op, value, score };
        let rule = |metric, bands, otherwise| MetricRule {
            metric,
            bands,
            otherwise,
            missing: None,
        };
        let metrics = vec![
            rule(
                Metric::Frequency,
                vec![
                    band(Below, 2.0, 1.0),
                    band(AtMost, 4.0, 3.0),
                    band(AtMost, 7.0, 5.0),
                    band(AtMost, 10.0, 8.0),
                ],
                10.0,
            ),
            rule(
                Metric::Minutes,
                vec![
                    band(Below, 200.0, 1.0),
                    band(AtMost, 600.0, 3.0),
                    band(AtMost, 900.0, 5.0),
                    band(AtMost, 1500.0, 8.0),
                ],
                10.0,
            ),
            rule(
                Metric::Monetary,
                vec![
                    band(AtMost, 5.0, 1.0),
                    band(AtMost, 7.0, 3.0),
                    band(AtMost, 9.0, 7.0),
                ],
                10.0,
            ),
            rule(
                Metric::Likes,
                vec![
                    band(Equal, 0.0, 1.0),
                    band(Equal, 1.0, 3.0),
                    band(AtMost, 3.0, 5.0),
                    band(AtMost, 5.0, 8.0),
                ],
                10.0,
            ),
            rule(
                Metric::Dislikes,
                vec![
                    band(Equal, 0.0, 10.0),
                    band(AtMost, 2.0, 7.0),
                    band(AtMost, 4.0, 5.0),
                ],
                2.0,
            ),
        ];
        ClassicRules {
            metrics,
            segments: SegmentRules {
                bands: vec![
                    SegmentBand {
                        max_total: 15.0,
                        segment_id: 1,
                    },
                    SegmentBand {
                        max_total: 25.0,
                        segment_id: 2,
                    },
                    SegmentBand {
                        max_total: 30.0,
                        segment_id: 3,
                    },
                ],
                otherwise_segment_id: 4,
                no_sessions_segment_id: Some(1),
            },
        }
    }

    pub fn check(&self) -> Result<(), RuleError> {
        if self.metrics.is_empty() {
            return Err(rule_error(
                "metrics".to_owned(),
                "must name at least one metric",
            ));
        }
        for (index, rule) in self.metrics.iter().enumerate() {
            let field = format!("metrics[{index}]");
            if self.metrics[..index]
                .iter()
                .any(|other| other.metric == rule.metric)
            {
                return Err(rule_error(format!("{field}.metric"), "is named twice"));
            }
            for (index, band) in rule.bands.iter().enumerate() {
                if !band.value.is_finite() {
                    return Err(rule_error(
                        format!("{field}.bands[{index}].value"),
                        "must be a finite number",
                    ));
                }
                if !band.score.is_finite() {
                    return Err(rule_error(
                        format!("{field}.bands[{index}].score"),
                        "must be a finite number",
                    ));
                }
            }
            if !rule.otherwise.is_finite() {
                return Err(rule_error(
                    format!("{field}.otherwise"),
                    "must be a finite number",
                ));
            }
            if rule.missing.is_some_and(|missing| !missing.is_finite()) {
                return Err(rule_error(
                    format!("{field}.missing"),
                    "must be a finite number",
                ));
            }
        }
        self.segments.check("segments")
    }
}

impl QuantileRules {
    /// Recency, frequency, minutes and monetary value (RFM plus minutes), 4 to 20 points:
    /// a fifth of the range per segment from the bottom, the rest Star Customers.
    pub fn standard() -> QuantileRules {
        QuantileRules {
            metrics: vec![
                Metric::RecencyDays,
                Metric::Frequency,
                Metric::Minutes,
                Metric::Monetary,
            ],
            segments: SegmentRules {
                bands: vec![
                    SegmentBand {
                        max_total: 8.0,
                        segment_id: 1,
                    },
                    SegmentBand {
                        max_total: 12.0,
                        segment_id: 2,
                    },
                    SegmentBand {
                        max_total: 16.0,
                        segment_id: 3,
                    },
                ],
                otherwise_segment_id: 4,
                no_sessions_segment_id: Some(1),
            },
        }
    }

    pub fn check(&self) -> Result<(), RuleError> {
        if self.metrics.is_empty() {
            return Err(rule_error(
                "metrics".to_owned(),
                "must name at least one metric",
            ));
        }
        for (index, metric) in self.metrics.iter().enumerate() {
            if self.metrics[..index].contains(metric) {
                return Err(rule_error(format!("metrics[{index}]"), "is named twice"));
            }
        }
        self.segments.check("segments")
    }
}

/// A rule set's rules, read for its scheme.
#[derive(Debug, Clone, PartialEq)]
pub enum Rules {
    Classic(ClassicRules),
    Quantile(QuantileRules),
}

impl Rules {
    /// Reads and checks `rules` for `scheme`; the error names the field under `rules`.
    pub fn parse(
        scheme: crate::enums::SegmentationScheme,
        rules: &serde_json::Value,
    ) -> Result<Rules, RuleError> {
        use crate::enums::SegmentationScheme;
        fn read<T: serde::de::DeserializeOwned>(rules: &serde_json::Value) -> Result<T, RuleError> {
            serde_path_to_error::deserialize(rules).map_err(|error| RuleError {
                field: error.path().to_string(),
                message: error.inner().to_string(),
            })
        }
        let parsed = match scheme {
            SegmentationScheme::Classic => Rules::Classic(read(rules)?),
            SegmentationScheme::Quantile => Rules::Quantile(read(rules)?),
        };
        match &parsed {
            Rules::Classic(rules) => rules.check()?,
            Rules::Quantile(rules) => rules.check()?,
        }
        Ok(parsed)
    }

    pub fn segments(&self) -> &SegmentRules {
        match self {
            Rules::Classic(rules) => &rules.segments,
            Rules::Quantile(rules) => &rules.segments,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enums::SegmentationScheme;

    #[test]
    fn the_standard_rules_read_back_as_themselves() {
        let classic = serde_json::to_value(ClassicRules::original()).unwrap();
        assert_eq!(
            Rules::parse(SegmentationScheme::Classic, &classic).unwrap(),
            Rules::Classic(ClassicRules::original())
        );
        assert_eq!(classic["metrics"][0]["metric"], "frequency");
        assert_eq!(classic["metrics"][0]["bands"][0]["op"], "<");
        let quantile = serde_json::to_value(QuantileRules::standard()).unwrap();
        assert_eq!(
            Rules::parse(SegmentationScheme::Quantile, &quantile).unwrap(),
            Rules::Quantile(QuantileRules::standard())
        );
    }

    #[test]
    fn bad_rules_name_the_field() {
        let mut rules = serde_json::to_value(ClassicRules::original()).unwrap();
        rules["metrics"][3]["bands"][2]["op"] = "!=".into();
        let error = Rules::parse(SegmentationScheme::Classic, &rules).unwrap_err();
        assert_eq!(error.field, "metrics[3].bands[2].op");

        let mut rules = serde_json::to_value(ClassicRules::original()).unwrap();
        rules["segments"]["bands"][1]["max_total"] = 10.into();
        let error = Rules::parse(SegmentationScheme::Classic, &rules).unwrap_err();
        assert_eq!(error.field, "segments.bands[1].max_total");

        let mut rules = serde_json::to_value(QuantileRules::standard()).unwrap();
        rules["metrics"][2] = "frequency".into();
        let error = Rules::parse(SegmentationScheme::Quantile, &rules).unwrap_err();
        assert_eq!(error.field, "metrics[2]");

        let error = Rules::parse(
            SegmentationScheme::Quantile,
            &serde_json::json!({"metrics": ["likes"]}),
        )
        .unwrap_err();
        assert_eq!(error.message, "missing field `segments`");
    }
}
