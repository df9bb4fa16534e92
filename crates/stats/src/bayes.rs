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

/// P(rate of treatment > rate of control) under independent Beta posteriors: Evan Miller's
/// closed form, a sum over the treatment's posterior successes. The prior's `alpha` must be a
/// whole number for the sum to be exact.
pub fn chance_to_beat_control(
    control: Counts,
    treatment: Counts,
    prior: Prior,
) -> Result<f64, StatsError> {
    if !(prior.alpha >= 1.0 && prior.alpha.fract() == 0.0 && prior.beta > 0.0) {
        return Err(StatsError::invalid(
            "prior",
            "alpha must be a whole number of at least 1 and beta positive",
        ));
    }
    let alpha_c = prior.alpha + control.successes as f64;
    let beta_c = prior.beta + (control.trials - control.successes) as f64;
    let beta_t = prior.beta + (treatment.trials - treatment.successes) as f64;
    // The treatment's posterior alpha, a whole number: the count of terms.
    let whole_alpha_t = treatment.successes + prior.alpha as u64;
    let ln_beta_c = ln_beta(alpha_c, beta_c);
    let total: f64 = (0..whole_alpha_t)
        .map(|i| {
            let i = i as f64;
            (ln_beta(alpha_c + i, beta_c + beta_t)
                - (beta_t + i).ln()
                - ln_beta(1.0 + i, beta_t)
                - ln_beta_c)
                .exp()
        })
        .sum();
    Ok(total.clamp(0.0, 1.0))
}
