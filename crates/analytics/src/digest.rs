//! One pass over a run folder's tables, keeping only what its page shows: the equity curve
//! decimated with its metrics and monthly returns, the fills sampled per symbol for the
//! markers, and the allocations grouped. Memory is bounded by the chart sizes and the
//! number of fills (four bytes each), not by bars or equity rows.

use crate::breakdown::{Breakdowns, FillOwners, MonthAcc, MonthReturn};
use crate::decimate::{Bucket, StreamDecimator};
use crate::error::AnalyticsError;
use crate::run_folder::{FillRow, Label, LotRow, RunFolder};
use crate::series::{Point, SeriesAcc, SeriesMetrics};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// Buckets an equity chart keeps (at most twice as many).
pub const CHART_BUCKETS: usize = 600;
/// Entry/exit markers kept per symbol (at most twice as many).
pub const MAX_MARKERS: usize = 400;

fn f(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(f64::NAN)
}

/// Every `stride`-th fill of a symbol, the stride doubling whenever too many are kept, so
/// the kept fills stay evenly spread over the run.
#[derive(Debug, Clone, Default)]
pub struct Markers {
    /// The fills kept, in time order.
    pub kept: Vec<FillRow>,
    /// Fills of this symbol seen.
    pub total: u64,
    stride: u64,
}

impl Markers {
    fn push(&mut self, fill: &FillRef<'_>) {
        self.stride = self.stride.max(1);
        if self.total.is_multiple_of(self.stride) {
            self.kept.push(fill.to_row());
            if self.kept.len() > 2 * MAX_MARKERS {
                let mut i = 0;
                self.kept.retain(|_| {
                    i += 1;
                    i % 2 == 1
                });
                self.stride *= 2;
            }
        }
        self.total += 1;
    }
}

/// A fill as [`TradeDigest::fill`] takes it, its texts borrowed: a [`FillRow`] is made only
/// for the fills a chart keeps.
#[derive(Debug, Clone, Copy)]
pub struct FillRef<'a> {
    /// Fill id.
    pub fill_id: u64,
    /// Strategy that owned the order.
    pub strategy: &'a Label,
    /// When (Unix nanoseconds).
    pub ts: i64,
    /// Instrument.
    pub symbol: &'a Label,
    /// `buy` or `sell`.
    pub side: &'a Label,
    /// Quantity.
    pub qty: Decimal,
    /// Price.
    pub price: Decimal,
    /// Fee.
    pub fee: Decimal,
    /// Exit reason (empty for entries).
    pub exit_reason: &'a Label,
}

impl FillRef<'_> {
    /// The fill as an owned row.
    pub fn to_row(&self) -> FillRow {
        FillRow {
            fill_id: self.fill_id,
            strategy: self.strategy.clone(),
            ts: self.ts,
            symbol: self.symbol.clone(),
            side: self.side.clone(),
            qty: self.qty,
            price: self.price,
            fee: self.fee,
            exit_reason: self.exit_reason.clone(),
        }
    }
}

impl<'a> From<&'a FillRow> for FillRef<'a> {
    fn from(row: &'a FillRow) -> Self {
        FillRef {
            fill_id: row.fill_id,
            strategy: &row.strategy,
            ts: row.ts,
            symbol: &row.symbol,
            side: &row.side,
            qty: row.qty,
            price: row.price,
            fee: row.fee,
            exit_reason: &row.exit_reason,
        }
    }
}

/// The equity curve digested.
#[derive(Debug, Clone)]
pub struct CurveDigest {
    /// Equity, decimated.
    pub equity: Vec<Bucket>,
    /// Drawdown (`e / running peak - 1`), decimated.
    pub drawdown: Vec<Bucket>,
    /// The curve's metrics.
    pub metrics: SeriesMetrics,
    /// Calendar-month returns.
    pub months: Vec<MonthReturn>,
    /// Mean equity over the rows.
    pub mean_equity: f64,
}

/// What a run's page and comparison are drawn from.
#[derive(Debug, Clone)]
pub struct Digest {
    /// The equity curve.
    pub curve: CurveDigest,
    /// Sampled fills by symbol.
    pub markers: BTreeMap<String, Markers>,
    /// Sum of |qty × price| over fills.
    pub traded_notional: Decimal,
    /// The allocations grouped.
    pub breakdowns: Breakdowns,
}

fn curve(run: &RunFolder) -> Result<CurveDigest, AnalyticsError> {
    let mut acc = SeriesAcc::default();
    let mut months = MonthAcc::default();
    let mut equity = StreamDecimator::new(CHART_BUCKETS);
    let mut drawdown = StreamDecimator::new(CHART_BUCKETS);
    let (mut sum, mut rows) = (0.0, 0u64);
    for row in run.equity_values()? {
        let row = row?;
        let p = Point {
            ts: row.ts,
            equity: f(row.equity),
        };
        let dd = acc.push(p);
        months.push(p);
        equity.push(p.ts, p.equity);
        drawdown.push(p.ts, dd);
        sum += p.equity;
        rows += 1;
    }
    let initial = f(run.initial_cash());
    Ok(CurveDigest {
        equity: equity.buckets().copied().collect(),
        drawdown: drawdown.buckets().copied().collect(),
        metrics: acc.finish(initial),
        months: months.finish(initial),
        mean_equity: if rows > 0 { sum / rows as f64 } else { 0.0 },
    })
}

/// The fills and allocations of a run digested as they come: from a run folder's tables
/// ([`Digest::of`]), or from the journal while a backtest writes them, which spares
/// reading its twins back. Either way the page drawn from it is the same.
#[derive(Debug, Clone, Default)]
pub struct TradeDigest {
    owners: FillOwners,
    markers: BTreeMap<String, Markers>,
    traded_notional: Decimal,
    breakdowns: Breakdowns,
}

impl TradeDigest {
    /// Takes the next fill (in fill order, before the allocations it closes).
    pub fn fill(&mut self, fill: FillRef<'_>) {
        self.owners.insert(fill.fill_id, fill.strategy);
        self.traded_notional += (fill.qty * fill.price).abs();
        if let Some(m) = self.markers.get_mut(&**fill.symbol) {
            m.push(&fill);
        } else {
            let mut m = Markers::default();
            m.push(&fill);
            self.markers.insert(fill.symbol.to_string(), m);
        }
    }

    /// Takes the next allocation, after the fill that closed it.
    pub fn lot(&mut self, lot: &LotRow) {
        self.breakdowns.add(lot, self.owners.get(lot.close_fill_id));
    }

    /// The run's digest: these trades, and the equity curve read from `run`.
    pub fn finish(self, run: &RunFolder) -> Result<Digest, AnalyticsError> {
        Ok(Digest {
            curve: curve(run)?,
            markers: self.markers,
            traded_notional: self.traded_notional,
            breakdowns: self.breakdowns,
        })
    }
}

impl Digest {
    /// Reads the tables of `run` once each.
    pub fn of(run: &RunFolder) -> Result<Self, AnalyticsError> {
        let mut trades = TradeDigest::default();
        for fill in run.fill_values()? {
            trades.fill(FillRef::from(&fill?));
        }
        for lot in run.lot_values()? {
            trades.lot(&lot?);
        }
        trades.finish(run)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill(i: u64) -> FillRow {
        FillRow {
            fill_id: i,
            strategy: "s".into(),
            ts: i as i64,
            symbol: "X".into(),
            side: "buy".into(),
            qty: Decimal::ONE,
            price: Decimal::ONE,
            fee: Decimal::ZERO,
            exit_reason: "".into(),
        }
    }

    #[test]
    fn markers_stay_few_and_evenly_spread() {
        let mut m = Markers::default();
        for i in 0..100_000 {
            m.push(&FillRef::from(&fill(i)));
        }
        assert_eq!(m.total, 100_000);
        assert!(
            m.kept.len() > MAX_MARKERS && m.kept.len() <= 2 * MAX_MARKERS,
            "{}",
            m.kept.len()
        );
        let ids: Vec<u64> = m.kept.iter().map(|f| f.fill_id).collect();
        let step = ids[1] - ids[0];
        assert!(ids.windows(2).all(|w| w[1] - w[0] == step), "even stride");
        assert_eq!(ids[0], 0);
        let mut few = Markers::default();
        for i in 0..10 {
            few.push(&FillRef::from(&fill(i)));
        }
        assert_eq!(few.kept.len(), 10, "a short run keeps every fill");
    }
}
