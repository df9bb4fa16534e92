//! The Mann-Whitney U test on raw values, two-sided, as scipy's `mannwhitneyu` decides:
//! exact when one sample has at most 8 values and there are no ties, otherwise the normal
//! approximation with the tie correction and the continuity correction.

use statrs::distribution::{ContinuousCDF as _, Normal};

use crate::StatsError;

/// `u` is the statistic of the first sample (the control); `exact` says which method ran.
#[derive(Debug, Clone, PartialEq)]
pub struct MannWhitney {
    pub u: f64,
    pub p_value: f64,
    pub exact: bool,
}

pub fn mann_whitney(control: &[f64], treatment: &[f64]) -> Result<MannWhitney, StatsError> {
    for (field, values) in [("control", control), ("treatment", treatment)] {
        if values.is_empty() {
            return Err(StatsError::invalid(field, "needs at least one value"));
        }
        if values.iter().any(|value| !value.is_finite()) {
            return Err(StatsError::invalid(field, "values must be finite numbers"));
        }
    }
    let (n1, n2) = (control.len(), treatment.len());
    let (ranks, tie_sizes) = average_ranks(control, treatment);
    let rank_sum: f64 = ranks[..n1].iter().sum();
    let u1 = rank_sum - (n1 * (n1 + 1)) as f64 / 2.0;
    let u2 = (n1 * n2) as f64 - u1;
    let u = u1.max(u2);
    let ties = tie_sizes.iter().any(|size| *size > 1);
    let exact = !(ties || (n1 > 8 && n2 > 8));
    let p_value = if exact {
        2.0 * exact_survival(u as u64, n1.min(n2), n1.max(n2))
    } else {
        let n = (n1 + n2) as f64;
        let tie_term: f64 = tie_sizes
            .iter()
            .map(|t| {
                let t = *t as f64;
                t * t * t - t
            })
            .sum();
        let product = (n1 * n2) as f64;
        let spread = (product / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)))).sqrt();
        let z = (u - product / 2.0 - 0.5) / spread;
        if spread > 0.0 {
            2.0 * Normal::standard().sf(z)
        } else {
            1.0
        }
    };
    Ok(MannWhitney {
        u: u1,
        p_value: p_value.clamp(0.0, 1.0),
        exact,
    })
}

/// The average ranks (1-based) of `first` then `second` pooled, and the size of each group of
/// tied values.
fn average_ranks(first: &[f64], second: &[f64]) -> (Vec<f64>, Vec<usize>) {
    let pooled: Vec<f64> = first.iter().chain(second).copied().collect();
    let mut order: Vec<usize> = (0..pooled.len()).collect();
    order.sort_by(|a, b| pooled[*a].total_cmp(&pooled[*b]));
    let mut ranks = vec![0.0; pooled.len()];
    let mut tie_sizes = Vec::new();
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && pooled[order[end]] == pooled[order[start]] {
            end += 1;
        }
        let average = (start + 1 + end) as f64 / 2.0;
        for index in &order[start..end] {
            ranks[*index] = average;
        }
        tie_sizes.push(end - start);
        start = end;
    }
    (ranks, tie_sizes)
}

/// P(U >= u) under the null for samples of sizes `m <= n` without ties: the coefficients of
/// the Gaussian binomial coefficient [m + n choose m], built one factor at a time.
fn exact_survival(u: u64, m: usize, n: usize) -> f64 {
    let size = m * n + 1;
    let mut counts = vec![0.0_f64; size];
    counts[0] = 1.0;
    for i in 1..=m {
        // Multiply by (1 - q^(n + i)), then divide by (1 - q^i).
        for k in (n + i..size).rev() {
            counts[k] -= counts[k - n - i];
        }
        for k in i..size {
            counts[k] += counts[k - i];
        }
    }
    let total: f64 = counts.iter().sum();
    let from = (u as usize).min(size);
    counts[from..].iter().sum::<f64>() / total
}
