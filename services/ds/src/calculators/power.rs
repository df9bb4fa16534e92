//! `power`: sizing an experiment. Given two of the effect (`mde`), the power and the control
//! arm's size, it computes the third.

use models::stats::{PowerAnswer, PowerKind, PowerRequest};
use service::validate::Checks;
use service::{FieldError, Problem};
use stats::power::{
    ProportionsDesign, means_minimum_detectable_effect, means_power, means_sample_size,
    proportions_minimum_detectable_effect, proportions_power, proportions_sample_size,
};

use super::{check_alpha, invalid};

/// Largest arm size the calculator answers for.
const MAX_N: i64 = 1_000_000_000_000;
/// Largest ratio of treatment to control arm sizes.
const MAX_RATIO: f64 = 1_000.0;

/// What the request asks for.
enum Solve {
    SampleSize { mde: f64, power: f64 },
    Power { mde: f64, n: f64 },
    Effect { n: f64, power: f64 },
}

fn read(request: &PowerRequest) -> Result<Solve, Problem> {
    check_alpha(request.alpha)?;
    let mut checks = Checks::new();
    if let Some(power) = request.power
        && !(power > 0.0 && power < 1.0)
    {
        checks.fail("power", "must be above 0 and below 1");
    }
    if let Some(n) = request.n_per_variant {
        checks.range("n_per_variant", n, 2, MAX_N);
    }
    if let Some(ratio) = request.ratio
        && !(ratio > 0.0 && ratio <= MAX_RATIO)
    {
        checks.fail("ratio", format!("must be above 0 and at most {MAX_RATIO}"));
    }
    match request.kind {
        PowerKind::Proportions => match request.baseline {
            Some(baseline) if baseline > 0.0 && baseline < 1.0 => {}
            Some(_) => {
                checks.fail("baseline", "must be a rate above 0 and below 1");
            }
            None => {
                checks.fail("baseline", "is needed for proportions");
            }
        },
        PowerKind::Means => {
            match request.sd {
                Some(sd) if sd.is_finite() && sd > 0.0 => {}
                _ => {
                    checks.fail("sd", "is needed for means: a positive number");
                }
            }
            if request.relative && request.baseline.is_none_or(|b| !b.is_finite() || b == 0.0) {
                checks.fail(
                    "baseline",
                    "a relative mde needs a baseline mean other than 0",
                );
            }
        }
    }
    if let Some(mde) = request.mde
        && !(mde.is_finite() && mde != 0.0)
    {
        checks.fail("mde", "must be a number other than 0");
    }
    checks.finish()?;
    let mde = request.mde.map(|mde| {
        if request.relative {
            mde * request.baseline.unwrap_or_default()
        } else {
            mde
        }
    });
    let n = request.n_per_variant.map(|n| n as f64);
    match (mde, request.power, n) {
        (Some(mde), Some(power), None) => Ok(Solve::SampleSize { mde, power }),
        (Some(mde), None, Some(n)) => Ok(Solve::Power { mde, n }),
        (None, Some(power), Some(n)) => Ok(Solve::Effect { n, power }),
        (Some(_), Some(_), Some(_)) => Err(Problem::validation(vec![FieldError::new(
            "n_per_variant",
            "give two of mde, power and n_per_variant: the third is computed",
        )])),
        _ => Err(Problem::validation(vec![FieldError::new(
            if request.mde.is_none() {
                "mde"
            } else {
                "power"
            },
            "give two of mde, power and n_per_variant: the third is computed",
        )])),
    }
}

pub fn answer(request: &PowerRequest) -> Result<PowerAnswer, Problem> {
    let solve = read(request)?;
    let alpha = request.alpha;
    let ratio = request.ratio.unwrap_or(1.0);
    let two_sided = request.two_sided.unwrap_or(true);
    let baseline = request.baseline.unwrap_or_default();
    let sd = request.sd.unwrap_or_default();
    let proportions = |mde: f64| ProportionsDesign {
        baseline,
        treatment: baseline + mde,
        alpha,
        ratio,
        two_sided,
    };
    let stats_error = |error| invalid("", error);
    let (n, power, mde, note) = match (request.kind, solve) {
        (PowerKind::Proportions, Solve::SampleSize { mde, power }) => {
            let n = proportions_sample_size(proportions(mde), power).map_err(stats_error)?;
            (Some(n), Some(power), Some(mde), None)
        }
        (PowerKind::Means, Solve::SampleSize { mde, power }) => {
            let n =
                means_sample_size(mde, sd, alpha, power, ratio, two_sided).map_err(stats_error)?;
            (Some(n), Some(power), Some(mde), None)
        }
        (PowerKind::Proportions, Solve::Power { mde, n }) => {
            let power = proportions_power(proportions(mde), n).map_err(stats_error)?;
            (Some(n), Some(power), Some(mde), None)
        }
        (PowerKind::Means, Solve::Power { mde, n }) => {
            let power = means_power(mde, sd, n, alpha, ratio, two_sided).map_err(stats_error)?;
            (Some(n), Some(power), Some(mde), None)
        }
        (PowerKind::Proportions, Solve::Effect { n, power }) => {
            let mde =
                proportions_minimum_detectable_effect(baseline, n, power, alpha, ratio, two_sided)
                    .map_err(stats_error)?;
            let note = mde.is_none().then(|| {
                "no increase of the rate up to 1 reaches this power with this sample".to_owned()
            });
            (Some(n), Some(power), mde, note)
        }
        (PowerKind::Means, Solve::Effect { n, power }) => {
            let mde = means_minimum_detectable_effect(sd, n, power, alpha, ratio, two_sided)
                .map_err(stats_error)?;
            (Some(n), Some(power), Some(mde), None)
        }
    };
    // A computed size is rounded up (to one unit at least); a given one is whole already.
    let too_large = |n: f64| !(n.is_finite() && n <= MAX_N as f64);
    if n.is_some_and(|n| too_large(n) || too_large(n * ratio)) {
        return Err(Problem::validation(vec![FieldError::new(
            "mde",
            format!("needs more than {MAX_N} units per arm: the effect is too small to detect"),
        )]));
    }
    let n_per_variant = n.map(|n| (n.ceil() as i64).max(1));
    let n_treatment = n_per_variant.map(|n| ((n as f64 * ratio).ceil() as i64).max(1));
    Ok(PowerAnswer {
        kind: request.kind,
        alpha,
        ratio,
        two_sided,
        n_per_variant,
        n_treatment,
        total: n_per_variant.zip(n_treatment).map(|(c, t)| c + t),
        power,
        mde,
        mde_relative: mde
            .zip(request.baseline)
            .and_then(|(mde, baseline)| (baseline != 0.0).then_some(mde / baseline)),
        note,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proportions(baseline: f64) -> PowerRequest {
        PowerRequest {
            kind: PowerKind::Proportions,
            baseline: Some(baseline),
            mde: None,
            relative: false,
            sd: None,
            alpha: 0.05,
            power: None,
            n_per_variant: None,
            ratio: None,
            two_sided: None,
        }
    }

    #[test]
    fn the_issue_example_sizes_each_arm_and_round_trips() {
        let mut request = proportions(0.10);
        request.mde = Some(0.02);
        request.power = Some(0.8);
        let sized = answer(&request).unwrap();
        // statsmodels: samplesize_proportions_2indep_onetail(0.02, 0.10, 0.8) = 3840.7...
        assert_eq!(sized.n_per_variant, Some(3841));
        assert_eq!(sized.total, Some(7682));
        // The power of that size is just above 0.8; the effect it detects just below 0.02.
        request.power = None;
        request.n_per_variant = sized.n_per_variant;
        let power = answer(&request).unwrap().power.unwrap();
        assert!(power > 0.8 && power < 0.8005, "{power}");
        request.mde = None;
        request.power = Some(0.8);
        let mde = answer(&request).unwrap().mde.unwrap();
        assert!(mde < 0.02 && mde > 0.0199, "{mde}");
    }

    #[test]
    fn relative_effects_and_unequal_arms() {
        let mut request = proportions(0.10);
        request.mde = Some(0.2);
        request.relative = true;
        request.power = Some(0.8);
        let relative = answer(&request).unwrap();
        assert_eq!(relative.n_per_variant, Some(3841));
        request.ratio = Some(2.0);
        let unequal = answer(&request).unwrap();
        assert!(unequal.n_per_variant.unwrap() < 3841);
        assert_eq!(
            unequal.n_treatment,
            Some(2 * unequal.n_per_variant.unwrap())
        );
    }

    #[test]
    fn means_need_a_standard_deviation_and_two_of_three() {
        let mut request = proportions(0.10);
        request.kind = PowerKind::Means;
        request.mde = Some(1.0);
        request.power = Some(0.8);
        assert_eq!(answer(&request).unwrap_err().errors[0].field, "sd");
        request.sd = Some(10.0);
        // statsmodels NormalIndPower().solve_power(0.1, power=0.8, alpha=0.05) = 1569.8...
        assert_eq!(answer(&request).unwrap().n_per_variant, Some(1570));
        request.n_per_variant = Some(100);
        assert_eq!(
            answer(&request).unwrap_err().errors[0].field,
            "n_per_variant"
        );
    }

    #[test]
    fn sizes_beyond_reach_are_refused_not_overflowed() {
        let mut request = proportions(0.10);
        request.mde = Some(1e-12);
        request.power = Some(0.8);
        assert_eq!(answer(&request).unwrap_err().errors[0].field, "mde");
        let mut request = proportions(0.10);
        request.mde = Some(0.02);
        request.n_per_variant = Some(1000);
        request.ratio = Some(1e30);
        assert_eq!(answer(&request).unwrap_err().errors[0].field, "ratio");
    }
}
