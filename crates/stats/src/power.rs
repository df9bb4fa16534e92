//! Sizing an experiment: the sample size for a wanted power, the power of a given size and
//! the smallest effect a size detects, by the classic normal formulas. On a conversion rate
//! the standard error under the null comes from the pooled rate, under the alternative from
//! each arm's own rate; on a mean both arms share one standard deviation (statsmodels'
//! `NormalIndPower`). The control arm has `n` units and the treatment arm `ratio * n`; a
//! one-sided test looks in the direction of the effect.

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
    check_means(sd, alpha, ratio)?;
    check_power(power)?;
    let normal = Normal::standard();
    let z = means_critical(alpha, two_sided) + normal.inverse_cdf(power);
    let spread = sd * (1.0 + 1.0 / ratio).sqrt();
    Ok((z.max(0.0) * spread / effect).powi(2))
}

/// The power of a z-test of a difference of means `effect` (either sign) with `n_control`
/// control units, `ratio` times as many treated, values of standard deviation `sd` in both
/// arms: statsmodels' `NormalIndPower().power` with effect size `|effect| / sd`. The test's
/// statistic is shifted by `|effect| / sd * sqrt(n_eff)`, `n_eff = n r / (1 + r)` (one over
/// `1 / n_control + 1 / n_treatment`); a two-sided test also counts the far tail.
pub fn means_power(
    effect: f64,
    sd: f64,
    n_control: f64,
    alpha: f64,
    ratio: f64,
    two_sided: bool,
) -> Result<f64, StatsError> {
    if !effect.is_finite() {
        return Err(StatsError::invalid("mde", "must be a finite number"));
    }
    check_means(sd, alpha, ratio)?;
    check_n(n_control)?;
    let shift = effect.abs() / sd * effective_n(n_control, ratio).sqrt();
    Ok(shifted_power(
        shift,
        means_critical(alpha, two_sided),
        two_sided,
    ))
}

/// The smallest difference of means (a positive number, in the metric's units) that
/// `n_control` control units and `ratio` times as many treated detect with `power`: what
/// statsmodels' `NormalIndPower().solve_power(effect_size=None, ...)` gives, times `sd`.
/// One-sided it is closed, `(z_(1-alpha) + z_power) sd / sqrt(n_eff)`; two-sided the far tail
/// adds a little power, so the shift is found by bisection on the power, which grows with it.
/// `power` must be above `alpha`, the power against no effect at all.
pub fn means_minimum_detectable_effect(
    sd: f64,
    n_control: f64,
    power: f64,
    alpha: f64,
    ratio: f64,
    two_sided: bool,
) -> Result<f64, StatsError> {
    check_means(sd, alpha, ratio)?;
    check_n(n_control)?;
    check_power(power)?;
    if power <= alpha {
        return Err(StatsError::invalid(
            "power",
            "must be above alpha, the power against no effect",
        ));
    }
    let critical = means_critical(alpha, two_sided);
    // Ignoring the far tail gives the one-sided shift, enough for `power` in any case.
    let mut high = critical + Normal::standard().inverse_cdf(power);
    if two_sided {
        let mut low = 0.0;
        for _ in 0..200 {
            let middle = (low + high) / 2.0;
            if middle <= low || middle >= high {
                break;
            }
            if shifted_power(middle, critical, true) >= power {
                high = middle;
            } else {
                low = middle;
            }
        }
    }
    Ok(high * sd / effective_n(n_control, ratio).sqrt())
}

/// `sd`, `alpha` and `ratio` of a design on means.
fn check_means(sd: f64, alpha: f64, ratio: f64) -> Result<(), StatsError> {
    if !(sd.is_finite() && sd > 0.0) {
        return Err(StatsError::invalid("sd", "must be a positive number"));
    }
    if !(alpha > 0.0 && alpha < 1.0) {
        return Err(StatsError::invalid("alpha", "must be above 0 and below 1"));
    }
    if !(ratio.is_finite() && ratio > 0.0) {
        return Err(StatsError::invalid("ratio", "must be a positive number"));
    }
    Ok(())
}

fn check_power(power: f64) -> Result<(), StatsError> {
    if power > 0.0 && power < 1.0 {
        Ok(())
    } else {
        Err(StatsError::invalid("power", "must be above 0 and below 1"))
    }
}

fn check_n(n_control: f64) -> Result<(), StatsError> {
    if n_control.is_finite() && n_control > 0.0 {
        Ok(())
    } else {
        Err(StatsError::invalid(
            "n_per_variant",
            "must be a positive number",
        ))
    }
}

/// The critical value of a test on means at `alpha`.
fn means_critical(alpha: f64, two_sided: bool) -> f64 {
    let tail = if two_sided { alpha / 2.0 } else { alpha };
    Normal::standard().inverse_cdf(1.0 - tail)
}

/// `n_control` and `ratio * n_control` units weigh as `n_eff` in one sample:
/// `1 / n_eff = 1 / n_control + 1 / n_treatment`.
fn effective_n(n_control: f64, ratio: f64) -> f64 {
    n_control * ratio / (1.0 + ratio)
}

/// The power of a standard normal test with critical value `critical` when its statistic is
/// shifted by `shift >= 0`.
fn shifted_power(shift: f64, critical: f64, two_sided: bool) -> f64 {
    let normal = Normal::standard();
    let mut power = normal.sf(critical - shift);
    if two_sided {
        power += normal.cdf(-critical - shift);
    }
    power.clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn means_power_is_a_probability_that_grows_and_inverts_to_the_mde() {
        for two_sided in [true, false] {
            for ratio in [0.25, 1.0, 3.0] {
                for n in [10.0, 400.0, 50_000.0] {
                    let mut previous = 0.0;
                    for step in 0..50 {
                        let effect = f64::from(step) * 0.02;
                        let power = means_power(effect, 1.5, n, 0.05, ratio, two_sided).unwrap();
                        assert!((0.0..=1.0).contains(&power));
                        assert!(power >= previous, "power grows with the effect");
                        previous = power;
                        let negative = means_power(-effect, 1.5, n, 0.05, ratio, two_sided);
                        assert_eq!(
                            negative,
                            Ok(power),
                            "the sign of the effect does not matter"
                        );
                    }
                    for wanted in [0.1, 0.5, 0.8, 0.99] {
                        let mde =
                            means_minimum_detectable_effect(1.5, n, wanted, 0.05, ratio, two_sided)
                                .unwrap();
                        let power = means_power(mde, 1.5, n, 0.05, ratio, two_sided).unwrap();
                        assert!((power - wanted).abs() < 1e-9, "{power} for {wanted}");
                    }
                }
            }
        }
    }

    #[test]
    fn proportions_size_power_and_mde_agree_with_ratio_and_one_side() {
        for two_sided in [true, false] {
            for ratio in [0.5, 1.0, 2.0] {
                let mde =
                    proportions_minimum_detectable_effect(0.1, 5000.0, 0.8, 0.05, ratio, two_sided)
                        .unwrap()
                        .unwrap();
                let design = ProportionsDesign {
                    baseline: 0.1,
                    treatment: 0.1 + mde,
                    alpha: 0.05,
                    ratio,
                    two_sided,
                };
                let power = proportions_power(design, 5000.0).unwrap();
                assert!((power - 0.8).abs() < 1e-9, "{power}");
                let n = proportions_sample_size(design, 0.8).unwrap();
                // The size formula ignores a two-sided test's far tail, so asks a hair more.
                if two_sided {
                    assert!((4999.99..5050.0).contains(&n), "{n}");
                } else {
                    assert!((n - 5000.0).abs() < 1e-6, "{n}");
                }
            }
        }
    }
}
