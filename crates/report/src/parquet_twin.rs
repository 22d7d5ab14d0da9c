//! The Parquet twin of a CSV table, converted in one streaming pass (each decimal column's
//! scale was recorded while the CSV was written). Values are parsed from the same text the
//! hash covers, so both files hold identical, exact values.

use crate::csv_table::{Kind, WrittenTable};
use arrow_array::{
    ArrayRef, Decimal128Array, Int64Array, RecordBatch, StringArray, TimestampNanosecondArray,
};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use chrono::DateTime;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;
use rust_decimal::Decimal;
use std::fs::File;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

/// Rows converted per batch (bounds memory).
const BATCH: usize = 8_192;
/// Rows per Parquet row group.
const ROW_GROUP: usize = 65_536;

fn bad(table: &str, row: usize, col: &str, text: &str) -> String {
    format!("{table}.csv row {row}, column `{col}`: cannot convert `{text}`")
}

/// Writes `<name>.parquet` next to the CSV of `t`.
pub fn write_parquet_twin(t: &WrittenTable, out: &Path) -> Result<(), String> {
    let cols = t.spec.columns;
    let scales = &t.scales;
    let fields: Vec<Field> = cols
        .iter()
        .zip(scales)
        .map(|((name, kind), s)| match kind {
            Kind::Ts => Field::new(
                *name,
                DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
                false,
            ),
            Kind::Dec => Field::new(*name, DataType::Decimal128(38, (*s).min(38) as i8), true),
            Kind::Int => Field::new(*name, DataType::Int64, false),
            Kind::Str => Field::new(*name, DataType::Utf8, false),
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
    let mut r = csv::Reader::from_path(&t.path).map_err(|e| e.to_string())?;
    let mut buf: Vec<csv::StringRecord> = Vec::with_capacity(BATCH);
    let mut row = 0usize;
    let mut records = r.records();
    loop {
        buf.clear();
        for rec in records.by_ref().take(BATCH) {
            buf.push(rec.map_err(|e| e.to_string())?);
        }
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(cols.len());
        for (k, (name, kind)) in cols.iter().enumerate() {
            let cell = |i: usize| buf[i].get(k).unwrap_or("");
            let array: ArrayRef = match kind {
                Kind::Ts => {
                    let mut v = Vec::with_capacity(buf.len());
                    for i in 0..buf.len() {
                        let ns = DateTime::parse_from_rfc3339(cell(i))
                            .ok()
                            .and_then(|d| d.timestamp_nanos_opt())
                            .ok_or_else(|| bad(t.spec.name, row + i + 1, name, cell(i)))?;
                        v.push(ns);
                    }
                    Arc::new(TimestampNanosecondArray::from(v).with_timezone("UTC"))
                }
                Kind::Dec => {
                    let mut v = Vec::with_capacity(buf.len());
                    for i in 0..buf.len() {
                        let text = cell(i);
                        if text.is_empty() {
                            v.push(None);
                            continue;
                        }
                        let mut d = Decimal::from_str(text)
                            .map_err(|_| bad(t.spec.name, row + i + 1, name, text))?;
                        d.rescale(scales[k]);
                        v.push(Some(d.mantissa()));
                    }
                    Arc::new(
                        Decimal128Array::from(v)
                            .with_precision_and_scale(38, scales[k].min(38) as i8)
                            .map_err(|e| e.to_string())?,
                    )
                }
                Kind::Int => {
                    let mut v = Vec::with_capacity(buf.len());
                    for i in 0..buf.len() {
                        v.push(
                            cell(i)
                                .parse::<i64>()
                                .map_err(|_| bad(t.spec.name, row + i + 1, name, cell(i)))?,
                        );
                    }
                    Arc::new(Int64Array::from(v))
                }
                Kind::Str => Arc::new(StringArray::from_iter_values((0..buf.len()).map(cell))),
            };
            arrays.push(array);
        }
        let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(|e| e.to_string())?;
        w.write(&batch).map_err(|e| e.to_string())?;
        row += buf.len();
        if buf.len() < BATCH {
            break;
        }
    }
    w.close().map_err(|e| e.to_string())?;
    Ok(())
}
