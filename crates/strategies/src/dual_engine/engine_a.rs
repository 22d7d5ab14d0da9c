//! Engine A: seed 002's tiered entry rules. Tier 1 blocks (the signal is dropped), tier 2
//! waits (the signal is judged again on the underlying's next bars, until a deadline),
//! tier 3 enters in the signal's direction.

use chrono::NaiveTime;
use lockstep_core::{Decimal, Direction, Signal};

/// Engine A's thresholds.
#[derive(Debug, Clone, PartialEq)]
pub struct TierRules {
    /// Before this New York time a signal waits (the open's first minutes).
    pub start: NaiveTime,
    /// From this New York time a signal is blocked.
    pub stop: NaiveTime,
    /// A signal whose `price` is further than this fraction from the underlying's last close
    /// is blocked (stale or for another instrument).
    pub max_price_drift_pct: Decimal,
    /// While the underlying's last bar ranged more than this fraction of its close, a
    /// signal waits.
    pub max_bar_range_pct: Decimal,
}

/// What the engine sees of the market when it judges.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct View {
    /// New York time now.
    pub local: NaiveTime,
    /// The underlying's last close.
    pub last_close: Option<Decimal>,
    /// The underlying's last bar range (high - low) as a fraction of its close.
    pub last_range_pct: Option<Decimal>,
}

/// Engine A's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Tier 1: dropped, with why.
    Block(String),
    /// Tier 2: judged again on the next bar, with why.
    Wait(String),
    /// Tier 3: enter this way.
    Enter(Direction),
}

/// Judges `signal` by the tiers, in order.
pub fn decide(rules: &TierRules, view: &View, signal: &Signal) -> Verdict {
    let Some(last) = view.last_close.filter(|c| *c > Decimal::ZERO) else {
        return Verdict::Block("no price of the underlying yet".into());
    };
    if view.local >= rules.stop {
        return Verdict::Block(format!(
            "past the entry window ({})",
            rules.stop.format("%H:%M")
        ));
    }
    if let Some(p) = signal.price {
        let drift = (p / last - Decimal::ONE).abs();
        if drift > rules.max_price_drift_pct {
            return Verdict::Block(format!(
                "signal price {p} is {} from the last close {last}",
                drift.round_dp(4)
            ));
        }
    }
    if view.local < rules.start {
        return Verdict::Wait(format!("before {}", rules.start.format("%H:%M")));
    }
    if view
        .last_range_pct
        .is_some_and(|r| r > rules.max_bar_range_pct)
    {
        return Verdict::Wait("the last bar ranged too far".into());
    }
    Verdict::Enter(signal.direction)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> TierRules {
        TierRules {
            start: NaiveTime::from_hms_opt(9, 45, 0).expect("time"),
            stop: NaiveTime::from_hms_opt(12, 30, 0).expect("time"),
            max_price_drift_pct: Decimal::new(5, 3),
            max_bar_range_pct: Decimal::new(3, 3),
        }
    }

    fn signal(price: Option<i64>) -> Signal {
        Signal {
            ts: lockstep_core::UnixNanos(0),
            symbol: "GOOG".into(),
            direction: Direction::Short,
            timeframe: None,
            id: None,
            price: price.map(Decimal::from),
            extra: Default::default(),
        }
    }

    fn view(h: u32, m: u32, close: Option<i64>, range: Option<Decimal>) -> View {
        View {
            local: NaiveTime::from_hms_opt(h, m, 0).expect("time"),
            last_close: close.map(Decimal::from),
            last_range_pct: range,
        }
    }

    #[test]
    fn tiers_block_then_wait_then_enter() {
        let r = rules();
        let calm = Some(Decimal::new(1, 3));
        assert!(matches!(
            decide(&r, &view(10, 0, None, calm), &signal(None)),
            Verdict::Block(_)
        ));
        assert!(matches!(
            decide(&r, &view(12, 30, Some(750), calm), &signal(None)),
            Verdict::Block(_)
        ));
        // 754 is 0.53 % from 750: blocked; 753 (0.4 %) passes.
        assert!(matches!(
            decide(&r, &view(10, 0, Some(750), calm), &signal(Some(754))),
            Verdict::Block(_)
        ));
        assert_eq!(
            decide(&r, &view(10, 0, Some(750), calm), &signal(Some(753))),
            Verdict::Enter(Direction::Short)
        );
        assert!(matches!(
            decide(&r, &view(9, 44, Some(750), calm), &signal(None)),
            Verdict::Wait(_)
        ));
        let wild = Some(Decimal::new(31, 4));
        assert!(matches!(
            decide(&r, &view(10, 0, Some(750), wild), &signal(None)),
            Verdict::Wait(_)
        ));
    }
}
