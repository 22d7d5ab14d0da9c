//! Small helpers for the result tables the binary writes itself (sweeps, walk-forward):
//! exact decimal columns and a deterministic Parquet file with key/value metadata.

use crate::error::AppError;
use arrow_array::{ArrayRef, Decimal128Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use rust_decimal::Decimal;
use std::path::Path;
use std::sync::Arc;

/// A `decimal128(38, s)` column named `name` holding `values` exactly; `s` is the largest
/// scale among them, so the column depends only on the values, not on how they were built.
pub fn decimal_column(
    name: &str,
    values: &[Option<Decimal>],
) -> Result<(Field, ArrayRef), AppError> {
    let scale = values
        .iter()
        .flatten()
        .map(|d| d.normalize().scale())
        .max()
        .unwrap_or(0);
    let mantissas: Vec<Option<i128>> = values
        .iter()
        .map(|v| {
            v.map(|d| {
                let mut d = d;
                d.rescale(scale);
                d.mantissa()
            })
        })
        .collect();
    let arr = Decimal128Array::from(mantissas)
        .with_precision_and_scale(38, scale as i8)
        .map_err(|e| AppError::Runtime(format!("column {name}: {e}")))?;
    Ok((
        Field::new(name, DataType::Decimal128(38, scale as i8), true),
        Arc::new(arr),
    ))
}

/// Writes one batch of `columns` to `path` (zstd), with `meta` as key/value metadata.
pub fn write_parquet(
    path: &Path,
    columns: Vec<(Field, ArrayRef)>,
    meta: Vec<(&str, String)>,
) -> Result<(), AppError> {
    let io = |e: &dyn std::fmt::Display| AppError::Runtime(format!("{}: {e}", path.display()));
    let (fields, arrays): (Vec<Field>, Vec<ArrayRef>) = columns.into_iter().unzip();
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(|e| io(&e))?;
    let meta = meta
        .into_iter()
        .map(|(k, v)| KeyValue::new(k.to_string(), v))
        .collect();
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_key_value_metadata(Some(meta))
        .build();
    let file = std::fs::File::create(path).map_err(|e| io(&e))?;
    let mut w = ArrowWriter::try_new(file, schema, Some(props)).map_err(|e| io(&e))?;
    w.write(&batch).map_err(|e| io(&e))?;
    w.close().map_err(|e| io(&e))?;
    Ok(())
}
