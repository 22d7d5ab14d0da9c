//! Exit rules and the pure decisions the exit manager makes with them: which rule fires
//! on a bar (fixed priority, intrabar assumption) and where a trailing stop moves.
//!
//! Priority when several rules fire on one bar (DESIGN "Exits and exit reasons"):
//! hard stop > soft stop > EOD/expiry > trailing > take profit > min DTE > max hold >
//! partial take profit > signal. EOD and expiry are the EOD guard's; signal exits are the
//! strategies' own orders.

use crate::exits::trail_math;
use lockstep_core::{Bar, ExitReason, Liquidity, Price};
use rust_decimal::{Decimal, RoundingStrategy};

/// How a trailing stop keeps its distance from the best price since entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrailDistance {
    /// A fraction of the best price (0.02 = 2 %).
    Pct(Decimal),
    /// A multiple of the instrument's average true range over `period` bars.
    Atr {
        /// Multiple of the ATR.
        mult: Decimal,
        /// Bars in the average.
        period: usize,
    },
}

/// A trailing stop. It only ever tightens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trailing {
    /// Distance from the best price.
    pub distance: TrailDistance,
    /// The stop starts trailing once the best price is this fraction beyond the entry
    /// (0 = at once).
    pub activation_pct: Decimal,
    /// The stop moves only when it would tighten by at least this fraction of the entry
    /// price (0 = any move)...
    pub step_pct: Decimal,
    /// ... plus this multiple of the ATR (only with an ATR distance; 0 = none).
    pub step_atr: Decimal,
    /// Smallest distance, as a fraction of the best price.
    pub min_pct: Option<Decimal>,
    /// Largest distance, as a fraction of the best price.
    pub max_pct: Option<Decimal>,
}

/// The exit rules of one strategy's positions. Fractions are of the average entry price.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExitRules {
    /// Loss fraction at which the position is closed inside the bar that reaches it.
    pub hard_stop_pct: Option<Decimal>,
    /// Loss fraction at which the position is closed when a bar *closes* beyond it
    /// (market order).
    pub soft_stop_pct: Option<Decimal>,
    /// Gain fraction at which the position is closed inside the bar that reaches it.
    pub take_profit_pct: Option<Decimal>,
    /// Trailing stop.
    pub trailing: Option<Trailing>,
    /// Close with a market order once the position has been open this many seconds.
    pub max_hold_secs: Option<i64>,
    /// Hold the strategy's own exits (signal) while the position's P&L is below zero.
    pub signal_only_in_profit: bool,
    /// Close an option position at market once its expiry session is this many calendar
    /// days away or fewer (0: on the expiry day).
    pub min_dte: Option<u32>,
    /// Take profit in slices: each tier, once, closes its fraction of the largest position
    /// held, inside the bar that trades through its gain (in order; reason
    /// `partial_take_profit`). The rest stays for the other rules (e.g. the trail).
    pub partials: Vec<PartialTier>,
    /// While the trailing stop is active, the strategy's own signal exits are held
    /// (`exit_held_trailing`): the trail decides (seed 004).
    pub trailing_suppresses_signal: bool,
}

/// One tier of a tiered take profit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartialTier {
    /// Gain fraction of the entry price at which the slice is taken (0.5 = +50 %).
    pub gain_pct: Decimal,
    /// Fraction of the largest position held that the slice closes (0.5 = half).
    pub fraction: Decimal,
}

impl ExitRules {
    /// True when any rule needs the exit manager to watch positions.
    pub fn any(&self) -> bool {
        self.hard_stop_pct.is_some()
            || self.soft_stop_pct.is_some()
            || self.take_profit_pct.is_some()
            || self.trailing.is_some()
            || self.max_hold_secs.is_some()
            || self.signal_only_in_profit
            || self.min_dte.is_some()
            || !self.partials.is_empty()
            || self.trailing_suppresses_signal
    }
}

/// Which of a stop and a target inside one bar is assumed to have traded first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Intrabar {
    /// The stop (default).
    #[default]
    Pessimistic,
    /// The target.
    Optimistic,
}

/// A rule that fired, and how the exit fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fired {
    /// Which rule.
    pub reason: ExitReason,
    /// `Some`: fill inside this bar at this price (level, or the open on a gap) with this
    /// liquidity; `None`: a market order (fills per the fill model).
    pub at: Option<(Price, Liquidity)>,
}

/// The levels in force for a position during one bar, set before the bar (no look-ahead).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Levels {
    /// Hard stop level.
    pub hard: Option<Price>,
    /// Soft stop level (judged on the close).
    pub soft: Option<Price>,
    /// Trailing stop level.
    pub trail: Option<Price>,
    /// Take profit level.
    pub target: Option<Price>,
    /// The position reached its maximum holding time at this bar's close.
    pub max_hold_reached: bool,
    /// The option is within its minimum days to expiry on this bar.
    pub min_dte_reached: bool,
}

/// Prices seen from the position's side: for a short every comparison flips, so one
/// rule set serves both (`worse(a, b)`: a is at least as bad as b for the position).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Direction {
    /// True for a long position.
    pub long: bool,
}

impl Direction {
    /// `a` is at or beyond `b` in the losing direction.
    pub fn worse(self, a: Price, b: Price) -> bool {
        if self.long {
            a <= b
        } else {
            a >= b
        }
    }

    /// The bar's most adverse and most favourable prices.
    pub fn extremes(self, bar: &Bar) -> (Price, Price) {
        if self.long {
            (bar.low_price(), bar.high_price())
        } else {
            (bar.high_price(), bar.low_price())
        }
    }

    /// `price` moved by `fraction` of `base` in the position's favour (negative: against),
    /// rounded to `dp` towards the position's loss side so a level never flatters.
    pub fn offset(self, base: Price, fraction: Decimal, dp: u32) -> Price {
        let signed = if self.long { fraction } else { -fraction };
        let raw = base * (Decimal::ONE + signed);
        let towards_loss = if self.long {
            RoundingStrategy::ToNegativeInfinity
        } else {
            RoundingStrategy::ToPositiveInfinity
        };
        raw.round_dp_with_strategy(dp, towards_loss)
    }
}

/// Which rule fires on `bar`, if any. A level the open already gapped through fills at
/// the open; otherwise stops fill at their level, the target at its level.
pub fn decide(levels: &Levels, dir: Direction, bar: &Bar, intrabar: Intrabar) -> Option<Fired> {
    let open = bar.open_price();
    let (adverse, favourable) = dir.extremes(bar);
    let stop_hit = |level: Option<Price>| {
        level
            .filter(|l| dir.worse(adverse, *l))
            .map(|l| if dir.worse(open, l) { open } else { l })
    };
    let hard = stop_hit(levels.hard);
    let trail = stop_hit(levels.trail);
    // A target is a resting limit: the open at or beyond it fills there, otherwise the
    // bar must trade through it (a touch is not enough). On a quote bar (the bid series of a
    // long) a bid at the target is a buyer there: a touch fills, as in the venue.
    let gapped_to_target = levels.target.is_some_and(|t| dir.worse(t, open));
    let target = levels.target.and_then(|t| {
        if gapped_to_target {
            Some(open)
        } else {
            (dir.worse(t, favourable) && (t != favourable || bar.quote.is_some())).then_some(t)
        }
    });
    let soft = levels.soft.is_some_and(|s| dir.worse(bar.close_price(), s));
    let stop = |reason, p| Fired {
        reason,
        at: Some((p, Liquidity::Taker)),
    };
    // A resting target the open gapped through fills at the open, taking liquidity.
    let target_liquidity = if gapped_to_target {
        Liquidity::Taker
    } else {
        Liquidity::Maker
    };
    let take = |p| Fired {
        reason: ExitReason::TakeProfit,
        at: Some((p, target_liquidity)),
    };
    if let Some(p) = target.filter(|_| gapped_to_target || intrabar == Intrabar::Optimistic) {
        return Some(take(p));
    }
    if let Some(p) = hard {
        return Some(stop(ExitReason::HardStop, p));
    }
    if soft {
        return Some(Fired {
            reason: ExitReason::SoftStop,
            at: None,
        });
    }
    if let Some(p) = trail {
        return Some(stop(ExitReason::Trailing, p));
    }
    if let Some(p) = target {
        return Some(take(p));
    }
    timed(levels)
}

/// The time rules, which need no price: minimum days to expiry, then maximum holding
/// time (both market orders).
pub fn timed(levels: &Levels) -> Option<Fired> {
    let reason = if levels.min_dte_reached {
        ExitReason::MinDte
    } else if levels.max_hold_reached {
        ExitReason::MaxHold
    } else {
        return None;
    };
    Some(Fired { reason, at: None })
}

/// Where the next partial tier at `level` fills on `bar`, as a resting limit would: at
/// the open when the open is at or beyond it (taker), at the level when the bar trades
/// through it (maker).
pub fn partial_fill(level: Price, dir: Direction, bar: &Bar) -> Option<(Price, Liquidity)> {
    let open = bar.open_price();
    let (_, favourable) = dir.extremes(bar);
    if dir.worse(level, open) {
        Some((open, Liquidity::Taker))
    } else if dir.worse(level, favourable) && (level != favourable || bar.quote.is_some()) {
        Some((level, Liquidity::Maker))
    } else {
        None
    }
}

/// The trailing stop after a bar: `best` is the best price since entry (this bar
/// included), `entry` the average entry price, `atr` the current ATR when the rule uses
/// one. Never looser than `prev`; `None` until activation.
pub fn next_trail(
    prev: Option<Price>,
    rule: &Trailing,
    dir: Direction,
    entry: Price,
    best: Price,
    atr: Option<Price>,
    dp: u32,
) -> Option<Price> {
    if prev.is_none() {
        let activated = trail_math::activated(dir.long, entry, rule.activation_pct, best)
            .unwrap_or_else(|| {
                let activation = dir.offset(entry, rule.activation_pct, 28);
                best == activation || !dir.worse(best, activation)
            });
        if !activated {
            return None;
        }
    }
    let candidate = match (rule.distance, rule.min_pct, rule.max_pct) {
        (TrailDistance::Pct(p), None, None) => trail_math::pct_candidate(dir.long, best, p, dp),
        _ => None,
    }
    .or_else(|| decimal_candidate(rule, dir, best, atr, dp))?;
    let Some(prev) = prev else {
        return Some(candidate);
    };
    let tightens = if dir.long {
        candidate > prev
    } else {
        candidate < prev
    };
    if !tightens {
        return Some(prev);
    }
    let step = entry * rule.step_pct + atr.map_or(Decimal::ZERO, |a| a * rule.step_atr);
    let moved = if dir.long {
        candidate - prev
    } else {
        prev - candidate
    };
    Some(if moved >= step { candidate } else { prev })
}

/// The trailing stop `best` would set by `rule`, in decimals: the distance (a fraction
/// of `best`, or a multiple of `atr`, kept within the rule's bounds) from `best`, rounded
/// to `dp` decimals towards the position's loss side. `None` without the ATR an ATR rule
/// needs.
fn decimal_candidate(
    rule: &Trailing,
    dir: Direction,
    best: Price,
    atr: Option<Price>,
    dp: u32,
) -> Option<Price> {
    let mut distance = match rule.distance {
        TrailDistance::Pct(p) => best * p,
        TrailDistance::Atr { mult, .. } => atr? * mult,
    };
    if let Some(min) = rule.min_pct {
        distance = distance.max(best * min);
    }
    if let Some(max) = rule.max_pct {
        distance = distance.min(best * max);
    }
    let raw = if dir.long {
        best - distance
    } else {
        best + distance
    };
    Some(raw.round_dp_with_strategy(
        dp,
        if dir.long {
            RoundingStrategy::ToNegativeInfinity
        } else {
            RoundingStrategy::ToPositiveInfinity
        },
    ))
}

/// A position's levels as fixed-point mantissas at its bar's scale: a cheap, conservative
/// test of whether [`decide`] could fire on a bar (it never says no when a price rule
/// fires; max hold is checked apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Band {
    adverse: Option<i64>,
    soft: Option<i64>,
    target: Option<i64>,
    /// A level does not fit the scale: every bar takes the exact path.
    always: bool,
}

impl Band {
    /// The band of `levels` at `scale` (one that always says yes when a level does not
    /// fit the scale exactly).
    pub fn of(levels: &Levels, dir: Direction, scale: lockstep_core::Scale) -> Band {
        Band::exact(levels, dir, scale).unwrap_or(Band {
            adverse: None,
            soft: None,
            target: None,
            always: true,
        })
    }

    fn exact(levels: &Levels, dir: Direction, scale: lockstep_core::Scale) -> Option<Band> {
        let m = |p: Option<Price>| -> Option<Option<i64>> {
            match p {
                None => Some(None),
                Some(p) => scale.from_decimal(p).ok().map(Some),
            }
        };
        let (hard, trail) = (m(levels.hard)?, m(levels.trail)?);
        let adverse = match (hard, trail) {
            (Some(h), Some(t)) => Some(if dir.long { h.max(t) } else { h.min(t) }),
            (h, t) => h.or(t),
        };
        Some(Band {
            adverse,
            soft: m(levels.soft)?,
            target: m(levels.target)?,
            always: false,
        })
    }

    /// True when a level does not fit the scale, so that every bar takes the exact path.
    pub fn always_fires(&self) -> bool {
        self.always
    }

    /// False only when no price rule can fire on `bar`.
    pub fn may_fire(&self, dir: Direction, bar: &Bar) -> bool {
        if self.always {
            true
        } else if dir.long {
            self.adverse.is_some_and(|a| bar.low <= a)
                || self.soft.is_some_and(|s| bar.close <= s)
                || self.target.is_some_and(|t| bar.high >= t || bar.open >= t)
        } else {
            self.adverse.is_some_and(|a| bar.high >= a)
                || self.soft.is_some_and(|s| bar.close >= s)
                || self.target.is_some_and(|t| bar.low <= t || bar.open <= t)
        }
    }
}
