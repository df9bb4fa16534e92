//! Sizing an experiment on a conversion rate: the sample size for a wanted power and the
//! power of a given size, by the classic normal formula: the standard error under the null
//! from the pooled rate, under the alternative from each arm's own rate. The control arm has
//! `n` units and the treatment arm `ratio * n`.

use statrs::distribution::{ContinuousCDF as _, Normal};

use crate::StatsError;

/// What an experiment on a rate is designed to detect.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProportionsDesign {
    /// The control arm's expected rate.
    pub baseline: f64,
    /// The treatment arm's rate to detect.
    pub treatment: f64,
    pub alpha: f64,
    /// Treatment arm size over control arm size.
    pub ratio: f64,
    pub two_sided: bool,
}

impl ProportionsDesign {
    fn check(&self) -> Result<(), StatsError> {
        let rate = |value: f64| value > 0.0 && value < 1.0;
        if !rate(self.baseline) {
            return Err(StatsError::invalid(
                "baseline",
                "must be above 0 and below 1",
            ));
        }
        if !rate(self.treatment) {
            return Err(StatsError::invalid(
                "mde",
                "baseline plus the effect must stay above 0 and below 1",
            ));
        }
        if self.treatment == self.baseline {
            return Err(StatsError::invalid("mde", "must not be 0"));
        }
        if !rate(self.alpha) {
            return Err(StatsError::invalid("alpha", "must be above 0 and below 1"));
        }
        if !(self.ratio.is_finite() && self.ratio > 0.0) {
            return Err(StatsError::invalid("ratio", "must be a positive number"));
        }
        Ok(())
    }

    /// The critical value of the test's tail.
    fn critical(&self) -> f64 {
        let tail = if self.two_sided {
            self.alpha / 2.0
        } else {
            self.alpha
        };
        Normal::standard().inverse_cdf(1.0 - tail)
    }

    /// Standard errors of the difference for one control unit, under the null and the
    /// alternative.
    fn standard_errors(&self) -> (f64, f64) {
        let (p_c, p_t, r) = (self.baseline, self.treatment, self.ratio);
        let pooled = (p_c + r * p_t) / (1.0 + r);
        let null = (pooled * (1.0 - pooled) * (1.0 + 1.0 / r)).sqrt();
        let alternative = (p_c * (1.0 - p_c) + p_t * (1.0 - p_t) / r).sqrt();
        (null, alternative)
    }
}

/// Control-arm units needed for `power` (unrounded: round up for a plan).
pub fn proportions_sample_size(design: ProportionsDesign, power: f64) -> Result<f64, StatsError> {
    design.check()?;
    if !(power > 0.0 && power < 1.0) {
        return Err(StatsError::invalid("power", "must be above 0 and below 1"));
    }
    let (null, alternative) = design.standard_errors();
    let z_power = Normal::standard().inverse_cdf(power);
    let effect = design.treatment - design.baseline;
    let numerator = (design.critical() * null + z_power * alternative).max(0.0);
    Ok((numerator / effect).powi(2))
}

/// The power of a design with `n_control` control units.
pub fn proportions_power(design: ProportionsDesign, n_control: f64) -> Result<f64, StatsError> {
    design.check()?;
    if !(n_control.is_finite() && n_control > 0.0) {
        return Err(StatsError::invalid(
            "n_per_variant",
            "must be a positive number",
        ));
    }
    let (null, alternative) = design.standard_errors();
    let normal = Normal::standard();
    let critical = design.critical() * null / alternative;
    let shift = (design.treatment - design.baseline).abs() * n_control.sqrt() / alternative;
    let mut power = normal.sf(critical - shift);
    if design.two_sided {
        power += normal.cdf(-critical - shift);
    }
    Ok(power.clamp(0.0, 1.0))
}

/// The smallest increase over `baseline` that `n_control` control units (and `ratio` times as
/// many treated) detect with `power`: found by bisection on the power, which grows with the
/// effect. `None` when even a rate of almost 1 is not detected with that power.
pub fn proportions_minimum_detectable_effect(
    baseline: f64,
    n_control: f64,
    power: f64,
    alpha: f64,
    ratio: f64,
    two_sided: bool,
) -> Result<Option<f64>, StatsError> {
    if !(power > 0.0 && power < 1.0) {
        return Err(StatsError::invalid("power", "must be above 0 and below 1"));
    }
    let power_of = |effect: f64| {
        proportions_power(
            ProportionsDesign {
                baseline,
                treatment: baseline + effect,
                alpha,
                ratio,
                two_sided,
            },
            n_control,
        )
    };
    let (mut low, mut high) = (0.0, 1.0 - baseline);
    // The largest effect that keeps the treatment rate below 1.
    let largest = high * (1.0 - 1e-9);
    if power_of(largest)? < power {
        return Ok(None);
    }
    high = largest;
    for _ in 0..200 {
        let middle = (low + high) / 2.0;
        if middle <= low || middle >= high {
            break;
        }
        if middle > 0.0 && power_of(middle)? >= power {
            high = middle;
        } else {
            low = middle;
        }
    }
    Ok(Some(high))
}

/// Control-arm units needed to detect a difference of means `effect` when values have
/// standard deviation `sd` in both arms, with `power` (unrounded; the treatment arm has
/// `ratio` times as many).
pub fn means_sample_size(
    effect: f64,
    sd: f64,
    alpha: f64,
    power: f64,
    ratio: f64,
    two_sided: bool,
) -> Result<f64, StatsError> {
    if !(effect.is_finite() && effect != 0.0) {
        return Err(StatsError::invalid("mde", "must be a number other than 0"));
    }
    if !(sd.is_finite() && sd > 0.0) {
        return Err(StatsError::invalid("sd", "must be a positive number"));
    }
    for (field, value) in [("alpha", alpha), ("power", power)] {
        if !(value > 0.0 && value < 1.0) {
            return Err(StatsError::invalid(field, "must be above 0 and below 1"));
        }
    }
    if !(ratio.is_finite() && ratio > 0.0) {
        return Err(StatsError::invalid("ratio", "must be a positive number"));
    }
    let normal = Normal::standard();
    let tail = if two_sided { alpha / 2.0 } else { alpha };
    let z = normal.inverse_cdf(1.0 - tail) + normal.inverse_cdf(power);
    let spread = sd * (1.0 + 1.0 / ratio).sqrt();
    Ok((z.max(0.0) * spread / effect).powi(2))
}
