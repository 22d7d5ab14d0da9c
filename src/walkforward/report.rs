//! The walk-forward report: `windows.parquet/.csv` (one row per window) and
//! `walkforward.json` with the headline: the stitched out-of-sample record beside the
//! in-sample one and the no-learning baseline, and the gap between in- and out-of-sample.

use super::section::WalkforwardSection;
use crate::error::AppError;
use crate::parquet_out::{decimal_column, write_parquet};
use arrow_array::{ArrayRef, Int64Array, StringArray, TimestampNanosecondArray};
use arrow_schema::{DataType, Field, TimeUnit};
use lockstep_learn::{RunStats, WindowResult};
use lockstep_report::fmt::money;
use lockstep_report::hash::sha256_hex;
use rust_decimal::prelude::FromPrimitive;
use rust_decimal::Decimal;
use serde::Serialize;
use std::path::Path;
use std::sync::Arc;

/// One side of the headline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Side {
    /// Round trips.
    pub round_trips: u64,
    /// Realized P&L, net of fees.
    pub realized_pnl: String,
    /// Unrealized P&L of positions still open at the windows' ends (at their last price).
    pub open_pnl: String,
    /// Realized plus open P&L: what the windows made.
    pub total_pnl: String,
    /// Years of data behind it.
    pub years: String,
    /// Total P&L per year.
    pub pnl_per_year: String,
    /// Sharpe ratio: stitched session returns (out of sample, baseline) or the mean over
    /// windows (in sample, whose train windows overlap).
    pub sharpe: Option<String>,
}

/// `walkforward.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Headline {
    /// Learner name.
    pub learner: String,
    /// `rolling` or `anchored`.
    pub mode: String,
    /// Train, test and step as configured.
    pub train: String,
    /// Test window.
    pub test: String,
    /// Step.
    pub step: String,
    /// Number of windows.
    pub windows: usize,
    /// The stitched test windows traded with the learned state.
    pub out_of_sample: Side,
    /// The learned states on their own train windows.
    pub in_sample: Side,
    /// The stitched test windows traded without learning.
    pub baseline: Side,
    /// In-sample minus out-of-sample P&L per year: the overfitting measure.
    pub overfit_gap_pnl_per_year: String,
    /// In-sample minus out-of-sample Sharpe.
    pub overfit_gap_sharpe: Option<String>,
    /// Out-of-sample minus baseline P&L per year: what learning added.
    pub learning_edge_pnl_per_year: String,
    /// sha256 over `windows.csv` and this file without the hash: equal runs, equal hash.
    pub hash: String,
}

fn r6(x: f64) -> Option<Decimal> {
    Decimal::from_f64(x).map(|d| d.round_dp(6))
}

fn sharpe_of(returns: &[f64], years: f64) -> Option<Decimal> {
    let n = returns.len() as f64;
    if n < 2.0 || years <= 0.0 {
        return None;
    }
    let mean = returns.iter().sum::<f64>() / n;
    let var = returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let sd = var.sqrt();
    (sd > 0.0)
        .then(|| mean / sd * (n / years).sqrt())
        .and_then(r6)
}

fn side(stats: &[&RunStats], years: f64, sharpe: Option<Decimal>) -> Side {
    let pnl: Decimal = stats.iter().map(|s| s.realized_pnl).sum();
    let open: Decimal = stats.iter().map(|s| s.unrealized_pnl).sum();
    let per_year = r6(years)
        .filter(|y| !y.is_zero())
        .map(|y| ((pnl + open) / y).round_dp(2))
        .unwrap_or_default();
    Side {
        round_trips: stats.iter().map(|s| s.round_trips).sum(),
        realized_pnl: money(pnl),
        open_pnl: money(open),
        total_pnl: money(pnl + open),
        years: r6(years).unwrap_or_default().to_string(),
        pnl_per_year: money(per_year),
        sharpe: sharpe.map(|d| d.to_string()),
    }
}

fn stitched(stats: &[&RunStats], years: f64) -> Side {
    let returns: Vec<f64> = stats
        .iter()
        .flat_map(|s| s.returns.iter().copied())
        .collect();
    side(stats, years, sharpe_of(&returns, years))
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap_or_default()
}

/// Writes the tables and `walkforward.json` into `dir`; returns the headline.
pub fn write(
    dir: &Path,
    section: &WalkforwardSection,
    learner: &str,
    windows: &[WindowResult],
) -> Result<Headline, AppError> {
    // Years the windows' bars actually span (first to last bar of each run), so a window
    // that straddles a gap in the data is not counted as years of trading.
    let test_years: f64 = windows.iter().map(|w| w.baseline.years).sum();
    let train_years: f64 = windows.iter().map(|w| w.learned.in_sample.years).sum();
    let oos: Vec<&RunStats> = windows.iter().map(|w| &w.oos).collect();
    let base: Vec<&RunStats> = windows.iter().map(|w| &w.baseline).collect();
    let is: Vec<&RunStats> = windows.iter().map(|w| &w.learned.in_sample).collect();
    let is_sharpes: Vec<Decimal> = is.iter().filter_map(|s| s.sharpe).collect();
    let is_sharpe = (!is_sharpes.is_empty()).then(|| {
        (is_sharpes.iter().copied().sum::<Decimal>() / Decimal::from(is_sharpes.len())).round_dp(6)
    });
    let out_of_sample = stitched(&oos, test_years);
    let baseline = stitched(&base, test_years);
    let in_sample = side(&is, train_years, is_sharpe);
    let gap_sharpe = match (&in_sample.sharpe, &out_of_sample.sharpe) {
        (Some(a), Some(b)) => Some((dec(a) - dec(b)).to_string()),
        _ => None,
    };
    write_tables(dir, windows)?;
    let mut headline = Headline {
        learner: learner.to_string(),
        mode: format!("{:?}", section.mode).to_lowercase(),
        train: section.train.clone(),
        test: section.test.clone(),
        step: section.step.clone().unwrap_or_else(|| section.test.clone()),
        windows: windows.len(),
        overfit_gap_pnl_per_year: money(
            dec(&in_sample.pnl_per_year) - dec(&out_of_sample.pnl_per_year),
        ),
        overfit_gap_sharpe: gap_sharpe,
        learning_edge_pnl_per_year: money(
            dec(&out_of_sample.pnl_per_year) - dec(&baseline.pnl_per_year),
        ),
        out_of_sample,
        in_sample,
        baseline,
        hash: String::new(),
    };
    let csv = std::fs::read(dir.join("windows.csv"))
        .map_err(|e| AppError::Runtime(format!("windows.csv: {e}")))?;
    let body = serde_json::to_vec_pretty(&headline)
        .map_err(|e| AppError::Runtime(format!("walkforward.json: {e}")))?;
    let mut both = csv;
    both.extend_from_slice(&body);
    headline.hash = sha256_hex(&both);
    let text = serde_json::to_string_pretty(&headline)
        .map_err(|e| AppError::Runtime(format!("walkforward.json: {e}")))?;
    let path = dir.join("walkforward.json");
    std::fs::write(&path, text + "\n")
        .map_err(|e| AppError::Runtime(format!("{}: {e}", path.display())))?;
    Ok(headline)
}

/// Picks one side's stats of a window.
type SideOf = fn(&WindowResult) -> &RunStats;

fn write_tables(dir: &Path, windows: &[WindowResult]) -> Result<(), AppError> {
    let ts = |name: &str, f: fn(&WindowResult) -> i64| {
        let v: Vec<i64> = windows.iter().map(f).collect();
        (
            Field::new(
                name,
                DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
                false,
            ),
            Arc::new(TimestampNanosecondArray::from(v).with_timezone("UTC")) as ArrayRef,
        )
    };
    let int = |name: &str, f: &dyn Fn(&WindowResult) -> i64| {
        let v: Vec<i64> = windows.iter().map(f).collect();
        (
            Field::new(name, DataType::Int64, false),
            Arc::new(Int64Array::from(v)) as ArrayRef,
        )
    };
    let text = |name: &str, f: &dyn Fn(&WindowResult) -> String| {
        let v: Vec<String> = windows.iter().map(f).collect();
        (
            Field::new(name, DataType::Utf8, false),
            Arc::new(StringArray::from(v)) as ArrayRef,
        )
    };
    let sides: [(&str, SideOf); 3] = [
        ("is", |w| &w.learned.in_sample),
        ("oos", |w| &w.oos),
        ("baseline", |w| &w.baseline),
    ];
    let mut cols = vec![
        int("window", &|w| w.window.index as i64),
        ts("train_start", |w| w.window.train.0 .0),
        ts("train_end", |w| w.window.train.1 .0),
        ts("test_start", |w| w.window.test.0 .0),
        ts("test_end", |w| w.window.test.1 .0),
        text("learned", &|w| w.learned.digest.clone()),
    ];
    let mut header: Vec<String> = [
        "window",
        "train_start",
        "train_end",
        "test_start",
        "test_end",
        "learned",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for (prefix, get) in sides {
        cols.push(int(&format!("{prefix}_trades"), &|w| {
            get(w).round_trips as i64
        }));
        let pnl: Vec<Option<Decimal>> = windows.iter().map(|w| Some(get(w).realized_pnl)).collect();
        cols.push(decimal_column(&format!("{prefix}_pnl"), &pnl)?);
        let open: Vec<Option<Decimal>> = windows
            .iter()
            .map(|w| Some(get(w).unrealized_pnl))
            .collect();
        cols.push(decimal_column(&format!("{prefix}_open_pnl"), &open)?);
        let sharpe: Vec<Option<Decimal>> = windows.iter().map(|w| get(w).sharpe).collect();
        cols.push(decimal_column(&format!("{prefix}_sharpe"), &sharpe)?);
        header.extend([
            format!("{prefix}_trades"),
            format!("{prefix}_pnl"),
            format!("{prefix}_open_pnl"),
            format!("{prefix}_sharpe"),
        ]);
    }
    cols.push(text("oos_report_hash", &|w| w.oos.report_hash.clone()));
    header.push("oos_report_hash".into());
    write_parquet(&dir.join("windows.parquet"), cols, Vec::new())?;
    let path = dir.join("windows.csv");
    let err = |e: csv::Error| AppError::Runtime(format!("{}: {e}", path.display()));
    let mut w = csv::Writer::from_path(&path).map_err(err)?;
    w.write_record(&header).map_err(err)?;
    for r in windows {
        let iso = |t: lockstep_core::UnixNanos| t.to_iso();
        let mut rec = vec![
            r.window.index.to_string(),
            iso(r.window.train.0),
            iso(r.window.train.1),
            iso(r.window.test.0),
            iso(r.window.test.1),
            r.learned.digest.clone(),
        ];
        for (_, get) in sides {
            let s = get(r);
            rec.push(s.round_trips.to_string());
            rec.push(money(s.realized_pnl));
            rec.push(money(s.unrealized_pnl));
            rec.push(s.sharpe.map(|d| d.to_string()).unwrap_or_default());
        }
        rec.push(r.oos.report_hash.clone());
        w.write_record(&rec).map_err(err)?;
    }
    w.flush()
        .map_err(|e| AppError::Runtime(format!("{}: {e}", path.display())))
}

/// The headline as a short table for the terminal.
pub fn headline_table(h: &Headline, dir: &Path) -> String {
    let row = |name: &str, s: &Side| {
        format!(
            "{name:<16} {:>7} {:>14} {:>12} {:>14} {:>12} {:>10}\n",
            s.round_trips,
            s.realized_pnl,
            s.open_pnl,
            s.total_pnl,
            s.pnl_per_year,
            s.sharpe.as_deref().unwrap_or("-")
        )
    };
    let mut out = format!(
        "walkforward   {} windows ({} {}: train {}, test {}, step {})  ->  {}\n",
        h.windows,
        h.learner,
        h.mode,
        h.train,
        h.test,
        h.step,
        dir.display()
    );
    out.push_str(&format!(
        "{:<16} {:>7} {:>14} {:>12} {:>14} {:>12} {:>10}\n",
        "", "trades", "realized", "open at end", "total P&L", "per year", "Sharpe"
    ));
    out.push_str(&row("out of sample", &h.out_of_sample));
    out.push_str(&row("in sample", &h.in_sample));
    out.push_str(&row("no learning", &h.baseline));
    out.push_str(&format!(
        "overfit gap (IS - OOS) P&L/year {}, Sharpe {}\nlearning edge (OOS - baseline) P&L/year {}\nhash          {}\n",
        h.overfit_gap_pnl_per_year,
        h.overfit_gap_sharpe.as_deref().unwrap_or("-"),
        h.learning_edge_pnl_per_year,
        h.hash
    ));
    out
}
