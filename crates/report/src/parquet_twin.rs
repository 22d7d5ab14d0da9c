//! The Parquet twin of a CSV table, written while the CSV is: rows gather in typed column
//! buffers, and each full batch goes to the Parquet writer with every decimal column at the
//! scale of its widest CSV text so far and the narrowest precision that holds its values
//! ([`crate::csv_table::twin_precision`]). Both files hold identical, exact values.
//!
//! A decimal column's schema is known for certain only when the table ends. When a batch
//! needs a wider one than the file was begun with, the rows written so far are read back
//! and rewritten at the new schema: exact, since a wider scale multiplies each mantissa by
//! a power of ten. This happens at most a few times per column (the scale only grows, to
//! at most 38, and the precision goes from 18 to 38 once), and the memory stays one batch
//! and one row group however many rows the table has.

use crate::csv_table::{Cell, Kind};
use arrow_array::builder::{NullBufferBuilder, StringBuilder};
use arrow_array::cast::AsArray;
use arrow_array::types::Decimal128Type;
use arrow_array::{ArrayRef, Decimal128Array, Int64Array, RecordBatch, TimestampNanosecondArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use lockstep_core::fixed::pow10;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use rust_decimal::Decimal;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Rows gathered per batch before they go to the Parquet writer (bounds memory).
pub const BATCH: usize = 8_192;
/// Rows per Parquet row group.
const ROW_GROUP: usize = 65_536;

/// A decimal column's (scale, precision) in the twin; (0, 18) for other columns.
pub type DecimalShape = (u32, u8);

/// One column of the batch being gathered.
enum Column {
    Ts(Vec<i64>),
    Int(Vec<i64>),
    Dec(Vec<Option<Decimal>>),
    Str(StringBuilder),
}

/// The twin file being written and the decimal shapes it was begun with.
struct Open {
    writer: ArrowWriter<File>,
    schema: SchemaRef,
    shapes: Vec<DecimalShape>,
}

/// Writes a table's Parquet twin as its rows arrive.
pub struct TwinWriter {
    path: PathBuf,
    columns: &'static [(&'static str, Kind)],
    batch: Vec<Column>,
    rows: usize,
    open: Option<Open>,
}

fn other(path: &Path, e: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("{}: {e}", path.display()))
}

/// The mantissa of `d` at `scale`, which is at least the decimals `d` needs (the column's
/// widest CSV text): exact integer arithmetic, or `rust_decimal`'s rescale when the
/// widening would overflow.
fn mantissa_at(d: Decimal, scale: u32) -> i128 {
    let (m, s) = (d.mantissa(), d.scale());
    if scale == s {
        return m;
    }
    let factor = |exp: u32| pow10(exp).or_else(|| 10i128.checked_pow(exp));
    let exact = if scale > s {
        factor(scale - s).and_then(|f| m.checked_mul(f))
    } else {
        // Dropping trailing zeros: in 64 bits when both fit (a 128-bit division is a
        // library call), the same quotient.
        factor(s - scale).map(|f| match (i64::try_from(m), i64::try_from(f)) {
            (Ok(m), Ok(f)) => i128::from(m / f),
            _ => m / f,
        })
    };
    exact.unwrap_or_else(|| {
        let mut d = d;
        d.rescale(scale);
        d.mantissa()
    })
}

/// A text column's builder, sized for a batch of short labels and ids.
fn text_builder() -> StringBuilder {
    StringBuilder::with_capacity(BATCH, BATCH * 8)
}

/// `values` as mantissas at `scale` (0 under a null), built in one pass without an
/// intermediate `Option<i128>` per value.
fn decimal_array(values: &[Option<Decimal>], scale: u32) -> Decimal128Array {
    let mut mantissas = Vec::with_capacity(values.len());
    let mut nulls = NullBufferBuilder::new(values.len());
    for d in values {
        match d {
            Some(d) => {
                mantissas.push(mantissa_at(*d, scale));
                nulls.append_non_null();
            }
            None => {
                mantissas.push(0);
                nulls.append_null();
            }
        }
    }
    Decimal128Array::new(mantissas.into(), nulls.finish())
}

/// The twin's schema for `columns` with decimal columns shaped by `shapes`.
fn schema_for(columns: &[(&'static str, Kind)], shapes: &[DecimalShape]) -> SchemaRef {
    let fields: Vec<Field> = columns
        .iter()
        .zip(shapes)
        .map(|((name, kind), (s, p))| match kind {
            Kind::Ts => Field::new(
                *name,
                DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
                false,
            ),
            Kind::Dec => Field::new(*name, DataType::Decimal128(*p, (*s).min(38) as i8), true),
            Kind::Int => Field::new(*name, DataType::Int64, false),
            Kind::Str | Kind::Id => Field::new(*name, DataType::Utf8, false),
        })
        .collect();
    Arc::new(Schema::new(fields))
}

/// A writer of `schema` to a new file at `path`: snappy, row groups of [`ROW_GROUP`] rows, a
/// dictionary for label columns only, and delta encodings where a report's values step
/// little from row to row: timestamps, counts and ids, and decimals stored as integers
/// (precision up to 18). Decimals wider than that keep the plain encoding (Parquet has no
/// integer delta for fixed-length bytes). Delta-encoded pages are less than half as large,
/// so there is less to compress: a report writes faster than with plain pages and zstd.
/// Text columns carry no min/max statistics: comparing every label and id as bytes cost
/// more than the rest of their encoding, and no reader prunes by them.
fn create_writer(
    path: &Path,
    columns: &[(&'static str, Kind)],
    shapes: &[DecimalShape],
    schema: SchemaRef,
) -> io::Result<ArrowWriter<File>> {
    let mut props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(ROW_GROUP))
        .set_dictionary_enabled(false);
    for ((name, kind), (_, precision)) in columns.iter().zip(shapes) {
        let column = ColumnPath::from(*name);
        props = match kind {
            Kind::Str => props
                .set_column_dictionary_enabled(column.clone(), true)
                .set_column_statistics_enabled(column, EnabledStatistics::None),
            Kind::Id => props
                .set_column_encoding(column.clone(), Encoding::DELTA_BYTE_ARRAY)
                .set_column_statistics_enabled(column, EnabledStatistics::None),
            Kind::Ts | Kind::Int => {
                props.set_column_encoding(column, Encoding::DELTA_BINARY_PACKED)
            }
            Kind::Dec if *precision <= 18 => {
                props.set_column_encoding(column, Encoding::DELTA_BINARY_PACKED)
            }
            Kind::Dec => props,
        };
    }
    let file = File::create(path)?;
    ArrowWriter::try_new(file, schema, Some(props.build())).map_err(|e| other(path, e))
}

/// `batch` (read back from the twin) at the decimal shapes of `schema`.
fn reshaped(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch, String> {
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(batch.num_columns());
    for (column, field) in batch.columns().iter().zip(schema.fields()) {
        arrays.push(match (column.data_type(), field.data_type()) {
            (DataType::Decimal128(_, from), DataType::Decimal128(p, to)) => {
                let factor = 10i128.pow(u32::try_from(to - from).map_err(|e| e.to_string())?);
                let widened = column
                    .as_primitive::<Decimal128Type>()
                    .try_unary::<_, Decimal128Type, _>(|m| {
                        m.checked_mul(factor).ok_or_else(|| {
                            arrow_schema::ArrowError::ComputeError("decimal overflow".into())
                        })
                    })
                    .and_then(|a| a.with_precision_and_scale(*p, *to))
                    .map_err(|e| e.to_string())?;
                Arc::new(widened)
            }
            _ => column.clone(),
        });
    }
    RecordBatch::try_new(schema.clone(), arrays).map_err(|e| e.to_string())
}

impl TwinWriter {
    /// A twin for a table of `columns` at `path`; nothing is created before the first
    /// batch (or [`TwinWriter::finish`]).
    pub fn new(path: PathBuf, columns: &'static [(&'static str, Kind)]) -> Self {
        TwinWriter {
            path,
            columns,
            batch: Self::empty_batch(columns),
            rows: 0,
            open: None,
        }
    }

    fn empty_batch(columns: &[(&'static str, Kind)]) -> Vec<Column> {
        columns
            .iter()
            .map(|(_, kind)| match kind {
                Kind::Ts => Column::Ts(Vec::with_capacity(BATCH)),
                Kind::Int => Column::Int(Vec::with_capacity(BATCH)),
                Kind::Dec => Column::Dec(Vec::with_capacity(BATCH)),
                Kind::Str | Kind::Id => Column::Str(text_builder()),
            })
            .collect()
    }

    /// Adds one row (cells in column order, of the columns' kinds); `Ok(true)` when the
    /// batch is full and must be [`TwinWriter::flush`]ed before the next row. A cell of
    /// another kind than its column is an error (the row is then incomplete: the table is
    /// not to be used).
    pub fn row(&mut self, cells: &[Cell<'_>]) -> io::Result<bool> {
        if cells.len() != self.columns.len() {
            return Err(other(
                &self.path,
                format!("{} cells for {} columns", cells.len(), self.columns.len()),
            ));
        }
        for (k, (column, cell)) in self.batch.iter_mut().zip(cells).enumerate() {
            match (column, *cell) {
                (Column::Ts(v), Cell::Ts(t)) => v.push(t.0),
                (Column::Int(v), Cell::Int(i)) => v.push(i),
                (Column::Dec(v), Cell::Dec(d, _)) => v.push(d),
                (Column::Str(b), Cell::Text(t)) => b.append_value(t),
                (_, cell) => {
                    let name = self.columns[k].0;
                    return Err(other(&self.path, format!("column `{name}` got {cell:?}")));
                }
            }
        }
        self.rows += 1;
        Ok(self.rows >= BATCH)
    }

    /// Writes the gathered rows with decimal columns shaped by `shapes` (one per column,
    /// the widest the table has needed so far), first rewriting what was written at
    /// narrower shapes.
    pub fn flush(&mut self, shapes: &[DecimalShape]) -> io::Result<()> {
        if self.open.as_ref().is_none_or(|o| o.shapes != shapes) {
            self.reopen(shapes)?;
        }
        let Some(open) = self.open.as_mut() else {
            return Err(other(&self.path, "twin not open"));
        };
        // The gathering buffers stay, already touched, for the next batch; the arrays are
        // copies the writer drops.
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(self.batch.len());
        for (column, (scale, precision)) in self.batch.iter_mut().zip(shapes) {
            arrays.push(match column {
                Column::Ts(v) => Arc::new(
                    TimestampNanosecondArray::from_iter_values(v.drain(..)).with_timezone("UTC"),
                ),
                Column::Int(v) => Arc::new(Int64Array::from_iter_values(v.drain(..))),
                Column::Dec(v) => {
                    let array = decimal_array(v, *scale)
                        .with_precision_and_scale(*precision, (*scale).min(38) as i8)
                        .map_err(|e| other(&self.path, e))?;
                    v.clear();
                    Arc::new(array)
                }
                Column::Str(b) => Arc::new(std::mem::replace(b, text_builder()).finish()),
            });
        }
        let batch =
            RecordBatch::try_new(open.schema.clone(), arrays).map_err(|e| other(&self.path, e))?;
        let groups = open.writer.flushed_row_groups().len();
        open.writer
            .write(&batch)
            .map_err(|e| other(&self.path, e))?;
        if open.writer.flushed_row_groups().len() > groups {
            crate::heap::release_free_pages();
        }
        self.rows = 0;
        Ok(())
    }

    /// Begins the file at `shapes`, carrying over (reshaped) any rows already written.
    fn reopen(&mut self, shapes: &[DecimalShape]) -> io::Result<()> {
        let schema = schema_for(self.columns, shapes);
        let previous = self.open.take();
        let carried = previous.is_some();
        let moved = self.path.with_extension("parquet.narrow");
        if let Some(p) = previous {
            p.writer.close().map_err(|e| other(&self.path, e))?;
            std::fs::rename(&self.path, &moved)?;
        }
        let mut writer = create_writer(&self.path, self.columns, shapes, schema.clone())?;
        if carried {
            let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&moved)?)
                .and_then(|b| b.with_batch_size(BATCH).build())
                .map_err(|e| other(&moved, e))?;
            for batch in reader {
                let batch = batch.map_err(|e| other(&moved, e))?;
                let batch = reshaped(&batch, &schema).map_err(|e| other(&moved, e))?;
                writer.write(&batch).map_err(|e| other(&self.path, e))?;
            }
            std::fs::remove_file(&moved)?;
        }
        self.open = Some(Open {
            writer,
            schema,
            shapes: shapes.to_vec(),
        });
        Ok(())
    }

    /// Writes the last rows and closes the file at the table's final `shapes`.
    pub fn finish(mut self, shapes: &[DecimalShape]) -> io::Result<()> {
        self.flush(shapes)?;
        if let Some(open) = self.open.take() {
            open.writer.close().map_err(|e| other(&self.path, e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::csv_table::{twin_precision, CsvTable, TableSpec};
    use arrow_array::{Array, StringArray};
    use lockstep_core::UnixNanos;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use rust_decimal::Decimal;

    const SPEC: TableSpec = TableSpec {
        name: "twin",
        columns: &[
            ("n", Kind::Int),
            ("id", Kind::Id),
            ("ts", Kind::Ts),
            ("symbol", Kind::Str),
            ("price", Kind::Dec),
            ("big", Kind::Dec),
            ("tiny", Kind::Dec),
            ("late", Kind::Dec),
        ],
    };

    const ROWS: i64 = 20_000;

    /// Every seventh price is missing; the others have 2 to 4 decimals.
    fn price(i: i64) -> Option<Decimal> {
        (i % 7 != 3).then(|| Decimal::new(10_000 + i, 2 + (i % 3) as u32))
    }

    /// 15 digits before the point; the last row's mantissa at scale 4 needs 19 digits.
    fn big(i: i64) -> Decimal {
        Decimal::new(99_999_999_999_999 + i / (ROWS - 1), 0)
    }

    /// One decimal up to row 15,000, six after: the twin's first batches were written at
    /// scale 1 and are rewritten at 6.
    fn late(i: i64) -> Decimal {
        Decimal::new(i, if i < 15_000 { 1 } else { 6 })
    }

    fn col<T: 'static>(b: &RecordBatch, k: usize) -> &T {
        b.column(k)
            .as_any()
            .downcast_ref::<T>()
            .expect("column type")
    }

    /// A row whose cells do not match the columns is refused, naming the column.
    #[test]
    fn a_cell_of_the_wrong_kind_is_an_error() {
        let mut w = TwinWriter::new(PathBuf::from("t.parquet"), SPEC.columns);
        let err = w.row(&[Cell::Int(1)]).expect_err("short");
        assert!(err.to_string().contains("1 cells for 8 columns"), "{err}");
        let mut cells = vec![Cell::Int(1); 8];
        cells[1] = Cell::Text("id");
        let err = w.row(&cells).expect_err("an int in the ts column");
        assert!(err.to_string().contains("column `ts` got Int(1)"), "{err}");
    }

    /// A decimal carrying more decimals than its text needs (trailing zeros) goes into the
    /// twin at the column's scale, the zeros dropped, in 64 or 128 bits alike; a narrower
    /// one is widened.
    #[test]
    fn mantissas_are_taken_at_the_column_scale() {
        assert_eq!(mantissa_at(Decimal::new(994_100, 4), 2), 9_941);
        assert_eq!(mantissa_at(Decimal::new(-994_100, 4), 2), -9_941);
        assert_eq!(mantissa_at(Decimal::new(5, 0), 3), 5_000);
        let wide = Decimal::from_i128_with_scale(123_456_789_012_345_678_900_000_000, 8);
        assert_eq!(mantissa_at(wide, 2), 123_456_789_012_345_678_900);
        assert_eq!(mantissa_at(-wide, 2), -123_456_789_012_345_678_900);
    }

    /// A column of 18-digit values fits precision 18; one of 19 does not.
    #[test]
    fn precision_is_18_only_when_every_value_fits() {
        assert_eq!(twin_precision(4, 14), 18, "99,999,999,999,999.9999");
        assert_eq!(twin_precision(4, 15), 38, "100,000,000,000,000.0000");
        assert_eq!(twin_precision(20, -19), 38, "scale above 18");
        assert_eq!(twin_precision(2, i32::MIN), 18, "only zeros or nulls");
    }

    /// The twin holds the CSV's values exactly (decimals at the column's widest scale and
    /// the narrowest precision that holds them, nulls kept), also when a column widens
    /// after batches were written (`big` at the last row, `late` from row 15,000); label
    /// columns are dictionary-encoded, ids, counts, timestamps and decimals of precision up to
    /// 18 delta-encoded, wider decimals plain, all pages snappy; statistics for all but text;
    /// no side file is left.
    #[test]
    fn twin_holds_the_csv_values_with_labels_in_a_dictionary() {
        let dir = std::env::temp_dir().join(format!("lockstep-twin-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let mut t = CsvTable::create(&dir, SPEC).expect("create");
        let labels = ["SPY", "QQQ", "a,b"];
        for i in 0..ROWS {
            let id = format!("run-{i}");
            t.write(&[
                Cell::Int(i - 5),
                Cell::Text(&id),
                Cell::Ts(UnixNanos(i * 60_000_000_000)),
                Cell::Text(labels[(i % 3) as usize]),
                Cell::Dec(price(i), 2),
                Cell::Dec(Some(big(i)), 4),
                Cell::Dec(Some(Decimal::new(i, 20)), 0),
                Cell::Dec(Some(late(i)), 0),
            ])
            .expect("row");
        }
        t.finish().expect("finish");
        let out = dir.join("twin.parquet");
        let names: Vec<String> = std::fs::read_dir(&dir)
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().to_string())
            .collect();
        assert_eq!(names.len(), 2, "the CSV and its twin only: {names:?}");

        let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(&out).expect("open"))
            .expect("parquet");
        let group = builder.metadata().row_group(0).clone();
        assert!(
            group.column(1).dictionary_page_offset().is_none(),
            "id plain"
        );
        assert!(group.column(3).dictionary_page_offset().is_some(), "labels");
        let data_encoding = |k: usize| {
            let c = group.column(k);
            assert_eq!(c.compression(), Compression::SNAPPY, "column {k}");
            let mut used: Vec<Encoding> = c.encodings().collect();
            used.retain(|e| *e != Encoding::RLE);
            used
        };
        let delta = vec![Encoding::DELTA_BINARY_PACKED];
        for (k, what) in [(0, "int"), (2, "ts"), (4, "price"), (7, "late")] {
            assert_eq!(data_encoding(k), delta, "{what}");
        }
        assert_eq!(data_encoding(1), vec![Encoding::DELTA_BYTE_ARRAY], "id");
        for (k, stats) in [(0, true), (1, false), (2, true), (3, false), (4, true)] {
            assert_eq!(group.column(k).statistics().is_some(), stats, "column {k}");
        }
        for (k, what) in [(5, "big"), (6, "tiny")] {
            assert_eq!(
                data_encoding(k),
                vec![Encoding::PLAIN],
                "{what}: precision 38"
            );
        }
        let mut i = 0i64;
        for batch in builder.build().expect("reader") {
            let b = batch.expect("batch");
            let (n, id) = (col::<Int64Array>(&b, 0), col::<StringArray>(&b, 1));
            let ts = col::<TimestampNanosecondArray>(&b, 2);
            let sym = col::<StringArray>(&b, 3);
            let [px, bg, tn, lt] = [4, 5, 6, 7].map(|k| col::<Decimal128Array>(&b, k));
            assert_eq!((px.precision(), px.scale()), (18, 4), "the widest decimals");
            assert_eq!(
                (bg.precision(), bg.scale()),
                (38, 4),
                "19 digits at scale 4"
            );
            assert_eq!((tn.precision(), tn.scale()), (38, 20), "20 decimals");
            assert_eq!((lt.precision(), lt.scale()), (18, 6), "widened late");
            for r in 0..b.num_rows() {
                assert_eq!(n.value(r), i - 5);
                assert_eq!(id.value(r), format!("run-{i}"));
                assert_eq!(ts.value(r), i * 60_000_000_000);
                assert_eq!(sym.value(r), labels[(i % 3) as usize]);
                let got = (!px.is_null(r)).then(|| Decimal::from_i128_with_scale(px.value(r), 4));
                assert_eq!(got, price(i), "row {i}");
                assert_eq!(Decimal::from_i128_with_scale(bg.value(r), 4), big(i));
                let tiny = Decimal::from_i128_with_scale(tn.value(r), 20);
                assert_eq!(tiny, Decimal::new(i, 20));
                assert_eq!(Decimal::from_i128_with_scale(lt.value(r), 6), late(i));
                i += 1;
            }
        }
        assert_eq!(i, ROWS);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
