//! The binary spill behind a report table's Parquet twin: each row's typed values as the
//! CSV got them, so the twin is written from the same values without parsing the CSV back.
//! A decimal column's scale is known only when the table ends (its widest value), so the
//! values wait here, in a file beside the CSV, rather than in memory: a report's memory
//! stays flat however many rows it has. The file is removed when its reader is dropped.

use crate::csv_table::Cell;
use rust_decimal::Decimal;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// Tag bytes of an optional decimal.
const NULL: u8 = 0;
const VALUE: u8 = 1;

/// Appends rows to a spill file.
pub struct SpillWriter {
    path: PathBuf,
    out: BufWriter<File>,
}

impl SpillWriter {
    /// Creates (or truncates) the spill file at `path`.
    pub fn create(path: &Path) -> io::Result<Self> {
        Ok(SpillWriter {
            path: path.to_path_buf(),
            out: BufWriter::with_capacity(1 << 16, File::create(path)?),
        })
    }

    /// Appends one row's values.
    pub fn row(&mut self, cells: &[Cell<'_>]) -> io::Result<()> {
        for cell in cells {
            match *cell {
                Cell::Int(v) => self.out.write_all(&v.to_le_bytes())?,
                Cell::Ts(t) => self.out.write_all(&t.0.to_le_bytes())?,
                Cell::Text(t) => {
                    let len = u32::try_from(t.len())
                        .map_err(|_| io::Error::other("report cell longer than 4 GiB"))?;
                    self.out.write_all(&len.to_le_bytes())?;
                    self.out.write_all(t.as_bytes())?;
                }
                Cell::Dec(Some(d), _) => {
                    self.out.write_all(&[VALUE])?;
                    self.out.write_all(&d.serialize())?;
                }
                Cell::Dec(None, _) => self.out.write_all(&[NULL])?,
            }
        }
        Ok(())
    }

    /// Flushes the file and opens it for reading from the start.
    pub fn finish(mut self) -> io::Result<SpillReader> {
        self.out.flush()?;
        drop(self.out);
        Ok(SpillReader {
            input: BufReader::with_capacity(1 << 16, File::open(&self.path)?),
            path: self.path,
        })
    }
}

/// Reads a finished spill back, value by value, in the order the rows were written; the
/// caller knows each column's kind. Removes the file when dropped.
pub struct SpillReader {
    path: PathBuf,
    input: BufReader<File>,
}

impl SpillReader {
    fn bytes<const N: usize>(&mut self) -> io::Result<[u8; N]> {
        let mut b = [0u8; N];
        self.input.read_exact(&mut b)?;
        Ok(b)
    }

    /// The next [`Cell::Int`] or [`Cell::Ts`] value.
    pub fn int(&mut self) -> io::Result<i64> {
        Ok(i64::from_le_bytes(self.bytes()?))
    }

    /// The next [`Cell::Dec`] value.
    pub fn dec(&mut self) -> io::Result<Option<Decimal>> {
        match self.bytes::<1>()?[0] {
            NULL => Ok(None),
            VALUE => Ok(Some(Decimal::deserialize(self.bytes()?))),
            tag => Err(io::Error::other(format!(
                "{}: bad decimal tag {tag}",
                self.path.display()
            ))),
        }
    }

    /// The next [`Cell::Text`] value, into `out` (cleared first).
    pub fn text(&mut self, out: &mut String) -> io::Result<()> {
        let len = u32::from_le_bytes(self.bytes()?) as usize;
        let mut raw = std::mem::take(out).into_bytes();
        raw.clear();
        raw.resize(len, 0);
        self.input.read_exact(&mut raw)?;
        *out = String::from_utf8(raw).map_err(io::Error::other)?;
        Ok(())
    }
}

impl Drop for SpillReader {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
