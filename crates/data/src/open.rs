//! Opening a data file by extension, and inferring its bar interval.

use crate::csv_source::CsvBatchReader;
use crate::decode::{BatchReader, FileSource, ValidRows};
use crate::delivery::Delivery;
use crate::error::DataError;
use crate::parquet_source::{ParquetBatchReader, BATCH_ROWS};
use crate::price_scale::{infer_csv, infer_parquet, PriceScale, MAX_INFERRED_DP};
use crate::validate::Validator;
use chrono_tz::Tz;
use lockstep_core::{BarSource, Calendar, Interval, Scale, SymbolId, SymbolTable};
use std::collections::BTreeMap;
use std::path::Path;

/// How to read data files.
#[derive(Debug, Clone)]
pub struct DataOptions {
    /// Symbol for files without a `symbol` column (default: the file stem).
    pub symbol: Option<String>,
    /// Price decimals: inferred per file by default ([`PriceScale`]).
    pub price_scale: PriceScale,
    /// Bar interval; inferred per file when `None`.
    pub interval: Option<Interval>,
    /// Skip and count bad rows instead of failing.
    pub lenient: bool,
    /// Zone of naive text timestamps (UTC when `None`).
    pub tz: Option<Tz>,
    /// Require the whole file in time order (true for streaming replays).
    pub require_time_order: bool,
    /// Trading calendar that decides delivery times (default `24x7`).
    pub calendar: Calendar,
    /// Deliver intraday bars outside the regular session too (default false).
    pub extended_hours: bool,
    /// Rows per decoded Parquet batch (default [`BATCH_ROWS`]; [`batch_rows`] when merging).
    pub batch_rows: usize,
}

impl Default for DataOptions {
    fn default() -> Self {
        DataOptions {
            symbol: None,
            price_scale: PriceScale::Infer,
            interval: None,
            lenient: false,
            tz: None,
            require_time_order: true,
            calendar: Calendar::TwentyFourSeven,
            extended_hours: false,
            batch_rows: BATCH_ROWS,
        }
    }
}

/// The symbol used for a file that has no `symbol` column.
pub fn default_symbol(path: &Path, opts: &DataOptions) -> String {
    opts.symbol.clone().unwrap_or_else(|| {
        path.file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_else(|| "UNKNOWN".to_string())
    })
}

/// A concrete file source of either format.
pub enum AnyFileSource {
    /// Parquet file.
    Parquet(FileSource<ParquetBatchReader>),
    /// CSV file.
    Csv(FileSource<CsvBatchReader>),
}

fn is_csv(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
}

fn wrap<R: BatchReader>(
    reader: R,
    path: &Path,
    interval: Interval,
    scale: Scale,
    opts: &DataOptions,
) -> FileSource<R> {
    let v = Validator::new(
        path.to_path_buf(),
        reader.column_names(),
        opts.lenient,
        opts.require_time_order,
    );
    let delivery = Delivery::new(opts.calendar, interval, opts.extended_hours);
    FileSource::new(reader, path.to_path_buf(), delivery, scale, v)
}

/// Opens `path` (CSV by `.csv` extension, Parquet otherwise) as a validated bar stream.
/// The interval is `opts.interval` or inferred from the file.
pub fn open_file(path: &Path, opts: &DataOptions) -> Result<AnyFileSource, DataError> {
    let interval = match opts.interval {
        Some(i) => i,
        None => infer_interval(path, opts)?,
    };
    open_with_interval(path, opts, interval)
}

fn open_with_interval(
    path: &Path,
    opts: &DataOptions,
    interval: Interval,
) -> Result<AnyFileSource, DataError> {
    let sym = default_symbol(path, opts);
    Ok(if is_csv(path) {
        let mut reader = CsvBatchReader::open(path, &sym, Scale::EQUITY, opts.tz)?;
        let scale = match opts.price_scale {
            PriceScale::Fixed(s) => s,
            PriceScale::Infer => infer_csv(path, &reader.price_columns())?,
        };
        reader.set_scale(scale);
        AnyFileSource::Csv(wrap(reader, path, interval, scale, opts))
    } else {
        let mut reader =
            ParquetBatchReader::open(path, &sym, Scale::EQUITY, opts.tz, opts.batch_rows)?;
        let scale = match opts.price_scale {
            PriceScale::Fixed(s) => s,
            PriceScale::Infer => infer_parquet(path, &reader.price_columns())?,
        };
        reader.set_scale(scale);
        AnyFileSource::Parquet(wrap(reader, path, interval, scale, opts))
    })
}

/// Opens `path` as a boxed [`BarSource`].
pub fn open_source(path: &Path, opts: &DataOptions) -> Result<Box<dyn BarSource>, DataError> {
    Ok(match open_file(path, opts)? {
        AnyFileSource::Parquet(s) => Box::new(s),
        AnyFileSource::Csv(s) => Box::new(s),
    })
}

impl AnyFileSource {
    /// The next valid row, with its file row number.
    pub fn next_row(
        &mut self,
        symbols: &mut SymbolTable,
    ) -> Result<Option<(crate::validate::RowValues, u64)>, DataError> {
        match self {
            AnyFileSource::Parquet(s) => s.next_row(symbols),
            AnyFileSource::Csv(s) => s.next_row(symbols),
        }
    }

    /// The next valid rows, a batch's worth at once where it passes as a whole
    /// ([`FileSource::next_rows`]).
    pub fn next_rows(
        &mut self,
        symbols: &mut SymbolTable,
    ) -> Result<Option<crate::decode::ValidRows<'_>>, DataError> {
        match self {
            AnyFileSource::Parquet(s) => s.next_rows(symbols),
            AnyFileSource::Csv(s) => s.next_rows(symbols),
        }
    }

    /// Quote rows with neither side (or crossed), passed over.
    pub fn quoteless(&self) -> u64 {
        match self {
            AnyFileSource::Parquet(s) => s.quoteless(),
            AnyFileSource::Csv(s) => s.quoteless(),
        }
    }

    /// Rows skipped in lenient mode.
    pub fn skipped(&self) -> u64 {
        match self {
            AnyFileSource::Parquet(s) => s.skipped(),
            AnyFileSource::Csv(s) => s.skipped(),
        }
    }

    /// First lenient-mode errors.
    pub fn sample_errors(&self) -> &[DataError] {
        match self {
            AnyFileSource::Parquet(s) => s.sample_errors(),
            AnyFileSource::Csv(s) => s.sample_errors(),
        }
    }

    /// The scale prices are read at (inferred or fixed).
    pub fn scale(&self) -> Scale {
        match self {
            AnyFileSource::Parquet(s) => s.scale(),
            AnyFileSource::Csv(s) => s.scale(),
        }
    }

    /// Source column names of (ts, open, high, low, close, volume).
    pub fn column_names(&self) -> [String; 6] {
        match self {
            AnyFileSource::Parquet(s) => s.column_names(),
            AnyFileSource::Csv(s) => s.column_names(),
        }
    }
}

/// Rows examined when inferring the interval.
const INFER_ROWS: usize = 10_000;

/// The smallest positive gap between consecutive bars of one symbol within the first rows.
/// Errors when no symbol has two rows there (then set `data.interval`).
pub fn infer_interval(path: &Path, opts: &DataOptions) -> Result<Interval, DataError> {
    // Only times matter here: prices are read at the widest inferable scale, not scanned.
    let probe = DataOptions {
        lenient: true,
        require_time_order: false,
        price_scale: PriceScale::Fixed(Scale::new(MAX_INFERRED_DP).unwrap_or(Scale::EQUITY)),
        ..opts.clone()
    };
    let mut src = open_with_interval(path, &probe, Interval::NANOSECOND)?;
    let mut symbols = SymbolTable::new();
    let mut last: BTreeMap<u32, i64> = BTreeMap::new();
    let mut best: Option<i64> = None;
    let mut see = |symbol: SymbolId, ts: i64| {
        if let Some(prev) = last.insert(symbol.0, ts) {
            let d = ts - prev;
            if d > 0 && best.is_none_or(|b| d < b) {
                best = Some(d);
            }
        }
    };
    // Whole runs of a clean batch at once, as a merge of many files opens each of them here.
    let mut left = INFER_ROWS;
    while left > 0 {
        match src.next_rows(&mut symbols)? {
            None => break,
            Some(ValidRows::One(v, _)) => {
                see(v.symbol, v.ts);
                left -= 1;
            }
            Some(ValidRows::Run { ts, symbol }) => {
                let n = ts.len().min(left);
                for (t, s) in ts[..n].iter().zip(&symbol[..n]) {
                    see(*s, *t);
                }
                left -= n;
            }
        }
    }
    best.and_then(Interval::from_nanos).ok_or_else(|| {
        DataError::file(
            path,
            "cannot infer the bar interval (no symbol has two valid rows); set data.interval, e.g. \"1m\"",
        )
    })
}

/// Total rows of the given files when all are Parquet (from their footers), for progress bars.
pub fn row_count_hint(paths: &[std::path::PathBuf]) -> Option<u64> {
    let mut total = 0u64;
    for p in paths {
        if is_csv(p) {
            return None;
        }
        let f = std::fs::File::open(p).ok()?;
        let b = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f).ok()?;
        total += u64::try_from(b.metadata().file_metadata().num_rows()).ok()?;
    }
    Some(total)
}
