//! Streaming CSV tables: a fixed column contract, written row by row and hashed as written.

use crate::hash::HashingWriter;
use std::fs::File;
use std::io::BufWriter;
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
    /// Text.
    Str,
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

/// A CSV file being written.
pub struct CsvTable {
    spec: TableSpec,
    path: PathBuf,
    writer: csv::Writer<HashingWriter<BufWriter<File>>>,
    rows: u64,
    scales: Vec<u32>,
}

/// A finished CSV table.
#[derive(Debug, Clone)]
pub struct WrittenTable {
    /// Its contract.
    pub spec: TableSpec,
    /// The CSV file.
    pub path: PathBuf,
    /// sha256 hex of the file.
    pub digest: String,
    /// Data rows.
    pub rows: u64,
    /// Largest number of decimals seen per column (0 for non-decimal columns).
    pub scales: Vec<u32>,
}

impl CsvTable {
    /// Creates `dir/<name>.csv` and writes the header.
    pub fn create(dir: &Path, spec: TableSpec) -> std::io::Result<Self> {
        let path = dir.join(format!("{}.csv", spec.name));
        let file = BufWriter::new(File::create(&path)?);
        let mut writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(HashingWriter::new(file));
        writer.write_record(spec.columns.iter().map(|c| c.0))?;
        Ok(CsvTable {
            spec,
            path,
            writer,
            rows: 0,
            scales: vec![0; spec.columns.len()],
        })
    }

    /// Appends one row; `cells` must follow the contract's column order.
    pub fn write(&mut self, cells: &[String]) -> std::io::Result<()> {
        debug_assert_eq!(cells.len(), self.spec.columns.len(), "{}", self.spec.name);
        self.writer.write_record(cells)?;
        self.rows += 1;
        for ((cell, (_, kind)), scale) in cells.iter().zip(self.spec.columns).zip(&mut self.scales)
        {
            if *kind == Kind::Dec {
                *scale = (*scale).max(decimals_of(cell));
            }
        }
        Ok(())
    }

    /// Flushes and returns the digest.
    pub fn finish(self) -> std::io::Result<WrittenTable> {
        let inner = self.writer.into_inner().map_err(|e| e.into_error())?;
        let (mut file, digest) = inner.finish();
        std::io::Write::flush(&mut file)?;
        Ok(WrittenTable {
            spec: self.spec,
            path: self.path,
            digest,
            rows: self.rows,
            scales: self.scales,
        })
    }
}
