//! Bayesian summaries of conversion rates: each arm's rate has a Beta posterior (uniform
//! Beta(1, 1) prior by default), and the chance that treatment beats control is computed
//! exactly, never by sampling.

use statrs::function::beta::ln_beta;

use crate::StatsError;
use crate::proportions::Counts;

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
