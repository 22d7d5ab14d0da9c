//! What comes out of the risk engine: approved intents (the only thing the executor
//! accepts), the exposure an entry reserves, and the engine's own exits.

use lockstep_core::{Money, OrderIntent, Origin, Qty};

/// How much of a move from `before` to `after` opens or adds to a position.
pub(super) fn opened_by(before: Qty, after: Qty) -> Qty {
    let flips = !before.is_zero()
        && !after.is_zero()
        && before.is_sign_negative() != after.is_sign_negative();
    if flips {
        after.abs()
    } else {
        (after.abs() - before.abs()).max(Qty::ZERO)
    }
}

/// An intent the risk engine approved. Only this module can construct it.
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovedIntent {
    pub(super) intent: OrderIntent,
    pub(super) reserved: Option<Reservation>,
    pub(super) origin: Origin,
}

impl ApprovedIntent {
    /// The approved intent.
    pub fn intent(&self) -> &OrderIntent {
        &self.intent
    }

    /// The daily entry exposure this intent reserved (entries only).
    pub fn reserved(&self) -> Option<Reservation> {
        self.reserved
    }

    /// Who asked for it: a strategy (judged) or the engine's exit machinery.
    pub fn origin(&self) -> Origin {
        self.origin
    }
}

/// Daily entry exposure held for an approved entry until it fills (then trued up to the
/// fill's notional) or ends unfilled (then released, and an entry that never filled
/// stops counting toward `max_daily_trades`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reservation {
    pub(super) session: Option<i64>,
    pub(super) qty: Qty,
    pub(super) unit: Money,
    pub(super) filled: bool,
}

/// A close the engine's own exit machinery decided: the exit manager (stops, targets,
/// trailing, max hold), the EOD guard, or expiry settlement. Only engine code can make one
/// (the constructor is crate-private), and only it is approved without entry checks; a
/// strategy's intent is always judged, whatever exit reason it carries.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineExit {
    intent: OrderIntent,
}

impl EngineExit {
    /// An engine close of `intent` (its exit reason says which rule sent it).
    pub(crate) fn new(intent: OrderIntent) -> Self {
        EngineExit { intent }
    }

    /// The closing intent.
    pub fn intent(&self) -> &OrderIntent {
        &self.intent
    }

    /// The closing intent, by value.
    pub(crate) fn into_intent(self) -> OrderIntent {
        self.intent
    }

    /// The same close as a market order (a live venue sends a crossed protective level at
    /// market instead of filling it at the level).
    pub(crate) fn at_market(mut self) -> Self {
        self.intent.kind = lockstep_core::OrderKind::Market;
        self
    }
}
