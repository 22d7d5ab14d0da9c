//! The Parquet reader's whole-column fast paths (symbol keys without nulls, volume without
//! nulls, decimal mantissas widened with one overflow flag) give way to the cell-by-cell
//! path whenever a column holds a null or a value out of range: each bad cell is still
//! named by row and column, and the good rows around it read as before.

mod common;

use arrow_array::types::Int32Type;
use arrow_array::{
    ArrayRef, Decimal128Array, DictionaryArray, Float64Array, RecordBatch, TimestampNanosecondArray,
};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use common::read_bars as read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// 2024-01-02T14:30:00Z.
const START: i64 = 1_704_205_800_000_000_000;
const MINUTE: i64 = 60_000_000_000;
/// A whole price whose mantissa at the engine's 4 decimals overflows 64 bits and, wrapped,
/// would read as a plausible 0.8384.
const HUGE: i128 = 1_844_674_407_370_956;

/// The defects a file may have.
#[derive(Clone, Copy, PartialEq)]
enum Defect {
    /// Row 2 has no symbol.
    NoSymbol,
    /// Row 3 has no volume.
    NoVolume,
    /// Row 4's prices are too large for the engine's scale.
    HugePrice,
}

/// Six one-minute bars of two symbols with `decimal(18, 0)` prices and the `defects`.
fn write(dir: &Path, name: &str, defects: &[Defect]) -> PathBuf {
    let n = 6;
    let has = |d: Defect| defects.contains(&d);
    let symbols: DictionaryArray<Int32Type> = (0..n)
        .map(|r| match r {
            1 if has(Defect::NoSymbol) => None,
            r if r % 2 == 0 => Some("SPY"),
            _ => Some("QQQ"),
        })
        .collect();
    let price = |k: usize| -> ArrayRef {
        let rows: Vec<i128> = (0..n)
            .map(|r| match r {
                3 if has(Defect::HugePrice) => HUGE,
                r => 100 + r as i128 + k as i128,
            })
            .collect();
        Arc::new(
            Decimal128Array::from(rows)
                .with_precision_and_scale(18, 0)
                .expect("decimal"),
        )
    };
    let fields = vec![
        Field::new(
            "ts",
            DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
            false,
        ),
        Field::new(
            "symbol",
            DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
            true,
        ),
        Field::new("open", DataType::Decimal128(18, 0), false),
        Field::new("high", DataType::Decimal128(18, 0), false),
        Field::new("low", DataType::Decimal128(18, 0), false),
        Field::new("close", DataType::Decimal128(18, 0), false),
        Field::new("volume", DataType::Float64, true),
    ];
    let ts: Vec<i64> = (0..n).map(|r| START + r as i64 * MINUTE).collect();
    let volume: Float64Array = (0..n)
        .map(|r| (r != 2 || !has(Defect::NoVolume)).then_some(10.0 * r as f64))
        .collect();
    // open, high, low, close = 100 + r + (1, 3, 0, 2): low <= open, close <= high.
    let cols: Vec<ArrayRef> = vec![
        Arc::new(TimestampNanosecondArray::from(ts).with_timezone("UTC")),
        Arc::new(symbols),
        price(1),
        price(3),
        price(0),
        price(2),
        Arc::new(volume),
    ];
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).expect("batch");
    let path = dir.join(format!("{name}.parquet"));
    let f = std::fs::File::create(&path).expect("create");
    let mut w = parquet::arrow::ArrowWriter::try_new(f, batch.schema(), None).expect("writer");
    w.write(&batch).expect("write");
    w.close().expect("close");
    path
}

#[test]
fn a_null_or_out_of_range_cell_is_named_and_the_rows_around_it_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let all = [Defect::NoSymbol, Defect::NoVolume, Defect::HugePrice];
    let path = write(dir.path(), "all", &all);
    let (bars, symbols) = read(&path, true).expect("lenient read");
    let got: Vec<(&str, i64, f64)> = bars
        .iter()
        .map(|b| (symbols.name(b.symbol), b.open, b.volume))
        .collect();
    assert_eq!(
        got,
        vec![
            ("SPY", 1_010_000, 0.0),
            ("SPY", 1_050_000, 40.0),
            ("QQQ", 1_060_000, 50.0)
        ],
        "rows 1, 5 and 6 at 4 decimals"
    );
    let (clean, _) = read(&write(dir.path(), "clean", &[]), false).expect("strict read");
    assert_eq!(clean.len(), 6);
    assert_eq!(clean[3].open, 1_040_000);
    assert_eq!(symbols.name(clean[3].symbol), "QQQ");
    for (defect, row, column) in [
        (Defect::NoSymbol, 2, "symbol"),
        (Defect::NoVolume, 3, "volume"),
        (Defect::HugePrice, 4, "open"),
    ] {
        let path = write(dir.path(), column, &[defect]);
        let e = read(&path, false).expect_err("strict refuses the bad row");
        assert!(
            e.contains(&format!("row {row}")) && e.contains(&format!("`{column}`")),
            "{e}"
        );
    }
}
