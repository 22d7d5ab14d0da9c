//! Streaming CSV reader (the `csv` crate), one chunk of records at a time.

use crate::columns::{resolve, ColumnMap};
use crate::decode::{BatchReader, DecodedBatch};
use crate::error::DataError;
use crate::timeparse::parse_ts_text;
use chrono_tz::Tz;
use lockstep_core::{FixedError, Scale, SymbolId, SymbolTable};
use std::fs::File;
use std::path::{Path, PathBuf};

/// Records per decoded chunk.
const CHUNK_ROWS: usize = 8_192;

/// Reads bars from a CSV file with a header row.
pub struct CsvBatchReader {
    file: PathBuf,
    reader: csv::Reader<File>,
    idx: [usize; 6],
    names: [String; 6],
    symbol_idx: Option<usize>,
    fixed_symbol: String,
    scale: Scale,
    tz: Option<Tz>,
    next_row: u64,
    record: csv::StringRecord,
}

fn csv_error(file: &Path, e: &csv::Error) -> DataError {
    let row = e.position().map(|p| p.line().saturating_sub(1));
    let reason = match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8 text".to_string(),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("has {len} fields, the header has {expected_len}")
        }
        _ => format!("unreadable CSV: {e}"),
    };
    match row {
        Some(r) if r > 0 => DataError {
            file: file.to_path_buf(),
            row: Some(r),
            column: None,
            reason,
        },
        _ => DataError::file(file, reason),
    }
}

impl CsvBatchReader {
    /// Opens `path` and maps its header to bar fields.
    pub fn open(
        path: &Path,
        fixed_symbol: &str,
        scale: Scale,
        tz: Option<Tz>,
    ) -> Result<Self, DataError> {
        let f = File::open(path).map_err(|e| DataError::file(path, format!("cannot open: {e}")))?;
        if f.metadata().map(|m| m.len()).unwrap_or(0) == 0 {
            return Err(DataError::file(path, "empty file (0 bytes)"));
        }
        let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(f);
        let header = reader.headers().map_err(|e| csv_error(path, &e))?.clone();
        let names: Vec<String> = header.iter().map(|h| h.trim().to_string()).collect();
        let ColumnMap {
            idx,
            names: out_names,
        } = resolve(path, &names)?;
        Ok(CsvBatchReader {
            file: path.to_path_buf(),
            reader,
            idx,
            names: out_names,
            symbol_idx: names.iter().position(|n| n == "symbol"),
            fixed_symbol: fixed_symbol.to_string(),
            scale,
            tz,
            next_row: 1,
            record: csv::StringRecord::new(),
        })
    }
}

impl CsvBatchReader {
    /// The price columns the scale is read from: (header index, name) of open, high, low
    /// and close.
    pub fn price_columns(&self) -> Vec<(usize, String)> {
        (1..5)
            .map(|k| (self.idx[k], self.names[k].clone()))
            .collect()
    }

    /// Parses prices at `scale` from now on.
    pub fn set_scale(&mut self, scale: Scale) {
        self.scale = scale;
    }
}

impl BatchReader for CsvBatchReader {
    fn next_batch(
        &mut self,
        symbols: &mut SymbolTable,
        recycled: DecodedBatch,
    ) -> Result<Option<DecodedBatch>, DataError> {
        let mut out = recycled;
        out.reset(self.next_row);
        let fixed = symbols.intern(&self.fixed_symbol);
        while out.len() < CHUNK_ROWS {
            let more = self
                .reader
                .read_record(&mut self.record)
                .map_err(|e| csv_error(&self.file, &e))?;
            if !more {
                break;
            }
            let i = out.len();
            let r = &self.record;
            let field = |k: usize| r.get(k).unwrap_or("").trim();
            match parse_ts_text(field(self.idx[0]), self.tz) {
                Ok(v) => out.ts.push(v),
                Err(reason) => {
                    out.ts.push(0);
                    out.bad.push((i, self.names[0].clone(), reason));
                }
            }
            for k in 0..4 {
                let text = field(self.idx[k + 1]);
                let parsed = if text.is_empty() {
                    Err(FixedError::NotANumber(String::new()))
                } else {
                    self.scale.parse(text)
                };
                match parsed {
                    Ok(v) => out.price[k].push(v),
                    Err(e) => {
                        out.price[k].push(0);
                        let reason = if text.is_empty() {
                            "missing value".to_string()
                        } else {
                            e.to_string()
                        };
                        out.bad.push((i, self.names[k + 1].clone(), reason));
                    }
                }
            }
            match field(self.idx[5]).parse::<f64>() {
                Ok(v) => out.volume.push(v),
                Err(_) => {
                    out.volume.push(0.0);
                    out.bad
                        .push((i, self.names[5].clone(), "volume is not a number".into()));
                }
            }
            let sym = match self.symbol_idx {
                Some(k) if !field(k).is_empty() => symbols.intern(field(k)),
                Some(_) => {
                    out.bad.push((i, "symbol".into(), "missing symbol".into()));
                    SymbolId(0)
                }
                None => fixed,
            };
            out.symbol.push(sym);
        }
        self.next_row += out.len() as u64;
        out.finish();
        Ok((!out.is_empty()).then_some(out))
    }

    fn column_names(&self) -> [String; 6] {
        self.names.clone()
    }
}
