//! `means`: a metric's mean in two or more arms against the first (the control), from sums or
//! raw values.

use models::stats::{
    CupedAnswer, CupedComparison, MannWhitneyOutcome, MeansAnswer, MeansArm, MeansComparison,
    MeansRequest, MeansVariant, TTestOutcome,
};
use service::validate::{Checks, NAME_MAX};
use service::{FieldError, Problem};
use stats::bayes::{means_chance_to_beat_control, means_credible_interval, means_expected_loss};
use stats::cuped::{CupedArm, cuped};
use stats::means::{Summary, relative_lift_interval, t_test};
use stats::ranks::mann_whitney;
use stats::sequential::Estimate;

use super::sequential::sequential;
use super::{check_alpha, check_variant_count, holm_adjusted};

/// Most raw values accepted over all arms (the exact Mann-Whitney is quadratic in them).
pub const MAX_VALUES: usize = 100_000;

fn read(request: &MeansRequest) -> Result<Vec<Summary>, Problem> {
    check_alpha(request.alpha)?;
    let mut checks = Checks::new();
    check_variant_count(&mut checks, request.variants.len());
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
        cuped: cuped_answer(request)?,
    })
}

/// One variant's sums for CUPED, when it gave a covariate; a 422 when it gave one badly.
fn cuped_arm(index: usize, variant: &MeansVariant) -> Result<Option<CupedArm>, Problem> {
    let field = |name: &str| format!("variants[{index}].{name}");
    let fail = |name: &str, message: &str| {
        Problem::validation(vec![FieldError::new(field(name), message)])
    };
    match (
        &variant.values,
        &variant.covariate,
        variant.covariate_sum,
        variant.covariate_sum_squares,
        variant.cross_sum,
    ) {
        (_, None, None, None, None) => Ok(None),
        (Some(values), Some(covariate), None, None, None) => CupedArm::of(values, covariate)
            .map(Some)
            .map_err(|error| super::invalid(&format!("variants[{index}]."), error)),
        (None, None, Some(sum_x), Some(sum_x2), Some(sum_xy)) => Ok(Some(CupedArm {
            n: variant.n.unwrap_or_default().unsigned_abs(),
            sum_y: variant.sum.unwrap_or_default(),
            sum_y2: variant.sum_squares.unwrap_or_default(),
            sum_x,
            sum_x2,
            sum_xy,
        })),
        (Some(_), _, _, _, _) => Err(fail(
            "covariate",
            "with values, give the covariate as values too",
        )),
        _ => Err(fail(
            "covariate_sum",
            "with sums, give covariate_sum, covariate_sum_squares and cross_sum together",
        )),
    }
}

/// CUPED over every variant, when each gave a covariate (else none; a 422 if only some did).
fn cuped_answer(request: &MeansRequest) -> Result<Option<CupedAnswer>, Problem> {
    let mut arms = Vec::with_capacity(request.variants.len());
    for (index, variant) in request.variants.iter().enumerate() {
        arms.push(cuped_arm(index, variant)?);
    }
    if arms.iter().all(Option::is_none) {
        return Ok(None);
    }
    let Some(arms) = arms.into_iter().collect::<Option<Vec<CupedArm>>>() else {
        return Err(Problem::validation(vec![FieldError::new(
            "variants",
            "give a covariate for every variant or for none",
        )]));
    };
    let result = cuped(&arms, request.alpha).map_err(|error| super::invalid("", error))?;
    Ok(Some(CupedAnswer {
        theta: result.theta,
        variance_reduction: result.variance_reduction,
        adjusted_means: result.arms.iter().map(|arm| arm.adjusted_mean).collect(),
        comparisons: request
            .variants
            .iter()
            .skip(1)
            .zip(result.comparisons)
            .map(|(variant, test)| CupedComparison {
                variant: variant.name.clone(),
                welch: TTestOutcome {
                    statistic: Some(test.statistic),
                    df: Some(test.df),
                    p_value: Some(test.p_value),
                    ci: Some(test.ci),
                    note: None,
                },
            })
            .collect(),
        note: result.note,
    }))
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
            ..MeansVariant::default()
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
            ..MeansVariant::default()
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
    fn cuped_adjusts_by_the_covariate_from_values_or_sums() {
        let with_covariate = |name: &str, y: &[f64], x: &[f64]| MeansVariant {
            covariate: Some(x.to_vec()),
            ..values(name, y)
        };
        let request = MeansRequest {
            variants: vec![
                with_covariate("A", &[3.1, 2.5, 4.0, 3.3, 2.9], &[3.0, 2.4, 3.8, 3.4, 2.7]),
                with_covariate("B", &[3.9, 4.4, 3.6, 4.8, 4.1], &[3.1, 3.9, 2.9, 4.0, 3.5]),
            ],
            alpha: 0.05,
        };
        let by_values = answer(&request).unwrap().cuped.unwrap();
        assert!(by_values.variance_reduction.unwrap() > 0.5, "{by_values:?}");
        let summed: Vec<MeansVariant> = request
            .variants
            .iter()
            .map(|variant| {
                let y = variant.values.clone().unwrap();
                let x = variant.covariate.clone().unwrap();
                MeansVariant {
                    name: variant.name.clone(),
                    n: Some(y.len() as i64),
                    sum: Some(y.iter().sum()),
                    sum_squares: Some(y.iter().map(|v| v * v).sum()),
                    covariate_sum: Some(x.iter().sum()),
                    covariate_sum_squares: Some(x.iter().map(|v| v * v).sum()),
                    cross_sum: Some(y.iter().zip(&x).map(|(a, b)| a * b).sum()),
                    ..MeansVariant::default()
                }
            })
            .collect();
        let by_sums = answer(&MeansRequest {
            variants: summed,
            alpha: 0.05,
        })
        .unwrap()
        .cuped
        .unwrap();
        assert!((by_values.theta - by_sums.theta).abs() < 1e-12);
        let (p_values, p_sums) = (
            by_values.comparisons[0].welch.p_value.unwrap(),
            by_sums.comparisons[0].welch.p_value.unwrap(),
        );
        assert!((p_values - p_sums).abs() < 1e-9);
        // A covariate for one variant only is a mistake, named.
        let mut partial = request.clone();
        partial.variants[1].covariate = None;
        assert_eq!(answer(&partial).unwrap_err().errors[0].field, "variants");
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
