//! Performance metrics from the equity curve and the FIFO allocations.
//!
//! Ratios are computed in f64 from exact inputs and written rounded to 6 decimals, so the
//! text is stable. Periods are equity rows; the annualisation factor is rows per year of
//! the curve's own span.

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
    /// Mean / std of period returns, annualised.
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

/// Computes [`Metrics`].
pub fn compute(initial: Decimal, equity: &[EquityPoint], allocations: &[Allocation]) -> Metrics {
    let eq: Vec<f64> = equity.iter().map(|e| f(e.equity)).collect();
    let init = f(initial);
    let last = eq.last().copied().unwrap_or(init);
    let span_years = match (equity.first(), equity.last()) {
        (Some(a), Some(b)) => (b.ts.0 - a.ts.0) as f64 / 1e9 / YEAR_SECS,
        _ => 0.0,
    };
    let total_return = (init > 0.0).then(|| last / init - 1.0);
    let cagr = total_return
        .filter(|_| span_years > 0.0 && last > 0.0)
        .map(|_| (last / init).powf(1.0 / span_years) - 1.0);
    let mut peak = f64::MIN;
    let mut mdd: f64 = 0.0;
    for &x in &eq {
        peak = peak.max(x);
        if peak > 0.0 {
            mdd = mdd.max((peak - x) / peak);
        }
    }
    let rets: Vec<f64> = eq
        .windows(2)
        .filter(|w| w[0] != 0.0)
        .map(|w| w[1] / w[0] - 1.0)
        .collect();
    let n = rets.len() as f64;
    let (mut sharpe, mut sortino) = (None, None);
    if rets.len() >= 2 && span_years > 0.0 {
        let ppy = n / span_years;
        let mean = rets.iter().sum::<f64>() / n;
        let var = rets.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1.0);
        let down = (rets.iter().map(|r| r.min(0.0).powi(2)).sum::<f64>() / n).sqrt();
        if var > 0.0 {
            sharpe = Some(mean / var.sqrt() * ppy.sqrt());
        }
        if down > 0.0 {
            sortino = Some(mean / down * ppy.sqrt());
        }
    }
    let wins: Vec<Decimal> = allocations
        .iter()
        .map(|a| a.net_pnl)
        .filter(|p| *p > Decimal::ZERO)
        .collect();
    let losses: Decimal = allocations
        .iter()
        .map(|a| a.net_pnl)
        .filter(|p| *p < Decimal::ZERO)
        .sum();
    let win_rate = (!allocations.is_empty()).then(|| wins.len() as f64 / allocations.len() as f64);
    let profit_factor = (!losses.is_zero()).then(|| f(wins.iter().sum::<Decimal>()) / f(-losses));
    let exposure = (!equity.is_empty()).then(|| {
        equity
            .iter()
            .filter(|e| !e.positions_value.is_zero())
            .count() as f64
            / equity.len() as f64
    });
    Metrics {
        total_return: total_return.and_then(r6),
        cagr: cagr.and_then(r6),
        max_drawdown: (!eq.is_empty()).then_some(mdd).and_then(r6),
        sharpe: sharpe.and_then(r6),
        sortino: sortino.and_then(r6),
        win_rate: win_rate.and_then(r6),
        profit_factor: profit_factor.and_then(r6),
        exposure: exposure.and_then(r6),
    }
}
