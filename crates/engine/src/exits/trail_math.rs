//! The trailing stop's two hot computations in exact integer arithmetic, for the common
//! case: whether the best price has reached the activation level, and the candidate stop
//! `best ∓ best × pct` rounded to the bar's decimals towards the position's loss side.
//! Each answers only when `rust_decimal` would compute the same value exactly (every
//! product within its 96-bit mantissa and 28 decimals), and `None` otherwise, when the
//! caller takes the decimal path ([`crate::exits::exit_rules::next_trail`]). The candidate
//! carries the scale the decimal path gives it (`dp`), so it prints the same.

use lockstep_core::fixed::pow10;
use lockstep_core::{Decimal, Price};

/// Mantissas `rust_decimal` holds exactly.
const MANTISSA_LIMIT: u128 = 1 << 96;
/// The most decimals `rust_decimal` keeps.
const MAX_SCALE: u32 = 28;

/// `m` when `rust_decimal` could hold it exactly as a mantissa.
fn fits(m: i128) -> Option<i128> {
    (m.unsigned_abs() < MANTISSA_LIMIT).then_some(m)
}

/// `a × b`, when it fits a decimal mantissa.
fn product(a: i128, b: i128) -> Option<i128> {
    fits(a.checked_mul(b)?)
}

/// `n / d` rounded down, in 64 bits when both fit (no 128-bit division routine).
fn floor_div(n: i128, d: i128) -> i128 {
    match (i64::try_from(n), i64::try_from(d)) {
        (Ok(n), Ok(d)) => i128::from(n.div_euclid(d)),
        _ => n.div_euclid(d),
    }
}

/// Whether `best` has reached `entry` moved by `activation_pct` in the position's favour
/// (`long`): `best` at or beyond `entry × (1 ± activation_pct)`. `None` when the level
/// itself would not be exact in `rust_decimal` (more than 28 decimals or 96 bits).
pub(super) fn activated(
    long: bool,
    entry: Price,
    activation_pct: Decimal,
    best: Price,
) -> Option<bool> {
    let (se, sa, sb) = (entry.scale(), activation_pct.scale(), best.scale());
    let level_scale = se + sa;
    if level_scale > MAX_SCALE {
        return None;
    }
    let one = pow10(sa)?;
    let pct = activation_pct.mantissa();
    let factor = if long { one + pct } else { one - pct };
    let level = product(entry.mantissa(), factor)?;
    // Both at the larger of the two scales; comparing mantissas there compares values.
    let common = level_scale.max(sb);
    let level = level.checked_mul(pow10(common - level_scale)?)?;
    let best = best.mantissa().checked_mul(pow10(common - sb)?)?;
    Some(if long { best >= level } else { best <= level })
}

/// `best ∓ best × pct` rounded to `dp` decimals down for a long, up for a short, at scale
/// `dp`, as the decimal path computes it; `None` unless `best` is already at `dp` decimals
/// (a bar's price) and every step is exact in `rust_decimal`.
pub(super) fn pct_candidate(long: bool, best: Price, pct: Decimal, dp: u32) -> Option<Price> {
    let sp = pct.scale();
    if best.scale() != dp || dp + sp > MAX_SCALE {
        return None;
    }
    let one = pow10(sp)?;
    let bm = best.mantissa();
    product(bm, pct.mantissa())?;
    product(bm, one)?;
    let factor = if long {
        one - pct.mantissa()
    } else {
        one + pct.mantissa()
    };
    let raw = product(bm, factor)?;
    let m = if long {
        floor_div(raw, one)
    } else {
        -floor_div(-raw, one)
    };
    Decimal::try_from_i128_with_scale(m, dp).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exits::exit_rules::Direction;
    use proptest::prelude::*;
    use rust_decimal::RoundingStrategy;

    /// The decimal path's activation test ([`crate::exits::exit_rules::next_trail`]).
    fn activated_by_decimals(long: bool, entry: Price, pct: Decimal, best: Price) -> bool {
        let dir = Direction { long };
        let level = dir.offset(entry, pct, 28);
        best == level || !dir.worse(best, level)
    }

    /// The decimal path's candidate.
    fn candidate_by_decimals(long: bool, best: Price, pct: Decimal, dp: u32) -> Price {
        let distance = best * pct;
        let raw = if long {
            best - distance
        } else {
            best + distance
        };
        let towards_loss = if long {
            RoundingStrategy::ToNegativeInfinity
        } else {
            RoundingStrategy::ToPositiveInfinity
        };
        raw.round_dp_with_strategy(dp, towards_loss)
    }

    fn decimal(m: i64, scale: u32) -> Decimal {
        Decimal::new(m, scale)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        /// Wherever the integer test answers, it answers as the decimals do, for prices
        /// from fractions of a cent to millions and percentages of every scale.
        #[test]
        fn activation_matches_decimals(
            long in any::<bool>(),
            (em, se) in (1i64..10_000_000_000, 0u32..12),
            (am, sa) in (0i64..100_000, 0u32..10),
            (bm, sb) in (1i64..10_000_000_000, 0u32..12),
        ) {
            let (entry, pct, best) = (decimal(em, se), decimal(am, sa), decimal(bm, sb));
            // A best price exactly at the level, and one a unit of its last decimal off.
            let level = Direction { long }.offset(entry, pct, 28);
            let unit = Decimal::new(1, level.scale());
            for best in [best, level, level - unit, level + unit] {
                if let Some(fast) = activated(long, entry, pct, best) {
                    prop_assert_eq!(fast, activated_by_decimals(long, entry, pct, best));
                }
            }
        }

        /// Wherever the integer candidate answers, it is the decimal candidate, value and
        /// scale (so it prints the same).
        #[test]
        fn candidate_matches_decimals(
            long in any::<bool>(),
            bm in 1i64..1_000_000_000_000,
            dp in 0u32..10,
            (pm, sp) in (0i64..1_000_000, 0u32..12),
        ) {
            let (best, pct) = (decimal(bm, dp), decimal(pm, sp));
            let want = candidate_by_decimals(long, best, pct, dp);
            if let Some(fast) = pct_candidate(long, best, pct, dp) {
                prop_assert_eq!(fast.to_string(), want.to_string());
            }
        }
    }

    /// The fast paths answer for the prices and rules of a real run (they are not always
    /// declining), and decline a price not at the bar's decimals.
    #[test]
    fn fast_paths_cover_ordinary_prices() {
        let (entry, best) = (decimal(9_836, 2), decimal(9_912, 2));
        assert_eq!(activated(true, entry, decimal(5, 3), best), Some(true));
        assert_eq!(activated(false, entry, decimal(5, 3), best), Some(false));
        let level = decimal(98_851_800, 6);
        assert_eq!(
            activated(true, entry, decimal(5, 3), level),
            Some(true),
            "at 98.36 × 1.005"
        );
        let stop = pct_candidate(true, best, decimal(1, 2), 2).map(|p| p.to_string());
        assert_eq!(stop.as_deref(), Some("98.12"), "99.12 - 0.9912, down");
        let stop = pct_candidate(false, best, decimal(1, 2), 2).map(|p| p.to_string());
        assert_eq!(stop.as_deref(), Some("100.12"), "99.12 + 0.9912, up");
        assert_eq!(
            pct_candidate(true, decimal(99_120, 3), decimal(1, 2), 2),
            None
        );
    }
}
