//! Pure statistics on summary data: no I/O, no async. `statrs` supplies the distributions
//! (they agree with scipy); the tests themselves are written here, each checked against
//! reference values computed with scipy and statsmodels (`reference/generate.py`).

pub mod adjust;
pub mod bayes;
pub mod cuped;
pub mod means;
pub mod power;
pub mod proportions;
pub mod ranks;
pub mod sequential;
pub mod srm;

/// A two-sided interval `[low, high]`.
pub type Interval = [f64; 2];

/// A test's outcome. `p_value` is `None` when the data leave the test undefined (a zero
/// cell where it needs none); `note` then says why.
#[derive(Debug, Clone, PartialEq)]
pub struct TestResult {
    pub statistic: Option<f64>,
    pub p_value: Option<f64>,
    pub note: Option<String>,
}

impl TestResult {
    fn defined(statistic: f64, p_value: f64) -> TestResult {
        TestResult {
            statistic: Some(statistic),
            p_value: Some(p_value.clamp(0.0, 1.0)),
            note: None,
        }
    }

    fn undefined(note: &str) -> TestResult {
        TestResult {
            statistic: None,
            p_value: None,
            note: Some(note.to_owned()),
        }
    }
}

/// A chi-square test: statistic, degrees of freedom and p-value (see `TestResult`).
#[derive(Debug, Clone, PartialEq)]
pub struct ChiSquare {
    pub statistic: Option<f64>,
    pub df: u64,
    pub p_value: Option<f64>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StatsError {
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
}

impl StatsError {
    fn invalid(field: impl Into<String>, message: impl Into<String>) -> StatsError {
        StatsError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The two-sided standard normal quantile for `alpha`: 1.96 for 0.05.
fn z_two_sided(alpha: f64) -> Result<f64, StatsError> {
    use statrs::distribution::{ContinuousCDF as _, Normal};
    if !(alpha > 0.0 && alpha < 1.0) {
        return Err(StatsError::invalid("alpha", "must be above 0 and below 1"));
    }
    let normal = Normal::standard();
    Ok(normal.inverse_cdf(1.0 - alpha / 2.0))
}

/// The two-sided p-value of a standard normal statistic.
fn normal_p_two_sided(z: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF as _, Normal};
    2.0 * Normal::standard().sf(z.abs())
}

/// The upper tail of a chi-square distribution with `df` degrees of freedom.
fn chi_square_sf(statistic: f64, df: u64) -> f64 {
    use statrs::distribution::{ChiSquared, ContinuousCDF as _};
    match ChiSquared::new(df as f64) {
        Ok(distribution) => distribution.sf(statistic),
        Err(_) => f64::NAN,
    }
}

/// `m_t / m_c - 1 +- z sqrt(var)`, the delta-method variance of the ratio of two independent
/// estimates `m_t` and `m_c` (variances `v_t` and `v_c`) being
/// `v_t / m_c^2 + m_t^2 v_c / m_c^4`. `m_c` must not be 0.
fn ratio_interval(m_c: f64, v_c: f64, m_t: f64, v_t: f64, z: f64) -> Interval {
    let ratio = m_t / m_c;
    let variance = v_t / (m_c * m_c) + m_t * m_t * v_c / m_c.powi(4);
    let margin = z * variance.sqrt();
    [ratio - 1.0 - margin, ratio - 1.0 + margin]
}
