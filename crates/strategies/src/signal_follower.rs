//! `signal_follower`: trades external signals. A `long` signal buys `qty` when flat (a
//! short position is covered in the same order when `allow_short`); a `short` signal sells
//! a long position to flat, and with `allow_short` goes on to `qty` short. A signal that
//! finds the position already where it points does nothing. Orders are at market: under
//! `next_open` a signal received at S fills at the open of the symbol's first bar that
//! opens at or after S.

use lockstep_core::{dec_serde, Direction, ExitReason, Qty, Signal, SymbolId};
use lockstep_engine::{Context, Strategy};
use serde::Deserialize;

/// Parameters (`[strategy]` table).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SignalFollowerParams {
    /// Quantity of a position (> 0). Default 100.
    #[serde(default = "default_qty", deserialize_with = "dec_serde::decimal")]
    pub qty: Qty,
    /// Whether a `short` signal may open a short position (default false: it only closes).
    #[serde(default)]
    pub allow_short: bool,
    /// Follow only these symbols (default: every signal's symbol).
    #[serde(default)]
    pub symbols: Option<Vec<String>>,
}

fn default_qty() -> Qty {
    Qty::from(100)
}

/// The strategy.
#[derive(Debug, Clone)]
pub struct SignalFollower {
    p: SignalFollowerParams,
}

impl SignalFollower {
    /// Validates `qty > 0`.
    pub fn new(p: SignalFollowerParams) -> Result<Self, String> {
        if p.qty <= Qty::ZERO {
            return Err(format!("qty must be positive, got {}", p.qty));
        }
        Ok(SignalFollower { p })
    }
}

impl Strategy for SignalFollower {
    fn on_bar(&mut self, _bar: &lockstep_core::Bar, _ctx: &mut Context<'_>) {}

    fn on_signal(&mut self, signal: &Signal, symbol: SymbolId, ctx: &mut Context<'_>) {
        if let Some(only) = &self.p.symbols {
            if !only.iter().any(|s| s.eq_ignore_ascii_case(&signal.symbol)) {
                return;
            }
        }
        let have = ctx.position(symbol) + ctx.working(symbol);
        let short = self.p.allow_short;
        match signal.direction {
            // Flat, or short when shorting is allowed (never short otherwise).
            Direction::Long if have.is_zero() || (have < Qty::ZERO && short) => {
                ctx.target_position(symbol, self.p.qty, None);
            }
            Direction::Short if have > Qty::ZERO => {
                let target = if short { -self.p.qty } else { Qty::ZERO };
                ctx.target_position(symbol, target, Some(ExitReason::Signal));
            }
            Direction::Short if have.is_zero() && short => {
                ctx.target_position(symbol, -self.p.qty, None);
            }
            _ => {}
        }
    }
}
