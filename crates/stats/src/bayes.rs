//! Bayesian summaries. Conversion rates: each arm's rate has a Beta posterior (uniform
//! Beta(1, 1) prior by default), and the chance that treatment beats control is computed
//! exactly, never by sampling. Means: each arm's mean has a normal posterior, the normal
//! approximation with a flat prior, so every summary is closed.

use statrs::distribution::{Beta as BetaDistribution, Continuous as _, ContinuousCDF as _, Normal};
use statrs::function::beta::ln_beta;

use crate::means::{Summary, check_arms};
use crate::proportions::Counts;
use crate::{Interval, StatsError, z_two_sided};

/// A Beta prior `Beta(alpha, beta)`; `Beta(1, 1)` is uniform.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prior {
    pub alpha: f64,
    pub beta: f64,
}

impl Default for Prior {
    fn default() -> Prior {
        Prior {
            alpha: 1.0,
            beta: 1.0,
        }
    }
}

/// A Beta distribution's parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Beta {
    alpha: f64,
    beta: f64,
}

impl Beta {
    fn posterior(counts: Counts, prior: Prior) -> Beta {
        Beta {
            alpha: prior.alpha + counts.successes as f64,
            beta: prior.beta + (counts.trials - counts.successes) as f64,
        }
    }

    fn mean(self) -> f64 {
        self.alpha / (self.alpha + self.beta)
    }

    /// The same Beta with one more success: `x` times this one's density, normalised.
    fn plus_one(self) -> Beta {
        Beta {
            alpha: self.alpha + 1.0,
            ..self
        }
    }
}

/// P(X > Y) for independent Beta variables, `x.alpha` a whole number: Evan Miller's closed
/// form, a sum of `x.alpha` terms.
fn probability_greater(x: Beta, y: Beta) -> f64 {
    let ln_beta_y = ln_beta(y.alpha, y.beta);
    let terms = x.alpha as u64;
    let total: f64 = (0..terms)
        .map(|i| {
            let i = i as f64;
            (ln_beta(y.alpha + i, y.beta + x.beta)
                - (x.beta + i).ln()
                - ln_beta(1.0 + i, x.beta)
                - ln_beta_y)
                .exp()
        })
        .sum();
    total.clamp(0.0, 1.0)
}

fn check_prior(prior: Prior) -> Result<(), StatsError> {
    if prior.alpha >= 1.0 && prior.alpha.fract() == 0.0 && prior.beta > 0.0 {
        Ok(())
    } else {
        Err(StatsError::invalid(
            "prior",
            "alpha must be a whole number of at least 1 and beta positive",
        ))
    }
}

/// P(rate of treatment > rate of control) under independent Beta posteriors, exactly. The
/// prior's `alpha` must be a whole number for the sum to be exact.
pub fn chance_to_beat_control(
    control: Counts,
    treatment: Counts,
    prior: Prior,
) -> Result<f64, StatsError> {
    check_prior(prior)?;
    Ok(probability_greater(
        Beta::posterior(treatment, prior),
        Beta::posterior(control, prior),
    ))
}

/// The expected loss of shipping treatment: E[max(rate of control - rate of treatment, 0)],
/// the conversion rate given up on average if treatment is in truth worse. Exact, from
/// E[max(C - T, 0)] = E[C] P(C+ > T) - E[T] P(C > T+), where X+ is X with one more success.
pub fn expected_loss(control: Counts, treatment: Counts, prior: Prior) -> Result<f64, StatsError> {
    check_prior(prior)?;
    let (c, t) = (
        Beta::posterior(control, prior),
        Beta::posterior(treatment, prior),
    );
    let loss = c.mean() * probability_greater(c.plus_one(), t)
        - t.mean() * probability_greater(c, t.plus_one());
    Ok(loss.max(0.0))
}

/// The equal-tailed credible interval of one arm's rate at level `1 - alpha`: the `alpha / 2`
/// and `1 - alpha / 2` quantiles of its Beta posterior (any positive prior).
pub fn credible_interval(counts: Counts, prior: Prior, alpha: f64) -> Result<Interval, StatsError> {
    if !(alpha > 0.0 && alpha < 1.0) {
        return Err(StatsError::invalid("alpha", "must be above 0 and below 1"));
    }
    if !(prior.alpha.is_finite() && prior.alpha > 0.0 && prior.beta.is_finite() && prior.beta > 0.0)
    {
        return Err(StatsError::invalid(
            "prior",
            "alpha and beta must be positive numbers",
        ));
    }
    let posterior = Beta::posterior(counts, prior);
    let distribution = BetaDistribution::new(posterior.alpha, posterior.beta)
        .map_err(|error| StatsError::invalid("prior", error.to_string()))?;
    Ok([
        beta_quantile(&distribution, alpha / 2.0, false),
        beta_quantile(&distribution, alpha / 2.0, true),
    ])
}

/// The point of `distribution` with probability `tail` below it (`upper: false`) or above it
/// (`upper: true`). statrs' inverse is a good start, within about 1e-12 for moderate shapes,
/// but it is off by up to 2e-4 (relative) for a rate near 0 in a million trials, so it is
/// polished with Newton steps on the cdf (or on the survival function for the upper tail,
/// which keeps the small probability exact), inside a bracket that bisection narrows whenever
/// a step would leave it. The result matches scipy's `beta.ppf` to about 1e-12.
fn beta_quantile(distribution: &BetaDistribution, tail: f64, upper: bool) -> f64 {
    // Rises with x through 0 at the quantile.
    let excess = |x: f64| {
        if upper {
            tail - distribution.sf(x)
        } else {
            distribution.cdf(x) - tail
        }
    };
    let start = if upper { 1.0 - tail } else { tail };
    let mut x = distribution.inverse_cdf(start);
    let (mut low, mut high) = (0.0_f64, 1.0_f64);
    for _ in 0..100 {
        let gap = excess(x);
        if gap == 0.0 {
            break;
        }
        if gap > 0.0 {
            high = high.min(x);
        } else {
            low = low.max(x);
        }
        let step = gap / distribution.pdf(x);
        let mut next = x - step;
        if !(next > low && next < high) {
            next = (low + high) / 2.0;
        }
        if (next - x).abs() <= 1e-15 * x.abs() || next == x {
            x = next;
            break;
        }
        x = next;
    }
    x
}

/// The posterior of `treatment mean - control mean` under the normal approximation with a flat
/// prior: each arm's mean is Normal(sample mean, s^2 / n), independent, so the difference is
/// Normal(d, sd^2) with `d = m_t - m_c` and `sd^2 = s_t^2 / n_t + s_c^2 / n_c`. Needs two values
/// per arm and some variation, as the t-test does.
fn difference_posterior(control: Summary, treatment: Summary) -> Result<(f64, f64), StatsError> {
    check_arms(control, treatment)?;
    let variance =
        control.variance() / control.n as f64 + treatment.variance() / treatment.n as f64;
    if variance <= 0.0 || !variance.is_finite() {
        return Err(StatsError::invalid(
            "variants",
            "every value is the same: the posterior needs some variation",
        ));
    }
    Ok((treatment.mean() - control.mean(), variance.sqrt()))
}

/// P(treatment's mean > control's mean) under the normal posteriors: `Phi(d / sd)` (see
/// `difference_posterior`).
pub fn means_chance_to_beat_control(
    control: Summary,
    treatment: Summary,
) -> Result<f64, StatsError> {
    let (d, sd) = difference_posterior(control, treatment)?;
    Ok(Normal::standard().cdf(d / sd).clamp(0.0, 1.0))
}

/// The expected loss of shipping treatment, E[max(control mean - treatment mean, 0)], in the
/// metric's units. With the difference D ~ Normal(d, sd^2), the loss is E[max(-D, 0)], the
/// mean of the positive part of Normal(-d, sd^2): `sd phi(d / sd) - d Phi(-d / sd)`.
pub fn means_expected_loss(control: Summary, treatment: Summary) -> Result<f64, StatsError> {
    let (d, sd) = difference_posterior(control, treatment)?;
    let normal = Normal::standard();
    let z = d / sd;
    Ok((sd * normal.pdf(z) - d * normal.cdf(-z)).max(0.0))
}

/// The equal-tailed credible interval of `treatment mean - control mean` at level
/// `1 - alpha`: `d +- z sd`. With a flat prior it is the same as the large-sample
/// (normal) confidence interval.
pub fn means_credible_interval(
    control: Summary,
    treatment: Summary,
    alpha: f64,
) -> Result<Interval, StatsError> {
    let z = z_two_sided(alpha)?;
    let (d, sd) = difference_posterior(control, treatment)?;
    Ok([d - z * sd, d + z * sd])
}

#[cfg(test)]
mod tests {
    use rand::rngs::Xoshiro256PlusPlus;
    use rand::{RngExt as _, SeedableRng as _};

    use super::*;

    #[test]
    fn beta_intervals_are_ordered_and_mirror_when_successes_and_failures_swap() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        for _ in 0..300 {
            let trials = rng.random_range(0..200_000);
            let successes = rng.random_range(0..=trials);
            let prior = Prior {
                alpha: rng.random_range(0.1..5.0),
                beta: rng.random_range(0.1..5.0),
            };
            let mirrored = Prior {
                alpha: prior.beta,
                beta: prior.alpha,
            };
            let counts = Counts::new(successes, trials).unwrap();
            let flipped = Counts::new(trials - successes, trials).unwrap();
            let [low, high] = credible_interval(counts, prior, 0.05).unwrap();
            let [narrow_low, narrow_high] = credible_interval(counts, prior, 0.5).unwrap();
            assert!(0.0 <= low && low < narrow_low && narrow_low < narrow_high);
            assert!(narrow_high < high && high <= 1.0, "{counts:?} {prior:?}");
            let [flipped_low, flipped_high] = credible_interval(flipped, mirrored, 0.05).unwrap();
            assert!((low - (1.0 - flipped_high)).abs() < 1e-9 * low.max(1e-6));
            assert!((high - (1.0 - flipped_low)).abs() < 1e-9);
        }
    }

    #[test]
    fn means_summaries_swap_as_they_should() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(6);
        for _ in 0..300 {
            let mut arm = || {
                let n = rng.random_range(2..50);
                let centre = rng.random_range(-20.0..20.0);
                let values: Vec<f64> = (0..n)
                    .map(|_| centre + rng.random_range(-5.0..5.0))
                    .collect();
                Summary::of(&values)
            };
            let (control, treatment) = (arm(), arm());
            let chance = means_chance_to_beat_control(control, treatment).unwrap();
            let reverse = means_chance_to_beat_control(treatment, control).unwrap();
            assert!((0.0..=1.0).contains(&chance));
            assert!((chance + reverse - 1.0).abs() < 1e-12);
            // E[max(-D, 0)] - E[max(D, 0)] = -E[D].
            let difference = treatment.mean() - control.mean();
            let loss = means_expected_loss(control, treatment).unwrap();
            let gain = means_expected_loss(treatment, control).unwrap();
            assert!(loss >= 0.0 && gain >= 0.0);
            assert!((loss - gain + difference).abs() < 1e-9 * difference.abs().max(1.0));
            let [low, high] = means_credible_interval(control, treatment, 0.05).unwrap();
            let [back_low, back_high] = means_credible_interval(treatment, control, 0.05).unwrap();
            assert!(low <= difference && difference <= high);
            assert!((low + back_high).abs() < 1e-9 && (high + back_low).abs() < 1e-9);
        }
    }
}
