//! The binary spill behind a report table's Parquet twin: each row's typed values as the
//! CSV got them, so the twin is written from the same values without parsing the CSV back.
//! A decimal column's scale is known only when the table ends (its widest value), so the
//! values wait here: in memory up to [`MEMORY_LIMIT`] bytes, then in a file beside the CSV,
//! so a report's memory stays flat however many rows it has. The file (if any) is removed
//! when its reader is dropped.
//!
//! Encoding: integers and instants as 8 little-endian bytes; text as its length (1 byte, or
//! 255 and 4 bytes) and its bytes; a decimal as a tag (null, 64-bit or 96-bit mantissa), its
//! scale and mantissa.

use crate::csv_table::Cell;
use rust_decimal::Decimal;
use std::fs::File;
use std::io::{self, BufReader, Cursor, Read, Write};
use std::path::{Path, PathBuf};

/// Spill bytes kept in memory before they go to the file.
pub const MEMORY_LIMIT: usize = 8 << 20;

/// Tags of an optional decimal.
const NULL: u8 = 0;
const SMALL: u8 = 1;
const WIDE: u8 = 2;
/// A text length byte saying a 4-byte length follows.
const LONG_TEXT: u8 = u8::MAX;

/// Appends rows to a spill.
pub struct SpillWriter {
    path: PathBuf,
    buf: Vec<u8>,
    file: Option<File>,
}

impl SpillWriter {
    /// A spill that goes to `path` once it outgrows memory.
    pub fn create(path: &Path) -> io::Result<Self> {
        Ok(SpillWriter {
            path: path.to_path_buf(),
            buf: Vec::with_capacity(1 << 16),
            file: None,
        })
    }

    /// Appends one row's values.
    pub fn row(&mut self, cells: &[Cell<'_>]) -> io::Result<()> {
        let b = &mut self.buf;
        for cell in cells {
            match *cell {
                Cell::Int(v) => b.extend_from_slice(&v.to_le_bytes()),
                Cell::Ts(t) => b.extend_from_slice(&t.0.to_le_bytes()),
                Cell::Text(t) => match u8::try_from(t.len()) {
                    Ok(len) if len < LONG_TEXT => {
                        b.push(len);
                        b.extend_from_slice(t.as_bytes());
                    }
                    _ => {
                        let len = u32::try_from(t.len())
                            .map_err(|_| io::Error::other("report cell longer than 4 GiB"))?;
                        b.push(LONG_TEXT);
                        b.extend_from_slice(&len.to_le_bytes());
                        b.extend_from_slice(t.as_bytes());
                    }
                },
                Cell::Dec(Some(d), _) => match i64::try_from(d.mantissa()) {
                    Ok(m) => {
                        b.push(SMALL);
                        b.push(d.scale() as u8);
                        b.extend_from_slice(&m.to_le_bytes());
                    }
                    Err(_) => {
                        b.push(WIDE);
                        b.extend_from_slice(&d.serialize());
                    }
                },
                Cell::Dec(None, _) => b.push(NULL),
            }
        }
        if self.buf.len() >= MEMORY_LIMIT {
            self.flush_to_file()?;
        }
        Ok(())
    }

    fn flush_to_file(&mut self) -> io::Result<()> {
        if self.file.is_none() {
            self.file = Some(File::create(&self.path)?);
        }
        if let Some(f) = &mut self.file {
            f.write_all(&self.buf)?;
        }
        self.buf.clear();
        Ok(())
    }

    /// Ends the spill and opens it for reading from the start.
    pub fn finish(mut self) -> io::Result<SpillReader> {
        let input = if self.file.is_some() {
            self.flush_to_file()?;
            drop(self.file.take());
            Input::File(BufReader::with_capacity(1 << 16, File::open(&self.path)?))
        } else {
            Input::Memory(Cursor::new(std::mem::take(&mut self.buf)))
        };
        Ok(SpillReader {
            path: self.path,
            input,
        })
    }
}

/// Where a finished spill is read from.
enum Input {
    Memory(Cursor<Vec<u8>>),
    File(BufReader<File>),
}

/// Reads a finished spill back, value by value, in the order the rows were written; the
/// caller knows each column's kind. Removes the spill file (if there is one) when dropped.
pub struct SpillReader {
    path: PathBuf,
    input: Input,
}

impl SpillReader {
    fn bytes<const N: usize>(&mut self) -> io::Result<[u8; N]> {
        let mut b = [0u8; N];
        match &mut self.input {
            Input::Memory(c) => c.read_exact(&mut b)?,
            Input::File(f) => f.read_exact(&mut b)?,
        }
        Ok(b)
    }

    fn fill(&mut self, out: &mut [u8]) -> io::Result<()> {
        match &mut self.input {
            Input::Memory(c) => c.read_exact(out),
            Input::File(f) => f.read_exact(out),
        }
    }

    /// The next [`Cell::Int`] or [`Cell::Ts`] value.
    pub fn int(&mut self) -> io::Result<i64> {
        Ok(i64::from_le_bytes(self.bytes()?))
    }

    /// The next [`Cell::Dec`] value.
    pub fn dec(&mut self) -> io::Result<Option<Decimal>> {
        match self.bytes::<1>()?[0] {
            NULL => Ok(None),
            SMALL => {
                let [scale] = self.bytes::<1>()?;
                let m = i64::from_le_bytes(self.bytes()?);
                Decimal::try_from_i128_with_scale(i128::from(m), u32::from(scale))
                    .map(Some)
                    .map_err(io::Error::other)
            }
            WIDE => Ok(Some(Decimal::deserialize(self.bytes()?))),
            tag => Err(io::Error::other(format!(
                "{}: bad decimal tag {tag}",
                self.path.display()
            ))),
        }
    }

    /// The next [`Cell::Text`] value, into `out` (cleared first).
    pub fn text(&mut self, out: &mut String) -> io::Result<()> {
        let len = match self.bytes::<1>()?[0] {
            LONG_TEXT => u32::from_le_bytes(self.bytes()?) as usize,
            short => usize::from(short),
        };
        let mut raw = std::mem::take(out).into_bytes();
        raw.clear();
        raw.resize(len, 0);
        self.fill(&mut raw)?;
        *out = String::from_utf8(raw).map_err(io::Error::other)?;
        Ok(())
    }
}

impl Drop for SpillReader {
    fn drop(&mut self) {
        if matches!(self.input, Input::File(_)) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockstep_core::UnixNanos;
    use std::str::FromStr;

    /// Rows of every kind, read back equal, from memory and (past the limit) from a file.
    #[test]
    fn values_come_back_as_written_from_memory_and_from_the_file() {
        let dir = std::env::temp_dir().join(format!("lockstep-spill-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let long = "x".repeat(300);
        let wide = Decimal::from_str("79228162514264337593543950335").expect("max");
        let small = Decimal::from_str("-738.0100").expect("small");
        for rows in [3usize, MEMORY_LIMIT / 100] {
            let path = dir.join(format!("t{rows}.spill"));
            let mut w = SpillWriter::create(&path).expect("create");
            for i in 0..rows {
                w.row(&[
                    Cell::Int(i as i64 - 5),
                    Cell::Ts(UnixNanos(-(i as i64))),
                    Cell::Text(if i % 2 == 0 { "ab,c" } else { &long }),
                    Cell::Dec(Some(small), 2),
                    Cell::Dec(Some(wide), 0),
                    Cell::Dec(None, 2),
                ])
                .expect("row");
            }
            let mut r = w.finish().expect("finish");
            assert_eq!(path.exists(), rows > 3, "only a large spill goes to a file");
            let mut text = String::new();
            for i in 0..rows {
                assert_eq!(r.int().expect("int"), i as i64 - 5);
                assert_eq!(r.int().expect("ts"), -(i as i64));
                r.text(&mut text).expect("text");
                assert_eq!(text, if i % 2 == 0 { "ab,c" } else { long.as_str() });
                let d = r.dec().expect("dec").expect("some");
                assert_eq!((d, d.scale()), (small, 4));
                assert_eq!(r.dec().expect("wide"), Some(wide));
                assert_eq!(r.dec().expect("null"), None);
            }
            assert!(r.int().is_err(), "nothing more");
            drop(r);
            assert!(!path.exists(), "the file is removed");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
