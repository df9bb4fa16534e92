//! `proportions`: every test of two or more conversion rates against the first (the control).

use models::stats::{
    PValue, ProportionsAnswer, ProportionsArm, ProportionsComparison, ProportionsRequest,
};
use service::validate::{Checks, NAME_MAX};
use service::{FieldError, Problem};
use stats::StatsError;
use stats::bayes::{Prior, chance_to_beat_control, credible_interval, expected_loss};
use stats::proportions::{
    Counts, chi_square, fisher_exact, g_test, newcombe_interval, relative_lift_interval,
    wilson_interval, z_test,
};
use stats::sequential::Estimate;

use super::sequential::sequential;

/// Most trials an arm may have: beyond, counts are not a business's customers.
pub const MAX_TRIALS: i64 = 1_000_000_000;
/// Fisher's exact test sums one term per possible table: computed up to this many trials in
/// all (beyond, the chi-square and z-tests agree with it to many digits).
const FISHER_MAX_TRIALS: u64 = 10_000_000;
/// The exact chance to win sums one term per treatment success: computed up to this many.
const BAYES_MAX_SUCCESSES: u64 = 10_000_000;
use super::{
    check_alpha, check_variant_count, chi_square_outcome, holm_adjusted, invalid, test_outcome,
    undefined_chi_square,
};

/// The checked counts of each arm, and the prior.
fn read(request: &ProportionsRequest) -> Result<(Vec<Counts>, Prior), Problem> {
    check_alpha(request.alpha)?;
    let mut checks = Checks::new();
    check_variant_count(&mut checks, request.variants.len());
    for (index, variant) in request.variants.iter().enumerate() {
        checks.required_text(&format!("variants[{index}].name"), &variant.name, NAME_MAX);
        if variant.successes < 0 {
            checks.fail(format!("variants[{index}].successes"), "must be at least 0");
        }
        if variant.trials < 0 {
            checks.fail(format!("variants[{index}].trials"), "must be at least 0");
        } else if variant.trials > MAX_TRIALS {
            checks.fail(
                format!("variants[{index}].trials"),
                format!("must be at most {MAX_TRIALS}"),
            );
        } else if variant.successes > variant.trials {
            checks.fail(
                format!("variants[{index}].successes"),
                "must not exceed trials",
            );
        }
    }
    if let Some(weights) = &request.weights
        && weights.len() != request.variants.len()
    {
        checks.fail("weights", "must have one weight per variant");
    }
    if let Some(prior) = request.prior {
        // The exact chance to win needs a whole alpha (see stats::bayes).
        if !(prior.alpha >= 1.0 && prior.alpha <= 1_000_000.0 && prior.alpha.fract() == 0.0) {
            checks.fail("prior.alpha", "must be a whole number from 1 to 1000000");
        }
        if !(prior.beta > 0.0 && prior.beta <= 1_000_000.0) {
            checks.fail("prior.beta", "must be above 0 and at most 1000000");
        }
    }
    checks.finish()?;
    let counts = request
        .variants
        .iter()
        .map(|variant| Counts {
            successes: variant.successes.unsigned_abs(),
            trials: variant.trials.unsigned_abs(),
        })
        .collect();
    let prior = request.prior.map_or(Prior::default(), |prior| Prior {
        alpha: prior.alpha,
        beta: prior.beta,
    });
    Ok((counts, prior))
}

pub fn answer(request: &ProportionsRequest) -> Result<ProportionsAnswer, Problem> {
    let (counts, prior) = read(request)?;
    let alpha = request.alpha;
    let variants = request
        .variants
        .iter()
        .zip(&counts)
        .map(|(variant, &arm)| {
            Ok(ProportionsArm {
                name: variant.name.clone(),
                successes: variant.successes,
                trials: variant.trials,
                rate: arm.rate(),
                ci: wilson_interval(arm, alpha).map_err(|error| invalid("", error))?,
                credible_interval: Some(
                    credible_interval(arm, prior, alpha).map_err(|error| invalid("", error))?,
                ),
            })
        })
        .collect::<Result<Vec<_>, Problem>>()?;
    let control = counts[0];
    let mut comparisons = Vec::with_capacity(counts.len() - 1);
    for (variant, &treatment) in request.variants.iter().zip(&counts).skip(1) {
        comparisons.push(compare(&variant.name, control, treatment, prior, alpha)?);
    }
    let adjusted = holm_adjusted(
        &comparisons
            .iter()
            .map(|comparison| comparison.z_test.p_value)
            .collect::<Vec<_>>(),
    );
    for (comparison, adjusted) in comparisons.iter_mut().zip(adjusted) {
        comparison.p_value_adjusted = adjusted;
    }
    let df = (counts.len() - 1) as u64;
    let chi_square_all = match chi_square(&counts, false) {
        Ok(result) => chi_square_outcome(result),
        Err(error) => undefined_chi_square(df, error.to_string()),
    };
    let observed: Vec<u64> = counts.iter().map(|arm| arm.trials).collect();
    let weights = request
        .weights
        .clone()
        .unwrap_or_else(|| vec![1.0; counts.len()]);
    let srm = stats::srm::sample_ratio_mismatch(&observed, &weights)
        .map(chi_square_outcome)
        .map_err(|error| {
            let StatsError::Invalid { message, .. } = error;
            Problem::validation(vec![FieldError::new("weights", message)])
        })?;
    Ok(ProportionsAnswer {
        alpha,
        variants,
        comparisons,
        chi_square_all,
        srm,
    })
}

fn compare(
    name: &str,
    control: Counts,
    treatment: Counts,
    prior: Prior,
    alpha: f64,
) -> Result<ProportionsComparison, Problem> {
    let mut notes = Vec::new();
    let absolute_lift = match (control.rate(), treatment.rate()) {
        (Some(c), Some(t)) => Some(t - c),
        _ => {
            notes.push("an arm has no trials: its rate is undefined".to_owned());
            None
        }
    };
    let relative_lift = match (control.rate(), treatment.rate()) {
        (Some(c), Some(t)) if c > 0.0 => Some(t / c - 1.0),
        (Some(_), Some(_)) => {
            notes.push("the control's rate is 0: the relative lift is undefined".to_owned());
            None
        }
        _ => None,
    };
    let bayes_within_reach =
        control.successes.max(treatment.successes) + prior.alpha as u64 <= BAYES_MAX_SUCCESSES;
    if !bayes_within_reach {
        notes.push(format!(
            "the exact chance to win is computed up to {BAYES_MAX_SUCCESSES} successes per arm"
        ));
    }
    let pair = [control, treatment];
    let chi = |yates: bool| match chi_square(&pair, yates) {
        Ok(result) => chi_square_outcome(result),
        Err(error) => undefined_chi_square(1, error.to_string()),
    };
    let g = match g_test(&pair) {
        Ok(result) => chi_square_outcome(result),
        Err(error) => undefined_chi_square(1, error.to_string()),
    };
    let fisher = if control.trials == 0 || treatment.trials == 0 {
        PValue {
            p_value: None,
            note: Some("an arm has no trials".to_owned()),
        }
    } else if control.trials + treatment.trials > FISHER_MAX_TRIALS {
        PValue {
            p_value: None,
            note: Some(format!(
                "computed up to {FISHER_MAX_TRIALS} trials in all; at this size the chi-square test agrees with it"
            )),
        }
    } else {
        PValue {
            p_value: Some(fisher_exact(control, treatment)),
            note: None,
        }
    };
    Ok(ProportionsComparison {
        variant: name.to_owned(),
        absolute_lift,
        relative_lift,
        ci_absolute: newcombe_interval(control, treatment, alpha).map_err(|e| invalid("", e))?,
        ci_relative: relative_lift_interval(control, treatment, alpha)
            .map_err(|e| invalid("", e))?,
        z_test: test_outcome(z_test(control, treatment, true)),
        p_value_adjusted: None,
        chi_square: chi(false),
        chi_square_yates: chi(true),
        g_test: g,
        fisher,
        chance_to_win: bayes_within_reach
            .then(|| chance_to_beat_control(control, treatment, prior).ok())
            .flatten(),
        expected_loss: bayes_within_reach
            .then(|| expected_loss(control, treatment, prior).ok())
            .flatten(),
        sequential: sequential(
            Estimate::of_proportions(control, treatment),
            control.trials as f64,
            treatment.trials as f64,
            alpha,
        ),
        notes,
    })
}

#[cfg(test)]
mod tests {
    use models::stats::ProportionsVariant;

    use super::*;

    fn request(arms: &[(i64, i64)]) -> ProportionsRequest {
        ProportionsRequest {
            variants: arms
                .iter()
                .enumerate()
                .map(|(index, &(successes, trials))| ProportionsVariant {
                    name: format!("arm {index}"),
                    successes,
                    trials,
                })
                .collect(),
            alpha: 0.05,
            weights: None,
            prior: None,
        }
    }

    #[test]
    fn the_issue_example_answers_every_test() {
        let answer = answer(&request(&[(120, 1000), (150, 1000)])).unwrap();
        let comparison = &answer.comparisons[0];
        assert_eq!(answer.variants[1].rate, Some(0.15));
        assert!((comparison.absolute_lift.unwrap() - 0.03).abs() < 1e-15);
        assert!((comparison.relative_lift.unwrap() - 0.25).abs() < 1e-15);
        // statsmodels' proportions_ztest and scipy's chi2_contingency(correction=False) on
        // the same table: 1.963049807622355 and p = 0.04964038686536878 (both).
        let z = comparison.z_test.p_value.unwrap();
        assert!((comparison.z_test.statistic.unwrap() - 1.963_049_807_622_355).abs() < 1e-12);
        assert!((z / 0.049_640_386_865_368_78 - 1.0).abs() < 1e-9, "{z}");
        assert!((comparison.chi_square.p_value.unwrap() - 0.049_640_386_865_368_834).abs() < 1e-9);
        assert!(comparison.chi_square_yates.p_value.unwrap() > z);
        assert_eq!(comparison.p_value_adjusted, Some(z));
        assert!(comparison.chance_to_win.unwrap() > 0.97);
        assert_eq!(answer.srm.p_value, Some(1.0));
        let [low, high] = comparison.ci_absolute.unwrap();
        assert!(low < 0.03 && 0.03 < high);
    }

    #[test]
    fn a_zero_cell_leaves_some_tests_undefined_and_says_why() {
        let answer = answer(&request(&[(0, 50), (0, 50)])).unwrap();
        let comparison = &answer.comparisons[0];
        assert_eq!(comparison.z_test.p_value, None);
        assert!(comparison.z_test.note.is_some());
        assert_eq!(comparison.chi_square.p_value, None);
        assert!(comparison.chi_square.note.is_some());
        assert_eq!(comparison.relative_lift, None);
        assert_eq!(comparison.fisher.p_value, Some(1.0));
        assert!(comparison.chance_to_win.is_some());
    }

    #[test]
    fn bad_input_names_the_field() {
        let fields = |request: ProportionsRequest| -> Vec<String> {
            answer(&request)
                .unwrap_err()
                .errors
                .into_iter()
                .map(|error| error.field)
                .collect()
        };
        assert_eq!(
            fields(request(&[(5, 10), (11, 10)])),
            ["variants[1].successes"]
        );
        assert_eq!(fields(request(&[(5, 10), (1, -1)])), ["variants[1].trials"]);
        assert_eq!(fields(request(&[(5, 10)])), ["variants"]);
        let mut bad_alpha = request(&[(5, 10), (6, 10)]);
        bad_alpha.alpha = 1.0;
        assert_eq!(fields(bad_alpha), ["alpha"]);
        let mut bad_weights = request(&[(5, 10), (6, 10)]);
        bad_weights.weights = Some(vec![1.0]);
        assert_eq!(fields(bad_weights), ["weights"]);
    }

    #[test]
    fn huge_counts_are_refused_or_answered_without_the_exact_sums() {
        let problem = answer(&request(&[(5, 10), (6, MAX_TRIALS + 1)])).unwrap_err();
        assert_eq!(problem.errors[0].field, "variants[1].trials");
        let large = answer(&request(&[
            (50_000_000, 500_000_000),
            (50_010_000, 500_000_000),
        ]))
        .unwrap();
        let comparison = &large.comparisons[0];
        assert_eq!(comparison.fisher.p_value, None);
        assert_eq!(comparison.chance_to_win, None);
        assert!(comparison.z_test.p_value.is_some());
        assert!(!comparison.notes.is_empty());
        let mut fractional = request(&[(5, 10), (6, 10)]);
        fractional.prior = Some(models::stats::BetaPrior {
            alpha: 1.5,
            beta: 1.0,
        });
        assert_eq!(
            answer(&fractional).unwrap_err().errors[0].field,
            "prior.alpha"
        );
    }
}
