//! The engine's side of the Alpaca venue: it has no simulator, cancels are confirmed later,
//! and nothing is sent from inside a step. Requests wait in an outbox the driver drains
//! after the step's decisions are durable in the journal.

use lockstep_core::{Order, OrderId, OrderKind, Side, SymbolId, TimeInForce, UnixNanos};
use lockstep_engine::{market::MarketState, Venue, VenueReport};
use rust_decimal::Decimal;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// A request for the broker, in the order the loop made it.
#[derive(Debug, Clone, PartialEq)]
pub enum Outgoing {
    /// Place an order.
    Submit {
        /// Engine order id (reports come back under it).
        order_id: OrderId,
        /// Our id at the broker (derived from the run and the order number).
        client_order_id: String,
        /// Ticker.
        symbol: String,
        /// Buy or sell.
        side: Side,
        /// Quantity.
        qty: Decimal,
        /// Type and levels.
        kind: OrderKind,
        /// Time in force.
        tif: TimeInForce,
        /// Sent again after a restart: the broker may have it already, so it is looked up
        /// by client id first and posted only if the broker never took it.
        after_restart: bool,
        /// It closes a position (an exit, the EOD flatten, a manual flatten): it goes to the
        /// broker ahead of new entries still waiting.
        closes: bool,
    },
    /// Withdraw an order.
    Cancel {
        /// Engine order id.
        order_id: OrderId,
        /// Our id at the broker.
        client_order_id: String,
    },
    /// After a restart: look up an order the journal knows by its client id and report
    /// what happened to it while we were down.
    Reconcile {
        /// Engine order id.
        order_id: OrderId,
        /// Our id at the broker.
        client_order_id: String,
    },
    /// Read the broker's positions and open orders (sent after the lookups, so the
    /// answer reflects them); the `attempt`-th read waits a little first.
    CheckBook {
        /// 0 for the first read.
        attempt: u32,
    },
    /// Read the broker's clock to measure the skew of ours.
    CheckClock,
}

impl Outgoing {
    /// The request placing `order`, whose ticker is `symbol`.
    pub fn submit(order: &Order, symbol: String, after_restart: bool) -> Outgoing {
        Outgoing::Submit {
            order_id: order.id,
            client_order_id: order.client_order_id.0.clone(),
            symbol,
            side: order.side,
            qty: order.qty,
            kind: order.kind,
            tif: order.tif,
            after_restart,
            closes: order.exit_reason.is_some(),
        }
    }
}

/// The venue the engine sees in live mode.
#[derive(Debug, Clone, Default)]
pub struct AlpacaVenue {
    outbox: Rc<RefCell<Vec<Outgoing>>>,
    names: Rc<RefCell<BTreeMap<SymbolId, String>>>,
}

impl AlpacaVenue {
    /// A venue with an empty outbox.
    pub fn new() -> Self {
        Self::default()
    }

    /// Tells the venue the ticker of `id` (the driver does, as it interns symbols).
    pub fn name_symbol(&self, id: SymbolId, name: &str) {
        self.names.borrow_mut().insert(id, name.to_string());
    }

    /// The ticker of `id` (empty if never named).
    pub fn name_of(&self, id: SymbolId) -> String {
        self.names.borrow().get(&id).cloned().unwrap_or_default()
    }

    /// A handle on the outbox (shared: the driver drains it after each step).
    pub fn outbox(&self) -> Rc<RefCell<Vec<Outgoing>>> {
        self.outbox.clone()
    }
}

impl Venue for AlpacaVenue {
    fn submit(
        &mut self,
        order: &Order,
        _now: UnixNanos,
        _market: &MarketState,
        _out: &mut Vec<VenueReport>,
    ) {
        let symbol = self.name_of(order.symbol);
        self.outbox
            .borrow_mut()
            .push(Outgoing::submit(order, symbol, false));
    }

    fn cancel(&mut self, order: &Order) {
        self.outbox.borrow_mut().push(Outgoing::Cancel {
            order_id: order.id,
            client_order_id: order.client_order_id.0.clone(),
        });
    }

    fn cancels_at_once(&self) -> bool {
        false
    }
}
