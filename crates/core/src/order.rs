//! Order intents, orders with their state machine, and fills.

use crate::order_kind::{OrderKind, TimeInForce};
use crate::reason::ExitReason;
pub use crate::side::Side;
use crate::symbol::SymbolId;
use crate::time::UnixNanos;
use crate::{Money, Price, Qty};

/// Index of a strategy in the engine (order of the config's strategies).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StrategyId(pub u32);

/// Engine-assigned order id, increasing from 1 in submission order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OrderId(pub u64);

/// Engine-assigned fill id, increasing from 1 in fill order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FillId(pub u64);

/// Deterministic client order id: `<run id>-<sequence>`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClientOrderId(pub String);

/// What a strategy asks for. It becomes an order only after the risk engine approves it.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderIntent {
    /// Who asks.
    pub strategy: StrategyId,
    /// Instrument.
    pub symbol: SymbolId,
    /// Direction.
    pub side: Side,
    /// Quantity, must be > 0.
    pub qty: Qty,
    /// Set when the intent closes or reduces a position: why.
    pub exit_reason: Option<ExitReason>,
    /// Market (default), limit, stop or stop-limit.
    pub kind: OrderKind,
    /// Day (default) or good-till-cancelled.
    pub tif: TimeInForce,
}

impl OrderIntent {
    /// A market day order.
    pub fn market(
        strategy: StrategyId,
        symbol: SymbolId,
        side: Side,
        qty: Qty,
        exit_reason: Option<ExitReason>,
    ) -> OrderIntent {
        OrderIntent {
            strategy,
            symbol,
            side,
            qty,
            exit_reason,
            kind: OrderKind::Market,
            tif: TimeInForce::Day,
        }
    }
}

/// Who created an order. Only the engine's own exit machinery (exit manager, EOD guard,
/// expiry settlement) makes `Engine` orders, and only those skip the risk engine's entry
/// checks; a strategy's order is `Strategy` whatever exit reason it carries. The engine
/// crate makes this unforgeable: an approved engine exit can only be built there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Origin {
    /// A strategy asked for it (always judged by the risk engine).
    #[default]
    Strategy,
    /// The engine's exit manager, EOD guard or settlement sent it (a close; never an entry).
    Engine,
}

/// Lifecycle of an order. Legal moves: New -> Accepted | Rejected | PendingCancel;
/// Accepted -> PartiallyFilled | Filled | Cancelled | Expired | PendingCancel;
/// PartiallyFilled -> PartiallyFilled | Filled | Cancelled | Expired | PendingCancel;
/// PendingCancel -> PendingCancel (a partial fill) | Filled | Cancelled | Expired | Rejected.
/// `PendingCancel` exists only on venues that confirm cancels later (a broker): the order
/// may still fill until the venue says it is cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OrderStatus {
    /// Created by the executor, not yet acknowledged.
    New,
    /// Acknowledged by the venue, working.
    Accepted,
    /// Some quantity filled, rest working.
    PartiallyFilled,
    /// Completely filled (terminal).
    Filled,
    /// Cancelled (terminal).
    Cancelled,
    /// Refused by the venue (terminal).
    Rejected,
    /// Expired unfilled (terminal).
    Expired,
    /// A cancel was sent to a venue that confirms later; fills may still arrive.
    PendingCancel,
}

impl OrderStatus {
    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::New => "new",
            OrderStatus::Accepted => "accepted",
            OrderStatus::PartiallyFilled => "partially_filled",
            OrderStatus::Filled => "filled",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Rejected => "rejected",
            OrderStatus::Expired => "expired",
            OrderStatus::PendingCancel => "pending_cancel",
        }
    }

    /// True for states an order never leaves.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            OrderStatus::Filled
                | OrderStatus::Cancelled
                | OrderStatus::Rejected
                | OrderStatus::Expired
        )
    }

    /// Whether moving from `self` to `to` is legal.
    pub fn can_become(self, to: OrderStatus) -> bool {
        use OrderStatus::*;
        matches!(
            (self, to),
            (New, Accepted)
                | (New, Rejected)
                | (Accepted, PartiallyFilled)
                | (Accepted, Filled)
                | (Accepted, Cancelled)
                | (Accepted, Expired)
                | (PartiallyFilled, PartiallyFilled)
                | (PartiallyFilled, Filled)
                | (PartiallyFilled, Cancelled)
                | (PartiallyFilled, Expired)
                | (New, PendingCancel)
                | (Accepted, PendingCancel)
                | (PartiallyFilled, PendingCancel)
                | (PendingCancel, PendingCancel)
                | (PendingCancel, Filled)
                | (PendingCancel, Cancelled)
                | (PendingCancel, Expired)
                | (PendingCancel, Rejected)
        )
    }
}

/// An illegal order state transition: always a bug in the engine or a venue adapter.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("order {order}: illegal transition {from:?} -> {to:?}")]
pub struct IllegalTransition {
    /// The order.
    pub order: u64,
    /// Current state.
    pub from: OrderStatus,
    /// Requested state.
    pub to: OrderStatus,
}

/// An order owned by the executor.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    /// Engine id.
    pub id: OrderId,
    /// Deterministic client id sent to the venue.
    pub client_order_id: ClientOrderId,
    /// Owner strategy.
    pub strategy: StrategyId,
    /// Instrument.
    pub symbol: SymbolId,
    /// Direction.
    pub side: Side,
    /// Ordered quantity (> 0).
    pub qty: Qty,
    /// Filled so far.
    pub filled_qty: Qty,
    /// Sum of fill price x qty, for the average fill price.
    pub filled_notional: Money,
    /// Current state.
    status: OrderStatus,
    /// Submission time.
    pub created_ts: UnixNanos,
    /// Time of the last state change.
    pub updated_ts: UnixNanos,
    /// Why, when this order reduces a position.
    pub exit_reason: Option<ExitReason>,
    /// Market, limit, stop or stop-limit.
    pub kind: OrderKind,
    /// Day or good-till-cancelled.
    pub tif: TimeInForce,
    /// Who created it.
    origin: Origin,
}

impl Order {
    /// A new order in state `New` for `intent`, created at `ts`; `exit_reason` may differ
    /// from the intent's (the executor labels reductions).
    pub fn new(
        id: OrderId,
        client_order_id: ClientOrderId,
        intent: &OrderIntent,
        ts: UnixNanos,
        exit_reason: Option<ExitReason>,
        origin: Origin,
    ) -> Order {
        Order {
            id,
            client_order_id,
            strategy: intent.strategy,
            symbol: intent.symbol,
            side: intent.side,
            qty: intent.qty,
            filled_qty: Qty::ZERO,
            filled_notional: Money::ZERO,
            status: OrderStatus::New,
            created_ts: ts,
            updated_ts: ts,
            exit_reason,
            kind: intent.kind,
            tif: intent.tif,
            origin,
        }
    }

    /// Who created it: a strategy, or the engine's own exit machinery.
    pub fn origin(&self) -> Origin {
        self.origin
    }

    /// True for the engine's own closes (exit manager, EOD guard, settlement).
    pub fn is_engine_exit(&self) -> bool {
        self.origin == Origin::Engine
    }

    /// Current state.
    pub fn status(&self) -> OrderStatus {
        self.status
    }

    /// Quantity still working.
    pub fn remaining(&self) -> Qty {
        self.qty - self.filled_qty
    }

    /// Average fill price, `None` before the first fill.
    pub fn avg_fill_price(&self) -> Option<Price> {
        (!self.filled_qty.is_zero()).then(|| self.filled_notional / self.filled_qty)
    }

    /// Moves to `to` if legal; otherwise the order is unchanged and the error says why.
    pub fn transition(&mut self, to: OrderStatus, ts: UnixNanos) -> Result<(), IllegalTransition> {
        if !self.status.can_become(to) {
            return Err(IllegalTransition {
                order: self.id.0,
                from: self.status,
                to,
            });
        }
        self.status = to;
        self.updated_ts = ts;
        Ok(())
    }
}

/// Whether a fill added or took liquidity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Liquidity {
    /// Took liquidity (market orders).
    Taker,
    /// Added liquidity (resting limit orders).
    Maker,
}

impl Liquidity {
    /// `taker` or `maker`.
    pub fn as_str(self) -> &'static str {
        match self {
            Liquidity::Taker => "taker",
            Liquidity::Maker => "maker",
        }
    }
}

/// One execution. Money fields are exact.
#[derive(Debug, Clone, PartialEq)]
pub struct Fill {
    /// Engine id.
    pub fill_id: FillId,
    /// The order filled.
    pub order_id: OrderId,
    /// Its client id.
    pub client_order_id: ClientOrderId,
    /// Owner strategy of the order.
    pub strategy: StrategyId,
    /// Execution time.
    pub ts: UnixNanos,
    /// Instrument.
    pub symbol: SymbolId,
    /// Direction.
    pub side: Side,
    /// Executed quantity (> 0).
    pub qty: Qty,
    /// Execution price.
    pub price: Price,
    /// Commission charged for this fill.
    pub fee: Money,
    /// Maker or taker.
    pub liquidity: Liquidity,
    /// Set on fills that close or reduce a position.
    pub exit_reason: Option<ExitReason>,
    /// True when the venue had no fresh price and filled at the last known one (EOD).
    pub stale_price: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_machine_allows_only_legal_moves() {
        use OrderStatus::*;
        let all = [
            New,
            Accepted,
            PartiallyFilled,
            Filled,
            Cancelled,
            Rejected,
            Expired,
            PendingCancel,
        ];
        let legal: Vec<_> = all
            .iter()
            .flat_map(|a| all.iter().map(move |b| (*a, *b)))
            .filter(|(a, b)| a.can_become(*b))
            .collect();
        assert_eq!(legal.len(), 18);
        for t in [Filled, Cancelled, Rejected, Expired] {
            assert!(t.is_terminal());
            assert!(all.iter().all(|to| !t.can_become(*to)));
        }
        let intent = OrderIntent::market(StrategyId(0), SymbolId(0), Side::Buy, Qty::ONE, None);
        let mut o = Order::new(
            OrderId(1),
            ClientOrderId("r-1".into()),
            &intent,
            UnixNanos(0),
            None,
            Origin::Strategy,
        );
        assert!(o.transition(Filled, UnixNanos(1)).is_err());
        assert_eq!(o.status(), New);
        o.transition(Accepted, UnixNanos(1)).unwrap();
        o.transition(Filled, UnixNanos(2)).unwrap();
        assert_eq!(o.status(), Filled);
    }
}
