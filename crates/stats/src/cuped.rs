//! CUPED (Deng, Xu, Kohavi and Walker, 2013): a metric `y` adjusted by a covariate `x`
//! measured before the experiment (the same metric in the pre-period, say). Units that spent
//! more before tend to spend more during; removing the part of `y` that `x` predicts leaves
//! the same difference between arms (randomisation makes `x` alike in every arm) with less
//! noise, so the same data give a narrower interval.
//!
//! With `theta = cov(x, y) / var(x)` over the units of all arms together, each unit's adjusted
//! value is `y - theta (x - mean of x over all units)`. Per arm that gives, from sums alone,
//! - adjusted mean `mean_y - theta (mean_x - overall mean_x)`,
//! - adjusted variance `var_y - 2 theta cov_xy + theta^2 var_x` (sample variances, n - 1),
//!
//! and Welch's t-test on the adjusted arms is the t-test of the adjusted values themselves.

use crate::StatsError;
use crate::means::{Moments, TTest, t_test_of_moments};

/// One arm's sums over its units of the metric `y` and the covariate `x`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CupedArm {
    pub n: u64,
    pub sum_y: f64,
    pub sum_y2: f64,
    pub sum_x: f64,
    pub sum_x2: f64,
    pub sum_xy: f64,
}

impl CupedArm {
    /// The sums of raw values, `y[i]` and `x[i]` from the same unit.
    pub fn of(y: &[f64], x: &[f64]) -> Result<CupedArm, StatsError> {
        if y.len() != x.len() {
            return Err(StatsError::invalid(
                "covariate",
                "needs one value per unit of the metric",
            ));
        }
        Ok(CupedArm {
            n: y.len() as u64,
            sum_y: y.iter().sum(),
            sum_y2: y.iter().map(|value| value * value).sum(),
            sum_x: x.iter().sum(),
            sum_x2: x.iter().map(|value| value * value).sum(),
            sum_xy: y.iter().zip(x).map(|(y, x)| y * x).sum(),
        })
    }

    /// Sample variance of `y`, of `x`, and their sample covariance (n - 1 in the denominator).
    fn moments(&self) -> (f64, f64, f64) {
        let n = self.n as f64;
        let variance_y = ((self.sum_y2 - self.sum_y * self.sum_y / n) / (n - 1.0)).max(0.0);
        let variance_x = ((self.sum_x2 - self.sum_x * self.sum_x / n) / (n - 1.0)).max(0.0);
        let covariance = (self.sum_xy - self.sum_x * self.sum_y / n) / (n - 1.0);
        (variance_y, variance_x, covariance)
    }
}

/// One arm after the adjustment.
#[derive(Debug, Clone, PartialEq)]
pub struct AdjustedArm {
    /// The mean of `y`, unadjusted.
    pub mean: f64,
    pub adjusted_mean: f64,
    /// The sample variance of the adjusted values.
    pub adjusted_variance: f64,
    /// `1 - adjusted variance / variance of y`: the share of the noise removed; `None` when
    /// `y` does not vary in this arm.
    pub variance_reduction: Option<f64>,
}

/// The adjustment and its tests.
#[derive(Debug, Clone, PartialEq)]
pub struct Cuped {
    /// The slope of `y` on `x` over all units; 0 (no adjustment) when `x` does not vary.
    pub theta: f64,
    /// The adjusted arms, in the order given.
    pub arms: Vec<AdjustedArm>,
    /// Welch's t-test of `arm i - arm 0` on the adjusted values, for each arm `i` after the
    /// first (the control), with the interval of the difference at level `1 - alpha`.
    pub comparisons: Vec<TTest>,
    /// `1 - pooled adjusted variance / pooled variance of y`, pooling within arms (each arm's
    /// sum of squared deviations): the share of the noise removed overall; `None` when `y`
    /// does not vary within any arm.
    pub variance_reduction: Option<f64>,
    pub note: Option<String>,
}

/// CUPED over `arms`, the first being the control (see the module's documentation). Each arm
/// needs two units; a covariate that does not vary leaves the metric unadjusted, with a note.
/// As with `t_test`, adjusted values that do not vary at all (`y` exactly a line in `x`) are
/// an error on `variants`.
pub fn cuped(arms: &[CupedArm], alpha: f64) -> Result<Cuped, StatsError> {
    if !(alpha > 0.0 && alpha < 1.0) {
        return Err(StatsError::invalid("alpha", "must be above 0 and below 1"));
    }
    if arms.len() < 2 {
        return Err(StatsError::invalid("variants", "at least two are needed"));
    }
    for (index, arm) in arms.iter().enumerate() {
        if arm.n < 2 {
            return Err(StatsError::invalid(
                format!("variants[{index}]"),
                "needs at least 2 units",
            ));
        }
        let sums = [arm.sum_y, arm.sum_y2, arm.sum_x, arm.sum_x2, arm.sum_xy];
        if !sums.iter().all(|sum| sum.is_finite()) {
            return Err(StatsError::invalid(
                format!("variants[{index}]"),
                "sums must be finite numbers",
            ));
        }
    }
    // theta over all units together: the centred cross-product over the centred square of x.
    let n: f64 = arms.iter().map(|arm| arm.n as f64).sum();
    let sum_x: f64 = arms.iter().map(|arm| arm.sum_x).sum();
    let sum_y: f64 = arms.iter().map(|arm| arm.sum_y).sum();
    let sum_x2: f64 = arms.iter().map(|arm| arm.sum_x2).sum();
    let sum_xy: f64 = arms.iter().map(|arm| arm.sum_xy).sum();
    let overall_mean_x = sum_x / n;
    let squares_x = sum_x2 - sum_x * sum_x / n;
    let (theta, note) = if squares_x > 0.0 {
        ((sum_xy - sum_x * sum_y / n) / squares_x, None)
    } else {
        (
            0.0,
            Some("the covariate does not vary: the metric is left unadjusted".to_owned()),
        )
    };
    let mut adjusted = Vec::with_capacity(arms.len());
    let mut moments = Vec::with_capacity(arms.len());
    let (mut squares_y, mut squares_adjusted) = (0.0, 0.0);
    for arm in arms {
        let count = arm.n as f64;
        let (variance_y, variance_x, covariance) = arm.moments();
        let mean = arm.sum_y / count;
        let adjusted_mean = mean - theta * (arm.sum_x / count - overall_mean_x);
        let adjusted_variance =
            (variance_y - 2.0 * theta * covariance + theta * theta * variance_x).max(0.0);
        squares_y += (count - 1.0) * variance_y;
        squares_adjusted += (count - 1.0) * adjusted_variance;
        adjusted.push(AdjustedArm {
            mean,
            adjusted_mean,
            adjusted_variance,
            variance_reduction: (variance_y > 0.0).then(|| 1.0 - adjusted_variance / variance_y),
        });
        moments.push(Moments {
            n: count,
            mean: adjusted_mean,
            variance: adjusted_variance,
        });
    }
    let mut comparisons = Vec::with_capacity(arms.len() - 1);
    for treatment in &moments[1..] {
        comparisons.push(t_test_of_moments(moments[0], *treatment, false, alpha)?);
    }
    Ok(Cuped {
        theta,
        arms: adjusted,
        comparisons,
        variance_reduction: (squares_y > 0.0).then(|| 1.0 - squares_adjusted / squares_y),
        note,
    })
}

#[cfg(test)]
mod tests {
    use rand::rngs::Xoshiro256PlusPlus;
    use rand::{RngExt as _, SeedableRng as _};

    use super::*;
    use crate::means::{Summary, t_test};

    /// Two arms of units whose `x` and `y` share a unit effect, `x` shifted by `offset`.
    fn values(rng: &mut Xoshiro256PlusPlus, offset: f64) -> [(Vec<f64>, Vec<f64>); 2] {
        [0.0, rng.random_range(-1.0..1.0)].map(|lift| {
            let n = rng.random_range(3..80);
            let (mut y, mut x) = (Vec::new(), Vec::new());
            for _ in 0..n {
                let unit = rng.random_range(0.0..10.0);
                x.push(unit + rng.random_range(-2.0..2.0) + offset);
                y.push(unit + lift + rng.random_range(-2.0..2.0));
            }
            (y, x)
        })
    }

    #[test]
    fn swapping_arms_flips_the_test_and_shifting_x_changes_nothing() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        for _ in 0..200 {
            let [(y_c, x_c), (y_t, x_t)] = values(&mut rng, 0.0);
            let control = CupedArm::of(&y_c, &x_c).unwrap();
            let treatment = CupedArm::of(&y_t, &x_t).unwrap();
            let forward = cuped(&[control, treatment], 0.05).unwrap();
            let backward = cuped(&[treatment, control], 0.05).unwrap();
            let (test, reverse) = (&forward.comparisons[0], &backward.comparisons[0]);
            assert!((0.0..=1.0).contains(&test.p_value));
            assert!(
                (test.statistic + reverse.statistic).abs() < 1e-9 * test.statistic.abs().max(1.0)
            );
            assert!((test.p_value - reverse.p_value).abs() < 1e-12);
            let difference = forward.arms[1].adjusted_mean - forward.arms[0].adjusted_mean;
            assert!(test.ci[0] <= difference && difference <= test.ci[1]);
            assert!(forward.variance_reduction.unwrap() <= 1.0);
            // theta and the adjusted means do not depend on where x is measured from.
            let shifted_c: Vec<f64> = x_c.iter().map(|x| x + 3.0).collect();
            let shifted_t: Vec<f64> = x_t.iter().map(|x| x + 3.0).collect();
            let shifted = cuped(
                &[
                    CupedArm::of(&y_c, &shifted_c).unwrap(),
                    CupedArm::of(&y_t, &shifted_t).unwrap(),
                ],
                0.05,
            )
            .unwrap();
            assert!((shifted.theta - forward.theta).abs() < 1e-9 * forward.theta.abs().max(1.0));
            for (a, b) in shifted.arms.iter().zip(&forward.arms) {
                assert!((a.adjusted_mean - b.adjusted_mean).abs() < 1e-9);
            }
        }
    }

    #[test]
    fn a_constant_covariate_leaves_the_welch_test_and_a_bad_arm_is_named() {
        let (y_c, y_t) = ([1.0, 4.0, 2.0, 8.0], [3.0, 5.0, 9.0]);
        let control = CupedArm::of(&y_c, &[2.0; 4]).unwrap();
        let treatment = CupedArm::of(&y_t, &[2.0; 3]).unwrap();
        let ours = cuped(&[control, treatment], 0.05).unwrap();
        assert_eq!(ours.theta, 0.0);
        assert!(ours.note.unwrap().contains("does not vary"));
        let welch = t_test(Summary::of(&y_c), Summary::of(&y_t), false, 0.05).unwrap();
        assert!((ours.comparisons[0].statistic - welch.statistic).abs() < 1e-12);
        assert_eq!(ours.variance_reduction, Some(0.0));
        let error = cuped(&[control, CupedArm::of(&[1.0], &[1.0]).unwrap()], 0.05).unwrap_err();
        assert_eq!(error.to_string(), "variants[1]: needs at least 2 units");
        assert!(CupedArm::of(&[1.0, 2.0], &[1.0]).is_err());
    }
}
