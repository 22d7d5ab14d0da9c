//! `lockstep data import`: any supported file to canonical, time-sorted Parquet with exact
//! text twins. Sorting needs all rows in memory; import is a one-off tool, not the hot path.

use crate::error::DataError;
use crate::open::{open_file, DataOptions};
use crate::writer::{BarRow, BarWriter, PriceColumns};
use lockstep_core::{Interval, SymbolTable, UnixNanos};
use std::path::Path;

/// Result of an import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    /// Rows written.
    pub rows: u64,
    /// Rows skipped (lenient only).
    pub skipped: u64,
}

/// Reads `src` (validated; per-symbol duplicates are errors), sorts by (ts, symbol) and writes `dst`.
pub fn import(src: &Path, dst: &Path, opts: &DataOptions) -> Result<ImportSummary, DataError> {
    let o = DataOptions {
        require_time_order: false,
        interval: Some(opts.interval.unwrap_or(Interval::NANOSECOND)),
        ..opts.clone()
    };
    let mut reader = open_file(src, &o)?;
    let mut table = SymbolTable::new();
    let mut rows = Vec::new();
    while let Some((v, row)) = reader.next_row(&mut table)? {
        if v.quote.is_some() {
            return Err(DataError::file(
                src,
                "holds quote bars (bid/ask); import writes trade bars and would drop the quotes. Read the Parquet file directly; sort it by (ts, symbol) first if needed",
            ));
        }
        rows.push((v, row));
    }
    if rows.is_empty() {
        return Err(DataError::file(src, "no valid rows to import"));
    }
    rows.sort_by(|a, b| {
        (a.0.ts, table.name(a.0.symbol), a.1).cmp(&(b.0.ts, table.name(b.0.symbol), b.1))
    });
    for w in rows.windows(2) {
        if w[0].0.ts == w[1].0.ts && w[0].0.symbol == w[1].0.symbol {
            let name = reader.column_names()[0].clone();
            return Err(DataError::cell(
                src,
                w[1].1,
                &name,
                format!(
                    "duplicate timestamp {} for symbol {} (also at row {})",
                    UnixNanos(w[1].0.ts),
                    table.name(w[1].0.symbol),
                    w[0].1
                ),
            ));
        }
    }
    let scale = reader.scale();
    let mut w = BarWriter::create(dst, PriceColumns::FloatWithText)?;
    for (v, _) in &rows {
        w.push(BarRow {
            ts: v.ts,
            symbol: table.name(v.symbol).to_string(),
            prices: [v.open, v.high, v.low, v.close],
            scale,
            volume: v.volume,
        })?;
    }
    Ok(ImportSummary {
        rows: w.finish()?,
        skipped: reader.skipped(),
    })
}
