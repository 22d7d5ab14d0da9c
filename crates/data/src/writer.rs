//! Canonical bar Parquet writer: `ts` timestamp[ns, UTC], `symbol`, float64 OHLCV and,
//! optionally, exact `*_text` twins. Streams in batches; identical input gives identical bytes.

use crate::error::DataError;
use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray, TimestampNanosecondArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use lockstep_core::Scale;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Rows buffered before a batch is written.
const WRITE_BATCH: usize = 65_536;

/// One bar to write; prices are mantissas at `scale`.
#[derive(Debug, Clone, PartialEq)]
pub struct BarRow {
    /// Open time, UTC nanoseconds.
    pub ts: i64,
    /// Symbol text.
    pub symbol: String,
    /// open, high, low, close mantissas.
    pub prices: [i64; 4],
    /// Price scale.
    pub scale: Scale,
    /// Volume.
    pub volume: f64,
}

/// Streams bar rows into a Parquet file.
pub struct BarWriter {
    path: PathBuf,
    writer: ArrowWriter<File>,
    schema: SchemaRef,
    with_text: bool,
    buf: Vec<BarRow>,
    rows: u64,
}

fn io(path: &Path, e: impl std::fmt::Display) -> DataError {
    DataError::file(path, format!("cannot write: {e}"))
}

impl BarWriter {
    /// Creates `path`. `with_text` adds exact `open_text`..`close_text` columns.
    pub fn create(path: &Path, with_text: bool) -> Result<Self, DataError> {
        let mut fields = vec![
            Field::new(
                "ts",
                DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
                false,
            ),
            Field::new("symbol", DataType::Utf8, false),
        ];
        for n in ["open", "high", "low", "close", "volume"] {
            fields.push(Field::new(n, DataType::Float64, false));
        }
        if with_text {
            for n in ["open_text", "high_text", "low_text", "close_text"] {
                fields.push(Field::new(n, DataType::Utf8, false));
            }
        }
        let schema = Arc::new(Schema::new(fields));
        let file = File::create(path).map_err(|e| io(path, e))?;
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .set_max_row_group_row_count(Some(2 * WRITE_BATCH))
            .build();
        let writer =
            ArrowWriter::try_new(file, schema.clone(), Some(props)).map_err(|e| io(path, e))?;
        Ok(BarWriter {
            path: path.to_path_buf(),
            writer,
            schema,
            with_text,
            buf: Vec::with_capacity(WRITE_BATCH),
            rows: 0,
        })
    }

    /// Appends one row.
    pub fn push(&mut self, row: BarRow) -> Result<(), DataError> {
        self.buf.push(row);
        if self.buf.len() >= WRITE_BATCH {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), DataError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let b = &self.buf;
        let f = |k: usize| -> ArrayRef {
            Arc::new(Float64Array::from_iter_values(
                b.iter()
                    .map(|r| r.prices[k] as f64 / r.scale.factor() as f64),
            ))
        };
        let mut cols: Vec<ArrayRef> = vec![
            Arc::new(
                TimestampNanosecondArray::from_iter_values(b.iter().map(|r| r.ts))
                    .with_timezone("UTC"),
            ),
            Arc::new(StringArray::from_iter_values(
                b.iter().map(|r| r.symbol.as_str()),
            )),
            f(0),
            f(1),
            f(2),
            f(3),
            Arc::new(Float64Array::from_iter_values(b.iter().map(|r| r.volume))),
        ];
        if self.with_text {
            for k in 0..4 {
                cols.push(Arc::new(StringArray::from_iter_values(b.iter().map(|r| {
                    r.scale.to_decimal(r.prices[k]).normalize().to_string()
                }))));
            }
        }
        let batch =
            RecordBatch::try_new(self.schema.clone(), cols).map_err(|e| io(&self.path, e))?;
        self.writer.write(&batch).map_err(|e| io(&self.path, e))?;
        self.rows += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }

    /// Writes the remaining rows and the footer; returns the number of rows written.
    pub fn finish(mut self) -> Result<u64, DataError> {
        self.flush()?;
        self.writer.close().map_err(|e| io(&self.path, e))?;
        Ok(self.rows)
    }
}
