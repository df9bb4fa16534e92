//! The statistics against scipy and statsmodels (`reference/reference.json`, made by
//! `reference/generate.py`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde::Deserialize;
use stats::adjust::{benjamini_hochberg, holm};
use stats::bayes::{
    Prior, chance_to_beat_control, credible_interval, expected_loss, means_chance_to_beat_control,
    means_credible_interval, means_expected_loss,
};
use stats::cuped::{CupedArm, cuped};
use stats::means::{self, Summary, t_test};
use stats::power::{
    ProportionsDesign, means_minimum_detectable_effect, means_power, means_sample_size,
    proportions_minimum_detectable_effect, proportions_power, proportions_sample_size,
};
use stats::proportions::{
    self, Counts, chi_square, fisher_exact, g_test, newcombe_interval, wilson_interval, z_test,
};
use stats::ranks::mann_whitney;
use stats::sequential::{
    Estimate, SequentialTest, always_valid_p_value, confidence_sequence, likelihood_ratio,
};
use stats::srm::sample_ratio_mismatch;

/// Closed forms agree to this relative difference (or this absolute one near 0).
const TOLERANCE: f64 = 1e-9;

#[derive(Deserialize)]
struct Reference {
    pairs: Vec<Pair>,
    wilson: Vec<Wilson>,
    chi_square: Vec<Table>,
    srm: Vec<Srm>,
    adjust: Vec<Adjust>,
    means: Vec<Means>,
    chance_to_win: Vec<Chance>,
    power: Vec<PowerCase>,
    mann_whitney: Vec<MannWhitneyCase>,
    minimum_detectable_effect: Vec<MdeCase>,
    means_sample_size: Vec<MeansSizeCase>,
    relative_lift: RelativeLift,
    means_power: Vec<MeansPowerCase>,
    beta_intervals: Vec<BetaInterval>,
    bayes_means: Vec<BayesMeans>,
    cuped: Vec<CupedCase>,
    sequential: Sequential,
}

#[derive(Deserialize)]
struct Sequential {
    cases: Vec<SequentialCase>,
    series: SequentialSeries,
}

#[derive(Deserialize)]
struct SequentialCase {
    difference: f64,
    variance: f64,
    tau_squared: f64,
    alpha: f64,
    likelihood_ratio: f64,
    p_value: f64,
    interval: [f64; 2],
}

#[derive(Deserialize)]
struct SequentialSeries {
    looks: Vec<[f64; 2]>,
    tau_squared: f64,
    alpha: f64,
    p_values: Vec<f64>,
    running_intervals: Vec<[f64; 2]>,
}

#[derive(Deserialize)]
struct CupedCase {
    arms: Vec<CupedValues>,
    alpha: f64,
    theta: f64,
    /// Per arm: adjusted mean, adjusted variance, variance reduction.
    adjusted: Vec<[f64; 3]>,
    /// Per arm after the first: statistic, df, p-value, interval.
    comparisons: Vec<[f64; 5]>,
    variance_reduction: f64,
}

#[derive(Deserialize)]
struct CupedValues {
    y: Vec<f64>,
    x: Vec<f64>,
}

#[derive(Deserialize)]
struct BayesMeans {
    control: Vec<f64>,
    treatment: Vec<f64>,
    alpha: f64,
    chance: f64,
    loss: f64,
    interval: [f64; 2],
}

#[derive(Deserialize)]
struct BetaInterval {
    counts: [u64; 2],
    prior: [f64; 2],
    alpha: f64,
    interval: [f64; 2],
}

#[derive(Deserialize)]
struct MeansPowerCase {
    effect: f64,
    sd: f64,
    n: f64,
    alpha: f64,
    power: f64,
    ratio: f64,
    two_sided: bool,
    achieved: f64,
    mde_solve_power: f64,
    mde: f64,
}

#[derive(Deserialize)]
struct RelativeLift {
    rates: Vec<RateLift>,
    means: Vec<MeansLift>,
}

#[derive(Deserialize)]
struct RateLift {
    control: [u64; 2],
    treatment: [u64; 2],
    alpha: f64,
    interval: Option<[f64; 2]>,
}

#[derive(Deserialize)]
struct MeansLift {
    control: Vec<f64>,
    treatment: Vec<f64>,
    alpha: f64,
    interval: [f64; 2],
}

#[derive(Deserialize)]
struct MeansSizeCase {
    effect: f64,
    sd: f64,
    alpha: f64,
    power: f64,
    ratio: f64,
    two_sided: bool,
    n: f64,
}

#[derive(Deserialize)]
struct MdeCase {
    baseline: f64,
    n: f64,
    power: f64,
    alpha: f64,
    ratio: f64,
    two_sided: bool,
    mde: f64,
}

#[derive(Deserialize)]
struct MannWhitneyCase {
    control: Vec<f64>,
    treatment: Vec<f64>,
    u: f64,
    p_value: f64,
}

#[derive(Deserialize)]
struct PowerCase {
    baseline: f64,
    treatment: f64,
    alpha: f64,
    ratio: f64,
    two_sided: bool,
    power: f64,
    n: f64,
    power_at_1000: f64,
}

#[derive(Deserialize)]
struct Chance {
    control: [u64; 2],
    treatment: [u64; 2],
    chance: f64,
    loss: f64,
}

#[derive(Deserialize)]
struct Means {
    control: Vec<f64>,
    treatment: Vec<f64>,
    welch: [f64; 5],
    student: [f64; 5],
}

#[derive(Deserialize)]
struct Adjust {
    p_values: Vec<f64>,
    holm: Vec<f64>,
    bh: Vec<f64>,
}

#[derive(Deserialize)]
struct Pair {
    control: [u64; 2],
    treatment: [u64; 2],
    z_pooled: [Option<f64>; 2],
    z_wald: [Option<f64>; 2],
    fisher: f64,
    newcombe: [f64; 2],
}

#[derive(Deserialize)]
struct Wilson {
    counts: [u64; 2],
    alpha: f64,
    interval: [f64; 2],
}

#[derive(Deserialize)]
struct Table {
    arms: Vec<[u64; 2]>,
    plain: (f64, u64, f64),
    yates: (f64, u64, f64),
    g: (f64, u64, f64),
}

#[derive(Deserialize)]
struct Srm {
    observed: Vec<u64>,
    weights: Vec<f64>,
    result: (f64, u64, f64),
}

fn reference() -> Reference {
    serde_json::from_str(include_str!("../reference/reference.json")).unwrap()
}

fn close(ours: f64, theirs: f64, what: &str) {
    let difference = (ours - theirs).abs();
    assert!(
        difference <= TOLERANCE * theirs.abs().max(1e-300) || difference <= 1e-15,
        "{what}: ours {ours:e}, scipy/statsmodels {theirs:e}"
    );
}

fn counts([successes, trials]: [u64; 2]) -> Counts {
    Counts::new(successes, trials).unwrap()
}

#[test]
fn z_tests_match_statsmodels() {
    for pair in reference().pairs {
        let (control, treatment) = (counts(pair.control), counts(pair.treatment));
        for (pooled, expected) in [(true, pair.z_pooled), (false, pair.z_wald)] {
            let ours = z_test(control, treatment, pooled);
            let what = format!("{:?} vs {:?} pooled={pooled}", pair.control, pair.treatment);
            match expected {
                [Some(statistic), Some(p_value)] => {
                    close(ours.statistic.unwrap(), statistic, &what);
                    close(ours.p_value.unwrap(), p_value, &what);
                }
                _ => assert_eq!(ours.p_value, None, "{what}: undefined for statsmodels too"),
            }
        }
    }
}

#[test]
fn fisher_and_newcombe_match_scipy_and_statsmodels() {
    for pair in reference().pairs {
        let (control, treatment) = (counts(pair.control), counts(pair.treatment));
        let what = format!("{:?} vs {:?}", pair.control, pair.treatment);
        close(fisher_exact(control, treatment), pair.fisher, &what);
        let interval = newcombe_interval(control, treatment, 0.05)
            .unwrap()
            .unwrap();
        close(interval[0], pair.newcombe[0], &what);
        close(interval[1], pair.newcombe[1], &what);
    }
}

#[test]
fn g_test_matches_scipy() {
    for table in reference().chi_square {
        let arms: Vec<Counts> = table.arms.iter().map(|arm| counts(*arm)).collect();
        let ours = g_test(&arms).unwrap();
        let (statistic, df, p_value) = table.g;
        let what = format!("{:?}", table.arms);
        assert_eq!(ours.df, df, "{what}");
        close(ours.statistic.unwrap(), statistic, &what);
        close(ours.p_value.unwrap(), p_value, &what);
    }
}

#[test]
fn holm_and_benjamini_hochberg_match_statsmodels() {
    for case in reference().adjust {
        for (ours, theirs, method) in [
            (holm(&case.p_values).unwrap(), &case.holm, "holm"),
            (benjamini_hochberg(&case.p_values).unwrap(), &case.bh, "bh"),
        ] {
            for (ours, theirs) in ours.iter().zip(theirs) {
                close(*ours, *theirs, &format!("{method} {:?}", case.p_values));
            }
        }
    }
    assert!(holm(&[0.5, 1.5]).is_err());
}

#[test]
fn t_tests_from_summaries_match_scipy() {
    for case in reference().means {
        let (control, treatment) = (Summary::of(&case.control), Summary::of(&case.treatment));
        for (equal, expected) in [(false, case.welch), (true, case.student)] {
            let ours = t_test(control, treatment, equal, 0.05).unwrap();
            let what = format!(
                "n {} and {}, equal variances {equal}",
                control.n, treatment.n
            );
            for (ours, theirs) in [
                ours.statistic,
                ours.df,
                ours.p_value,
                ours.ci[0],
                ours.ci[1],
            ]
            .into_iter()
            .zip(expected)
            {
                close(ours, theirs, &what);
            }
        }
    }
    let flat = Summary::of(&[2.0, 2.0, 2.0]);
    assert!(t_test(flat, flat, false, 0.05).is_err(), "no variation");
    assert!(
        t_test(Summary::of(&[1.0]), flat, false, 0.05).is_err(),
        "one value"
    );
}

/// Numerical integration is the reference here, good to about 1e-10, not a closed form.
#[test]
fn chance_to_win_and_expected_loss_match_scipy_integration() {
    for case in reference().chance_to_win {
        let ours = chance_to_beat_control(
            counts(case.control),
            counts(case.treatment),
            Prior::default(),
        )
        .unwrap();
        let what = format!("{:?} vs {:?}", case.control, case.treatment);
        assert!(
            (ours - case.chance).abs() < 1e-9,
            "{what}: ours {ours}, scipy {}",
            case.chance
        );
        let loss = expected_loss(
            counts(case.control),
            counts(case.treatment),
            Prior::default(),
        )
        .unwrap();
        assert!(
            (loss - case.loss).abs() < 1e-10,
            "{what}: loss ours {loss}, scipy {}",
            case.loss
        );
    }
    let (a, b) = (counts([30, 100]), counts([35, 100]));
    let forward = chance_to_beat_control(a, b, Prior::default()).unwrap();
    let backward = chance_to_beat_control(b, a, Prior::default()).unwrap();
    assert!(
        (forward + backward - 1.0).abs() < 1e-12,
        "the two chances add to 1"
    );
}

#[test]
fn sample_size_and_power_match_statsmodels() {
    for case in reference().power {
        let design = ProportionsDesign {
            baseline: case.baseline,
            treatment: case.treatment,
            alpha: case.alpha,
            ratio: case.ratio,
            two_sided: case.two_sided,
        };
        let what = format!("{} -> {}", case.baseline, case.treatment);
        close(
            proportions_sample_size(design, case.power).unwrap(),
            case.n,
            &what,
        );
        close(
            proportions_power(design, 1000.0).unwrap(),
            case.power_at_1000,
            &what,
        );
        // The size formula ignores a two-sided test's far tail, which adds a hair of power.
        let achieved = proportions_power(design, case.n).unwrap();
        assert!(
            achieved >= case.power - 1e-9 && achieved - case.power < 1e-4,
            "{what}: {achieved}"
        );
    }
}

#[test]
fn mann_whitney_matches_scipy_exact_and_approximate() {
    let mut methods = Vec::new();
    for case in reference().mann_whitney {
        let ours = mann_whitney(&case.control, &case.treatment).unwrap();
        let what = format!("{} and {} values", case.control.len(), case.treatment.len());
        close(ours.u, case.u, &what);
        close(ours.p_value, case.p_value, &what);
        methods.push(ours.exact);
    }
    assert!(
        methods.contains(&true) && methods.contains(&false),
        "both methods ran"
    );
    assert!(mann_whitney(&[], &[1.0]).is_err());
}

/// brentq on statsmodels' power function is the reference: agreement to 1e-9 relative.
#[test]
fn minimum_detectable_effect_matches_statsmodels_solved() {
    for case in reference().minimum_detectable_effect {
        let ours = proportions_minimum_detectable_effect(
            case.baseline,
            case.n,
            case.power,
            case.alpha,
            case.ratio,
            case.two_sided,
        )
        .unwrap()
        .unwrap();
        close(
            ours,
            case.mde,
            &format!("baseline {} n {}", case.baseline, case.n),
        );
    }
    let hopeless = proportions_minimum_detectable_effect(0.5, 2.0, 0.99, 0.001, 1.0, true).unwrap();
    assert_eq!(
        hopeless, None,
        "two units per arm detect nothing with 99% power"
    );
}

#[test]
fn means_sample_size_matches_statsmodels() {
    for case in reference().means_sample_size {
        let ours = means_sample_size(
            case.effect,
            case.sd,
            case.alpha,
            case.power,
            case.ratio,
            case.two_sided,
        )
        .unwrap();
        close(
            ours,
            case.n,
            &format!("effect {} sd {}", case.effect, case.sd),
        );
    }
    assert!(means_sample_size(0.0, 1.0, 0.05, 0.8, 1.0, true).is_err());
}

#[test]
fn wilson_intervals_match_statsmodels() {
    for case in reference().wilson {
        let ours = wilson_interval(counts(case.counts), case.alpha)
            .unwrap()
            .unwrap();
        let what = format!("{:?} at alpha {}", case.counts, case.alpha);
        close(ours[0], case.interval[0], &what);
        close(ours[1], case.interval[1], &what);
    }
}

#[test]
fn chi_square_matches_scipy_with_and_without_yates() {
    for table in reference().chi_square {
        let arms: Vec<Counts> = table.arms.iter().map(|arm| counts(*arm)).collect();
        for (yates, (statistic, df, p_value)) in [(false, table.plain), (true, table.yates)] {
            let ours = chi_square(&arms, yates).unwrap();
            let what = format!("{:?} yates={yates}", table.arms);
            assert_eq!(ours.df, df, "{what}");
            close(ours.statistic.unwrap(), statistic, &what);
            close(ours.p_value.unwrap(), p_value, &what);
        }
    }
}

#[test]
fn sample_ratio_mismatch_matches_scipy() {
    for case in reference().srm {
        let ours = sample_ratio_mismatch(&case.observed, &case.weights).unwrap();
        let (statistic, df, p_value) = case.result;
        let what = format!("{:?} against {:?}", case.observed, case.weights);
        assert_eq!(ours.df, df, "{what}");
        close(ours.statistic.unwrap(), statistic, &what);
        close(ours.p_value.unwrap(), p_value, &what);
    }
}

#[test]
fn undefined_tests_say_why_and_bad_input_is_named() {
    let none = counts([0, 100]);
    let also_none = counts([0, 80]);
    let z = z_test(none, also_none, true);
    assert_eq!((z.statistic, z.p_value), (None, None));
    assert!(z.note.unwrap().contains("no variation"));
    let chi = chi_square(&[none, also_none], false).unwrap();
    assert_eq!(chi.p_value, None);
    assert!(chi.note.is_some());
    assert_eq!(
        Counts::new(5, 4).unwrap_err().to_string(),
        "successes: must not exceed trials"
    );
    assert!(wilson_interval(counts([1, 2]), 1.5).is_err());
    assert!(sample_ratio_mismatch(&[10, 10], &[1.0]).is_err());
    assert!(sample_ratio_mismatch(&[10, 10], &[1.0, -1.0]).is_err());
}

#[test]
fn p_values_stay_in_bounds_and_the_z_test_is_antisymmetric() {
    for (a, b) in [
        ([1, 7], [6, 7]),
        ([0, 5], [5, 5]),
        ([300, 1000], [310, 1000]),
    ] {
        let forward = z_test(counts(a), counts(b), true);
        let backward = z_test(counts(b), counts(a), true);
        let p = forward.p_value.unwrap();
        assert!((0.0..=1.0).contains(&p));
        assert_eq!(forward.p_value, backward.p_value);
        assert_eq!(forward.statistic.map(|z| -z), backward.statistic);
        let interval = wilson_interval(counts(a), 0.05).unwrap().unwrap();
        let rate = counts(a).rate().unwrap();
        assert!(interval[0] <= rate && rate <= interval[1]);
    }
}

/// numpy's copy of the delta-method formula is the reference (scipy has no such interval).
#[test]
fn relative_lift_intervals_match_numpy_delta_method() {
    let reference = reference().relative_lift;
    for case in reference.rates {
        let ours = proportions::relative_lift_interval(
            counts(case.control),
            counts(case.treatment),
            case.alpha,
        )
        .unwrap();
        let what = format!(
            "{:?} vs {:?} at alpha {}",
            case.control, case.treatment, case.alpha
        );
        match (ours, case.interval) {
            (Some(ours), Some(theirs)) => {
                close(ours[0], theirs[0], &what);
                close(ours[1], theirs[1], &what);
            }
            (None, None) => {}
            (ours, theirs) => panic!("{what}: ours {ours:?}, numpy {theirs:?}"),
        }
    }
    for case in reference.means {
        let ours = means::relative_lift_interval(
            Summary::of(&case.control),
            Summary::of(&case.treatment),
            case.alpha,
        )
        .unwrap()
        .unwrap();
        let what = format!(
            "{} and {} values at alpha {}",
            case.control.len(),
            case.treatment.len(),
            case.alpha
        );
        close(ours[0], case.interval[0], &what);
        close(ours[1], case.interval[1], &what);
    }
    let zero = Summary::of(&[-1.0, 1.0]);
    assert_eq!(
        means::relative_lift_interval(zero, Summary::of(&[1.0, 2.0]), 0.05),
        Ok(None),
        "a control mean of 0 leaves the lift undefined"
    );
    assert!(means::relative_lift_interval(zero, zero, 0.0).is_err());
}

/// statsmodels' `NormalIndPower`: its power to 1e-9; the MDE to 1e-9 against brentq on that
/// power with tight tolerances, and to 1e-4 against `solve_power`, whose own root finder stops
/// with the power up to 2e-5 away from the one asked for.
#[test]
fn means_power_and_minimum_detectable_effect_match_statsmodels() {
    for case in reference().means_power {
        let what = format!(
            "effect {} sd {} n {} two-sided {}",
            case.effect, case.sd, case.n, case.two_sided
        );
        let achieved = means_power(
            case.effect,
            case.sd,
            case.n,
            case.alpha,
            case.ratio,
            case.two_sided,
        )
        .unwrap();
        close(achieved, case.achieved, &what);
        let mde = means_minimum_detectable_effect(
            case.sd,
            case.n,
            case.power,
            case.alpha,
            case.ratio,
            case.two_sided,
        )
        .unwrap();
        close(mde, case.mde, &what);
        assert!(
            (mde - case.mde_solve_power).abs() <= 1e-4 * case.mde_solve_power,
            "{what}: ours {mde}, solve_power {}",
            case.mde_solve_power
        );
        // The sample size for the MDE is the size it was found for (one-sided exactly; the
        // size formula ignores a two-sided test's far tail).
        let n = means_sample_size(
            mde,
            case.sd,
            case.alpha,
            case.power,
            case.ratio,
            case.two_sided,
        )
        .unwrap();
        if case.two_sided {
            assert!(n >= case.n * (1.0 - 1e-9), "{what}: {n}");
        } else {
            close(n, case.n, &what);
        }
    }
    assert!(means_minimum_detectable_effect(1.0, 100.0, 0.04, 0.05, 1.0, true).is_err());
    assert!(means_power(1.0, 0.0, 100.0, 0.05, 1.0, true).is_err());
}

/// scipy's `beta.ppf`, to 1e-9 relative; with a million trials, to 1e-8: there statrs'
/// incomplete beta function, which the quantile is polished on, is itself off by about 2e-9
/// (its log-gamma terms near 1.4e7 cancel), while scipy's agrees with 40-digit mpmath.
#[test]
fn beta_credible_intervals_match_scipy() {
    for case in reference().beta_intervals {
        let prior = Prior {
            alpha: case.prior[0],
            beta: case.prior[1],
        };
        let ours = credible_interval(counts(case.counts), prior, case.alpha).unwrap();
        let what = format!(
            "{:?} prior {:?} alpha {}",
            case.counts, case.prior, case.alpha
        );
        let tolerance = if case.counts[1] >= 1_000_000 {
            1e-8
        } else {
            TOLERANCE
        };
        for (ours, theirs) in ours.into_iter().zip(case.interval) {
            assert!(
                (ours - theirs).abs() <= tolerance * theirs.abs(),
                "{what}: ours {ours:e}, scipy {theirs:e}"
            );
        }
    }
    let error = credible_interval(
        counts([1, 2]),
        Prior {
            alpha: 0.0,
            beta: 1.0,
        },
        0.05,
    );
    assert!(error.unwrap_err().to_string().starts_with("prior:"));
}

/// scipy's numerical integration over the two normal posteriors (agreeing with the closed forms
/// to about 1e-12), and its normal quantiles for the interval.
#[test]
fn bayesian_means_match_scipy_integration() {
    for case in reference().bayes_means {
        let (control, treatment) = (Summary::of(&case.control), Summary::of(&case.treatment));
        let what = format!("{} and {} values", control.n, treatment.n);
        let chance = means_chance_to_beat_control(control, treatment).unwrap();
        close(chance, case.chance, &what);
        close(
            means_expected_loss(control, treatment).unwrap(),
            case.loss,
            &what,
        );
        let interval = means_credible_interval(control, treatment, case.alpha).unwrap();
        close(interval[0], case.interval[0], &what);
        close(interval[1], case.interval[1], &what);
    }
    let flat = Summary::of(&[2.0, 2.0, 2.0]);
    assert!(
        means_chance_to_beat_control(flat, flat).is_err(),
        "no variation"
    );
}

/// numpy's theta and adjusted values, and scipy's Welch test on the adjusted values of each
/// unit, against ours from sums.
#[test]
fn cuped_matches_scipy_on_adjusted_values() {
    for case in reference().cuped {
        let arms: Vec<CupedArm> = case
            .arms
            .iter()
            .map(|arm| CupedArm::of(&arm.y, &arm.x).unwrap())
            .collect();
        let what = format!("{} arms of {} units", arms.len(), arms[0].n);
        let ours = cuped(&arms, case.alpha).unwrap();
        assert_eq!(ours.note, None);
        close(ours.theta, case.theta, &what);
        close(
            ours.variance_reduction.unwrap(),
            case.variance_reduction,
            &what,
        );
        for (arm, [mean, variance, reduction]) in ours.arms.iter().zip(case.adjusted) {
            close(arm.adjusted_mean, mean, &what);
            close(arm.adjusted_variance, variance, &what);
            close(arm.variance_reduction.unwrap(), reduction, &what);
        }
        assert_eq!(ours.comparisons.len(), case.comparisons.len());
        for (test, expected) in ours.comparisons.iter().zip(case.comparisons) {
            for (ours, theirs) in [
                test.statistic,
                test.df,
                test.p_value,
                test.ci[0],
                test.ci[1],
            ]
            .into_iter()
            .zip(expected)
            {
                close(ours, theirs, &what);
            }
        }
    }
}

/// The mixture SPRT from its definitions (see generate.py): the likelihood ratio against
/// scipy's integral of the likelihood over the mixing prior, the confidence sequence against
/// brentq's roots of `Lambda(d - delta) = 1 / alpha`, and a series of looks against numpy's
/// running minimum and running intersection.
#[test]
fn sequential_test_matches_its_definitions() {
    let reference = reference().sequential;
    for case in reference.cases {
        let estimate = Estimate {
            difference: case.difference,
            variance: case.variance,
        };
        let what = format!(
            "d {} v {} tau^2 {}",
            case.difference, case.variance, case.tau_squared
        );
        close(
            likelihood_ratio(estimate, case.tau_squared).unwrap(),
            case.likelihood_ratio,
            &what,
        );
        close(
            always_valid_p_value(estimate, case.tau_squared, None).unwrap(),
            case.p_value,
            &what,
        );
        let interval = confidence_sequence(estimate, case.tau_squared, case.alpha).unwrap();
        close(interval[0], case.interval[0], &what);
        close(interval[1], case.interval[1], &what);
    }
    let series = reference.series;
    let mut test = SequentialTest::new(series.tau_squared, series.alpha).unwrap();
    for (([difference, variance], p_value), running) in series
        .looks
        .into_iter()
        .zip(series.p_values)
        .zip(series.running_intervals)
    {
        let look = test
            .look(Estimate {
                difference,
                variance,
            })
            .unwrap();
        let what = format!("look at d {difference} v {variance}");
        close(look.p_value, p_value, &what);
        assert_eq!(look.significant, p_value < series.alpha, "{what}");
        let ours = look.running_interval.unwrap();
        close(ours[0], running[0], &what);
        close(ours[1], running[1], &what);
        assert_eq!(
            ours[0] <= 0.0 && 0.0 <= ours[1],
            !look.significant,
            "{what}: the running interval holds 0 unless significant"
        );
    }
}
