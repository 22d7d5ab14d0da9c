//! `pattern_memory`: the outcome of the train window's round trips by the pattern of close
//! changes before their entry (`U`/`D`/`F` over the last `bars` bars); in the test window,
//! entries after a pattern whose train round trips lost money in sum are refused
//! (`risk.entry_pattern_blocked`). Exits, risk limits and EOD are untouched.

use crate::learner::{closes_before, Learned, Learner, TrainWindow};
use lockstep_core::features::pattern;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// The learner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternMemory {
    /// Pattern length in bars.
    pub bars: usize,
    /// Round trips a pattern needs before it can be blocked.
    pub min_trades: u64,
}

impl Learner for PatternMemory {
    fn name(&self) -> &'static str {
        "pattern_memory"
    }

    /// Runs the strategy on the train window, sums each pattern's net P&L, blocks the
    /// losing ones with enough trades and re-runs the train window with them blocked.
    fn learn(&self, train: &dyn TrainWindow) -> Result<Learned, String> {
        let base = train.run(&[])?;
        let bars = train.bars()?;
        let mut seen: BTreeMap<String, (Decimal, u64)> = BTreeMap::new();
        for lot in &base.lots {
            let closes = closes_before(&bars, &lot.symbol, lot.open_ts);
            if let Some(p) = pattern(&closes, self.bars) {
                let e = seen.entry(p).or_insert((Decimal::ZERO, 0));
                e.0 += lot.net_pnl;
                e.1 += 1;
            }
        }
        let blocked: Vec<(&String, &(Decimal, u64))> = seen
            .iter()
            .filter(|(_, (pnl, n))| *n >= self.min_trades && *pnl < Decimal::ZERO)
            .collect();
        if blocked.is_empty() {
            return Ok(Learned::as_is(base, "no losing pattern"));
        }
        let quoted: Vec<String> = blocked.iter().map(|(p, _)| format!("\"{p}\"")).collect();
        let sets = vec![
            format!("risk.entry_pattern_bars={}", self.bars),
            format!("risk.entry_pattern_blocked=[{}]", quoted.join(",")),
        ];
        let digest = blocked
            .iter()
            .map(|(p, (pnl, n))| format!("{p} {pnl} over {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        Learned::with_sets(train, sets, format!("blocked {digest}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learner::{BarPoint, LotOutcome, RunStats};
    use lockstep_core::UnixNanos;

    struct Fake;
    impl TrainWindow for Fake {
        fn run(&self, sets: &[String]) -> Result<RunStats, String> {
            let lot = |t: i64, pnl: i64| LotOutcome {
                symbol: "X".into(),
                open_ts: UnixNanos(t),
                net_pnl: Decimal::from(pnl),
            };
            // Entries after bars 3 and 4 (pattern UUU: -5, -3) and after bar 6 (UDU... see bars).
            let lots = if sets.is_empty() {
                vec![lot(3, -5), lot(4, -3), lot(6, 10), lot(7, 2)]
            } else {
                vec![lot(6, 10), lot(7, 2)]
            };
            Ok(RunStats {
                round_trips: lots.len() as u64,
                lots,
                ..RunStats::default()
            })
        }

        fn bars(&self) -> Result<Vec<BarPoint>, String> {
            // Closes delivered at t = 0..=7: 1 2 3 4 5 4 5 4.
            Ok([1.0, 2.0, 3.0, 4.0, 5.0, 4.0, 5.0, 4.0]
                .iter()
                .enumerate()
                .map(|(t, c)| BarPoint {
                    symbol: "X".into(),
                    end: UnixNanos(t as i64),
                    close: *c,
                })
                .collect())
        }
    }

    #[test]
    fn losing_patterns_with_enough_trades_are_blocked() {
        // Patterns before each entry (last 3 changes up to its open): t3 UUU, t4 UUU,
        // t6 UDU, t7 DUD. UUU lost 8 over 2 trades.
        let l = PatternMemory {
            bars: 3,
            min_trades: 2,
        };
        let learned = l.learn(&Fake).unwrap();
        assert_eq!(
            learned.sets,
            vec![
                "risk.entry_pattern_bars=3",
                "risk.entry_pattern_blocked=[\"UUU\"]"
            ]
        );
        assert_eq!(learned.digest, "blocked UUU -8 over 2");
        assert_eq!(learned.in_sample.round_trips, 2);
        let strict = PatternMemory {
            bars: 3,
            min_trades: 3,
        };
        assert!(
            strict.learn(&Fake).unwrap().sets.is_empty(),
            "too few trades to judge"
        );
    }
}
