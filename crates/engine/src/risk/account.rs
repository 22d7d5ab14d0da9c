//! Account-level entry limits: what the whole account may hold, whichever strategy asks.
//! Each refuses entries only, with its own code; closes always pass. Exposure counts the
//! book's open lots at their marks (both sides, times the multiplier) plus what working
//! entries still reserve.

use crate::ledger::Ledger;
use crate::market::MarketState;
use lockstep_core::{Money, Qty, RejectCode, Side, SymbolId, UnixNanos};
use std::collections::BTreeMap;

/// Account-level limits (all off by default).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccountLimits {
    /// Buying power as a multiple of equity (1 = a cash account, 2 = Reg T margin, 4 =
    /// day-trading margin): an entry's notional must fit in equity x this, less open and
    /// working exposure.
    pub buying_power: Option<Money>,
    /// No entry may take the account (or the strategy) short: cash accounts, spot crypto.
    pub no_short: bool,
    /// Largest position per symbol as a percent of equity (its notional at the entry's
    /// price, after the order).
    pub max_position_pct: Option<Money>,
    /// Largest total exposure: open lots at their marks plus working entries plus this one.
    pub max_total_exposure: Option<Money>,
    /// Most positions (a strategy's holding or working entry in an instrument) under one
    /// symbol; an option counts under its underlying.
    pub max_positions_per_symbol: Option<u32>,
    /// After any exit fill in a symbol (any strategy), no entry in it for this long.
    pub reentry_cooldown_secs: Option<u64>,
}

/// An entry as the account checks see it.
pub struct EntryView {
    /// The instrument.
    pub symbol: SymbolId,
    /// Buy or sell.
    pub side: Side,
    /// The account's position in the symbol once every working order and this one fill.
    pub account_after: Qty,
    /// The strategy's own position once its working orders and this one fill.
    pub own_after: Qty,
    /// Whether the strategy holds or works anything in the symbol already.
    pub own_before: bool,
    /// Price x multiplier the entry is judged at.
    pub unit: Money,
    /// Notional of the part that opens or adds.
    pub notional: Money,
    /// When it is judged.
    pub now: UnixNanos,
}

/// What the account checks read besides the entry.
pub struct AccountState<'a> {
    /// The book.
    pub ledger: &'a Ledger,
    /// Marks.
    pub market: &'a MarketState,
    /// Notional still reserved by working entries.
    pub working_exposure: Money,
    /// Positions (strategy holding or working) per group symbol, excluding this entry.
    pub positions_in_group: u32,
    /// When each symbol last had an exit fill.
    pub last_exit: &'a BTreeMap<SymbolId, UnixNanos>,
}

/// The first account limit `e` breaks, as a code and a detail.
pub fn check(
    limits: &AccountLimits,
    e: &EntryView,
    state: &AccountState<'_>,
) -> Result<(), (RejectCode, String)> {
    if limits.no_short
        && e.side == Side::Sell
        && (e.account_after < Qty::ZERO || e.own_after < Qty::ZERO)
    {
        return Err((
            RejectCode::ShortNotAllowed,
            "risk.no_short: this account cannot go short".into(),
        ));
    }
    if let (Some(secs), Some(at)) = (limits.reentry_cooldown_secs, state.last_exit.get(&e.symbol)) {
        let until = at.plus(
            i64::try_from(secs)
                .unwrap_or(i64::MAX / 2)
                .saturating_mul(1_000_000_000),
        );
        if e.now < until {
            return Err((
                RejectCode::ReentryCooldown,
                format!(
                    "exited at {}; no re-entry until {}",
                    at.to_iso(),
                    until.to_iso()
                ),
            ));
        }
    }
    if let Some(max) = limits.max_positions_per_symbol {
        if !e.own_before && state.positions_in_group >= max {
            return Err((
                RejectCode::MaxPositionsPerSymbol,
                format!(
                    "{} positions under this symbol, max_positions_per_symbol {max}",
                    state.positions_in_group
                ),
            ));
        }
    }
    let needs_equity = limits.buying_power.is_some() || limits.max_position_pct.is_some();
    let equity = if needs_equity {
        state.ledger.equity(|s| state.market.mark(s))
    } else {
        Money::ZERO
    };
    let needs_exposure = limits.buying_power.is_some() || limits.max_total_exposure.is_some();
    let exposure = if needs_exposure {
        state.ledger.gross_exposure(|s| state.market.mark(s)) + state.working_exposure
    } else {
        Money::ZERO
    };
    if let Some(max) = limits.max_total_exposure {
        let total = exposure + e.notional;
        if total > max {
            return Err((
                RejectCode::MaxTotalExposure,
                format!("exposure would be {total}, max_total_exposure {max}"),
            ));
        }
    }
    if let Some(pct) = limits.max_position_pct {
        let value = e.account_after.abs() * e.unit;
        let cap = equity * pct / Money::ONE_HUNDRED;
        if value > cap {
            return Err((
                RejectCode::MaxPositionPct,
                format!("position would be {value}, over {pct} % of equity {equity} ({cap})"),
            ));
        }
    }
    if let Some(leverage) = limits.buying_power {
        let power = equity * leverage - exposure;
        if e.notional > power {
            return Err((
                RejectCode::BuyingPower,
                format!(
                    "entry notional {} exceeds buying power {power} (equity {equity} x {leverage} less exposure {exposure})",
                    e.notional
                ),
            ));
        }
    }
    Ok(())
}
