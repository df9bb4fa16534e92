//! How a customer lands in an experiment's arm: deterministic, random and auditable.
//!
//! `bucket = first 52 bits of HMAC-SHA256(key = salt, message = customer id in decimal) / 2^52`.
//! Below `holdout_fraction` is the holdout; the rest is spread over [0, 1) again, its first
//! `test_fraction` (when set) is the test group, spread once more, and the arms take
//! consecutive shares of it in variant-id order, in proportion to their weights. The mailer
//! computes the same in SQL (`assignment_bucket()`); a test checks that the two agree.

use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;

/// The customer's position in [0, 1) for an experiment with this salt.
pub fn bucket(salt: &str, customer_id: i64) -> f64 {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(salt.as_bytes()) else {
        // HMAC takes keys of any length; this cannot happen.
        return 0.0;
    };
    mac.update(customer_id.to_string().as_bytes());
    let digest = mac.finalize().into_bytes();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(first) >> 12) as f64 / (1u64 << 52) as f64
}

/// Where a bucket lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    Holdout,
    /// The arm at this index (variants in id order).
    Arm(usize),
    /// Test then winner: outside the test group, waiting for the pick.
    Rest,
}

/// Places `bucket` given the design (`weights` in variant-id order).
pub fn place(
    bucket: f64,
    holdout_fraction: f64,
    test_fraction: Option<f64>,
    weights: &[f64],
) -> Placement {
    if bucket < holdout_fraction {
        return Placement::Holdout;
    }
    let mut position = (bucket - holdout_fraction) / (1.0 - holdout_fraction);
    if let Some(test) = test_fraction {
        if position >= test {
            return Placement::Rest;
        }
        position /= test;
    }
    let total: f64 = weights.iter().sum();
    let mut cumulative = 0.0;
    for (index, weight) in weights.iter().enumerate() {
        cumulative += weight;
        if position < cumulative / total {
            return Placement::Arm(index);
        }
    }
    Placement::Arm(weights.len().saturating_sub(1))
}

/// Each arm's expected share of the customers placed in the holdout or an arm (those the
/// analysis compares; the rest of a test-then-winner split waits for the winner), and the
/// holdout's: `place` gives the holdout h / (h + (1 - h) t) of them, not `h`.
pub fn planned_shares(
    holdout_fraction: f64,
    test_fraction: Option<f64>,
    weights: &[f64],
) -> (Vec<f64>, f64) {
    let sending = (1.0 - holdout_fraction) * test_fraction.unwrap_or(1.0);
    let placed = holdout_fraction + sending;
    let total_weight: f64 = weights.iter().sum();
    let arms = weights
        .iter()
        .map(|weight| sending / placed * weight / total_weight)
        .collect();
    (arms, holdout_fraction / placed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_planned_shares_are_what_place_gives() {
        for (holdout, test) in [
            (0.1, None),
            (0.1, Some(0.25)),
            (0.0, Some(0.5)),
            (0.3, Some(1.0)),
        ] {
            let weights = [1.0, 3.0];
            let (arms, held) = planned_shares(holdout, test, &weights);
            assert!((arms.iter().sum::<f64>() + held - 1.0).abs() < 1e-12);
            let (mut counts, mut holdouts, mut placed) = ([0.0_f64; 2], 0.0_f64, 0.0_f64);
            for id in 0..40_000 {
                match place(bucket("shares", id), holdout, test, &weights) {
                    Placement::Holdout => holdouts += 1.0,
                    Placement::Arm(index) => counts[index] += 1.0,
                    Placement::Rest => continue,
                }
                placed += 1.0;
            }
            assert!(
                (holdouts / placed - held).abs() < 0.005,
                "{holdout} {test:?}"
            );
            for (count, share) in counts.iter().zip(&arms) {
                assert!((count / placed - share).abs() < 0.01, "{holdout} {test:?}");
            }
        }
    }

    #[test]
    fn bucket_matches_an_independent_hmac() {
        // python3 -c "import hmac,hashlib; d=hmac.new(b'salt', b'42', hashlib.sha256).digest();
        //   print((int.from_bytes(d[:8],'big') >> 12) / 2**52)"
        assert_eq!(bucket("salt", 42), 0.5967230531387566);
    }

    #[test]
    fn arms_take_their_weights_share() {
        let weights = [1.0, 3.0];
        let mut counts = [0usize; 2];
        let mut holdout = 0;
        for id in 0..40_000 {
            match place(bucket("audit", id), 0.1, None, &weights) {
                Placement::Arm(index) => counts[index] += 1,
                Placement::Holdout => holdout += 1,
                Placement::Rest => unreachable!("no test fraction"),
            }
        }
        let share = |n: usize| n as f64 / 40_000.0;
        assert!((share(holdout) - 0.1).abs() < 0.01, "{holdout}");
        assert!((share(counts[0]) - 0.225).abs() < 0.01, "{counts:?}");
        assert!((share(counts[1]) - 0.675).abs() < 0.01, "{counts:?}");
    }

    #[test]
    fn the_test_group_is_its_fraction_of_the_non_holdout() {
        let rest = (0..20_000)
            .filter(|id| place(bucket("t", *id), 0.0, Some(0.2), &[1.0, 1.0]) == Placement::Rest)
            .count();
        assert!((rest as f64 / 20_000.0 - 0.8).abs() < 0.01, "{rest}");
    }
}
