//! Multiple comparisons: p-values adjusted for testing several arms or metrics at once.

use crate::StatsError;

/// Holm-Bonferroni step-down adjusted p-values (family-wise error), in input order.
pub fn holm(p_values: &[f64]) -> Result<Vec<f64>, StatsError> {
    let order = ascending(p_values)?;
    let m = p_values.len() as f64;
    let mut adjusted = vec![0.0; p_values.len()];
    let mut running_max: f64 = 0.0;
    for (rank, &index) in order.iter().enumerate() {
        running_max = running_max.max(((m - rank as f64) * p_values[index]).min(1.0));
        adjusted[index] = running_max;
    }
    Ok(adjusted)
}

/// Benjamini-Hochberg step-up adjusted p-values (false discovery rate), in input order.
pub fn benjamini_hochberg(p_values: &[f64]) -> Result<Vec<f64>, StatsError> {
    let order = ascending(p_values)?;
    let m = p_values.len() as f64;
    let mut adjusted = vec![0.0; p_values.len()];
    let mut running_min: f64 = 1.0;
    for (rank, &index) in order.iter().enumerate().rev() {
        running_min = running_min.min(m / (rank as f64 + 1.0) * p_values[index]);
        adjusted[index] = running_min;
    }
    Ok(adjusted)
}

/// The indices of `p_values`, smallest p first (ties in input order); checks each is a p-value.
fn ascending(p_values: &[f64]) -> Result<Vec<usize>, StatsError> {
    if let Some(index) = p_values
        .iter()
        .position(|p| !(p.is_finite() && (0.0..=1.0).contains(p)))
    {
        return Err(StatsError::invalid(
            format!("p_values[{index}]"),
            "must be between 0 and 1",
        ));
    }
    let mut order: Vec<usize> = (0..p_values.len()).collect();
    order.sort_by(|a, b| p_values[*a].total_cmp(&p_values[*b]));
    Ok(order)
}
