//! `lockstep data inspect`: schema, rows, symbols, range, interval and a validation verdict.

use crate::decode::ValidRows;
use crate::error::DataError;
use crate::open::{infer_interval, open_file, DataOptions};
use lockstep_core::{Interval, SymbolId, SymbolTable, UnixNanos};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};

/// What `data inspect` found.
#[derive(Debug, Clone)]
pub struct Inspection {
    /// The file.
    pub file: PathBuf,
    /// Column names and types as stored.
    pub columns: Vec<(String, String)>,
    /// Rows read (valid + bad).
    pub rows: u64,
    /// Rows that failed validation.
    pub bad_rows: u64,
    /// Quote rows with neither a bid nor an ask, or crossed: read, valid, but no market.
    pub quoteless_rows: u64,
    /// Valid rows per symbol.
    pub symbols: BTreeMap<String, u64>,
    /// First and last valid bar open time.
    pub range: Option<(UnixNanos, UnixNanos)>,
    /// Inferred interval, or why it could not be inferred.
    pub interval: Result<Interval, String>,
    /// Decimals prices are read at, and whether they were inferred from the file.
    pub price_decimals: (u32, bool),
    /// The first few validation errors.
    pub errors: Vec<String>,
}

impl Inspection {
    /// True when every row passed validation and there is at least one.
    pub fn is_valid(&self) -> bool {
        self.bad_rows == 0 && self.rows > 0
    }
}

fn schema_of(path: &Path) -> Result<Vec<(String, String)>, DataError> {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
    {
        let mut r =
            csv::Reader::from_path(path).map_err(|e| DataError::file(path, e.to_string()))?;
        let h = r
            .headers()
            .map_err(|e| DataError::file(path, e.to_string()))?;
        return Ok(h
            .iter()
            .map(|c| (c.to_string(), "text".to_string()))
            .collect());
    }
    let f = File::open(path).map_err(|e| DataError::file(path, format!("cannot open: {e}")))?;
    let b = ParquetRecordBatchReaderBuilder::try_new(f)
        .map_err(|e| DataError::file(path, format!("not a readable Parquet file: {e}")))?;
    Ok(b.schema()
        .fields()
        .iter()
        .map(|f| (f.name().clone(), f.data_type().to_string()))
        .collect())
}

/// Reads the whole file (streaming) and reports on it. Schema problems (missing column,
/// wrong type, unreadable file) are errors; bad rows are counted and sampled.
pub fn inspect(path: &Path, opts: &DataOptions) -> Result<Inspection, DataError> {
    let columns = schema_of(path)?;
    let interval = match opts.interval {
        Some(i) => Ok(i),
        None => infer_interval(path, opts).map_err(|e| e.reason),
    };
    let probe = DataOptions {
        lenient: true,
        interval: Some(interval.clone().unwrap_or(Interval::NANOSECOND)),
        ..opts.clone()
    };
    let mut src = open_file(path, &probe)?;
    let mut table = SymbolTable::new();
    let mut counts: Vec<u64> = Vec::new();
    let (mut low, mut high) = (i64::MAX, i64::MIN);
    let mut valid = 0u64;
    while let Some(rows) = src.next_rows(&mut table)? {
        let (ts, symbol) = match &rows {
            ValidRows::Run { ts, symbol } => (*ts, *symbol),
            ValidRows::One(v, _) => (std::slice::from_ref(&v.ts), std::slice::from_ref(&v.symbol)),
        };
        valid += ts.len() as u64;
        // Counted a run of one symbol at a time: one add per run, not a dependent
        // load-add-store per row.
        let mut rest = symbol;
        while let Some(first) = rest.first() {
            let run = rest.iter().take_while(|s| *s == first).count();
            if counts.len() <= first.index() {
                counts.resize(first.index() + 1, 0);
            }
            counts[first.index()] += run as u64;
            rest = &rest[run..];
        }
        low = ts.iter().fold(low, |a, t| a.min(*t));
        high = ts.iter().fold(high, |a, t| a.max(*t));
    }
    let range = (valid > 0).then_some((UnixNanos(low), UnixNanos(high)));
    let bad = src.skipped();
    let quoteless = src.quoteless();
    Ok(Inspection {
        file: path.to_path_buf(),
        columns,
        rows: valid + bad + quoteless,
        bad_rows: bad,
        quoteless_rows: quoteless,
        symbols: counts
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(id, n)| (table.name(SymbolId(id as u32)).to_string(), *n))
            .collect(),
        range,
        interval,
        price_decimals: (
            src.scale().dp(),
            opts.price_scale == crate::price_scale::PriceScale::Infer,
        ),
        errors: src.sample_errors().iter().map(|e| e.to_string()).collect(),
    })
}

/// Symbols listed by name before the rest are only counted.
const SHOWN_SYMBOLS: usize = 12;

impl fmt::Display for Inspection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "file:      {}", self.file.display())?;
        writeln!(f, "columns:")?;
        for (n, t) in &self.columns {
            writeln!(f, "  {n:<14} {t}")?;
        }
        writeln!(f, "rows:      {}", self.rows)?;
        if self.quoteless_rows > 0 {
            writeln!(
                f,
                "quoteless: {} (quote rows with neither a bid nor an ask, or crossed: no market, passed over)",
                self.quoteless_rows
            )?;
        }
        let mut syms: Vec<String> = self
            .symbols
            .iter()
            .take(SHOWN_SYMBOLS)
            .map(|(s, n)| format!("{s} ({n})"))
            .collect();
        if self.symbols.len() > SHOWN_SYMBOLS {
            syms.push(format!("... {} symbols in all", self.symbols.len()));
        }
        writeln!(f, "symbols:   {}", syms.join(", "))?;
        match self.range {
            Some((a, b)) => writeln!(f, "range:     {a} .. {b} (bar open times, UTC)")?,
            None => writeln!(f, "range:     (no valid rows)")?,
        }
        match &self.interval {
            Ok(i) => writeln!(f, "interval:  {i}")?,
            Err(e) => writeln!(f, "interval:  unknown ({e})")?,
        }
        let (dp, inferred) = self.price_decimals;
        let how = if inferred {
            "inferred: the most any price needs, at least 4"
        } else {
            "set"
        };
        writeln!(f, "prices:    {dp} decimals ({how})")?;
        if self.is_valid() {
            write!(f, "verdict:   OK, every row passes validation")
        } else if self.rows == 0 {
            write!(f, "verdict:   EMPTY, no rows")
        } else {
            writeln!(
                f,
                "verdict:   INVALID, {} of {} rows fail validation; first errors:",
                self.bad_rows, self.rows
            )?;
            for e in &self.errors {
                writeln!(f, "  {e}")?;
            }
            Ok(())
        }
    }
}
