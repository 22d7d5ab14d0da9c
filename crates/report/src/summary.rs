//! `summary.json`: the headline numbers of a run. Money is decimal text; key order is fixed.

use crate::fmt::{dec, money};
use crate::metrics::{self, Metrics};
use lockstep_engine::RunOutcome;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;

/// An open position at the end.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpenPositionRow {
    /// Symbol.
    pub symbol: String,
    /// Signed quantity.
    pub qty: String,
    /// Average open price.
    pub avg_price: String,
    /// Last close.
    pub mark: String,
    /// Price P&L at the mark.
    pub unrealized_pnl: String,
}

/// Count and net P&L of the allocations closed for one reason.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReasonRow {
    /// Allocations.
    pub count: u64,
    /// Sum of their net P&L.
    pub net_pnl: String,
}

/// The contents of `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Deterministic run id.
    pub run_id: String,
    /// Strategy names in config order.
    pub strategies: Vec<String>,
    /// Bars processed.
    pub bars: u64,
    /// Rows skipped by `--lenient`.
    pub skipped_rows: u64,
    /// Open time of the first bar.
    pub first_ts: Option<String>,
    /// Open time of the last bar.
    pub last_ts: Option<String>,
    /// Orders created.
    pub orders: u64,
    /// Fills.
    pub fills: u64,
    /// FIFO allocations (closed lot slices).
    pub round_trips: u64,
    /// Sum of allocations' gross P&L.
    pub gross_pnl: String,
    /// All fees charged.
    pub fees: String,
    /// Sum of allocations' net P&L.
    pub realized_pnl: String,
    /// Price P&L of open positions at the last closes.
    pub unrealized_pnl: String,
    /// Starting cash.
    pub initial_cash: String,
    /// Cash plus open positions at the last closes.
    pub final_equity: String,
    /// Positions open at the end.
    pub open_positions: Vec<OpenPositionRow>,
    /// Allocations by exit reason.
    pub exit_reasons: BTreeMap<String, ReasonRow>,
    /// Rejections by code.
    pub rejections: BTreeMap<String, u64>,
    /// Performance metrics.
    pub metrics: Metrics,
    /// sha256 of the CSV twins and this file without this field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report_hash: Option<String>,
}

impl Summary {
    /// The summary of `o` (without its hash).
    pub fn of(o: &RunOutcome) -> Summary {
        let mut reasons: BTreeMap<String, (u64, Decimal)> = BTreeMap::new();
        for a in &o.allocations {
            let e = reasons
                .entry(a.exit_reason.as_str().to_string())
                .or_default();
            e.0 += 1;
            e.1 += a.net_pnl;
        }
        let mut rejections: BTreeMap<String, u64> = BTreeMap::new();
        for r in &o.rejections {
            *rejections.entry(r.code.as_str().to_string()).or_default() += 1;
        }
        let unrealized: Decimal = o.open_positions.iter().map(|p| p.unrealized_pnl).sum();
        let final_equity = o.equity.last().map_or(o.final_cash, |e| e.equity);
        Summary {
            run_id: o.run_id.clone(),
            strategies: o.strategies.clone(),
            bars: o.bars,
            skipped_rows: o.skipped_rows,
            first_ts: o.first_ts.map(|t| t.to_iso()),
            last_ts: o.last_ts.map(|t| t.to_iso()),
            orders: o.orders.len() as u64,
            fills: o.fills.len() as u64,
            round_trips: o.allocations.len() as u64,
            gross_pnl: money(o.allocations.iter().map(|a| a.gross_pnl).sum()),
            fees: money(o.fees),
            realized_pnl: money(o.realized_pnl),
            unrealized_pnl: money(unrealized),
            initial_cash: money(o.initial_cash),
            final_equity: money(final_equity),
            open_positions: o
                .open_positions
                .iter()
                .map(|p| OpenPositionRow {
                    symbol: o.symbols.name(p.symbol).to_string(),
                    qty: dec(p.qty, 0),
                    avg_price: money(p.avg_price),
                    mark: money(p.mark),
                    unrealized_pnl: money(p.unrealized_pnl),
                })
                .collect(),
            exit_reasons: reasons
                .into_iter()
                .map(|(k, (count, pnl))| {
                    (
                        k,
                        ReasonRow {
                            count,
                            net_pnl: money(pnl),
                        },
                    )
                })
                .collect(),
            rejections,
            metrics: metrics::compute(o.initial_cash, &o.equity, &o.allocations),
            report_hash: None,
        }
    }
}
