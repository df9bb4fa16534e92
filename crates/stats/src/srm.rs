//! Sample-ratio mismatch: does the split of units across arms fit the planned weights?

use crate::{ChiSquare, StatsError, chi_square_sf};

/// Pearson's chi-square goodness of fit of `observed` counts to `weights` (any positive
/// scale; normalised here), with `k - 1` degrees of freedom.
pub fn sample_ratio_mismatch(observed: &[u64], weights: &[f64]) -> Result<ChiSquare, StatsError> {
    if observed.len() < 2 {
        return Err(StatsError::invalid(
            "observed",
            "at least two arms are needed",
        ));
    }
    if weights.len() != observed.len() {
        return Err(StatsError::invalid("weights", "need one weight per arm"));
    }
    if weights
        .iter()
        .any(|weight| !(weight.is_finite() && *weight > 0.0))
    {
        return Err(StatsError::invalid("weights", "must be positive numbers"));
    }
    let df = (observed.len() - 1) as u64;
    let total: f64 = observed.iter().map(|count| *count as f64).sum();
    if total == 0.0 {
        return Ok(ChiSquare {
            statistic: None,
            df,
            p_value: None,
            note: Some("no units observed yet".to_owned()),
        });
    }
    let weight_sum: f64 = weights.iter().sum();
    let statistic: f64 = observed
        .iter()
        .zip(weights)
        .map(|(count, weight)| {
            let expected = total * weight / weight_sum;
            let deviation = *count as f64 - expected;
            deviation * deviation / expected
        })
        .sum();
    Ok(ChiSquare {
        statistic: Some(statistic),
        df,
        p_value: Some(chi_square_sf(statistic, df).clamp(0.0, 1.0)),
        note: None,
    })
}
