//! What a run records: the raw material of every report.

use crate::ledger::Allocation;
use lockstep_core::{
    Fill, Money, Order, Price, Qty, RejectCode, Side, StrategyId, SymbolId, SymbolTable, UnixNanos,
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

/// Everything a finished run produced. Vectors are in event order.
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
    /// Open time of the first and last bar.
    pub first_ts: Option<UnixNanos>,
    /// Open time of the last bar.
    pub last_ts: Option<UnixNanos>,
    /// Rows skipped by `--lenient`.
    pub skipped_rows: u64,
    /// Orders in id order, final states.
    pub orders: Vec<Order>,
    /// Fills in fill order.
    pub fills: Vec<Fill>,
    /// FIFO allocations in the order written.
    pub allocations: Vec<Allocation>,
    /// Rejections in order.
    pub rejections: Vec<Rejection>,
    /// Equity curve.
    pub equity: Vec<EquityPoint>,
    /// Positions still open at the end, by symbol id.
    pub open_positions: Vec<OpenPosition>,
    /// Starting cash.
    pub initial_cash: Money,
    /// Cash at the end.
    pub final_cash: Money,
    /// Sum of fees.
    pub fees: Money,
    /// Sum of allocations' net P&L.
    pub realized_pnl: Money,
    /// Opening fees still in open lots.
    pub open_lot_fees: Money,
}
