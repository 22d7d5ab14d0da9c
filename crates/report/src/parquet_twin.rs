//! The Parquet twin of a CSV table, written in one streaming pass over the values the CSV
//! was written from ([`crate::twin_spill`]), with each decimal column at the scale of its
//! widest CSV text: both files hold identical, exact values.

use crate::csv_table::{Kind, WrittenTable};
use arrow_array::builder::StringBuilder;
use arrow_array::{ArrayRef, Decimal128Array, Int64Array, RecordBatch, TimestampNanosecondArray};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

/// Rows converted per batch (bounds memory).
const BATCH: usize = 8_192;
/// Rows per Parquet row group.
const ROW_GROUP: usize = 65_536;

/// One column of a batch being gathered.
enum Column {
    Ts(Vec<i64>),
    Int(Vec<i64>),
    /// Mantissas at the column's scale, and its precision.
    Dec(Vec<Option<i128>>, u32, u8),
    Str(StringBuilder),
}

/// The mantissa of `d` at `scale`, which is at least the decimals `d` needs (the column's
/// widest CSV text): exact integer arithmetic, or `rust_decimal`'s rescale when the
/// widening would overflow.
fn mantissa_at(d: rust_decimal::Decimal, scale: u32) -> i128 {
    let (m, s) = (d.mantissa(), d.scale());
    let exact = if scale >= s {
        10i128.checked_pow(scale - s).and_then(|f| m.checked_mul(f))
    } else {
        10i128.checked_pow(s - scale).map(|f| m / f)
    };
    exact.unwrap_or_else(|| {
        let mut d = d;
        d.rescale(scale);
        d.mantissa()
    })
}

/// Writes `<name>.parquet` next to the CSV of `t`.
pub fn write_parquet_twin(t: WrittenTable, out: &Path) -> Result<(), String> {
    let cols = t.spec.columns;
    let fields: Vec<Field> = cols
        .iter()
        .zip(t.scales.iter().zip(&t.precisions))
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
    let schema = Arc::new(Schema::new(fields));
    let mut props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_max_row_group_row_count(Some(ROW_GROUP))
        .set_dictionary_enabled(false);
    for (name, kind) in cols {
        if *kind == Kind::Str {
            props = props.set_column_dictionary_enabled(ColumnPath::from(*name), true);
        }
    }
    let props = props.build();
    let file = File::create(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut w =
        ArrowWriter::try_new(file, schema.clone(), Some(props)).map_err(|e| e.to_string())?;
    let mut spill = t.spill;
    let mut text = String::new();
    let err = |e: std::io::Error| format!("{}: {e}", t.path.display());
    let mut left = t.rows;
    loop {
        let n = left.min(BATCH as u64) as usize;
        let mut columns: Vec<Column> = cols
            .iter()
            .zip(t.scales.iter().zip(&t.precisions))
            .map(|((_, kind), (s, p))| match kind {
                Kind::Ts => Column::Ts(Vec::with_capacity(n)),
                Kind::Int => Column::Int(Vec::with_capacity(n)),
                Kind::Dec => Column::Dec(Vec::with_capacity(n), *s, *p),
                Kind::Str | Kind::Id => Column::Str(StringBuilder::with_capacity(n, n * 8)),
            })
            .collect();
        for _ in 0..n {
            for column in &mut columns {
                match column {
                    Column::Ts(v) | Column::Int(v) => v.push(spill.int().map_err(err)?),
                    Column::Dec(v, scale, _) => {
                        v.push(spill.dec().map_err(err)?.map(|d| mantissa_at(d, *scale)));
                    }
                    Column::Str(b) => {
                        spill.text(&mut text).map_err(err)?;
                        b.append_value(&text);
                    }
                }
            }
        }
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(cols.len());
        for column in columns {
            arrays.push(match column {
                Column::Ts(v) => Arc::new(TimestampNanosecondArray::from(v).with_timezone("UTC")),
                Column::Int(v) => Arc::new(Int64Array::from(v)),
                Column::Dec(v, scale, precision) => Arc::new(
                    Decimal128Array::from(v)
                        .with_precision_and_scale(precision, scale.min(38) as i8)
                        .map_err(|e| e.to_string())?,
                ),
                Column::Str(mut b) => Arc::new(b.finish()),
            });
        }
        let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(|e| e.to_string())?;
        w.write(&batch).map_err(|e| e.to_string())?;
        left -= n as u64;
        if n < BATCH {
            break;
        }
    }
    w.close().map_err(|e| e.to_string())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::csv_table::{twin_precision, Cell, CsvTable, TableSpec};
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

    fn col<T: 'static>(b: &RecordBatch, k: usize) -> &T {
        b.column(k)
            .as_any()
            .downcast_ref::<T>()
            .expect("column type")
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
    /// the narrowest precision that holds them, nulls kept); label columns are
    /// dictionary-encoded, id columns are not.
    #[test]
    fn twin_holds_the_csv_values_with_labels_in_a_dictionary() {
        let dir = std::env::temp_dir().join(format!("lockstep-twin-{}", std::process::id()));
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
            ])
            .expect("row");
        }
        let out = dir.join("twin.parquet");
        write_parquet_twin(t.finish().expect("finish"), &out).expect("twin");

        let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(&out).expect("open"))
            .expect("parquet");
        let group = builder.metadata().row_group(0).clone();
        assert!(
            group.column(1).dictionary_page_offset().is_none(),
            "id plain"
        );
        assert!(group.column(3).dictionary_page_offset().is_some(), "labels");
        let mut i = 0i64;
        for batch in builder.build().expect("reader") {
            let b = batch.expect("batch");
            let (n, id) = (col::<Int64Array>(&b, 0), col::<StringArray>(&b, 1));
            let ts = col::<TimestampNanosecondArray>(&b, 2);
            let sym = col::<StringArray>(&b, 3);
            let [px, bg, tn] = [4, 5, 6].map(|k| col::<Decimal128Array>(&b, k));
            assert_eq!((px.precision(), px.scale()), (18, 4), "the widest decimals");
            assert_eq!(
                (bg.precision(), bg.scale()),
                (38, 4),
                "19 digits at scale 4"
            );
            assert_eq!((tn.precision(), tn.scale()), (38, 20), "20 decimals");
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
                i += 1;
            }
        }
        assert_eq!(i, ROWS);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
