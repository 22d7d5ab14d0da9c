//! `summary.json`: the headline numbers of a run. Money is decimal text; key order is fixed.

use crate::fmt::{dec, money};
use crate::metrics::{Metrics, MetricsAcc};
use lockstep_engine::{Allocation, EquityPoint, Rejection, RunOutcome};
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

/// One strategy's book (per-strategy books only).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StrategyRow {
    /// Its fills.
    pub fills: u64,
    /// Allocations closed in its book.
    pub round_trips: u64,
    /// Their gross P&L.
    pub gross_pnl: String,
    /// Their net P&L.
    pub realized_pnl: String,
    /// Allocations with net P&L > 0.
    pub wins: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
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
    /// Bars outside the regular session (kept out of strategies and fills).
    pub bars_outside_session: u64,
    /// Quote rows with neither a bid nor an ask, passed over (written only when some were).
    #[serde(skip_serializing_if = "is_zero")]
    pub quoteless_rows: u64,
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
    /// Each strategy's book, by strategy name (written only with per-strategy books; in a
    /// shared book one strategy may close another's lot, so P&L has no owner).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub by_strategy: BTreeMap<String, StrategyRow>,
    /// The shadow book's totals (written only with `run.shadow = true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shadow: Option<crate::shadow::ShadowSummary>,
    /// Rejections by code.
    pub rejections: BTreeMap<String, u64>,
    /// Performance metrics.
    pub metrics: Metrics,
    /// When the EOD guard ran, per session date (empty without a session calendar).
    pub eod_ran_at: BTreeMap<String, String>,
    /// Conditions the engine escalated instead of resolving (written only when there are
    /// some): `<time> <symbol>: <what happened>`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alerts: Vec<String>,
    /// sha256 of the CSV twins and this file without this field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report_hash: Option<String>,
}

/// Accumulates the parts of the summary that come from journal entries.
#[derive(Debug, Clone, Default)]
pub struct SummaryBuilder {
    round_trips: u64,
    gross: Decimal,
    reasons: BTreeMap<String, (u64, Decimal)>,
    rejections: BTreeMap<String, u64>,
    metrics: MetricsAcc,
    eod_ran_at: BTreeMap<String, String>,
    alerts: Vec<String>,
    /// Per-strategy books, by strategy index.
    books: Option<BTreeMap<u32, BookAcc>>,
}

/// One strategy's book so far.
#[derive(Debug, Clone, Copy, Default)]
struct BookAcc {
    fills: u64,
    round_trips: u64,
    gross: Decimal,
    net: Decimal,
    wins: u64,
}

impl SummaryBuilder {
    /// Adds an alert.
    pub fn alert(&mut self, a: &lockstep_engine::Alert, names: &lockstep_engine::Names<'_>) {
        let symbol = a.symbol.map_or("", |s| names.symbols.name(s));
        self.alerts
            .push(format!("{} {symbol}: {}", a.ts.to_iso(), a.detail));
    }

    /// Keeps a table per strategy (per-strategy books).
    pub fn per_strategy(&mut self) {
        self.books.get_or_insert_with(BTreeMap::new);
    }

    /// Adds a fill.
    pub fn fill(&mut self, f: &lockstep_core::Fill) {
        if let Some(books) = self.books.as_mut() {
            books.entry(f.strategy.0).or_default().fills += 1;
        }
    }

    /// Adds an allocation.
    pub fn allocation(&mut self, a: &Allocation) {
        if let (Some(books), Some(book)) = (self.books.as_mut(), a.book) {
            let b = books.entry(book.0).or_default();
            b.round_trips += 1;
            b.gross += a.gross_pnl;
            b.net += a.net_pnl;
            b.wins += u64::from(a.net_pnl > Decimal::ZERO);
        }
        self.round_trips += 1;
        self.gross += a.gross_pnl;
        // Looked up by the borrowed name: the key is made only for a reason not seen yet.
        let reason = a.exit_reason.as_str();
        let e = match self.reasons.get_mut(reason) {
            Some(e) => e,
            None => self.reasons.entry(reason.to_string()).or_default(),
        };
        e.0 += 1;
        e.1 += a.net_pnl;
        self.metrics.allocation(a);
    }

    /// Adds a rejection.
    pub fn rejection(&mut self, r: &Rejection) {
        *self
            .rejections
            .entry(r.code.as_str().to_string())
            .or_default() += 1;
    }

    /// Records that the EOD guard ran for `session` at `ts`.
    pub fn eod(&mut self, session: chrono::NaiveDate, ts: lockstep_core::UnixNanos) {
        self.eod_ran_at.insert(session.to_string(), ts.to_iso());
    }

    /// Adds an equity row.
    pub fn equity(&mut self, e: &EquityPoint) {
        self.metrics.equity(e);
    }

    /// The summary (without its hash) of a run with totals `o`.
    pub fn finish(self, o: &RunOutcome) -> Summary {
        let unrealized: Decimal = o.open_positions.iter().map(|p| p.unrealized_pnl).sum();
        Summary {
            run_id: o.run_id.clone(),
            strategies: o.strategies.clone(),
            bars: o.bars,
            skipped_rows: o.skipped_rows,
            bars_outside_session: o.bars_outside_session,
            quoteless_rows: o.quoteless_rows,
            first_ts: o.first_ts.map(|t| t.to_iso()),
            last_ts: o.last_ts.map(|t| t.to_iso()),
            orders: o.orders,
            fills: o.fills,
            round_trips: self.round_trips,
            gross_pnl: money(self.gross),
            fees: money(o.fees),
            realized_pnl: money(o.realized_pnl),
            unrealized_pnl: money(unrealized),
            initial_cash: money(o.initial_cash),
            final_equity: money(o.final_equity),
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
            exit_reasons: self
                .reasons
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
            by_strategy: self
                .books
                .map(|books| {
                    (0u32..)
                        .zip(&o.strategies)
                        .map(|(k, name)| {
                            let b = books.get(&k).copied().unwrap_or_default();
                            let row = StrategyRow {
                                fills: b.fills,
                                round_trips: b.round_trips,
                                gross_pnl: money(b.gross),
                                realized_pnl: money(b.net),
                                wins: b.wins,
                            };
                            (name.clone(), row)
                        })
                        .collect()
                })
                .unwrap_or_default(),
            shadow: None,
            rejections: self.rejections,
            metrics: self.metrics.finish(o.initial_cash),
            eod_ran_at: self.eod_ran_at,
            alerts: self.alerts,
            report_hash: None,
        }
    }
}
