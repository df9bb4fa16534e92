//! Averages (watch minutes, revenue per customer): Welch's and Student's t-tests of
//! `treatment - control` from each arm's summary, with the interval of the difference, and
//! the delta-method interval of the relative lift.

use statrs::distribution::{ContinuousCDF as _, StudentsT};

use crate::{Interval, StatsError, ratio_interval, z_two_sided};

/// One arm's values, summarised: count, sum and sum of squares.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub n: u64,
    pub sum: f64,
    pub sum_squares: f64,
}

impl Summary {
    /// The summary of raw values, for callers that have them rather than sums.
    pub fn of(values: &[f64]) -> Summary {
        Summary {
            n: values.len() as u64,
            sum: values.iter().sum(),
            sum_squares: values.iter().map(|value| value * value).sum(),
        }
    }

    pub fn mean(&self) -> f64 {
        self.sum / self.n as f64
    }

    /// The sample variance (n - 1 in the denominator), never below 0 after rounding. From sums
    /// it loses about `2 log10(|mean| / sd)` of its 16 digits to cancellation: nothing for
    /// revenue or counts, but values near 10,000 that vary by 1 keep only about 8.
    pub fn variance(&self) -> f64 {
        let n = self.n as f64;
        ((self.sum_squares - self.sum * self.sum / n) / (n - 1.0)).max(0.0)
    }
}

/// Each arm needs two values (for a variance) and finite sums.
pub(crate) fn check_arms(control: Summary, treatment: Summary) -> Result<(), StatsError> {
    for (field, arm) in [("control", control), ("treatment", treatment)] {
        if arm.n < 2 {
            return Err(StatsError::invalid(field, "needs at least 2 values"));
        }
        if !(arm.sum.is_finite() && arm.sum_squares.is_finite()) {
            return Err(StatsError::invalid(field, "sums must be finite numbers"));
        }
    }
    Ok(())
}

/// A t-test: statistic, degrees of freedom, two-sided p-value and the interval of the
/// difference of means at level `1 - alpha`.
#[derive(Debug, Clone, PartialEq)]
pub struct TTest {
    pub statistic: f64,
    pub df: f64,
    pub p_value: f64,
    pub ci: Interval,
}

/// Welch's t-test (`equal_variances: false`, each arm its own variance) or Student's
/// (pooled variance). Needs two values per arm and some variation.
pub fn t_test(
    control: Summary,
    treatment: Summary,
    equal_variances: bool,
    alpha: f64,
) -> Result<TTest, StatsError> {
    if !(alpha > 0.0 && alpha < 1.0) {
        return Err(StatsError::invalid("alpha", "must be above 0 and below 1"));
    }
    check_arms(control, treatment)?;
    t_test_of_moments(
        Moments::of(control),
        Moments::of(treatment),
        equal_variances,
        alpha,
    )
}

/// An arm's count, mean and sample variance: what a t-test needs, however they were found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Moments {
    pub(crate) n: f64,
    pub(crate) mean: f64,
    pub(crate) variance: f64,
}

impl Moments {
    fn of(summary: Summary) -> Moments {
        Moments {
            n: summary.n as f64,
            mean: summary.mean(),
            variance: summary.variance(),
        }
    }
}

/// The t-test of `t_test` from each arm's moments; `alpha` must be checked and each arm have
/// `n >= 2`.
pub(crate) fn t_test_of_moments(
    control: Moments,
    treatment: Moments,
    equal_variances: bool,
    alpha: f64,
) -> Result<TTest, StatsError> {
    let (n_c, n_t) = (control.n, treatment.n);
    let (v_c, v_t) = (control.variance, treatment.variance);
    let (variance_of_difference, df) = if equal_variances {
        let df = n_c + n_t - 2.0;
        let pooled = ((n_c - 1.0) * v_c + (n_t - 1.0) * v_t) / df;
        (pooled * (1.0 / n_c + 1.0 / n_t), df)
    } else {
        let (a, b) = (v_c / n_c, v_t / n_t);
        let df = (a + b).powi(2) / (a * a / (n_c - 1.0) + b * b / (n_t - 1.0));
        (a + b, df)
    };
    if !(variance_of_difference > 0.0 && df.is_finite()) {
        return Err(StatsError::invalid(
            "variants",
            "every value is the same: the test needs some variation",
        ));
    }
    let distribution = StudentsT::new(0.0, 1.0, df)
        .map_err(|error| StatsError::invalid("variants", error.to_string()))?;
    let difference = treatment.mean - control.mean;
    let standard_error = variance_of_difference.sqrt();
    let statistic = difference / standard_error;
    let p_value = (2.0 * distribution.sf(statistic.abs())).clamp(0.0, 1.0);
    let margin = distribution.inverse_cdf(1.0 - alpha / 2.0) * standard_error;
    Ok(TTest {
        statistic,
        df,
        p_value,
        ci: [difference - margin, difference + margin],
    })
}

/// The delta-method interval of the relative lift `mean of treatment / mean of control - 1`
/// at level `1 - alpha`; `None` when the control mean is 0 (the ratio is then undefined).
///
/// With `r = m_t / m_c` and each mean's variance `s^2 / n` (sample variance), the first-order
/// (delta method) variance of the ratio is `var(r) = var(m_t) / m_c^2 + m_t^2 var(m_c) / m_c^4`,
/// and the interval is `r - 1 +- z sqrt(var(r))` with the normal quantile `z`: a large-sample
/// interval, symmetric around the observed lift. Needs two values per arm, as the t-test does.
pub fn relative_lift_interval(
    control: Summary,
    treatment: Summary,
    alpha: f64,
) -> Result<Option<Interval>, StatsError> {
    let z = z_two_sided(alpha)?;
    check_arms(control, treatment)?;
    let m_c = control.mean();
    if m_c == 0.0 {
        return Ok(None);
    }
    let v_c = control.variance() / control.n as f64;
    let v_t = treatment.variance() / treatment.n as f64;
    Ok(Some(ratio_interval(m_c, v_c, treatment.mean(), v_t, z)))
}

#[cfg(test)]
mod tests {
    use rand::rngs::Xoshiro256PlusPlus;
    use rand::{RngExt as _, SeedableRng as _};

    use super::*;

    /// Random pairs of arms (means of either sign), the same on every run.
    fn arms(seed: u64) -> Vec<(Summary, Summary)> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        (0..300)
            .map(|_| {
                let mut arm = || {
                    let n = rng.random_range(2..60);
                    let centre = rng.random_range(-50.0..50.0);
                    let spread = rng.random_range(0.1..20.0);
                    let values: Vec<f64> = (0..n)
                        .map(|_| centre + spread * rng.random_range(-1.0..1.0))
                        .collect();
                    Summary::of(&values)
                };
                (arm(), arm())
            })
            .collect()
    }

    #[test]
    fn t_tests_are_antisymmetric_with_intervals_around_the_difference() {
        for (control, treatment) in arms(3) {
            for equal in [true, false] {
                let forward = t_test(control, treatment, equal, 0.05).unwrap();
                let backward = t_test(treatment, control, equal, 0.05).unwrap();
                assert!((0.0..=1.0).contains(&forward.p_value));
                assert!(
                    (forward.statistic + backward.statistic).abs()
                        <= 1e-12 * forward.statistic.abs().max(1.0)
                );
                assert!((forward.p_value - backward.p_value).abs() <= 1e-12);
                let difference = treatment.mean() - control.mean();
                assert!(forward.ci[0] <= difference && difference <= forward.ci[1]);
            }
        }
    }

    #[test]
    fn the_relative_lift_interval_holds_the_lift() {
        for (control, treatment) in arms(4) {
            let interval = relative_lift_interval(control, treatment, 0.05)
                .unwrap()
                .unwrap();
            let lift = treatment.mean() / control.mean() - 1.0;
            assert!(
                interval[0] <= lift && lift <= interval[1],
                "{control:?} {treatment:?}"
            );
        }
        let one = Summary::of(&[1.0]);
        let error = relative_lift_interval(one, Summary::of(&[1.0, 2.0]), 0.05).unwrap_err();
        assert_eq!(error.to_string(), "control: needs at least 2 values");
    }
}
