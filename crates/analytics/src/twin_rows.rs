//! Table rows read from a run's Parquet twins (`fills.parquet`, ...): the same exact values
//! as the CSV, since the report writes both from the same cells, decoded from typed
//! columns and only the columns a row needs. This is several times faster than parsing the
//! CSV text; a decimal comes at its column's scale (the widest of its CSV texts), so it is
//! numerically equal to its CSV text but may carry more trailing zeros.

use crate::error::AnalyticsError;
use crate::run_folder::{EquityRow, FillRow, Label, LotRow};
use arrow_array::cast::AsArray;
use arrow_array::types::{Decimal128Type, Int64Type, TimestampNanosecondType};
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::arrow::ProjectionMask;
use rust_decimal::Decimal;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

/// Rows decoded per batch.
const BATCH: usize = 8_192;

/// Distinct texts kept per label column; a column with more gets the rest uncached.
const KEPT_LABELS: usize = 64;

/// The columns of one batch a row is made of, in the row type's [`TwinRow::COLUMNS`] order,
/// and the texts already seen in each, so a repeated label is shared instead of allocated.
pub struct Columns<'a> {
    arrays: &'a [ArrayRef],
    labels: &'a mut [Vec<Label>],
}

impl Columns<'_> {
    fn column(&self, k: usize) -> Result<&ArrayRef, String> {
        self.arrays.get(k).ok_or_else(|| format!("no column {k}"))
    }

    fn present(a: &ArrayRef, i: usize) -> Result<(), String> {
        if a.is_null(i) {
            return Err("missing value".into());
        }
        Ok(())
    }

    /// Column `k`'s decimal at row `i`.
    pub fn dec(&self, k: usize, i: usize) -> Result<Decimal, String> {
        let a = self.column(k)?;
        Self::present(a, i)?;
        let DataType::Decimal128(_, scale) = a.data_type() else {
            return Err(format!("column {k} is {}, not a decimal", a.data_type()));
        };
        let scale = u32::try_from(*scale).map_err(|e| e.to_string())?;
        let m = a.as_primitive::<Decimal128Type>().value(i);
        Decimal::try_from_i128_with_scale(m, scale).map_err(|e| e.to_string())
    }

    /// Column `k`'s instant (UTC nanoseconds) at row `i`.
    pub fn ts(&self, k: usize, i: usize) -> Result<i64, String> {
        let a = self.column(k)?;
        Self::present(a, i)?;
        a.as_primitive_opt::<TimestampNanosecondType>()
            .map(|t| t.value(i))
            .ok_or_else(|| format!("column {k} is {}, not a timestamp", a.data_type()))
    }

    /// Column `k`'s non-negative integer at row `i`.
    pub fn id(&self, k: usize, i: usize) -> Result<u64, String> {
        let a = self.column(k)?;
        Self::present(a, i)?;
        let v = a
            .as_primitive_opt::<Int64Type>()
            .map(|t| t.value(i))
            .ok_or_else(|| format!("column {k} is {}, not an integer", a.data_type()))?;
        u64::try_from(v).map_err(|_| format!("negative id {v}"))
    }

    /// Column `k`'s text at row `i`, shared with the rows before that had the same text.
    pub fn label(&mut self, k: usize, i: usize) -> Result<Label, String> {
        let a = self.arrays.get(k).ok_or_else(|| format!("no column {k}"))?;
        Self::present(a, i)?;
        let text = a
            .as_string_opt::<i32>()
            .map(|t| t.value(i))
            .ok_or_else(|| format!("column {k} is {}, not text", a.data_type()))?;
        let seen = self
            .labels
            .get_mut(k)
            .ok_or_else(|| format!("no column {k}"))?;
        if let Some(label) = seen.iter().find(|l| ***l == *text) {
            return Ok(label.clone());
        }
        let label = Label::from(text);
        if seen.len() < KEPT_LABELS {
            seen.push(label.clone());
        }
        Ok(label)
    }
}

/// A row type that can be read from a Parquet twin.
pub trait TwinRow: Sized {
    /// The columns it is made of.
    const COLUMNS: &'static [&'static str];
    /// Row `i` of `c` (one batch's [`TwinRow::COLUMNS`], in that order).
    fn from_columns(c: &mut Columns<'_>, i: usize) -> Result<Self, String>;
}

impl TwinRow for EquityRow {
    const COLUMNS: &'static [&'static str] = &["ts", "positions_value", "equity"];
    fn from_columns(c: &mut Columns<'_>, i: usize) -> Result<Self, String> {
        Ok(EquityRow {
            ts: c.ts(0, i)?,
            positions_value: c.dec(1, i)?,
            equity: c.dec(2, i)?,
        })
    }
}

impl TwinRow for LotRow {
    const COLUMNS: &'static [&'static str] = &[
        "symbol",
        "close_fill_id",
        "qty",
        "open_ts",
        "close_ts",
        "net_pnl",
        "exit_reason",
    ];
    fn from_columns(c: &mut Columns<'_>, i: usize) -> Result<Self, String> {
        Ok(LotRow {
            symbol: c.label(0, i)?,
            close_fill_id: c.id(1, i)?,
            qty: c.dec(2, i)?,
            open_ts: c.ts(3, i)?,
            close_ts: c.ts(4, i)?,
            net_pnl: c.dec(5, i)?,
            exit_reason: c.label(6, i)?,
        })
    }
}

impl TwinRow for FillRow {
    const COLUMNS: &'static [&'static str] = &[
        "fill_id",
        "strategy",
        "ts",
        "symbol",
        "side",
        "qty",
        "price",
        "fee",
        "exit_reason",
    ];
    fn from_columns(c: &mut Columns<'_>, i: usize) -> Result<Self, String> {
        Ok(FillRow {
            fill_id: c.id(0, i)?,
            strategy: c.label(1, i)?,
            ts: c.ts(2, i)?,
            symbol: c.label(3, i)?,
            side: c.label(4, i)?,
            qty: c.dec(5, i)?,
            price: c.dec(6, i)?,
            fee: c.dec(7, i)?,
            exit_reason: c.label(8, i)?,
        })
    }
}

/// The rows of a Parquet twin, one at a time; an error names the file and row.
pub struct TwinRows<T> {
    path: PathBuf,
    reader: ParquetRecordBatchReader,
    /// The current batch's columns, in `T::COLUMNS` order.
    columns: Vec<ArrayRef>,
    /// Rows in the current batch.
    rows: usize,
    /// Where each of `T::COLUMNS` is in a batch.
    at: Vec<usize>,
    /// Per column, the texts seen so far ([`Columns::label`]).
    labels: Vec<Vec<Label>>,
    pos: usize,
    /// 1-based row of the next row (as the CSV's line, the header being line 1).
    line: usize,
    row: PhantomData<T>,
}

impl<T: TwinRow> TwinRows<T> {
    /// Opens `path`, reading only `T::COLUMNS`; an error when the file cannot be read or
    /// lacks one of them.
    pub fn open(path: &Path) -> Result<Self, AnalyticsError> {
        let file = std::fs::File::open(path).map_err(|e| AnalyticsError::file(path, e))?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(file)
            .map_err(|e| AnalyticsError::file(path, e))?;
        let schema = builder.schema().clone();
        let roots = T::COLUMNS
            .iter()
            .map(|name| {
                schema
                    .index_of(name)
                    .map_err(|_| AnalyticsError::file(path, format!("no column `{name}`")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut sorted = roots.clone();
        sorted.sort_unstable();
        // A projected batch holds the columns in file order.
        let at = roots
            .iter()
            .map(|r| sorted.iter().position(|s| s == r).unwrap_or(0))
            .collect();
        let roots = sorted;
        let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
        let reader = builder
            .with_projection(mask)
            .with_batch_size(BATCH)
            .build()
            .map_err(|e| AnalyticsError::file(path, e))?;
        Ok(TwinRows {
            path: path.to_path_buf(),
            reader,
            columns: Vec::new(),
            rows: 0,
            at,
            pos: 0,
            line: 1,
            labels: vec![Vec::new(); T::COLUMNS.len()],
            row: PhantomData,
        })
    }
}

impl<T: TwinRow> Iterator for TwinRows<T> {
    type Item = Result<T, AnalyticsError>;

    fn next(&mut self) -> Option<Self::Item> {
        while self.pos >= self.rows {
            match self.reader.next()? {
                Ok(b) => {
                    self.columns = self.at.iter().map(|k| b.column(*k).clone()).collect();
                    self.rows = b.num_rows();
                    self.pos = 0;
                }
                Err(e) => return Some(Err(AnalyticsError::file(&self.path, e))),
            }
        }
        let mut columns = Columns {
            arrays: &self.columns,
            labels: &mut self.labels,
        };
        let row = T::from_columns(&mut columns, self.pos);
        self.pos += 1;
        self.line += 1;
        Some(row.map_err(|e| AnalyticsError::row(&self.path, self.line, e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Decimal128Array, RecordBatch, TimestampNanosecondArray};
    use parquet::arrow::ArrowWriter;
    use std::sync::Arc;

    fn write(path: &Path, columns: Vec<(&str, ArrayRef)>) {
        let batch = RecordBatch::try_from_iter(columns).unwrap();
        let file = std::fs::File::create(path).unwrap();
        let mut w = ArrowWriter::try_new(file, batch.schema(), None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
    }

    /// Rows come back exact, from columns in any order; a missing column or a missing value is an error naming the
    /// file (and the row, counted as the CSV's lines).
    #[test]
    fn rows_are_exact_and_errors_name_the_file_and_row() {
        let dir = tempfile_dir("exact");
        let ts: ArrayRef =
            Arc::new(TimestampNanosecondArray::from(vec![1, 2]).with_timezone("UTC"));
        let dec = |v: Vec<Option<i128>>| -> ArrayRef {
            Arc::new(
                Decimal128Array::from(v)
                    .with_precision_and_scale(18, 3)
                    .unwrap(),
            )
        };
        let good = dir.join("good.parquet");
        write(
            &good,
            vec![
                ("equity", dec(vec![Some(1_500), Some(-2)])),
                ("cash", dec(vec![Some(7), Some(7)])),
                ("ts", ts.clone()),
                ("positions_value", dec(vec![Some(0), Some(1)])),
            ],
        );
        let rows: Vec<EquityRow> = TwinRows::open(&good).unwrap().map(Result::unwrap).collect();
        assert_eq!(rows[0].equity, Decimal::new(15, 1));
        assert_eq!(rows[1].positions_value, Decimal::new(1, 3));
        assert_eq!(
            (rows[1].ts, rows[1].equity.to_string()),
            (2, "-0.002".to_string())
        );
        let short = dir.join("short.parquet");
        write(&short, vec![("ts", ts.clone())]);
        let err = TwinRows::<EquityRow>::open(&short)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("short.parquet: no column `positions_value`"),
            "{err}"
        );
        let null = dir.join("null.parquet");
        write(
            &null,
            vec![
                ("ts", ts),
                ("positions_value", dec(vec![Some(0), None])),
                ("equity", dec(vec![Some(1), Some(1)])),
            ],
        );
        let err = TwinRows::<EquityRow>::open(&null)
            .unwrap()
            .find_map(Result::err)
            .unwrap()
            .to_string();
        assert!(err.contains("null.parquet: row 3: missing value"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A label repeated down a column is one shared text; a column with more distinct texts
    /// than are kept still reads every one exactly.
    #[test]
    fn repeated_labels_are_shared_and_every_label_reads_exactly() {
        use arrow_array::{Int64Array, StringArray};
        let dir = tempfile_dir("labels");
        let n = 3 * KEPT_LABELS;
        let text = |f: &dyn Fn(usize) -> String| -> ArrayRef {
            Arc::new(StringArray::from_iter_values((0..n).map(f)))
        };
        let dec = |v: i128| -> ArrayRef {
            Arc::new(
                Decimal128Array::from(vec![v; n])
                    .with_precision_and_scale(18, 2)
                    .unwrap(),
            )
        };
        let path = dir.join("fills.parquet");
        write(
            &path,
            vec![
                (
                    "fill_id",
                    Arc::new(Int64Array::from_iter_values(0..n as i64)),
                ),
                ("strategy", text(&|_| "sma".to_string())),
                (
                    "ts",
                    Arc::new(TimestampNanosecondArray::from(vec![7; n]).with_timezone("UTC")),
                ),
                ("symbol", text(&|i| format!("S{i}"))),
                ("side", text(&|i| ["buy", "sell"][i % 2].to_string())),
                ("qty", dec(100)),
                ("price", dec(12_345)),
                ("fee", dec(0)),
                (
                    "exit_reason",
                    text(&|i| ["", "signal", "stop"][i % 3].to_string()),
                ),
            ],
        );
        let rows: Vec<FillRow> = TwinRows::open(&path).unwrap().map(Result::unwrap).collect();
        assert_eq!(rows.len(), n);
        for (i, r) in rows.iter().enumerate() {
            assert_eq!(r.fill_id, i as u64);
            assert_eq!(&*r.symbol, format!("S{i}"), "past the kept labels too");
            assert_eq!(&*r.side, ["buy", "sell"][i % 2]);
            assert_eq!(&*r.exit_reason, ["", "signal", "stop"][i % 3]);
            assert_eq!(&*r.strategy, "sma");
            assert_eq!(r.price, Decimal::new(12_345, 2));
        }
        assert!(Arc::ptr_eq(&rows[0].side, &rows[n - 2].side), "buy shared");
        assert!(Arc::ptr_eq(&rows[1].exit_reason, &rows[n - 2].exit_reason));
        assert!(Arc::ptr_eq(&rows[0].strategy, &rows[n - 1].strategy));
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A fresh folder for the test `name` (tests run in parallel).
    fn tempfile_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("lockstep-twin-rows-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
