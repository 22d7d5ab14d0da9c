//! What a run records: the raw material of every report.

use crate::ledger::Allocation;
use lockstep_core::{
    Fill, Money, Order, OrderIntent, Price, Qty, RejectCode, Side, StrategyId, SymbolId,
    SymbolTable, UnixNanos,
};

/// An intent or order that was refused, with its code.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    /// When.
    pub ts: UnixNanos,
    /// Who asked.
    pub strategy: StrategyId,
    /// Instrument.
    pub symbol: SymbolId,
    /// Direction.
    pub side: Side,
    /// Quantity asked.
    pub qty: Qty,
    /// Why (stable code).
    pub code: RejectCode,
    /// Details for humans.
    pub detail: String,
}

impl Rejection {
    /// The refusal of `intent` at `ts` with `code` and `detail`.
    pub fn of(intent: &OrderIntent, ts: UnixNanos, code: RejectCode, detail: String) -> Self {
        Rejection {
            ts,
            strategy: intent.strategy,
            symbol: intent.symbol,
            side: intent.side,
            qty: intent.qty,
            code,
            detail,
        }
    }
}

/// One row of the equity curve.
#[derive(Debug, Clone, PartialEq)]
pub struct EquityPoint {
    /// Time of the last event included.
    pub ts: UnixNanos,
    /// Cash.
    pub cash: Money,
    /// Signed market value of open positions at the latest closes.
    pub positions_value: Money,
    /// `cash + positions_value`.
    pub equity: Money,
    /// Realized P&L so far.
    pub realized_pnl: Money,
}

/// An open position at the end of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenPosition {
    /// Instrument.
    pub symbol: SymbolId,
    /// Signed quantity.
    pub qty: Qty,
    /// Average open price of its lots.
    pub avg_price: Price,
    /// Last close used as the mark.
    pub mark: Price,
    /// Price P&L at the mark (fees excluded).
    pub unrealized_pnl: Money,
}

/// Names the journal needs to turn ids into text.
#[derive(Debug, Clone, Copy)]
pub struct Names<'a> {
    /// Symbols by id.
    pub symbols: &'a SymbolTable,
    /// Strategy names by id.
    pub strategies: &'a [String],
}

impl Names<'_> {
    /// The name of `id` (empty when unknown).
    pub fn strategy(&self, id: StrategyId) -> &str {
        self.strategies
            .get(id.0 as usize)
            .map_or("", String::as_str)
    }
}

/// One record of what happened, in event order.
#[derive(Debug, Clone, Copy)]
pub enum Entry<'a> {
    /// An order reached a terminal state (filled, rejected, expired, cancelled).
    Order(&'a Order),
    /// A fill was booked.
    Fill(&'a Fill),
    /// The ledger closed (part of) a lot.
    Allocation(&'a Allocation),
    /// An intent or order was refused.
    Rejection(&'a Rejection),
    /// An equity curve row.
    Equity(&'a EquityPoint),
    /// The EOD guard ran for a session (date in the exchange time zone) at a time.
    Eod(chrono::NaiveDate, UnixNanos),
    /// An order was created from an approved intent and handed to the venue (its client
    /// order id is final): the decision a live journal must hold before the request leaves.
    Submitted(&'a Order),
    /// Something a person must look at: a close that could not fill at the session's end
    /// on a venue with no simulator (escalated at market), an expiry left to the broker.
    Alert(&'a Alert),
}

/// A condition the engine cannot resolve by itself and reports instead of hiding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// When.
    pub ts: UnixNanos,
    /// The instrument concerned, if any.
    pub symbol: Option<SymbolId>,
    /// What happened and what the engine did about it.
    pub detail: String,
}

/// The journal could not record an entry (I/O); the run stops.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("journal: {0}")]
pub struct JournalError(pub String);

/// Where the loop writes what happened: a report writer in replay, a durable journal in
/// paper/live, memory in tests. Entries arrive in event order, so memory stays bounded by
/// live state, never by the length of the run.
pub trait Journal {
    /// Records one entry.
    fn record(&mut self, entry: Entry<'_>, names: &Names<'_>) -> Result<(), JournalError>;
}

/// Keeps every entry in memory (tests, small runs, benchmarks).
#[derive(Debug, Clone, Default)]
pub struct MemoryJournal {
    /// Terminal orders in the order they finished.
    pub orders: Vec<Order>,
    /// Fills.
    pub fills: Vec<Fill>,
    /// Allocations.
    pub allocations: Vec<Allocation>,
    /// Rejections.
    pub rejections: Vec<Rejection>,
    /// Equity rows.
    pub equity: Vec<EquityPoint>,
    /// When the EOD guard ran, per session.
    pub eod_ran_at: Vec<(chrono::NaiveDate, UnixNanos)>,
    /// Orders as they were created and handed to the venue.
    pub submitted: Vec<Order>,
    /// Alerts.
    pub alerts: Vec<Alert>,
}

impl Journal for MemoryJournal {
    fn record(&mut self, entry: Entry<'_>, _names: &Names<'_>) -> Result<(), JournalError> {
        match entry {
            Entry::Order(o) => self.orders.push(o.clone()),
            Entry::Fill(f) => self.fills.push(f.clone()),
            Entry::Allocation(a) => self.allocations.push(a.clone()),
            Entry::Rejection(r) => self.rejections.push(r.clone()),
            Entry::Equity(e) => self.equity.push(e.clone()),
            Entry::Eod(d, t) => self.eod_ran_at.push((d, t)),
            Entry::Submitted(o) => self.submitted.push(o.clone()),
            Entry::Alert(a) => self.alerts.push(a.clone()),
        }
        Ok(())
    }
}

/// The totals of a finished run (the detail went to the [`Journal`]).
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// Deterministic run id (prefix of client order ids).
    pub run_id: String,
    /// Strategy names by [`StrategyId`].
    pub strategies: Vec<String>,
    /// Symbol names.
    pub symbols: SymbolTable,
    /// Bars processed.
    pub bars: u64,
    /// Open time of the first bar.
    pub first_ts: Option<UnixNanos>,
    /// Open time of the last bar.
    pub last_ts: Option<UnixNanos>,
    /// Rows skipped by `--lenient`.
    pub skipped_rows: u64,
    /// Bars held back because they lie outside the regular session.
    pub bars_outside_session: u64,
    /// Quote rows passed over because they had neither a bid nor an ask.
    pub quoteless_rows: u64,
    /// Orders created.
    pub orders: u64,
    /// Fills booked.
    pub fills: u64,
    /// Positions still open at the end, by symbol id.
    pub open_positions: Vec<OpenPosition>,
    /// Starting cash.
    pub initial_cash: Money,
    /// Cash at the end.
    pub final_cash: Money,
    /// Cash plus open positions at the last closes.
    pub final_equity: Money,
    /// Sum of fees.
    pub fees: Money,
    /// Sum of allocations' net P&L.
    pub realized_pnl: Money,
    /// Opening fees still in open lots.
    pub open_lot_fees: Money,
}
