//! Performance metrics, accumulated in one pass over the equity curve and the allocations.
//!
//! Ratios are computed in f64 from exact inputs and written rounded to 6 decimals. Periods
//! are equity rows; the annualisation factor is rows per year of the curve's own span.

use lockstep_engine::{Allocation, EquityPoint};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::Serialize;

/// Seconds in an average Gregorian year.
const YEAR_SECS: f64 = 365.2425 * 86_400.0;

/// Metrics of `summary.json`; `None` (JSON null) when undefined (e.g. no losses).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    /// Final equity / initial cash - 1.
    pub total_return: Option<String>,
    /// Compound annual growth rate over the curve's span.
    pub cagr: Option<String>,
    /// Largest peak-to-trough fall of equity, as a positive fraction of the peak.
    pub max_drawdown: Option<String>,
    /// Mean / sample std of period returns, annualised.
    pub sharpe: Option<String>,
    /// Mean / downside deviation of period returns, annualised.
    pub sortino: Option<String>,
    /// Share of allocations with positive net P&L.
    pub win_rate: Option<String>,
    /// Sum of winning net P&L / |sum of losing net P&L|.
    pub profit_factor: Option<String>,
    /// Share of equity rows with an open position.
    pub exposure: Option<String>,
}

fn r6(x: f64) -> Option<String> {
    x.is_finite().then(|| format!("{x:.6}"))
}

fn f(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(f64::NAN)
}

/// Streaming accumulator of [`Metrics`].
#[derive(Debug, Clone, Default)]
pub struct MetricsAcc {
    rows: u64,
    first_ts: i64,
    last_ts: i64,
    last_equity: Option<f64>,
    peak: f64,
    max_dd: f64,
    exposed: u64,
    n: f64,
    mean: f64,
    m2: f64,
    down_sq: f64,
    trades: u64,
    wins: u64,
    win_sum: Decimal,
    loss_sum: Decimal,
}

impl MetricsAcc {
    /// Adds an equity row.
    pub fn equity(&mut self, e: &EquityPoint) {
        let x = f(e.equity);
        if self.rows == 0 {
            self.first_ts = e.ts.0;
            self.peak = x;
        }
        self.rows += 1;
        self.last_ts = e.ts.0;
        self.peak = self.peak.max(x);
        if self.peak > 0.0 {
            self.max_dd = self.max_dd.max((self.peak - x) / self.peak);
        }
        if !e.positions_value.is_zero() {
            self.exposed += 1;
        }
        if let Some(prev) = self.last_equity.filter(|p| *p != 0.0) {
            let r = x / prev - 1.0;
            self.n += 1.0;
            let delta = r - self.mean;
            self.mean += delta / self.n;
            self.m2 += delta * (r - self.mean);
            self.down_sq += r.min(0.0).powi(2);
        }
        self.last_equity = Some(x);
    }

    /// Adds a closed allocation.
    pub fn allocation(&mut self, a: &Allocation) {
        self.trades += 1;
        if a.net_pnl > Decimal::ZERO {
            self.wins += 1;
            self.win_sum += a.net_pnl;
        } else if a.net_pnl < Decimal::ZERO {
            self.loss_sum += a.net_pnl;
        }
    }

    /// The metrics, given the starting cash.
    pub fn finish(&self, initial: Decimal) -> Metrics {
        let init = f(initial);
        let last = self.last_equity.unwrap_or(init);
        let years = (self.last_ts - self.first_ts) as f64 / 1e9 / YEAR_SECS;
        let total_return = (init > 0.0 && self.rows > 0).then(|| last / init - 1.0);
        let cagr = total_return
            .filter(|_| years > 0.0 && last > 0.0)
            .map(|_| (last / init).powf(1.0 / years) - 1.0);
        let (mut sharpe, mut sortino) = (None, None);
        if self.n >= 2.0 && years > 0.0 {
            let ppy = self.n / years;
            let sd = (self.m2 / (self.n - 1.0)).sqrt();
            let down = (self.down_sq / self.n).sqrt();
            if sd > 0.0 {
                sharpe = Some(self.mean / sd * ppy.sqrt());
            }
            if down > 0.0 {
                sortino = Some(self.mean / down * ppy.sqrt());
            }
        }
        Metrics {
            total_return: total_return.and_then(r6),
            cagr: cagr.and_then(r6),
            max_drawdown: (self.rows > 0).then_some(self.max_dd).and_then(r6),
            sharpe: sharpe.and_then(r6),
            sortino: sortino.and_then(r6),
            win_rate: (self.trades > 0)
                .then(|| self.wins as f64 / self.trades as f64)
                .and_then(r6),
            profit_factor: (!self.loss_sum.is_zero())
                .then(|| f(self.win_sum) / f(-self.loss_sum))
                .and_then(r6),
            exposure: (self.rows > 0)
                .then(|| self.exposed as f64 / self.rows as f64)
                .and_then(r6),
        }
    }
}
