//! Conversion rates: the Wilson interval of each arm, Newcombe's interval of a difference,
//! the two-proportion z-test (pooled and Wald), Fisher's exact test, and the chi-square and G
//! tests of homogeneity over k arms (chi-square with or without Yates), and the delta-method
//! interval of the relative lift.

use crate::{
    ChiSquare, Interval, StatsError, TestResult, chi_square_sf, normal_p_two_sided, ratio_interval,
    z_two_sided,
};

/// One arm's conversions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub successes: u64,
    pub trials: u64,
}

impl Counts {
    pub fn new(successes: u64, trials: u64) -> Result<Counts, StatsError> {
        if successes > trials {
            return Err(StatsError::invalid("successes", "must not exceed trials"));
        }
        Ok(Counts { successes, trials })
    }

    /// The observed rate; `None` without trials.
    pub fn rate(&self) -> Option<f64> {
        (self.trials > 0).then(|| self.successes as f64 / self.trials as f64)
    }
}

/// Wilson's score interval for one arm's rate at level `1 - alpha`; `None` without trials.
pub fn wilson_interval(counts: Counts, alpha: f64) -> Result<Option<Interval>, StatsError> {
    let z = z_two_sided(alpha)?;
    let Some(p) = counts.rate() else {
        return Ok(None);
    };
    let n = counts.trials as f64;
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    // The interval always holds the rate; at 0 or 1, rounding could put the bound a hair past.
    Ok(Some([
        (centre - half).clamp(0.0, p),
        (centre + half).clamp(p, 1.0),
    ]))
}

/// The z-test of `treatment - control`. `pooled`: the standard error under the null (both
/// arms share one rate), the classic test; otherwise Wald's, each arm's own variance.
pub fn z_test(control: Counts, treatment: Counts, pooled: bool) -> TestResult {
    let (Some(p_c), Some(p_t)) = (control.rate(), treatment.rate()) else {
        return TestResult::undefined("an arm has no trials");
    };
    let (n_c, n_t) = (control.trials as f64, treatment.trials as f64);
    let variance = if pooled {
        let p = (control.successes + treatment.successes) as f64 / (n_c + n_t);
        p * (1.0 - p) * (1.0 / n_c + 1.0 / n_t)
    } else {
        p_c * (1.0 - p_c) / n_c + p_t * (1.0 - p_t) / n_t
    };
    if variance <= 0.0 {
        return TestResult::undefined(
            "no variation: every trial converted, or none did, so the standard error is 0",
        );
    }
    let z = (p_t - p_c) / variance.sqrt();
    TestResult::defined(z, normal_p_two_sided(z))
}

/// Pearson's chi-square test of homogeneity of `arms` (a k x 2 table of converted and not
/// converted). `yates` applies Yates' continuity correction, which (as in scipy) only a 2 x 2
/// table gets. Undefined when an expected cell is 0 (a column that is all zero).
pub fn chi_square(arms: &[Counts], yates: bool) -> Result<ChiSquare, StatsError> {
    let correct = yates && arms.len() == 2;
    homogeneity(arms, |observed, expected| {
        let mut deviation = (observed - expected).abs();
        if correct {
            // scipy's rule: shrink each deviation by 0.5, but never past 0.
            deviation = (deviation - 0.5).max(0.0);
        }
        deviation * deviation / expected
    })
}

/// A test of homogeneity of a k x 2 table: the sum of `term(observed, expected)` over its
/// cells, against chi-square with k - 1 degrees of freedom.
fn homogeneity(arms: &[Counts], term: impl Fn(f64, f64) -> f64) -> Result<ChiSquare, StatsError> {
    if arms.len() < 2 {
        return Err(StatsError::invalid("variants", "at least two are needed"));
    }
    let df = (arms.len() - 1) as u64;
    let total: f64 = arms.iter().map(|arm| arm.trials as f64).sum();
    let successes: f64 = arms.iter().map(|arm| arm.successes as f64).sum();
    let failures = total - successes;
    if arms.iter().any(|arm| arm.trials == 0) || successes == 0.0 || failures == 0.0 {
        return Ok(ChiSquare {
            statistic: None,
            df,
            p_value: None,
            note: Some(
                "an expected count is 0 (an arm without trials, or no conversions or no \
                 non-conversions at all): the test is undefined"
                    .to_owned(),
            ),
        });
    }
    let mut statistic = 0.0;
    for arm in arms {
        let n = arm.trials as f64;
        for (observed, column_total) in [
            (arm.successes as f64, successes),
            ((arm.trials - arm.successes) as f64, failures),
        ] {
            statistic += term(observed, n * column_total / total);
        }
    }
    Ok(ChiSquare {
        statistic: Some(statistic),
        df,
        p_value: Some(chi_square_sf(statistic, df).clamp(0.0, 1.0)),
        note: None,
    })
}

/// Newcombe's hybrid score interval (his method 10, no continuity correction) for
/// `treatment - control`, built from each arm's Wilson interval; `None` if an arm has no trials.
pub fn newcombe_interval(
    control: Counts,
    treatment: Counts,
    alpha: f64,
) -> Result<Option<Interval>, StatsError> {
    let (Some([low_c, high_c]), Some([low_t, high_t])) = (
        wilson_interval(control, alpha)?,
        wilson_interval(treatment, alpha)?,
    ) else {
        return Ok(None);
    };
    let (Some(p_c), Some(p_t)) = (control.rate(), treatment.rate()) else {
        return Ok(None);
    };
    let difference = p_t - p_c;
    let below = ((p_t - low_t).powi(2) + (high_c - p_c).powi(2)).sqrt();
    let above = ((high_t - p_t).powi(2) + (p_c - low_c).powi(2)).sqrt();
    Ok(Some([difference - below, difference + above]))
}

/// Fisher's exact test of a 2 x 2 table, two-sided as scipy computes it: the probability of
/// every table with the same margins no more likely than the one observed.
pub fn fisher_exact(control: Counts, treatment: Counts) -> f64 {
    use statrs::distribution::{Discrete as _, Hypergeometric};
    let population = control.trials + treatment.trials;
    let successes = control.successes + treatment.successes;
    let draws = control.trials;
    let Ok(distribution) = Hypergeometric::new(population, successes, draws) else {
        return 1.0;
    };
    let lowest = draws.saturating_sub(population - successes);
    let highest = successes.min(draws);
    // Tables as likely as the observed one, up to rounding, count as "no more likely".
    let observed = distribution.ln_pmf(control.successes) + 1e-7_f64.ln_1p();
    let p: f64 = (lowest..=highest)
        .map(|x| distribution.ln_pmf(x))
        .filter(|ln_p| *ln_p <= observed)
        .map(f64::exp)
        .sum();
    p.clamp(0.0, 1.0)
}

/// The G-test (log-likelihood ratio) of homogeneity of `arms`; undefined as `chi_square` is.
pub fn g_test(arms: &[Counts]) -> Result<ChiSquare, StatsError> {
    homogeneity(arms, |observed, expected| {
        if observed > 0.0 {
            2.0 * observed * (observed / expected).ln()
        } else {
            0.0
        }
    })
}

/// The delta-method interval of the relative lift `rate of treatment / rate of control - 1`
/// at level `1 - alpha`; `None` when an arm has no trials or control never converted (the
/// ratio is then undefined).
///
/// With `r = p_t / p_c` and each rate's variance `p (1 - p) / n`, the first-order (delta
/// method) variance of the ratio is
/// `var(r) = var(p_t) / p_c^2 + p_t^2 var(p_c) / p_c^4`,
/// and the interval is `r - 1 +- z sqrt(var(r))`, symmetric around the observed lift. It is
/// the interval most A/B tools report for a lift; it can reach below -100% when the rates are
/// poorly measured, since it is a normal approximation.
pub fn relative_lift_interval(
    control: Counts,
    treatment: Counts,
    alpha: f64,
) -> Result<Option<Interval>, StatsError> {
    let z = z_two_sided(alpha)?;
    let (Some(p_c), Some(p_t)) = (control.rate(), treatment.rate()) else {
        return Ok(None);
    };
    if p_c == 0.0 {
        return Ok(None);
    }
    let variance_c = p_c * (1.0 - p_c) / control.trials as f64;
    let variance_t = p_t * (1.0 - p_t) / treatment.trials as f64;
    Ok(Some(ratio_interval(p_c, variance_c, p_t, variance_t, z)))
}

#[cfg(test)]
mod tests {
    use rand::rngs::Xoshiro256PlusPlus;
    use rand::{RngExt as _, SeedableRng as _};

    use super::*;

    /// Random pairs of arms, the same on every run.
    fn arms(seed: u64) -> Vec<(Counts, Counts)> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        (0..500)
            .map(|_| {
                let mut arm = || {
                    let trials = rng.random_range(1..5000);
                    Counts::new(rng.random_range(0..=trials), trials).unwrap()
                };
                (arm(), arm())
            })
            .collect()
    }

    #[test]
    fn the_relative_lift_interval_holds_the_lift_and_narrows_with_alpha() {
        for (control, treatment) in arms(1) {
            let wide = relative_lift_interval(control, treatment, 0.01).unwrap();
            let narrow = relative_lift_interval(control, treatment, 0.2).unwrap();
            let (Some(wide), Some(narrow)) = (wide, narrow) else {
                assert_eq!(
                    control.successes, 0,
                    "only a zero control rate is undefined"
                );
                continue;
            };
            let lift = treatment.rate().unwrap() / control.rate().unwrap() - 1.0;
            assert!(
                narrow[0] <= lift && lift <= narrow[1],
                "{control:?} {treatment:?}"
            );
            assert!(wide[0] <= narrow[0] && narrow[1] <= wide[1]);
            assert!((lift - (narrow[0] + narrow[1]) / 2.0).abs() <= 1e-9 * lift.abs().max(1.0));
        }
    }

    #[test]
    fn the_z_test_is_antisymmetric_with_p_values_in_bounds() {
        for (control, treatment) in arms(2) {
            for pooled in [true, false] {
                let forward = z_test(control, treatment, pooled);
                let backward = z_test(treatment, control, pooled);
                assert_eq!(forward.p_value, backward.p_value);
                assert_eq!(forward.statistic.map(|z| -z), backward.statistic);
                if let Some(p) = forward.p_value {
                    assert!((0.0..=1.0).contains(&p));
                }
            }
        }
    }

    #[test]
    fn bad_alpha_is_named() {
        let arm = Counts::new(1, 2).unwrap();
        for alpha in [0.0, 1.0, f64::NAN] {
            let error = relative_lift_interval(arm, arm, alpha).unwrap_err();
            assert!(error.to_string().starts_with("alpha:"));
        }
    }
}
