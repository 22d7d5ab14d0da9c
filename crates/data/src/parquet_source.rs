//! Streaming Parquet reader: one record batch at a time, only the needed columns.

use crate::columns::{resolve, resolve_quotes, ColumnMap, QuoteMap};
use crate::decode::{BatchReader, DecodedBatch};
use crate::error::DataError;
use crate::price_columns::{decode_price, is_text, wrong};
use crate::quote_decode::decode_quotes;
use crate::timeparse::parse_ts_text;
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type, TimestampNanosecondType};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use chrono_tz::Tz;
use lockstep_core::{Scale, SymbolId, SymbolTable};
use parquet::arrow::arrow_reader::{
    ArrowReaderOptions, ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::ProjectionMask;
use parquet::basic::Type as PhysicalType;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Rows per decoded batch of a file read alone ([`batch_rows`] for several).
pub const BATCH_ROWS: usize = 8_192;

/// Rows per decoded batch when `files` files are merged: [`BATCH_ROWS`] shared among them,
/// at least 1,024. A merge touches every file's batch in turn, so smaller batches keep more
/// of them in cache and less in memory (100 synthetic files of 500 k bars: 1,024 rows each,
/// 10.3 s and 254 MiB peak, where 65,536 rows took 13.0 s and 580 MiB).
pub fn batch_rows(files: usize) -> usize {
    (BATCH_ROWS * 4 / files.max(1)).clamp(1_024, BATCH_ROWS)
}

/// Reads bars from a Parquet file batch by batch.
pub struct ParquetBatchReader {
    file: PathBuf,
    reader: ParquetRecordBatchReader,
    names: [String; 6],
    quote_cols: Option<[String; 8]>,
    symbol_col: Option<String>,
    fixed_symbol: String,
    scale: Scale,
    tz: Option<Tz>,
    next_row: u64,
}

fn is_number(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Float64
            | DataType::Float32
            | DataType::Int64
            | DataType::Int32
            | DataType::Decimal128(_, _)
            | DataType::Decimal64(_, _)
    ) || is_text(t)
}

impl ParquetBatchReader {
    /// Opens `path`, checks the schema (missing columns, wrong types) and prepares a
    /// projection of the needed columns. `fixed_symbol` is used when there is no `symbol` column.
    pub fn open(
        path: &Path,
        fixed_symbol: &str,
        scale: Scale,
        tz: Option<Tz>,
        batch_rows: usize,
    ) -> Result<Self, DataError> {
        let f = File::open(path).map_err(|e| DataError::file(path, format!("cannot open: {e}")))?;
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        if len == 0 {
            return Err(DataError::file(path, "empty file (0 bytes)"));
        }
        let builder = ParquetRecordBatchReaderBuilder::try_new(f)
            .map_err(|e| DataError::file(path, format!("not a readable Parquet file: {e}")))?;
        check_chunks(path, builder.metadata(), len)?;
        let builder = with_read_hints(path, builder);
        let schema = builder.schema().clone();
        let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        let quotes = resolve_quotes(path, &names)?;
        let map = match &quotes {
            Some(q) => quote_column_map(path, &names, q)?,
            None => resolve(path, &names)?,
        };
        let ts_type = schema.field(map.idx[0]).data_type();
        if !matches!(ts_type, DataType::Timestamp(_, _)) && !is_text(ts_type) {
            return Err(DataError::column(
                path,
                &map.names[0],
                format!("wrong type {ts_type}: expected a timestamp or ISO-8601 text"),
            ));
        }
        let numeric = |idx: &[usize], names: &[String]| {
            for (i, name) in idx.iter().zip(names) {
                let t = schema.field(*i).data_type();
                if !is_number(t) {
                    return Err(DataError::column(
                        path,
                        name,
                        format!("wrong type {t}: expected float, integer, decimal or decimal text"),
                    ));
                }
            }
            Ok(())
        };
        numeric(&map.idx[1..], &map.names[1..])?;
        let mut picked = map.idx.to_vec();
        if let Some(q) = &quotes {
            numeric(&q.idx, &q.names)?;
            picked.extend(q.idx);
        }
        picked.sort_unstable();
        picked.dedup();
        let out_names = map.names;
        let symbol_col = match names.iter().position(|n| n == "symbol") {
            Some(i) => {
                let t = schema.field(i).data_type();
                let ok = is_text(t) || matches!(t, DataType::Dictionary(_, v) if is_text(v));
                if !ok {
                    return Err(DataError::column(
                        path,
                        "symbol",
                        format!("wrong type {t}: expected text"),
                    ));
                }
                picked.push(i);
                Some("symbol".to_string())
            }
            None => None,
        };
        let mask = ProjectionMask::roots(builder.parquet_schema(), picked);
        let reader = builder
            .with_projection(mask)
            .with_batch_size(batch_rows)
            .build()
            .map_err(|e| DataError::file(path, format!("not a readable Parquet file: {e}")))?;
        Ok(ParquetBatchReader {
            file: path.to_path_buf(),
            reader,
            names: out_names,
            quote_cols: quotes.map(|q| q.names),
            symbol_col,
            fixed_symbol: fixed_symbol.to_string(),
            scale,
            tz,
            next_row: 1,
        })
    }

    /// The price columns the scale is read from (OHLC, or the bid and ask sides of quotes).
    pub fn price_columns(&self) -> Vec<String> {
        match &self.quote_cols {
            Some(q) => q.to_vec(),
            None => self.names[1..5].to_vec(),
        }
    }

    /// Decodes prices at `scale` from now on.
    pub fn set_scale(&mut self, scale: Scale) {
        self.scale = scale;
    }

    fn decode(
        &self,
        batch: &RecordBatch,
        symbols: &mut SymbolTable,
        recycled: DecodedBatch,
    ) -> Result<DecodedBatch, DataError> {
        let n = batch.num_rows();
        let mut out = recycled;
        out.reset(self.next_row);
        let col = |name: &str| -> Result<&ArrayRef, DataError> {
            batch.column_by_name(name).ok_or_else(|| {
                DataError::column(&self.file, name, "column vanished from a row group")
            })
        };
        decode_ts(
            col(&self.names[0])?,
            &self.names[0],
            self.tz,
            &mut out,
            &self.file,
        )?;
        if let Some(qnames) = &self.quote_cols {
            let cols = qnames
                .iter()
                .map(|n| col(n))
                .collect::<Result<Vec<_>, _>>()?;
            decode_quotes(&cols, qnames, self.scale, &self.file, &mut out)?;
        } else {
            for k in 0..4 {
                let name = &self.names[k + 1];
                let buf = std::mem::take(&mut out.price[k]);
                out.price[k] =
                    decode_price(col(name)?, name, self.scale, &mut out.bad, &self.file, buf)?;
            }
            let buf = std::mem::take(&mut out.volume);
            out.volume = decode_volume(
                col(&self.names[5])?,
                &self.names[5],
                &mut out.bad,
                &self.file,
                buf,
            )?;
        }
        match &self.symbol_col {
            Some(name) => decode_symbols(col(name)?, name, symbols, &mut out)?,
            None => {
                let id = symbols.intern(&self.fixed_symbol);
                out.symbol.resize(n, id);
            }
        }
        out.finish();
        Ok(out)
    }
}

impl BatchReader for ParquetBatchReader {
    fn next_batch(
        &mut self,
        symbols: &mut SymbolTable,
        recycled: DecodedBatch,
    ) -> Result<Option<DecodedBatch>, DataError> {
        // A corrupted page can make the Parquet decoder panic: that is bad input, refused
        // naming the file and the rows, never a crash.
        let reader = &mut self.reader;
        let next = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| reader.next()))
            .map_err(|_| {
                DataError::file(
                    &self.file,
                    format!("corrupt Parquet data in the rows from {}", self.next_row),
                )
            })?;
        match next {
            None => Ok(None),
            Some(Err(e)) => Err(DataError::file(
                &self.file,
                format!("cannot read rows from {}: {e}", self.next_row),
            )),
            Some(Ok(batch)) => {
                let decoded = self.decode(&batch, symbols, recycled)?;
                self.next_row += batch.num_rows() as u64;
                Ok(Some(decoded))
            }
        }
    }

    fn column_names(&self) -> [String; 6] {
        self.names.clone()
    }
}

/// Refuses a file whose column chunks lie outside it (negative or past-the-end offsets and
/// sizes): the Parquet reader would otherwise stop on an assertion.
fn check_chunks(
    path: &Path,
    meta: &parquet::file::metadata::ParquetMetaData,
    len: u64,
) -> Result<(), DataError> {
    let len = i64::try_from(len).unwrap_or(i64::MAX);
    for (g, group) in meta.row_groups().iter().enumerate() {
        for col in group.columns() {
            let start = col
                .dictionary_page_offset()
                .unwrap_or(col.data_page_offset());
            let size = col.compressed_size();
            let inside =
                start >= 0 && size >= 0 && start.checked_add(size).is_some_and(|end| end <= len);
            if !inside {
                return Err(DataError::column(
                    path,
                    col.column_path().string().as_str(),
                    format!("corrupt Parquet metadata: row group {g} claims bytes {start}..+{size} of a {len}-byte file"),
                ));
            }
        }
    }
    Ok(())
}

/// Reopens the file asking for two cheaper readings, when they apply:
/// - a plain-text `symbol` column as a dictionary, so each batch interns a handful of
///   distinct symbols instead of comparing one string per row;
/// - a decimal column stored as 64-bit integers as `decimal64`, so its mantissas are read
///   as they are stored instead of widened to 128 bits and narrowed back.
///
/// Keeps the original reader when nothing applies or the file cannot be read that way.
fn with_read_hints(
    path: &Path,
    builder: ParquetRecordBatchReaderBuilder<File>,
) -> ParquetRecordBatchReaderBuilder<File> {
    let schema = builder.schema().clone();
    let leaves = builder.parquet_schema();
    let stored_as_i64 = |name: &str| {
        leaves
            .columns()
            .iter()
            .any(|c| c.path().string() == name && c.physical_type() == PhysicalType::INT64)
    };
    let mut hinted_any = false;
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| {
            let hint = match f.data_type() {
                DataType::Utf8 if f.name() == "symbol" => Some(DataType::Dictionary(
                    Box::new(DataType::Int32),
                    Box::new(DataType::Utf8),
                )),
                DataType::Decimal128(p, s) if *p <= 18 && stored_as_i64(f.name()) => {
                    Some(DataType::Decimal64(*p, *s))
                }
                _ => None,
            };
            match hint {
                Some(t) => {
                    hinted_any = true;
                    Field::new(f.name(), t, f.is_nullable())
                }
                None => f.as_ref().clone(),
            }
        })
        .collect();
    if !hinted_any {
        return builder;
    }
    let hinted = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
    let reopened = File::open(path).ok().and_then(|f| {
        ParquetRecordBatchReaderBuilder::try_new_with_options(
            f,
            ArrowReaderOptions::new().with_schema(hinted),
        )
        .ok()
    });
    reopened.unwrap_or(builder)
}

/// The (ts, open, high, low, close, volume) map of a quote file: the price fields name the
/// mark's sources (the mid of bid and ask), for messages; quote columns are read separately.
fn quote_column_map(path: &Path, names: &[String], q: &QuoteMap) -> Result<ColumnMap, DataError> {
    let (ts_i, ts_name) = crate::columns::pick_ts_column(names)
        .ok_or_else(|| DataError::column(path, "ts", "missing column"))?;
    let mark = |k: usize| format!("mid({}, {})", q.names[k], q.names[k + 4]);
    Ok(ColumnMap {
        idx: [ts_i, q.idx[0], q.idx[1], q.idx[2], q.idx[3], q.idx[3]],
        names: [
            ts_name.to_string(),
            mark(0),
            mark(1),
            mark(2),
            mark(3),
            "volume (none in quote bars)".to_string(),
        ],
    })
}

fn decode_ts(
    a: &ArrayRef,
    name: &str,
    tz: Option<Tz>,
    out: &mut DecodedBatch,
    file: &Path,
) -> Result<(), DataError> {
    let n = a.len();
    match a.data_type() {
        DataType::Timestamp(unit, _) => {
            let ns = if *unit == TimeUnit::Nanosecond {
                a.clone()
            } else {
                arrow_cast::cast(a, &DataType::Timestamp(TimeUnit::Nanosecond, None)).map_err(
                    |e| {
                        DataError::column(file, name, format!("cannot convert to nanoseconds: {e}"))
                    },
                )?
            };
            let arr = ns.as_primitive::<TimestampNanosecondType>();
            out.ts.extend_from_slice(arr.values());
            if arr.null_count() > 0 || a.null_count() != arr.null_count() {
                for i in 0..n {
                    if arr.is_null(i) {
                        out.bad.push((
                            i,
                            name.to_string(),
                            "missing or out-of-range timestamp".into(),
                        ));
                    }
                }
            }
        }
        t if is_text(t) => {
            let s = arrow_cast::cast(a, &DataType::Utf8).map_err(|_| wrong(file, name, t))?;
            let s = s.as_string::<i32>();
            for i in 0..n {
                if s.is_null(i) {
                    out.ts.push(0);
                    out.bad.push((i, name.to_string(), "missing value".into()));
                    continue;
                }
                match parse_ts_text(s.value(i), tz) {
                    Ok(v) => out.ts.push(v),
                    Err(r) => {
                        out.ts.push(0);
                        out.bad.push((i, name.to_string(), r));
                    }
                }
            }
        }
        t => return Err(wrong(file, name, t)),
    }
    Ok(())
}

fn decode_volume(
    a: &ArrayRef,
    name: &str,
    bad: &mut Vec<(usize, String, String)>,
    file: &Path,
    mut v: Vec<f64>,
) -> Result<Vec<f64>, DataError> {
    let n = a.len();
    v.clear();
    let t = a.data_type().clone();
    let as_f64 = if is_text(&t) {
        let c = arrow_cast::cast(a, &DataType::Utf8).map_err(|_| wrong(file, name, &t))?;
        let s = c.as_string::<i32>();
        for i in 0..n {
            match s.is_valid(i).then(|| s.value(i).trim().parse::<f64>()) {
                Some(Ok(x)) => v.push(x),
                _ => {
                    v.push(0.0);
                    bad.push((i, name.to_string(), "volume is not a number".into()));
                }
            }
        }
        return Ok(v);
    } else {
        arrow_cast::cast(a, &DataType::Float64).map_err(|_| wrong(file, name, &t))?
    };
    let arr = as_f64.as_primitive::<Float64Type>();
    if arr.null_count() > 0 {
        for i in 0..n {
            if arr.is_null(i) {
                bad.push((i, name.to_string(), "missing value".into()));
            }
        }
    }
    v.extend_from_slice(arr.values());
    Ok(v)
}

fn decode_symbols(
    a: &ArrayRef,
    name: &str,
    symbols: &mut SymbolTable,
    out: &mut DecodedBatch,
) -> Result<(), DataError> {
    let n = a.len();
    if let Some(dict) = a.as_any_dictionary_opt() {
        let values = arrow_cast::cast(dict.values(), &DataType::Utf8)
            .map_err(|e| DataError::column(Path::new(""), name, e.to_string()))?;
        let values = values.as_string::<i32>();
        let ids: Vec<SymbolId> = (0..values.len())
            .map(|i| symbols.intern(values.value(i)))
            .collect();
        let keys = arrow_cast::cast(dict.keys(), &DataType::Int64)
            .map_err(|e| DataError::column(Path::new(""), name, e.to_string()))?;
        let keys = keys.as_primitive::<Int64Type>();
        if keys.null_count() == 0 {
            let start = out.symbol.len();
            let mut all_known = true;
            out.symbol.extend(keys.values().iter().map(|k| {
                let id = usize::try_from(*k).ok().and_then(|k| ids.get(k).copied());
                all_known &= id.is_some();
                id.unwrap_or(SymbolId(0))
            }));
            if all_known {
                return Ok(());
            }
            out.symbol.truncate(start);
        }
        for i in 0..n {
            let id = usize::try_from(keys.value(i))
                .ok()
                .and_then(|k| ids.get(k).copied());
            match id {
                Some(id) if keys.is_valid(i) => out.symbol.push(id),
                _ => {
                    out.symbol.push(SymbolId(0));
                    out.bad.push((i, name.to_string(), "missing symbol".into()));
                }
            }
        }
        return Ok(());
    }
    let c = arrow_cast::cast(a, &DataType::Utf8)
        .map_err(|e| DataError::column(Path::new(""), name, e.to_string()))?;
    let s = c.as_string::<i32>();
    let mut prev: Option<(&str, SymbolId)> = None;
    for i in 0..n {
        if s.is_null(i) || s.value(i).is_empty() {
            out.symbol.push(SymbolId(0));
            out.bad.push((i, name.to_string(), "missing symbol".into()));
            continue;
        }
        let v = s.value(i);
        let id = match prev {
            Some((p, id)) if p == v => id,
            _ => symbols.intern(v),
        };
        prev = Some((v, id));
        out.symbol.push(id);
    }
    Ok(())
}
