//! The shadow book of a run (`run.shadow = true`): a second, simulated run of the same
//! inputs in which each engine trades the signals the other engine was assigned. Its
//! fills and lots go into the run folder as `shadow_fills.csv` / `shadow_lots.csv` (with
//! Parquet twins, part of the report hash) and its totals into `summary.json` as
//! `shadow`, beside the real book's, so both engines are compared at the same prices.

use crate::summary::{StrategyRow, Summary};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The shadow book's totals in `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShadowSummary {
    /// Simulated fills.
    pub fills: u64,
    /// FIFO allocations closed.
    pub round_trips: u64,
    /// Their net P&L.
    pub realized_pnl: String,
    /// Per strategy (per engine), as the real book's `by_strategy`.
    pub by_strategy: BTreeMap<String, StrategyRow>,
}

/// A finished shadow run: its report folder (whose tables are copied in) and summary.
#[derive(Debug, Clone)]
pub struct ShadowBook {
    /// The shadow run's own report folder (removed once copied).
    pub dir: PathBuf,
    /// Its summary.
    pub summary: Summary,
}

impl ShadowBook {
    /// The totals written into the real run's summary.
    pub fn totals(&self) -> ShadowSummary {
        ShadowSummary {
            fills: self.summary.fills,
            round_trips: self.summary.round_trips,
            realized_pnl: self.summary.realized_pnl.clone(),
            by_strategy: self.summary.by_strategy.clone(),
        }
    }
}

/// The tables a shadow book adds, as (file in the shadow run, name in the real run).
pub const SHADOW_FILES: [(&str, &str); 4] = [
    ("fills.csv", "shadow_fills.csv"),
    ("lots.csv", "shadow_lots.csv"),
    ("fills.parquet", "shadow_fills.parquet"),
    ("lots.parquet", "shadow_lots.parquet"),
];
