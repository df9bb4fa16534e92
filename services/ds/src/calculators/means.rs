//! `means`: a metric's mean in two or more arms against the first (the control), from sums or
//! raw values.

use models::stats::{
    MannWhitneyOutcome, MeansAnswer, MeansArm, MeansComparison, MeansRequest, TTestOutcome,
};
use service::Problem;
use service::validate::{Checks, NAME_MAX};
use stats::bayes::{means_chance_to_beat_control, means_credible_interval, means_expected_loss};
use stats::means::{Summary, relative_lift_interval, t_test};
use stats::ranks::mann_whitney;
use stats::sequential::Estimate;

use super::sequential::sequential;
use super::{MAX_VARIANTS, check_alpha, holm_adjusted};

/// Most raw values accepted over all arms (the exact Mann-Whitney is quadratic in them).
pub const MAX_VALUES: usize = 100_000;

fn read(request: &MeansRequest) -> Result<Vec<Summary>, Problem> {
    check_alpha(request.alpha)?;
    let mut checks = Checks::new();
    if request.variants.len() < 2 {
        checks.fail(
            "variants",
            "must have at least two variants, the first the control",
        );
    }
    if request.variants.len() > MAX_VARIANTS {
        checks.fail(
            "variants",
            format!("must have at most {MAX_VARIANTS} variants"),
        );
    }
    let values: usize = request
        .variants
        .iter()
        .map(|variant| variant.values.as_ref().map_or(0, Vec::len))
        .sum();
    if values > MAX_VALUES {
        checks.fail(
            "variants",
            format!("must hold at most {MAX_VALUES} values in all"),
        );
    }
    let mut summaries = Vec::with_capacity(request.variants.len());
    for (index, variant) in request.variants.iter().enumerate() {
        let field = |name: &str| format!("variants[{index}].{name}");
        checks.required_text(&field("name"), &variant.name, NAME_MAX);
        match (&variant.values, variant.n, variant.sum, variant.sum_squares) {
            (Some(values), None, None, None) => summaries.push(Summary::of(values)),
            (None, Some(n), Some(sum), Some(sum_squares)) => {
                if n < 0 {
                    checks.fail(field("n"), "must be at least 0");
                }
                if !sum.is_finite() {
                    checks.fail(field("sum"), "must be a finite number");
                }
                if !(sum_squares.is_finite() && sum_squares >= 0.0) {
                    checks.fail(field("sum_squares"), "must be a number at least 0");
                }
                summaries.push(Summary {
                    n: n.unsigned_abs(),
                    sum,
                    sum_squares,
                });
            }
            _ => {
                checks.fail(
                    format!("variants[{index}]"),
                    "give either n, sum and sum_squares, or values",
                );
            }
        }
    }
    checks.finish()?;
    Ok(summaries)
}

fn t_outcome(
    control: Summary,
    treatment: Summary,
    equal_variances: bool,
    alpha: f64,
) -> TTestOutcome {
    match t_test(control, treatment, equal_variances, alpha) {
        Ok(test) => TTestOutcome {
            statistic: Some(test.statistic),
            df: Some(test.df),
            p_value: Some(test.p_value),
            ci: Some(test.ci),
            note: None,
        },
        Err(error) => TTestOutcome {
            statistic: None,
            df: None,
            p_value: None,
            ci: None,
            note: Some(error.to_string()),
        },
    }
}

pub fn answer(request: &MeansRequest) -> Result<MeansAnswer, Problem> {
    let summaries = read(request)?;
    let alpha = request.alpha;
    let variants = request
        .variants
        .iter()
        .zip(&summaries)
        .map(|(variant, summary)| MeansArm {
            name: variant.name.clone(),
            n: i64::try_from(summary.n).unwrap_or(i64::MAX),
            mean: (summary.n > 0).then(|| summary.mean()),
            sd: (summary.n > 1).then(|| summary.variance().sqrt()),
        })
        .collect();
    let control = summaries[0];
    let control_values = request.variants[0].values.as_deref();
    let mut comparisons = Vec::with_capacity(summaries.len() - 1);
    for (variant, &treatment) in request.variants.iter().zip(&summaries).skip(1) {
        let mean_c = (control.n > 0).then(|| control.mean());
        let mean_t = (treatment.n > 0).then(|| treatment.mean());
        let mann_whitney = match (control_values, variant.values.as_deref()) {
            (Some(c), Some(t)) => mann_whitney(c, t).ok().map(|test| MannWhitneyOutcome {
                u: test.u,
                p_value: test.p_value,
                exact: test.exact,
            }),
            _ => None,
        };
        comparisons.push(MeansComparison {
            variant: variant.name.clone(),
            difference: mean_c.zip(mean_t).map(|(c, t)| t - c),
            relative_lift: mean_c
                .zip(mean_t)
                .and_then(|(c, t)| (c != 0.0).then(|| t / c - 1.0)),
            ci_relative: relative_lift_interval(control, treatment, alpha)
                .ok()
                .flatten(),
            welch: t_outcome(control, treatment, false, alpha),
            student: t_outcome(control, treatment, true, alpha),
            p_value_adjusted: None,
            mann_whitney,
            chance_to_win: means_chance_to_beat_control(control, treatment).ok(),
            expected_loss: means_expected_loss(control, treatment).ok(),
            credible_interval: means_credible_interval(control, treatment, alpha).ok(),
            sequential: sequential(
                Estimate::of_means(control, treatment),
                control.n as f64,
                treatment.n as f64,
                alpha,
            ),
        });
    }
    let adjusted = holm_adjusted(
        &comparisons
            .iter()
            .map(|comparison| comparison.welch.p_value)
            .collect::<Vec<_>>(),
    );
    for (comparison, adjusted) in comparisons.iter_mut().zip(adjusted) {
        comparison.p_value_adjusted = adjusted;
    }
    Ok(MeansAnswer {
        alpha,
        variants,
        comparisons,
    })
}

#[cfg(test)]
mod tests {
    use models::stats::MeansVariant;

    use super::*;

    fn values(name: &str, values: &[f64]) -> MeansVariant {
        MeansVariant {
            name: name.to_owned(),
            n: None,
            sum: None,
            sum_squares: None,
            values: Some(values.to_vec()),
        }
    }

    #[test]
    fn raw_values_and_sums_give_the_same_tests() {
        let a = [3.1, 2.5, 4.0, 3.3, 2.9];
        let b = [3.9, 4.4, 3.6, 4.8, 4.1];
        let raw = answer(&MeansRequest {
            variants: vec![values("A", &a), values("B", &b)],
            alpha: 0.05,
        })
        .unwrap();
        let sums = |name: &str, v: &[f64]| MeansVariant {
            name: name.to_owned(),
            n: Some(v.len() as i64),
            sum: Some(v.iter().sum()),
            sum_squares: Some(v.iter().map(|x| x * x).sum()),
            values: None,
        };
        let summed = answer(&MeansRequest {
            variants: vec![sums("A", &a), sums("B", &b)],
            alpha: 0.05,
        })
        .unwrap();
        assert_eq!(raw.comparisons[0].welch, summed.comparisons[0].welch);
        // scipy.stats.ttest_ind(b, a, equal_var=False) and mannwhitneyu(a, b).
        let welch = &raw.comparisons[0].welch;
        assert!(
            (welch.statistic.unwrap() - 3.097_891_054_043_947).abs() < 1e-9,
            "{welch:?}"
        );
        assert!((welch.p_value.unwrap() - 0.015_316_576_314_336_474).abs() < 1e-9);
        assert!((welch.df.unwrap() - 7.742_571_292_063_922).abs() < 1e-9);
        // Mann-Whitney only with raw values; U of the control sample.
        let mann_whitney = raw.comparisons[0].mann_whitney.as_ref().unwrap();
        assert_eq!(mann_whitney.u, 2.0);
        assert!((mann_whitney.p_value - 0.031_746_031_746_031_744).abs() < 1e-12);
        assert!(summed.comparisons[0].mann_whitney.is_none());
    }

    #[test]
    fn an_arm_with_one_value_leaves_the_t_tests_undefined() {
        let answer = answer(&MeansRequest {
            variants: vec![values("A", &[1.0]), values("B", &[2.0, 3.0])],
            alpha: 0.05,
        })
        .unwrap();
        assert_eq!(answer.comparisons[0].welch.p_value, None);
        assert!(answer.comparisons[0].welch.note.is_some());
    }

    #[test]
    fn a_variant_needs_one_form() {
        let mut both = values("B", &[1.0, 2.0]);
        both.n = Some(2);
        let problem = answer(&MeansRequest {
            variants: vec![values("A", &[1.0, 2.0]), both],
            alpha: 0.05,
        })
        .unwrap_err();
        assert_eq!(problem.errors[0].field, "variants[1]");
    }
}
