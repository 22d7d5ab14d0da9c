//! Decimal price columns read exactly however the file stores them: `decimal(18, s)` is
//! stored as 64-bit integers (and read as such), `decimal(20, s)` as fixed-length bytes.
//! Both give the same bars, at the engine's scale, and the same error for a missing price.

mod common;

use arrow_array::{
    ArrayRef, Decimal128Array, Float64Array, RecordBatch, StringArray, TimestampNanosecondArray,
};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use lockstep_core::Bar;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// 2024-01-02T14:30:00Z.
const START: i64 = 1_704_205_800_000_000_000;
const MINUTE: i64 = 60_000_000_000;

/// Three one-minute bars with prices at 2 decimals in `decimal(precision, 2)` columns; the
/// second row's `high` is missing.
fn write(dir: &Path, precision: u8) -> PathBuf {
    let cents: [[Option<i128>; 4]; 3] = [
        [Some(10_125), Some(10_200), Some(10_100), Some(10_150)],
        [Some(10_150), None, Some(10_100), Some(10_175)],
        [Some(10_175), Some(10_390), Some(9_999), Some(10_301)],
    ];
    let mut fields = vec![
        Field::new(
            "ts",
            DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
            false,
        ),
        Field::new("symbol", DataType::Utf8, false),
    ];
    let mut cols: Vec<ArrayRef> = vec![
        Arc::new(
            TimestampNanosecondArray::from(vec![START, START + MINUTE, START + 2 * MINUTE])
                .with_timezone("UTC"),
        ),
        Arc::new(StringArray::from(vec!["SPY"; 3])),
    ];
    for (k, name) in ["open", "high", "low", "close"].iter().enumerate() {
        fields.push(Field::new(*name, DataType::Decimal128(precision, 2), true));
        let values: Decimal128Array = cents.iter().map(|row| row[k]).collect();
        cols.push(Arc::new(
            values
                .with_precision_and_scale(precision, 2)
                .expect("valid decimal"),
        ));
    }
    fields.push(Field::new("volume", DataType::Float64, false));
    cols.push(Arc::new(Float64Array::from(vec![100.0; 3])));
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).expect("batch");
    let path = dir.join(format!("d{precision}.parquet"));
    let f = std::fs::File::create(&path).expect("create");
    let mut w = parquet::arrow::ArrowWriter::try_new(f, batch.schema(), None).expect("writer");
    w.write(&batch).expect("write");
    w.close().expect("close");
    path
}

fn read(path: &Path, lenient: bool) -> Result<Vec<Bar>, String> {
    common::read_bars(path, lenient).map(|(bars, _)| bars)
}

#[test]
fn decimal_prices_read_the_same_from_64_bit_and_fixed_length_storage() {
    let dir = tempfile::tempdir().expect("tempdir");
    let narrow = write(dir.path(), 18);
    let wide = write(dir.path(), 20);
    let bars = read(&narrow, true).expect("lenient read");
    assert_eq!(bars, read(&wide, true).expect("lenient read"));
    // Row 2 is skipped; prices at the engine's scale (4 decimals: 101.25 -> 1012500).
    let ohlc: Vec<[i64; 4]> = bars
        .iter()
        .map(|b| [b.open, b.high, b.low, b.close])
        .collect();
    assert_eq!(
        ohlc,
        vec![
            [1_012_500, 1_020_000, 1_010_000, 1_015_000],
            [1_017_500, 1_039_000, 999_900, 1_030_100]
        ]
    );
    assert_eq!(bars[0].close_price().to_string(), "101.5000");
    for path in [&narrow, &wide] {
        let e = read(path, false).expect_err("strict refuses the missing price");
        assert!(e.contains("row 2") && e.contains("`high`"), "{e}");
    }
}
