//! The sequential test a calculator reports beside the fixed-horizon ones: the mixture SPRT,
//! so that an analyst who looks every day still holds alpha.

use models::stats::SequentialOutcome;
use stats::sequential::{Estimate, always_valid_p_value, confidence_sequence, tuned_tau_squared};

/// The arm size the mixture is tuned for when nothing else is known: sequences are narrowest
/// near it, and valid at every size.
pub const TARGET_PER_ARM: f64 = 10_000.0;

/// The always-valid p-value and confidence sequence of `estimate`, whose arms hold
/// `n_control` and `n_treatment` units, tuned to be narrowest at `TARGET_PER_ARM` per arm.
pub fn sequential(
    estimate: Option<Estimate>,
    n_control: f64,
    n_treatment: f64,
    alpha: f64,
) -> SequentialOutcome {
    let undefined = |note: &str| SequentialOutcome {
        p_value: None,
        ci: None,
        note: Some(note.to_owned()),
    };
    let Some(estimate) = estimate else {
        return undefined("needs variation in both arms");
    };
    // The estimate's variance scales as 1/n: at the target it is this look's, rescaled.
    let harmonic = 1.0 / (1.0 / n_control + 1.0 / n_treatment);
    let at_target = estimate.variance * harmonic / (TARGET_PER_ARM / 2.0);
    let outcome = tuned_tau_squared(at_target, alpha).and_then(|tau_squared| {
        Ok((
            always_valid_p_value(estimate, tau_squared, None)?,
            confidence_sequence(estimate, tau_squared, alpha)?,
        ))
    });
    match outcome {
        Ok((p_value, ci)) => SequentialOutcome {
            p_value: Some(p_value),
            ci: Some(ci),
            note: None,
        },
        Err(error) => undefined(&error.to_string()),
    }
}
