//! Streaming CSV tables: a fixed column contract, written row by row from typed cells into
//! one reused buffer of about [`CHUNK`] bytes, which is hashed and written out whenever it
//! fills, with the same values going to the table's Parquet twin as they are written
//! ([`crate::parquet_twin`]).

use crate::fmt::{push_dec, push_int};
use crate::hash::HashingWriter;
use crate::parquet_twin::{DecimalShape, TwinWriter};
use lockstep_core::{IsoWriter, UnixNanos};
use rust_decimal::Decimal;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// How a column is typed in the Parquet twin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// ISO-8601 UTC text in CSV; `timestamp[ns, UTC]` in Parquet.
    Ts,
    /// Plain decimal text in CSV (empty = null); exact `decimal128(38, s)` in Parquet.
    Dec,
    /// Integer.
    Int,
    /// Text from a small set (a symbol, a side, a reason): dictionary-encoded in Parquet.
    Str,
    /// Text nearly unique per row (an order's client id): plain in Parquet, where a
    /// dictionary would only cost time and space.
    Id,
}

/// One value of a row, typed as its column ([`Kind`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    /// An integer ([`Kind::Int`]).
    Int(i64),
    /// Text ([`Kind::Str`] or [`Kind::Id`]), quoted in the CSV only when it holds `,`, `"`, CR or LF.
    Text(&'a str),
    /// An instant ([`Kind::Ts`]).
    Ts(UnixNanos),
    /// A decimal with at least this many decimals in the CSV, or empty ([`Kind::Dec`]).
    Dec(Option<Decimal>, u32),
}

/// Digits after the decimal point of plain decimal text.
pub fn decimals_of(text: &str) -> u32 {
    text.split_once('.').map_or(0, |(_, f)| f.len() as u32)
}

/// A table's name and column contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableSpec {
    /// File stem (`fills`, `lots`, ...).
    pub name: &'static str,
    /// Column names and kinds, in output order.
    pub columns: &'static [(&'static str, Kind)],
}

/// Bytes of formatted rows gathered before they are hashed and written in one call.
pub const CHUNK: usize = 1 << 16;

/// A CSV file being written.
pub struct CsvTable {
    spec: TableSpec,
    path: PathBuf,
    out: HashingWriter<File>,
    twin: TwinWriter,
    /// Formatted rows not yet written: rows are formatted straight into it.
    pending: Vec<u8>,
    rows: u64,
    /// Instants written as ISO text, the date of the last one kept.
    iso: IsoWriter,
    /// Per column, the most decimals any value has had in the CSV.
    scales: Vec<u32>,
    /// Per column, the most digits before the point any value has had
    /// ([`crate::fmt::DecText::whole_digits`]).
    whole_digits: Vec<i32>,
}

/// The precision a decimal column takes in the Parquet twin: 18 (stored as 64-bit
/// integers) when its `scale` is at most 18 and every value at that scale fits 18 digits
/// (`whole_digits` before the point), else 38.
pub fn twin_precision(scale: u32, whole_digits: i32) -> u8 {
    if scale <= 18 && i64::from(scale) + i64::from(whole_digits) <= 18 {
        18
    } else {
        38
    }
}

/// A finished CSV table.
pub struct WrittenTable {
    /// Its contract.
    pub spec: TableSpec,
    /// The CSV file.
    pub path: PathBuf,
    /// sha256 hex of the file.
    pub digest: String,
    /// Data rows.
    pub rows: u64,
}

/// Appends `text` as a CSV field: quoted, with quotes doubled, only when it holds a comma,
/// a quote, CR or LF (the `csv` crate's "necessary" style).
fn push_field(line: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    if bytes
        .iter()
        .any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
    {
        line.push(b'"');
        for &b in bytes {
            if b == b'"' {
                line.push(b'"');
            }
            line.push(b);
        }
        line.push(b'"');
    } else {
        line.extend_from_slice(bytes);
    }
}

impl CsvTable {
    /// Creates `dir/<name>.csv` and writes the header; its twin will be `dir/<name>.parquet`.
    pub fn create(dir: &Path, spec: TableSpec) -> std::io::Result<Self> {
        let path = dir.join(format!("{}.csv", spec.name));
        let out = HashingWriter::new(File::create(&path)?);
        let mut pending = Vec::with_capacity(CHUNK + 1024);
        for (k, (name, _)) in spec.columns.iter().enumerate() {
            if k > 0 {
                pending.push(b',');
            }
            push_field(&mut pending, name);
        }
        pending.push(b'\n');
        Ok(CsvTable {
            twin: TwinWriter::new(dir.join(format!("{}.parquet", spec.name)), spec.columns),
            spec,
            path,
            out,
            pending,
            rows: 0,
            iso: IsoWriter::default(),
            scales: vec![0; spec.columns.len()],
            whole_digits: vec![i32::MIN; spec.columns.len()],
        })
    }

    /// Appends one row; `cells` follow the contract's column order and kinds.
    pub fn write(&mut self, cells: &[Cell<'_>]) -> std::io::Result<()> {
        debug_assert_eq!(cells.len(), self.spec.columns.len(), "{}", self.spec.name);
        let line = &mut self.pending;
        let columns = self.scales.iter_mut().zip(&mut self.whole_digits);
        for (k, (cell, (scale, whole))) in cells.iter().zip(columns).enumerate() {
            if k > 0 {
                line.push(b',');
            }
            match *cell {
                Cell::Int(v) => push_int(line, v),
                Cell::Text(t) => push_field(line, t),
                Cell::Ts(t) => self.iso.push(t, line),
                Cell::Dec(Some(d), min_dp) => {
                    let text = push_dec(line, d, min_dp);
                    *scale = (*scale).max(text.decimals);
                    *whole = (*whole).max(text.whole_digits);
                }
                Cell::Dec(None, _) => {}
            }
        }
        line.push(b'\n');
        if line.len() >= CHUNK {
            self.out.write_all(line)?;
            line.clear();
        }
        if self.twin.row(cells)? {
            let shapes = self.shapes();
            self.twin.flush(&shapes)?;
        }
        self.rows += 1;
        Ok(())
    }

    /// Each column's shape in the twin: the widest decimals written so far and the
    /// precision they need ([`twin_precision`]).
    fn shapes(&self) -> Vec<DecimalShape> {
        self.scales
            .iter()
            .zip(&self.whole_digits)
            .map(|(s, w)| (*s, twin_precision(*s, *w)))
            .collect()
    }

    /// Flushes the CSV, completes the Parquet twin, and returns the CSV's digest.
    pub fn finish(self) -> std::io::Result<WrittenTable> {
        let shapes = self.shapes();
        self.twin.finish(&shapes)?;
        let mut out = self.out;
        out.write_all(&self.pending)?;
        let (mut file, digest) = out.finish();
        file.flush()?;
        Ok(WrittenTable {
            spec: self.spec,
            path: self.path,
            digest,
            rows: self.rows,
        })
    }
}
