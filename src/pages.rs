//! The HTML pages a command leaves in its folder: a run's `report.html` (with the
//! `config.toml` and decimated `prices.csv` it draws on), a sweep's `sweep.html` and a
//! walk-forward's `walkforward.html`. None of these files is part of `report_hash`.

use crate::error::AppError;
use lockstep_analytics::decimate::PriceDecimator;
use lockstep_analytics::digest::TradeDigest;
use lockstep_analytics::{sweep_page, tearsheet, walkforward_page, write_atomic};
use lockstep_engine::Input;
use lockstep_live::records::decode_input;
use std::path::{Path, PathBuf};

/// Buckets kept per symbol for the price charts (at most twice as many).
pub const PRICE_BUCKETS: usize = 1_000;

fn runtime(e: impl std::fmt::Display) -> AppError {
    AppError::Runtime(e.to_string())
}

/// What a run's page is drawn from besides its tables.
#[derive(Debug, Default)]
pub struct PageInputs {
    /// The resolved config, as TOML, written to `config.toml`.
    pub config_toml: Option<String>,
    /// Closes seen by the engine, written to `prices.csv`.
    pub prices: Option<PriceDecimator>,
    /// The run's fills and allocations, digested as they were journaled; without them the
    /// page reads the folder's tables.
    pub trades: Option<TradeDigest>,
}

/// Writes `config.toml` and `prices.csv` (when given) and `report.html` into the finished
/// run folder `dir`; returns the page's path.
pub fn write_run_page(dir: &Path, inputs: PageInputs) -> Result<PathBuf, AppError> {
    if let Some(text) = &inputs.config_toml {
        write_atomic(&dir.join("config.toml"), text.as_bytes()).map_err(runtime)?;
    }
    if let Some(p) = &inputs.prices {
        write_atomic(&dir.join("prices.csv"), p.csv().as_bytes()).map_err(runtime)?;
    }
    match inputs.trades {
        Some(trades) => tearsheet::write_digested(dir, trades),
        None => tearsheet::write(dir),
    }
    .map_err(runtime)
}

/// The closes of the bars a paper or live session journaled, decimated; `None` when the
/// journal cannot be read (the page then shows fills without a price line).
pub fn prices_from_journal(db: &Path) -> Option<PriceDecimator> {
    let recorded = crate::journal_cmd::read_journal(db).ok()?;
    let mut prices = PriceDecimator::new(PRICE_BUCKETS);
    let mut symbols = lockstep_core::SymbolTable::new();
    for r in &recorded.records {
        if r.kind != lockstep_live::journal::RecordKind::Bar {
            continue;
        }
        // The records were verified when read; one that does not decode is left out.
        if let Ok(Some(Input::Bar(b))) = decode_input(r.seq, r.kind, &r.body, &mut symbols) {
            prices.push_slot(
                b.symbol.index(),
                || symbols.name(b.symbol).to_string(),
                b.end.0,
                b.scale.to_f64(b.close),
            );
        }
    }
    Some(prices)
}

/// Writes `sweep.html` beside the `sweep.csv` in `dir`.
pub fn write_sweep_page(dir: &Path) -> Result<PathBuf, AppError> {
    sweep_page::write(dir).map_err(runtime)
}

/// Writes `walkforward.html` into the walk-forward folder `dir`.
pub fn write_walkforward_page(dir: &Path) -> Result<PathBuf, AppError> {
    walkforward_page::write(dir).map_err(runtime)
}
