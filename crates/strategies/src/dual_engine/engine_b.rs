//! Engine B: seed 002's weighted meta decision of three scorers. Each scorer gives a bias
//! (long, short or none) and a score 0-100; the meta decision sums weight x score per
//! bias, and approves the winning bias when it reaches the threshold (50 of 100). The
//! direction is the winner's, which may be against the signal. The risk engine can still
//! refuse the order (its veto).

use lockstep_core::{Decimal, Direction, Signal};

/// Engine B's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ScorerRules {
    /// Closes in the trend scorer's average.
    pub trend_bars: usize,
    /// Bars back of the momentum scorer's return.
    pub momentum_bars: usize,
    /// Distance of the close from its average that scores 100 (fraction).
    pub trend_full_pct: Decimal,
    /// Return that scores 100 (fraction).
    pub momentum_full_pct: Decimal,
    /// Winning weighted score needed to approve (0-100).
    pub approve_score: Decimal,
    /// The signal scorer's score when the signal carries no `confidence`.
    pub default_confidence: Decimal,
}

/// One scorer's view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Score {
    /// `trend`, `momentum` or `signal`.
    pub kind: &'static str,
    /// Its weight in the meta decision (0.40, 0.35, 0.25).
    pub weight: Decimal,
    /// Which way it leans (none: no opinion).
    pub bias: Option<Direction>,
    /// How strongly (0-100).
    pub score: Decimal,
}

fn hundred() -> Decimal {
    Decimal::ONE_HUNDRED
}

fn leaning(x: Decimal, full: Decimal) -> (Option<Direction>, Decimal) {
    let bias = if x > Decimal::ZERO {
        Some(Direction::Long)
    } else if x < Decimal::ZERO {
        Some(Direction::Short)
    } else {
        None
    };
    let score = if full > Decimal::ZERO {
        (x.abs() / full * hundred()).min(hundred())
    } else {
        Decimal::ZERO
    };
    (bias, score.round_dp(4))
}

/// The three scores for `signal`, given the underlying's `closes` (oldest first).
pub fn scores(rules: &ScorerRules, closes: &[Decimal], signal: &Signal) -> [Score; 3] {
    let last = closes.last().copied();
    let trend = match (
        last,
        closes.len() >= rules.trend_bars && rules.trend_bars > 0,
    ) {
        (Some(c), true) => {
            let window = &closes[closes.len() - rules.trend_bars..];
            let sma = window.iter().sum::<Decimal>() / Decimal::from(rules.trend_bars as u64);
            leaning(c / sma - Decimal::ONE, rules.trend_full_pct)
        }
        _ => (None, Decimal::ZERO),
    };
    let momentum = match last {
        Some(c) if closes.len() > rules.momentum_bars => {
            let then = closes[closes.len() - 1 - rules.momentum_bars];
            leaning(c / then - Decimal::ONE, rules.momentum_full_pct)
        }
        _ => (None, Decimal::ZERO),
    };
    let confidence = signal
        .extra
        .get("confidence")
        .and_then(|v| v.trim_matches('"').parse::<Decimal>().ok())
        .map_or(rules.default_confidence, |c| {
            c.clamp(Decimal::ZERO, hundred())
        });
    [
        Score {
            kind: "trend",
            weight: Decimal::new(40, 2),
            bias: trend.0,
            score: trend.1,
        },
        Score {
            kind: "momentum",
            weight: Decimal::new(35, 2),
            bias: momentum.0,
            score: momentum.1,
        },
        Score {
            kind: "signal",
            weight: Decimal::new(25, 2),
            bias: Some(signal.direction),
            score: confidence,
        },
    ]
}

/// The meta decision: the bias with the larger weighted score, approved when it reaches
/// `approve_score`; a tie or a low score is refused with why.
pub fn meta(rules: &ScorerRules, scores: &[Score]) -> Result<(Direction, Decimal), String> {
    let total = |d: Direction| -> Decimal {
        scores
            .iter()
            .filter(|s| s.bias == Some(d))
            .map(|s| s.weight * s.score)
            .sum()
    };
    let (long, short) = (total(Direction::Long), total(Direction::Short));
    let (dir, best) = match long.cmp(&short) {
        std::cmp::Ordering::Greater => (Direction::Long, long),
        std::cmp::Ordering::Less => (Direction::Short, short),
        std::cmp::Ordering::Equal => return Err(format!("long and short tie at {long}")),
    };
    if best >= rules.approve_score {
        Ok((dir, best))
    } else {
        Err(format!(
            "winning bias {} scores {best}, below {}",
            dir.as_str(),
            rules.approve_score
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> ScorerRules {
        ScorerRules {
            trend_bars: 4,
            momentum_bars: 2,
            trend_full_pct: Decimal::new(1, 2),
            momentum_full_pct: Decimal::new(1, 2),
            approve_score: Decimal::from(50),
            default_confidence: Decimal::from(60),
        }
    }

    fn signal(dir: Direction, confidence: Option<&str>) -> Signal {
        let mut extra = std::collections::BTreeMap::new();
        if let Some(c) = confidence {
            extra.insert("confidence".to_string(), c.to_string());
        }
        Signal {
            ts: lockstep_core::UnixNanos(0),
            symbol: "GOOG".into(),
            direction: dir,
            timeframe: None,
            id: None,
            price: None,
            extra,
        }
    }

    fn d(x: &str) -> Decimal {
        x.parse().expect("decimal")
    }

    #[test]
    fn weighted_scores_decide_and_can_overrule_the_signal() {
        // Closes 100, 100, 101, 102: SMA 100.75, close +1.2407 % above: trend long 100
        // (capped). Momentum over 2 bars: 102/100 - 1 = 2 %: long 100. A short signal at
        // confidence 80. Long 0.40 x 100 + 0.35 x 100 = 75 >= 50; short 0.25 x 80 = 20.
        let closes = [d("100"), d("100"), d("101"), d("102")];
        let s = scores(&rules(), &closes, &signal(Direction::Short, Some("80")));
        assert_eq!(
            s.map(|x| (x.bias, x.score)),
            [
                (Some(Direction::Long), d("100")),
                (Some(Direction::Long), d("100")),
                (Some(Direction::Short), d("80")),
            ]
        );
        assert_eq!(meta(&rules(), &s), Ok((Direction::Long, d("75.00"))));
        // Flat closes: no trend, no momentum; the signal alone scores 0.25 x 60 = 15 < 50.
        let flat = [d("100"); 4];
        let s = scores(&rules(), &flat, &signal(Direction::Long, None));
        assert_eq!(
            meta(&rules(), &s),
            Err("winning bias long scores 15.00, below 50".into())
        );
    }
}
