//! A/A simulation: with no true difference, the z-test at alpha = 0.05 must call about 5% of
//! experiments significant. Seeded, so the outcome is the same on every run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rand::SeedableRng as _;
use rand::rngs::Xoshiro256PlusPlus;
use rand_distr::{Binomial, Distribution as _};
use stats::proportions::{Counts, z_test};

const EXPERIMENTS: u32 = 20_000;
const ALPHA: f64 = 0.05;

fn false_positive_rate(rate: f64, trials: u64, pooled: bool) -> f64 {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(20_261_122);
    let binomial = Binomial::new(trials, rate).unwrap();
    let mut significant = 0;
    for _ in 0..EXPERIMENTS {
        let control = Counts::new(binomial.sample(&mut rng), trials).unwrap();
        let treatment = Counts::new(binomial.sample(&mut rng), trials).unwrap();
        if z_test(control, treatment, pooled)
            .p_value
            .is_some_and(|p| p < ALPHA)
        {
            significant += 1;
        }
    }
    f64::from(significant) / f64::from(EXPERIMENTS)
}

#[test]
fn the_z_test_holds_alpha_in_a_a_experiments() {
    for (rate, trials) in [(0.10, 1000), (0.03, 5000), (0.5, 200)] {
        for pooled in [true, false] {
            let rate_found = false_positive_rate(rate, trials, pooled);
            assert!(
                (rate_found - ALPHA).abs() <= 0.01,
                "rate {rate}, {trials} per arm, pooled {pooled}: {rate_found} significant"
            );
        }
    }
}
