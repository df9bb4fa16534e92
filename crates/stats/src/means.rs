//! Averages (watch minutes, revenue per customer): Welch's and Student's t-tests of
//! `treatment - control` from each arm's summary, with the interval of the difference.

use statrs::distribution::{ContinuousCDF as _, StudentsT};

use crate::{Interval, StatsError};

/// One arm's values, summarised: count, sum and sum of squares.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub n: u64,
    pub sum: f64,
    pub sum_squares: f64,
}

impl Summary {
    pub fn of(values: &[f64]) -> Summary {
        Summary {
            n: values.len() as u64,
            sum: values.iter().sum(),
            sum_squares: values.iter().map(|value| value * value).sum(),
        }
    }

    pub fn mean(&self) -> f64 {
        self.sum / self.n as f64
    }

    /// The sample variance (n - 1 in the denominator), never below 0 after rounding.
    pub fn variance(&self) -> f64 {
        let n = self.n as f64;
        ((self.sum_squares - self.sum * self.sum / n) / (n - 1.0)).max(0.0)
    }
}

/// A t-test: statistic, degrees of freedom, two-sided p-value and the interval of the
/// difference of means at level `1 - alpha`.
#[derive(Debug, Clone, PartialEq)]
pub struct TTest {
    pub statistic: f64,
    pub df: f64,
    pub p_value: f64,
    pub ci: Interval,
}

/// Welch's t-test (`equal_variances: false`, each arm its own variance) or Student's
/// (pooled variance). Needs two values per arm and some variation.
pub fn t_test(
    control: Summary,
    treatment: Summary,
    equal_variances: bool,
    alpha: f64,
) -> Result<TTest, StatsError> {
    if !(alpha > 0.0 && alpha < 1.0) {
        return Err(StatsError::invalid("alpha", "must be above 0 and below 1"));
    }
    for (field, arm) in [("control", control), ("treatment", treatment)] {
        if arm.n < 2 {
            return Err(StatsError::invalid(field, "needs at least 2 values"));
        }
        if !(arm.sum.is_finite() && arm.sum_squares.is_finite()) {
            return Err(StatsError::invalid(field, "sums must be finite numbers"));
        }
    }
    let (n_c, n_t) = (control.n as f64, treatment.n as f64);
    let (v_c, v_t) = (control.variance(), treatment.variance());
    let (variance_of_difference, df) = if equal_variances {
        let df = n_c + n_t - 2.0;
        let pooled = ((n_c - 1.0) * v_c + (n_t - 1.0) * v_t) / df;
        (pooled * (1.0 / n_c + 1.0 / n_t), df)
    } else {
        let (a, b) = (v_c / n_c, v_t / n_t);
        let df = (a + b).powi(2) / (a * a / (n_c - 1.0) + b * b / (n_t - 1.0));
        (a + b, df)
    };
    if !(variance_of_difference > 0.0 && df.is_finite()) {
        return Err(StatsError::invalid(
            "variants",
            "every value is the same: the test needs some variation",
        ));
    }
    let distribution = StudentsT::new(0.0, 1.0, df)
        .map_err(|error| StatsError::invalid("variants", error.to_string()))?;
    let difference = treatment.mean() - control.mean();
    let standard_error = variance_of_difference.sqrt();
    let statistic = difference / standard_error;
    let p_value = (2.0 * distribution.sf(statistic.abs())).clamp(0.0, 1.0);
    let margin = distribution.inverse_cdf(1.0 - alpha / 2.0) * standard_error;
    Ok(TTest {
        statistic,
        df,
        p_value,
        ci: [difference - margin, difference + margin],
    })
}
