//! `time_of_day`: the win rate of round trips by the time of day they opened (buckets in an
//! exchange time zone), learned on the train window; in the test window, entries in weak
//! buckets are skipped (`risk.entry_blackout`). Exits, risk limits and EOD are untouched:
//! the learner can only add entry blackouts.

use crate::learner::{Learned, Learner, TrainWindow};
use chrono::{NaiveTime, Timelike};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// The learner.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeOfDay {
    /// Bucket length in minutes (divides a day).
    pub bucket_minutes: u32,
    /// A bucket with a lower win rate than this is weak.
    pub min_win_rate: Decimal,
    /// A bucket needs this many train round trips before it can be judged weak.
    pub min_trades: u64,
    /// Time zone of the buckets (the exchange's).
    pub tz: Tz,
}

/// Wins and round trips per bucket start (minutes after midnight).
pub type Buckets = BTreeMap<u32, (u64, u64)>;

impl TimeOfDay {
    /// The buckets of `lots` (open time, net P&L); a win is a net P&L above zero.
    pub fn buckets(&self, lots: &[crate::learner::LotOutcome]) -> Buckets {
        let mut b = Buckets::new();
        let size = self.bucket_minutes.max(1);
        for l in lots {
            let t = l.open_ts.to_datetime().with_timezone(&self.tz).time();
            let minute = t.hour() * 60 + t.minute();
            let e = b.entry(minute - minute % size).or_insert((0, 0));
            e.1 += 1;
            if l.net_pnl > Decimal::ZERO {
                e.0 += 1;
            }
        }
        b
    }

    fn label(&self, start: u32) -> String {
        let end = (start + self.bucket_minutes).min(24 * 60 - 1);
        let t = |m: u32| {
            NaiveTime::from_hms_opt(m / 60, m % 60, 0)
                .map(|t| t.format("%H:%M").to_string())
                .unwrap_or_default()
        };
        format!("{}-{}", t(start), t(end))
    }
}

impl Learner for TimeOfDay {
    fn name(&self) -> &'static str {
        "time_of_day"
    }

    /// Runs the strategy as configured on the train window, finds the weak buckets and
    /// re-runs the train window with them blocked (the in-sample result).
    fn learn(&self, train: &dyn TrainWindow) -> Result<Learned, String> {
        let base = train.run(&[])?;
        let weak: Vec<(u32, u64, u64)> = self
            .buckets(&base.lots)
            .into_iter()
            .filter(|(_, (wins, n))| {
                *n >= self.min_trades
                    && Decimal::from(*wins) < self.min_win_rate * Decimal::from(*n)
            })
            .map(|(start, (wins, n))| (start, wins, n))
            .collect();
        if weak.is_empty() {
            return Ok(Learned::as_is(base, "no weak bucket"));
        }
        let labels: Vec<String> = weak
            .iter()
            .map(|w| format!("\"{}\"", self.label(w.0)))
            .collect();
        let sets = vec![format!("risk.entry_blackout=[{}]", labels.join(","))];
        let digest = weak
            .iter()
            .map(|(start, wins, n)| format!("{} {wins}/{n}", self.label(*start)))
            .collect::<Vec<_>>()
            .join(", ");
        Learned::with_sets(train, sets, format!("blocked {digest}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learner::{LotOutcome, RunStats};
    use lockstep_core::UnixNanos;
    use std::cell::RefCell;

    /// 2024-03-01 14:30 UTC = 09:30 New York.
    const OPEN: i64 = 1_709_303_400_000_000_000;
    const MIN: i64 = 60_000_000_000;

    struct Fake(RefCell<Vec<Vec<String>>>);
    impl TrainWindow for Fake {
        fn bars(&self) -> Result<Vec<crate::learner::BarPoint>, String> {
            Ok(Vec::new())
        }

        fn run(&self, sets: &[String]) -> Result<RunStats, String> {
            self.0.borrow_mut().push(sets.to_vec());
            // 09:30-10:00: 1 win in 4; 10:00-10:30: 3 wins in 4; 15:30: 0 in 1 (too few).
            let lot = |m: i64, pnl: i64| LotOutcome {
                symbol: "SPY".into(),
                open_ts: UnixNanos(OPEN + m * MIN),
                net_pnl: Decimal::from(pnl),
            };
            let lots = vec![
                lot(0, 5),
                lot(5, -1),
                lot(10, -1),
                lot(29, -2),
                lot(30, 1),
                lot(40, 1),
                lot(45, 1),
                lot(59, -1),
                lot(360, -5),
            ];
            Ok(RunStats {
                round_trips: lots.len() as u64,
                realized_pnl: Decimal::ZERO,
                sharpe: None,
                returns: Vec::new(),
                years: 1.0,
                lots,
                ..RunStats::default()
            })
        }
    }

    #[test]
    fn weak_buckets_with_enough_trades_are_blocked_in_new_york_time() {
        let l = TimeOfDay {
            bucket_minutes: 30,
            min_win_rate: Decimal::new(5, 1),
            min_trades: 3,
            tz: chrono_tz::America::New_York,
        };
        let fake = Fake(RefCell::new(Vec::new()));
        let learned = l.learn(&fake).unwrap();
        assert_eq!(learned.sets, vec!["risk.entry_blackout=[\"09:30-10:00\"]"]);
        assert_eq!(learned.digest, "blocked 09:30-10:00 1/4");
        assert_eq!(
            fake.0.borrow().len(),
            2,
            "the base run, then the in-sample run"
        );
    }
}
