//! The venue seam. [`Venue`] is what any venue does (a broker adapter implements only
//! that: take orders, withdraw them, report asynchronously); [`SimulatedVenue`] is what only
//! a simulator does (match on bars, fill crossed levels, settle, force the close's fills).
//! The loop asks for the simulator part through [`Venue::simulator`] and never tests a mode.

use crate::market::MarketState;
use lockstep_core::{Bar, Liquidity, Money, Order, OrderId, Price, Qty, RejectCode, UnixNanos};

/// What a venue tells the engine about an order.
#[derive(Debug, Clone, PartialEq)]
pub enum VenueReport {
    /// The order is working.
    Accepted {
        /// Order.
        order_id: OrderId,
        /// When.
        ts: UnixNanos,
    },
    /// The venue refused the order.
    Rejected {
        /// Order.
        order_id: OrderId,
        /// When.
        ts: UnixNanos,
        /// Why, in the venue's words.
        reason: String,
    },
    /// The venue took a working order off its book without filling it, for a reason the
    /// engine reports as a rejection code (an option market order facing a quote bar with
    /// no ask or no bid: `no_quote`). The order ends `cancelled`; nothing was filled.
    Withdrawn {
        /// Order.
        order_id: OrderId,
        /// When.
        ts: UnixNanos,
        /// The rejection code recorded for it.
        code: RejectCode,
        /// Why, in words.
        detail: String,
    },
    /// The venue confirms an order is off its book unfilled (the cancel the engine asked
    /// for, or one the venue made itself, e.g. an immediate-or-cancel remainder).
    Cancelled {
        /// Order.
        order_id: OrderId,
        /// When.
        ts: UnixNanos,
    },
    /// A day order's session ended before it filled.
    Expired {
        /// Order.
        order_id: OrderId,
        /// When.
        ts: UnixNanos,
    },
    /// An execution.
    Fill {
        /// Order.
        order_id: OrderId,
        /// Execution time.
        ts: UnixNanos,
        /// Quantity executed.
        qty: Qty,
        /// Price.
        price: Price,
        /// Commission.
        fee: Money,
        /// Maker/taker.
        liquidity: Liquidity,
        /// Filled at the last known price because no fresh price came (EOD).
        stale_price: bool,
    },
}

/// A place orders go. Reports a venue can give at once are appended to `out` in the order
/// they happen; a broker's later reports reach the loop as inputs.
pub trait Venue {
    /// Takes a new order (state `New`) at time `now`.
    fn submit(
        &mut self,
        order: &Order,
        now: UnixNanos,
        market: &MarketState,
        out: &mut Vec<VenueReport>,
    );

    /// Withdraws a working order. A venue that cancels at once (a simulator) gets orders the
    /// executor already marked cancelled; one that confirms later gets orders marked
    /// `PendingCancel` and answers with [`VenueReport::Cancelled`] or a fill.
    fn cancel(&mut self, order: &Order);

    /// Whether a cancel takes effect at once (true for a simulator) or only when the venue
    /// confirms it (a broker, where a fill may win the race).
    fn cancels_at_once(&self) -> bool {
        true
    }

    /// The simulator behind this venue, when there is one (replay and paper). A broker
    /// adapter has none: its fills come from the broker, crossed protective levels are sent
    /// at market, and a close that cannot fill escalates instead of filling at a made-up
    /// price.
    fn simulator(&mut self) -> Option<&mut dyn SimulatedVenue> {
        None
    }
}

/// What only a simulated venue does: it decides fills from bars.
pub trait SimulatedVenue {
    /// A bar was delivered: match working orders against it.
    fn on_bar(&mut self, bar: &Bar, out: &mut Vec<VenueReport>);

    /// True when orders for `bar.symbol` are working (lets the loop skip idle matching).
    fn has_working(&self, bar: &Bar) -> bool;

    /// A session ended: day orders that have worked in it expire (gtc orders, and day
    /// orders that have not seen a bar yet, keep working).
    fn end_session(&mut self, now: UnixNanos, out: &mut Vec<VenueReport>);

    /// The exit manager saw a protective level crossed inside the bar just delivered:
    /// fill `order` at `price` (the level, or the open when the bar gapped through it), as
    /// a resting stop (taker) or limit (maker) order would have, stamped `now` (the bar's
    /// delivery).
    fn fill_triggered(
        &mut self,
        order: &Order,
        price: Price,
        liquidity: Liquidity,
        now: UnixNanos,
        market: &MarketState,
        out: &mut Vec<VenueReport>,
    );

    /// `symbol` trades with this multiplier (100 for an option contract): fees on notional
    /// scale with it. The default ignores it.
    fn set_multiplier(&mut self, _symbol: lockstep_core::SymbolId, _multiplier: Money) {}

    /// An option still open at its expiry close settles in cash: acknowledge `order` and
    /// fill it at `price` (the intrinsic value), with no fee, slippage or fault.
    fn settle(&mut self, order: &Order, price: Price, now: UnixNanos, out: &mut Vec<VenueReport>);

    /// The session is closing and `order` must not stay open: acknowledge it if it is new
    /// and fill what is left now at the last known price, marked stale.
    fn fill_at_close(
        &mut self,
        order: &Order,
        now: UnixNanos,
        market: &MarketState,
        out: &mut Vec<VenueReport>,
    );
}
