//! The scenario file: the knobs of the simulated business, with documented defaults
//! (`scenarios/default.toml`), overridable key by key.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The defaults, compiled in so that `etl generate` works anywhere.
pub const DEFAULT_SCENARIO: &str = include_str!("../../scenarios/default.toml");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    pub seed: u64,
    pub customers: u64,
    pub start: NaiveDate,
    pub months: u32,
    pub titles: u32,
    pub plans: PlanMix,
    pub engagement: Engagement,
    pub churn: Churn,
    pub stream_with_friends: Rollout,
    pub subscriber_perks: Perks,
    pub email_experiments: Vec<EmailExperiment>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailExperiment {
    pub name: String,
    pub hypothesis: String,
    /// The segment it was meant for (the migration's segments).
    pub segment_id: i64,
    /// Recipients' latent engagement, from (inclusive) to (exclusive).
    pub engagement: [f64; 2],
    pub send: NaiveDate,
    /// Revenue of a conversion, in cents.
    pub offer_cents: i64,
    pub variants: Vec<EmailVariant>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailVariant {
    pub key: String,
    pub subject: String,
    /// True rates per recipient: human opens, human clicks, conversions.
    pub open_rate: f64,
    pub click_rate: f64,
    pub conversion_rate: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanMix {
    pub student: f64,
    pub basic: f64,
    pub premium: f64,
    pub family: f64,
    pub trial_share: f64,
    pub trial_conversion: f64,
    pub upgrade_rate: f64,
    pub downgrade_rate: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Engagement {
    pub sigma: f64,
    pub sessions_per_month: f64,
    pub median_minutes: f64,
    pub minutes_sigma: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Churn {
    pub monthly_rate: f64,
    pub engagement_elasticity: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rollout {
    pub regions: Vec<String>,
    pub rollout: NaiveDate,
    pub watch_time_effect: f64,
    pub churn_effect: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Perks {
    pub regions: Vec<String>,
    pub rollout: NaiveDate,
    pub churn_effect: f64,
    pub redemption_rate: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("the scenario file cannot be read: {0}")]
    Toml(String),
    #[error("scenario setting {field} {problem}")]
    Invalid {
        field: &'static str,
        problem: String,
    },
}

impl Scenario {
    /// The defaults with `overrides` (the text of a scenario file) laid over them.
    pub fn with_overrides(overrides: Option<&str>) -> Result<Scenario, ScenarioError> {
        let mut merged: toml::Table = toml::from_str(DEFAULT_SCENARIO)
            .map_err(|error| ScenarioError::Toml(error.to_string()))?;
        if let Some(text) = overrides {
            let overrides: toml::Table =
                toml::from_str(text).map_err(|error| ScenarioError::Toml(error.to_string()))?;
            merge(&mut merged, overrides);
        }
        let scenario: Scenario = toml::Value::Table(merged)
            .try_into()
            .map_err(|error: toml::de::Error| ScenarioError::Toml(error.to_string()))?;
        scenario.validate()?;
        Ok(scenario)
    }

    /// `scenario` after a change of its fields, checked again.
    pub fn validated(scenario: Scenario) -> Result<Scenario, ScenarioError> {
        scenario.validate()?;
        Ok(scenario)
    }

    /// The first instant after the simulated period.
    pub fn end(&self) -> NaiveDate {
        self.start + chrono::Months::new(self.months)
    }

    fn validate(&self) -> Result<(), ScenarioError> {
        let invalid = |field, problem: &str| {
            Err(ScenarioError::Invalid {
                field,
                problem: problem.to_owned(),
            })
        };
        if self.customers == 0 {
            return invalid("customers", "must be at least 1");
        }
        if !(1..=240).contains(&self.months) {
            return invalid("months", "must be between 1 and 240");
        }
        if !(1..=100_000).contains(&self.titles) {
            return invalid("titles", "must be between 1 and 100000");
        }
        let shares = [
            self.plans.student,
            self.plans.basic,
            self.plans.premium,
            self.plans.family,
        ];
        if shares
            .iter()
            .any(|share| !share.is_finite() || *share < 0.0)
            || shares.iter().sum::<f64>() <= 0.0
        {
            return invalid("plans", "shares must be non-negative with a positive sum");
        }
        let probabilities = [
            ("plans.trial_share", self.plans.trial_share),
            ("plans.trial_conversion", self.plans.trial_conversion),
            ("plans.upgrade_rate", self.plans.upgrade_rate),
            ("plans.downgrade_rate", self.plans.downgrade_rate),
            ("churn.monthly_rate", self.churn.monthly_rate),
            (
                "subscriber_perks.redemption_rate",
                self.subscriber_perks.redemption_rate,
            ),
        ];
        for (field, value) in probabilities {
            if !(0.0..=1.0).contains(&value) {
                return invalid(field, "must be a probability between 0 and 1");
            }
        }
        let effects = [
            (
                "stream_with_friends.watch_time_effect",
                self.stream_with_friends.watch_time_effect,
            ),
            (
                "stream_with_friends.churn_effect",
                self.stream_with_friends.churn_effect,
            ),
            (
                "subscriber_perks.churn_effect",
                self.subscriber_perks.churn_effect,
            ),
        ];
        for (field, value) in effects {
            if !(-0.95..=5.0).contains(&value) {
                return invalid(field, "must be a relative change between -0.95 and 5");
            }
        }
        let positive = [
            ("engagement.sigma", self.engagement.sigma),
            (
                "engagement.sessions_per_month",
                self.engagement.sessions_per_month,
            ),
            ("engagement.median_minutes", self.engagement.median_minutes),
            ("engagement.minutes_sigma", self.engagement.minutes_sigma),
        ];
        for (field, value) in positive {
            if !(value.is_finite() && value > 0.0 && value < 10_000.0) {
                return invalid(field, "must be a positive number");
            }
        }
        for (index, experiment) in self.email_experiments.iter().enumerate() {
            let invalid_experiment = |problem: String| {
                Err(ScenarioError::Invalid {
                    field: "email_experiments",
                    problem: format!("[{index}] {problem}"),
                })
            };
            if !(1..=4).contains(&experiment.segment_id) {
                return invalid_experiment("segment_id must be 1 to 4".to_owned());
            }
            if experiment.variants.len() < 2 {
                return invalid_experiment("needs at least two variants".to_owned());
            }
            for variant in &experiment.variants {
                let ordered = 0.0 <= variant.conversion_rate
                    && variant.conversion_rate <= variant.click_rate
                    && variant.click_rate <= variant.open_rate
                    && variant.open_rate <= 1.0;
                if !ordered {
                    return invalid_experiment(format!(
                        "variant {} needs 0 <= conversion_rate <= click_rate <= open_rate <= 1",
                        variant.key
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Lays `overrides` over `base`, table by table.
fn merge(base: &mut toml::Table, overrides: toml::Table) {
    for (key, value) in overrides {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(inner)), toml::Value::Table(value)) => merge(inner, value),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_parse_and_validate() {
        let scenario = Scenario::with_overrides(None).unwrap();
        assert_eq!(scenario.customers, 10_000);
        assert_eq!(
            scenario.end(),
            NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()
        );
    }

    #[test]
    fn an_override_changes_only_its_keys() {
        let scenario =
            Scenario::with_overrides(Some("seed = 7\n[churn]\nmonthly_rate = 0.1\n")).unwrap();
        assert_eq!(scenario.seed, 7);
        assert_eq!(scenario.churn.monthly_rate, 0.1);
        assert_eq!(scenario.churn.engagement_elasticity, 0.7);
    }

    #[test]
    fn bad_values_are_named() {
        let error = Scenario::with_overrides(Some("[churn]\nmonthly_rate = 1.5\n")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "scenario setting churn.monthly_rate must be a probability between 0 and 1"
        );
        let error = Scenario::with_overrides(Some("unknown = 1\n")).unwrap_err();
        assert!(error.to_string().contains("unknown"), "{error}");
    }
}
