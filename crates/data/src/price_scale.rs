//! A file's price scale: the decimals its prices need, found by reading them, so that a
//! 5-decimal FX file or an 8-decimal crypto file trades at its true prices and no price is
//! ever rounded without a word. An explicit `data.price_decimals` still wins (and rounds
//! floats to it, refusing text with more decimals).
//!
//! The inferred scale is the largest number of decimals any price needs, and at least
//! [`FLOOR_DP`] (the equity default, so data that fits it replays exactly as before):
//! - exact types say it themselves: an integer column needs 0, a `decimal128(p, s)` column
//!   `s` (its values are read only when `s` is above [`MAX_INFERRED_DP`]);
//! - decimal text needs its digits after the point, trailing zeros aside;
//! - a float needs the fewest decimals that give it back within float noise (a few units in
//!   the last place: `0.07553338` is 8).
//!
//! A price that needs more than [`MAX_INFERRED_DP`] is refused, naming file, row and column.
//! Null, empty, NaN and unparsable cells are left to the decoder, which names them.

use crate::error::DataError;
use crate::price_columns::is_text;
use arrow_array::cast::AsArray;
use arrow_array::types::{Decimal128Type, Float32Type, Float64Type};
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType;
use lockstep_core::Decimal;
use lockstep_core::Scale;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;
use std::fs::File;
use std::path::Path;

/// The fewest decimals an inferred scale has (the equity default).
pub const FLOOR_DP: u32 = 4;
/// The most decimals an inferred scale has; a price needing more is refused.
pub const MAX_INFERRED_DP: u32 = 9;

/// How a file's price decimals are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PriceScale {
    /// Read from the file (see the module documentation).
    #[default]
    Infer,
    /// Set by the user: floats are rounded to it, text with more decimals is refused.
    Fixed(Scale),
}

impl PriceScale {
    /// The fixed scale, or the equity default where there is no file to infer it from
    /// (live feeds).
    pub fn or_default(self) -> Scale {
        match self {
            PriceScale::Fixed(s) => s,
            PriceScale::Infer => Scale::EQUITY,
        }
    }
}

/// The largest number of decimals seen so far, and where it would be exceeded.
struct Needed {
    dp: u32,
}

fn too_fine(file: &Path, row: u64, column: &str, what: &str) -> DataError {
    DataError::cell(
        file,
        row,
        column,
        format!(
            "{what} needs more than {MAX_INFERRED_DP} decimals; set data.price_decimals to round prices to fewer"
        ),
    )
}

/// Decimals of plain decimal text, trailing zeros aside; `None` when the text is not a
/// plain decimal (the decoder will say why).
pub fn text_decimals(text: &str) -> Option<u32> {
    let t = text.trim();
    let frac = match t.split_once('.') {
        None => return Some(0),
        Some((_, f)) => f,
    };
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse::<Decimal>().ok().map(|d| d.normalize().scale());
    }
    Some(frac.trim_end_matches('0').len() as u32)
}

/// The fewest decimals (up to [`MAX_INFERRED_DP`]) that give `x` back within `ulps` units in
/// the last place of a float with `epsilon`; `None` when more are needed. Checks `start`
/// first, which the values seen before usually share.
fn float_decimals(x: f64, epsilon: f64, start: u32) -> Option<u32> {
    let fits = |k: u32| {
        let s = x * 10f64.powi(k as i32);
        (s - s.round()).abs() <= s.abs() * 4.0 * epsilon
    };
    if fits(start) {
        return Some(start);
    }
    (start + 1..=MAX_INFERRED_DP).find(|k| fits(*k))
}

impl Needed {
    /// Takes in one batch of a price column, whose first row is file row `first_row`.
    fn observe(
        &mut self,
        a: &ArrayRef,
        column: &str,
        first_row: u64,
        file: &Path,
    ) -> Result<(), DataError> {
        let row = |i: usize| first_row + i as u64;
        let valid = |i: usize| a.is_valid(i);
        match a.data_type() {
            DataType::Float64 | DataType::Float32 => {
                let (values, epsilon): (Vec<f64>, f64) = match a.data_type() {
                    DataType::Float64 => (
                        a.as_primitive::<Float64Type>().values().to_vec(),
                        f64::EPSILON,
                    ),
                    _ => (
                        a.as_primitive::<Float32Type>()
                            .values()
                            .iter()
                            .map(|v| f64::from(*v))
                            .collect(),
                        f64::from(f32::EPSILON),
                    ),
                };
                for (i, x) in values.iter().enumerate() {
                    if !valid(i) || !x.is_finite() {
                        continue;
                    }
                    match float_decimals(*x, epsilon, self.dp) {
                        Some(k) => self.dp = self.dp.max(k),
                        None => return Err(too_fine(file, row(i), column, &format!("{x}"))),
                    }
                }
            }
            DataType::Decimal128(_, s) => {
                let s = u32::try_from(*s).unwrap_or(0);
                if s <= MAX_INFERRED_DP {
                    self.dp = self.dp.max(s);
                    return Ok(());
                }
                for (i, m) in a
                    .as_primitive::<Decimal128Type>()
                    .values()
                    .iter()
                    .enumerate()
                {
                    if !valid(i) {
                        continue;
                    }
                    let mut need = s;
                    let mut m = *m;
                    while need > 0 && m % 10 == 0 {
                        m /= 10;
                        need -= 1;
                    }
                    if need > MAX_INFERRED_DP {
                        let text = Decimal::try_from_i128_with_scale(
                            a.as_primitive::<Decimal128Type>().value(i),
                            s,
                        )
                        .map_or_else(|_| "a value".to_string(), |d| d.to_string());
                        return Err(too_fine(file, row(i), column, &text));
                    }
                    self.dp = self.dp.max(need);
                }
            }
            t if is_text(t) => {
                let c = arrow_cast::cast(a, &DataType::Utf8)
                    .map_err(|e| DataError::column(file, column, e.to_string()))?;
                for (i, v) in c.as_string::<i32>().iter().enumerate() {
                    if let Some(text) = v {
                        self.text(text, row(i), column, file)?;
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn text(&mut self, text: &str, row: u64, column: &str, file: &Path) -> Result<(), DataError> {
        match text_decimals(text) {
            Some(k) if k > MAX_INFERRED_DP => {
                Err(too_fine(file, row, column, &format!("`{}`", text.trim())))
            }
            Some(k) => {
                self.dp = self.dp.max(k);
                Ok(())
            }
            None => Ok(()),
        }
    }

    fn scale(&self) -> Scale {
        Scale::new(self.dp.max(FLOOR_DP)).unwrap_or(Scale::EQUITY)
    }
}

/// The scale of a Parquet file's price columns `columns` (by name), reading only those.
pub fn infer_parquet(path: &Path, columns: &[String]) -> Result<Scale, DataError> {
    let open = || -> Result<_, DataError> {
        let f = File::open(path).map_err(|e| DataError::file(path, format!("cannot open: {e}")))?;
        ParquetRecordBatchReaderBuilder::try_new(f)
            .map_err(|e| DataError::file(path, format!("not a readable Parquet file: {e}")))
    };
    let builder = open()?;
    let schema = builder.schema().clone();
    let mut needed = Needed { dp: 0 };
    let mut scan = Vec::new();
    for name in columns {
        let Some((i, field)) = schema.column_with_name(name) else {
            continue;
        };
        match *field.data_type() {
            DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => {}
            DataType::Decimal128(_, s) if u32::try_from(s).is_ok_and(|s| s <= MAX_INFERRED_DP) => {
                needed.dp = needed.dp.max(u32::try_from(s).unwrap_or(0));
            }
            _ => scan.push(i),
        }
    }
    if scan.is_empty() {
        return Ok(needed.scale());
    }
    let mask = ProjectionMask::roots(builder.parquet_schema(), scan);
    let reader = builder
        .with_projection(mask)
        .with_batch_size(65_536)
        .build()
        .map_err(|e| DataError::file(path, format!("not a readable Parquet file: {e}")))?;
    let mut first_row = 1u64;
    for batch in reader {
        let batch = batch
            .map_err(|e| DataError::file(path, format!("not a readable Parquet file: {e}")))?;
        for (k, field) in batch.schema().fields().iter().enumerate() {
            needed.observe(batch.column(k), field.name(), first_row, path)?;
        }
        first_row += batch.num_rows() as u64;
    }
    Ok(needed.scale())
}

/// The scale of a CSV file's price columns at `columns` (header index and name).
pub fn infer_csv(path: &Path, columns: &[(usize, String)]) -> Result<Scale, DataError> {
    let f = File::open(path).map_err(|e| DataError::file(path, format!("cannot open: {e}")))?;
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(f);
    let mut record = csv::ByteRecord::new();
    let mut needed = Needed { dp: 0 };
    let mut row = 0u64;
    // A record the reader refuses is left to the decoder, which names it.
    while let Ok(true) = reader.read_byte_record(&mut record) {
        row += 1;
        for (k, name) in columns {
            let Some(text) = record.get(*k).and_then(|b| std::str::from_utf8(b).ok()) else {
                continue;
            };
            needed.text(text, row, name, path)?;
        }
    }
    Ok(needed.scale())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_decimals_ignore_trailing_zeros() {
        assert_eq!(text_decimals("1.23450"), Some(4));
        assert_eq!(text_decimals(" 100 "), Some(0));
        assert_eq!(text_decimals("0.07553338"), Some(8));
        assert_eq!(text_decimals("1.000000000000"), Some(0));
        assert_eq!(text_decimals("abc.x"), None);
    }

    #[test]
    fn float_decimals_within_noise() {
        let e = f64::EPSILON;
        assert_eq!(float_decimals(0.07553338, e, 0), Some(8));
        assert_eq!(float_decimals(1.10525, e, 0), Some(5));
        assert_eq!(float_decimals(738.0, e, 0), Some(0));
        assert_eq!(float_decimals(0.1 + 0.2, e, 0), Some(1));
        assert_eq!(float_decimals(1.0 / 3.0, e, 0), None);
        assert_eq!(
            float_decimals(f64::from(1.1f32), f64::from(f32::EPSILON), 0),
            Some(1)
        );
    }
}
