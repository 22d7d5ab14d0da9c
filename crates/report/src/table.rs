//! A column-oriented table written identically as Parquet (typed, exact) and CSV (text).

use crate::fmt;
use arrow_array::{
    ArrayRef, Decimal128Array, Int64Array, RecordBatch, StringArray, TimestampNanosecondArray,
};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use lockstep_core::UnixNanos;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use rust_decimal::Decimal;
use std::io::Write;
use std::sync::Arc;

/// Values of one column.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnData {
    /// UTC timestamps: `timestamp[ns, UTC]` in Parquet, ISO-8601 in CSV.
    Ts(Vec<i64>),
    /// Exact decimals: `decimal128(38, s)` in Parquet, plain text with at least `min_dp`
    /// decimals in CSV. `None` is null / empty.
    Dec(Vec<Option<Decimal>>, u32),
    /// Text.
    Str(Vec<String>),
    /// Integers.
    Int(Vec<i64>),
}

/// A named column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Header / field name.
    pub name: &'static str,
    /// Values.
    pub data: ColumnData,
}

/// A table; every column has the same length.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// File stem (`fills`, `lots`, ...).
    pub name: &'static str,
    /// Columns in output order.
    pub columns: Vec<Column>,
}

impl ColumnData {
    fn len(&self) -> usize {
        match self {
            ColumnData::Ts(v) | ColumnData::Int(v) => v.len(),
            ColumnData::Dec(v, _) => v.len(),
            ColumnData::Str(v) => v.len(),
        }
    }

    fn cell(&self, i: usize) -> String {
        match self {
            ColumnData::Ts(v) => UnixNanos(v[i]).to_iso(),
            ColumnData::Dec(v, dp) => v[i].map(|d| fmt::dec(d, *dp)).unwrap_or_default(),
            ColumnData::Str(v) => v[i].clone(),
            ColumnData::Int(v) => v[i].to_string(),
        }
    }
}

/// Largest scale among `values`, capped at 28.
fn scale_of(values: &[Option<Decimal>]) -> u32 {
    values
        .iter()
        .flatten()
        .map(|d| d.normalize().scale())
        .max()
        .unwrap_or(0)
        .min(28)
}

impl Table {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, |c| c.data.len())
    }

    /// The CSV twin: header row, then one line per row; `\n` line ends.
    pub fn to_csv(&self) -> Result<Vec<u8>, csv::Error> {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        w.write_record(self.columns.iter().map(|c| c.name))?;
        for i in 0..self.rows() {
            w.write_record(self.columns.iter().map(|c| c.data.cell(i)))?;
        }
        w.flush()?;
        w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
    }

    /// The Parquet file as bytes (zstd; decimals exact; timestamps UTC).
    pub fn to_parquet(&self) -> Result<Vec<u8>, parquet::errors::ParquetError> {
        let mut fields = Vec::new();
        let mut arrays: Vec<ArrayRef> = Vec::new();
        for c in &self.columns {
            let (field, array): (Field, ArrayRef) = match &c.data {
                ColumnData::Ts(v) => (
                    Field::new(
                        c.name,
                        DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
                        false,
                    ),
                    Arc::new(TimestampNanosecondArray::from(v.clone()).with_timezone("UTC")),
                ),
                ColumnData::Dec(v, _) => {
                    let s = scale_of(v);
                    let mantissas = v.iter().map(|d| {
                        d.map(|d| {
                            let mut x = d;
                            x.rescale(s);
                            x.mantissa()
                        })
                    });
                    let arr = Decimal128Array::from_iter(mantissas)
                        .with_precision_and_scale(38, s as i8)
                        .map_err(|e| parquet::errors::ParquetError::General(e.to_string()))?;
                    (
                        Field::new(c.name, DataType::Decimal128(38, s as i8), true),
                        Arc::new(arr),
                    )
                }
                ColumnData::Str(v) => (
                    Field::new(c.name, DataType::Utf8, false),
                    Arc::new(StringArray::from_iter_values(v.iter())),
                ),
                ColumnData::Int(v) => (
                    Field::new(c.name, DataType::Int64, false),
                    Arc::new(Int64Array::from(v.clone())),
                ),
            };
            fields.push(field);
            arrays.push(array);
        }
        let schema = Arc::new(Schema::new(fields));
        let batch = RecordBatch::try_new(schema.clone(), arrays)?;
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .build();
        let mut buf = Vec::new();
        {
            let mut w = ArrowWriter::try_new(&mut buf, schema, Some(props))?;
            w.write(&batch)?;
            w.close()?;
        }
        buf.flush().ok();
        Ok(buf)
    }
}
