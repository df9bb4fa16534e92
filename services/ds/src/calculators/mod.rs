//! Stateless statistics calculators: `crates/stats` behind HTTP. They read nothing and change
//! nothing; bad input is a 422 naming the field, a test the data leave undefined answers with
//! a null p-value and a note.

pub mod means;
pub mod power;
pub mod proportions;
pub mod routes;
pub mod sequential;

use models::stats::{
    AdjustAnswer, AdjustMethod, AdjustRequest, ChiSquareOutcome, MIN_ALPHA, SrmRequest, TestOutcome,
};
use service::validate::Checks;
use service::{FieldError, Problem};
use stats::{ChiSquare, StatsError, TestResult};

/// Most arms a calculator compares.
pub const MAX_VARIANTS: usize = 50;

/// A stats error as the 422 naming its field, under `prefix` (`variants[2].` or empty).
pub fn invalid(prefix: &str, error: StatsError) -> Problem {
    let StatsError::Invalid { field, message } = error;
    Problem::validation(vec![FieldError::new(format!("{prefix}{field}"), message)])
}

pub fn test_outcome(result: TestResult) -> TestOutcome {
    TestOutcome {
        statistic: result.statistic,
        p_value: result.p_value,
        note: result.note,
    }
}

pub fn chi_square_outcome(result: ChiSquare) -> ChiSquareOutcome {
    ChiSquareOutcome {
        statistic: result.statistic,
        df: result.df,
        p_value: result.p_value,
        note: result.note,
    }
}

/// An undefined chi-square (the data leave it without a value), saying why.
pub fn undefined_chi_square(df: u64, note: String) -> ChiSquareOutcome {
    ChiSquareOutcome {
        statistic: None,
        df,
        p_value: None,
        note: Some(note),
    }
}

/// Checks `alpha`, common to every calculator.
pub fn check_alpha(alpha: f64) -> Result<(), Problem> {
    if (MIN_ALPHA..1.0).contains(&alpha) {
        Ok(())
    } else {
        Err(Problem::validation(vec![FieldError::new(
            "alpha",
            format!("must be at least {MIN_ALPHA} and below 1"),
        )]))
    }
}

/// Two arms at least (the first the control), `MAX_VARIANTS` at most.
pub fn check_variant_count(checks: &mut Checks, count: usize) {
    if count < 2 {
        checks.fail(
            "variants",
            "must have at least two variants, the first the control",
        );
    }
    if count > MAX_VARIANTS {
        checks.fail(
            "variants",
            format!("must have at most {MAX_VARIANTS} variants"),
        );
    }
}

/// Holm-adjusted p-values of the defined ones, in place; undefined stay undefined.
pub fn holm_adjusted(p_values: &[Option<f64>]) -> Vec<Option<f64>> {
    let defined: Vec<f64> = p_values.iter().flatten().copied().collect();
    let Ok(adjusted) = stats::adjust::holm(&defined) else {
        return vec![None; p_values.len()];
    };
    let mut adjusted = adjusted.into_iter();
    p_values
        .iter()
        .map(|p_value| p_value.and_then(|_| adjusted.next()))
        .collect()
}

/// The sample-ratio check of observed counts against planned weights (equal when absent).
pub fn srm(request: &SrmRequest) -> Result<ChiSquareOutcome, Problem> {
    let mut errors = Vec::new();
    let mut observed = Vec::with_capacity(request.observed.len());
    for (index, &count) in request.observed.iter().enumerate() {
        match u64::try_from(count) {
            Ok(count) => observed.push(count),
            Err(_) => errors.push(FieldError::new(
                format!("observed[{index}]"),
                "must be at least 0",
            )),
        }
    }
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    if observed.len() > MAX_VARIANTS {
        return Err(Problem::validation(vec![FieldError::new(
            "observed",
            format!("must have at most {MAX_VARIANTS} counts"),
        )]));
    }
    let weights = match &request.weights {
        Some(weights) => weights.clone(),
        None => vec![1.0; observed.len()],
    };
    stats::srm::sample_ratio_mismatch(&observed, &weights)
        .map(chi_square_outcome)
        .map_err(|error| invalid("", error))
}

/// Adjusted p-values, in the input's order.
pub fn adjust(request: &AdjustRequest) -> Result<AdjustAnswer, Problem> {
    if request.p_values.len() > 10_000 {
        return Err(Problem::validation(vec![FieldError::new(
            "p_values",
            "must have at most 10000 values",
        )]));
    }
    if let Some(index) = request
        .p_values
        .iter()
        .position(|p| !(0.0..=1.0).contains(p))
    {
        return Err(Problem::validation(vec![FieldError::new(
            format!("p_values[{index}]"),
            "must be between 0 and 1",
        )]));
    }
    let adjusted = match request.method {
        AdjustMethod::Holm => stats::adjust::holm(&request.p_values),
        AdjustMethod::Bh => stats::adjust::benjamini_hochberg(&request.p_values),
    }
    .map_err(|error| invalid("", error))?;
    Ok(AdjustAnswer {
        method: request.method,
        adjusted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alpha_too_small_for_a_double_is_refused() {
        assert!(check_alpha(5e-324).is_err());
        assert!(check_alpha(MIN_ALPHA).is_ok());
        assert!(check_alpha(1.0).is_err());
    }

    #[test]
    fn holm_adjusts_the_defined_p_values_and_keeps_the_undefined() {
        let adjusted = holm_adjusted(&[Some(0.01), None, Some(0.04)]);
        assert_eq!(adjusted, [Some(0.02), None, Some(0.04)]);
    }

    #[test]
    fn srm_and_adjust_name_the_field_at_fault() {
        let problem = srm(&SrmRequest {
            observed: vec![10, -1],
            weights: None,
        })
        .unwrap_err();
        assert_eq!(problem.errors[0].field, "observed[1]");
        let problem = adjust(&AdjustRequest {
            p_values: vec![0.2, 1.5],
            method: AdjustMethod::Bh,
        })
        .unwrap_err();
        assert_eq!(problem.errors[0].field, "p_values[1]");
    }
}
