//! Conversion rates: the Wilson interval of each arm, the two-proportion z-test (pooled and
//! Wald), and the chi-square test of homogeneity over k arms, with or without Yates.

use crate::{
    ChiSquare, Interval, StatsError, TestResult, chi_square_sf, normal_p_two_sided, z_two_sided,
};

/// One arm's conversions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub successes: u64,
    pub trials: u64,
}

impl Counts {
    pub fn new(successes: u64, trials: u64) -> Result<Counts, StatsError> {
        if successes > trials {
            return Err(StatsError::invalid("successes", "must not exceed trials"));
        }
        Ok(Counts { successes, trials })
    }

    /// The observed rate; `None` without trials.
    pub fn rate(&self) -> Option<f64> {
        (self.trials > 0).then(|| self.successes as f64 / self.trials as f64)
    }
}

/// Wilson's score interval for one arm's rate at level `1 - alpha`; `None` without trials.
pub fn wilson_interval(counts: Counts, alpha: f64) -> Result<Option<Interval>, StatsError> {
    let z = z_two_sided(alpha)?;
    let Some(p) = counts.rate() else {
        return Ok(None);
    };
    let n = counts.trials as f64;
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    // The interval always holds the rate; at 0 or 1, rounding could put the bound a hair past.
    Ok(Some([
        (centre - half).clamp(0.0, p),
        (centre + half).clamp(p, 1.0),
    ]))
}

/// The z-test of `treatment - control`. `pooled`: the standard error under the null (both
/// arms share one rate), the classic test; otherwise Wald's, each arm's own variance.
pub fn z_test(control: Counts, treatment: Counts, pooled: bool) -> TestResult {
    let (Some(p_c), Some(p_t)) = (control.rate(), treatment.rate()) else {
        return TestResult::undefined("an arm has no trials");
    };
    let (n_c, n_t) = (control.trials as f64, treatment.trials as f64);
    let variance = if pooled {
        let p = (control.successes + treatment.successes) as f64 / (n_c + n_t);
        p * (1.0 - p) * (1.0 / n_c + 1.0 / n_t)
    } else {
        p_c * (1.0 - p_c) / n_c + p_t * (1.0 - p_t) / n_t
    };
    if variance <= 0.0 {
        return TestResult::undefined(
            "no variation: every trial converted, or none did, so the standard error is 0",
        );
    }
    let z = (p_t - p_c) / variance.sqrt();
    TestResult::defined(z, normal_p_two_sided(z))
}

/// Pearson's chi-square test of homogeneity of `arms` (a k x 2 table of converted and not
/// converted). `yates` applies Yates' continuity correction, which (as in scipy) only a 2 x 2
/// table gets. Undefined when an expected cell is 0 (a column that is all zero).
pub fn chi_square(arms: &[Counts], yates: bool) -> Result<ChiSquare, StatsError> {
    if arms.len() < 2 {
        return Err(StatsError::invalid("variants", "at least two are needed"));
    }
    let df = (arms.len() - 1) as u64;
    let total: f64 = arms.iter().map(|arm| arm.trials as f64).sum();
    let successes: f64 = arms.iter().map(|arm| arm.successes as f64).sum();
    let failures = total - successes;
    if arms.iter().any(|arm| arm.trials == 0) || successes == 0.0 || failures == 0.0 {
        return Ok(ChiSquare {
            statistic: None,
            df,
            p_value: None,
            note: Some(
                "an expected count is 0 (an arm without trials, or no conversions or no \
                 non-conversions at all): the test is undefined"
                    .to_owned(),
            ),
        });
    }
    let correct = yates && df == 1;
    let mut statistic = 0.0;
    for arm in arms {
        let n = arm.trials as f64;
        for (observed, column_total) in [
            (arm.successes as f64, successes),
            ((arm.trials - arm.successes) as f64, failures),
        ] {
            let expected = n * column_total / total;
            let mut deviation = (observed - expected).abs();
            if correct {
                // scipy's rule: shrink each deviation by 0.5, but never past 0.
                deviation = (deviation - 0.5).max(0.0);
            }
            statistic += deviation * deviation / expected;
        }
    }
    Ok(ChiSquare {
        statistic: Some(statistic),
        df,
        p_value: Some(chi_square_sf(statistic, df).clamp(0.0, 1.0)),
        note: None,
    })
}
