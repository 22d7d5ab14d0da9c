//! The bad-input corpus: every case exits with code 2 and a message naming the file and,
//! for data, the row and the column. Nothing panics.

mod common;

use arrow_array::{
    ArrayRef, BooleanArray, Float64Array, RecordBatch, StringArray, TimestampNanosecondArray,
};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use common::{lockstep, repo};
use std::path::Path;
use std::sync::Arc;

const HEADER: &str = "ts,symbol,open,high,low,close,volume\n";

fn good_rows() -> Vec<String> {
    vec![
        "2024-01-02T00:00:00Z,AAA,10,11,9,10.5,100".into(),
        "2024-01-03T00:00:00Z,AAA,10.5,12,10,11,100".into(),
        "2024-01-04T00:00:00Z,AAA,11,12,10,11.5,100".into(),
        "2024-01-05T00:00:00Z,AAA,11.5,12,11,11.75,100".into(),
    ]
}

/// A CSV whose third data row is replaced by `row3`.
fn csv_with_row3(row3: &str) -> Vec<u8> {
    let mut rows = good_rows();
    rows[2] = row3.to_string();
    format!("{HEADER}{}\n", rows.join("\n")).into_bytes()
}

struct Case {
    name: &'static str,
    file: Option<(&'static str, Vec<u8>)>,
    config: Option<&'static str>,
    args: Vec<&'static str>,
    expect: Vec<&'static str>,
}

fn data_case(name: &'static str, row3: &str, expect: Vec<&'static str>) -> Case {
    Case {
        name,
        file: Some(("bars.csv", csv_with_row3(row3))),
        config: None,
        args: vec![],
        expect,
    }
}

fn parquet_bytes(close: ArrayRef, with_ts: bool) -> Vec<u8> {
    let n = close.len();
    let mut fields = Vec::new();
    let mut cols: Vec<ArrayRef> = Vec::new();
    if with_ts {
        fields.push(Field::new(
            "ts",
            DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
            false,
        ));
        let day = 86_400_000_000_000i64;
        cols.push(Arc::new(
            TimestampNanosecondArray::from_iter_values(
                (0..n as i64).map(|i| 1_704_153_600_000_000_000 + i * day),
            )
            .with_timezone("UTC"),
        ));
    }
    fields.push(Field::new("symbol", DataType::Utf8, false));
    cols.push(Arc::new(StringArray::from_iter_values(
        (0..n).map(|_| "AAA"),
    )));
    for name in ["open", "high", "low"] {
        fields.push(Field::new(name, DataType::Float64, false));
        let v = match name {
            "high" => 20.0,
            "low" => 5.0,
            _ => 10.0,
        };
        cols.push(Arc::new(Float64Array::from(vec![v; n])));
    }
    fields.push(Field::new("close", close.data_type().clone(), true));
    cols.push(close);
    fields.push(Field::new("volume", DataType::Float64, false));
    cols.push(Arc::new(Float64Array::from(vec![1.0; n])));
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), cols).unwrap();
    let mut buf = Vec::new();
    let mut w = parquet::arrow::ArrowWriter::try_new(&mut buf, schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    buf
}

fn cases() -> Vec<Case> {
    let goog = std::fs::read(repo().join("data/backtestingpy_goog_1d.parquet")).unwrap();
    let mut non_utf8 = csv_with_row3("2024-01-04T00:00:00Z,AAA,11,12,10,11.5,100");
    let pos = non_utf8.windows(3).position(|w| w == b"AAA").unwrap();
    let pos = pos
        + non_utf8[pos + 1..]
            .windows(3)
            .position(|w| w == b"AAA")
            .unwrap()
        + 1;
    let pos = pos
        + non_utf8[pos + 1..]
            .windows(3)
            .position(|w| w == b"AAA")
            .unwrap()
        + 1;
    non_utf8[pos] = 0xff;
    vec![
        Case {
            name: "missing column",
            file: Some(("bars.csv", b"ts,symbol,open,high,low,volume\n2024-01-02,AAA,1,1,1,1\n".to_vec())),
            config: None,
            args: vec![],
            expect: vec!["bars.csv", "column `close`", "missing column"],
        },
        data_case("text that is not a number", "2024-01-04T00:00:00Z,AAA,11,12,10,abc,100", vec!["row 3", "column `close`", "not a decimal number"]),
        data_case("NaN price text", "2024-01-04T00:00:00Z,AAA,11,12,10,NaN,100", vec!["row 3", "column `close`", "NaN"]),
        data_case("zero price", "2024-01-04T00:00:00Z,AAA,0,12,0,11,100", vec!["row 3", "column `open`", "positive"]),
        data_case("negative price", "2024-01-04T00:00:00Z,AAA,11,12,-1,11,100", vec!["row 3", "column `low`", "positive"]),
        data_case("high below low", "2024-01-04T00:00:00Z,AAA,11,9,10,11,100", vec!["row 3", "column `high`", "high is below low"]),
        data_case("open outside range", "2024-01-04T00:00:00Z,AAA,13,12,10,11,100", vec!["row 3", "column `open`", "outside"]),
        data_case("close outside range", "2024-01-04T00:00:00Z,AAA,11,12,10,9.5,100", vec!["row 3", "column `close`", "outside"]),
        data_case("timestamp going back", "2024-01-01T00:00:00Z,AAA,11,12,10,11,100", vec!["row 3", "column `ts`", "must increase"]),
        data_case("duplicate timestamp", "2024-01-03T00:00:00Z,AAA,11,12,10,11,100", vec!["row 3", "column `ts`", "duplicate timestamp"]),
        data_case("bad timestamp text", "yesterday,AAA,11,12,10,11,100", vec!["row 3", "column `ts`", "ISO-8601"]),
        data_case("empty cell", "2024-01-04T00:00:00Z,AAA,11,12,10,,100", vec!["row 3", "column `close`", "missing value"]),
        data_case("negative volume", "2024-01-04T00:00:00Z,AAA,11,12,10,11,-5", vec!["row 3", "column `volume`", "non-negative"]),
        data_case("too many decimals", "2024-01-04T00:00:00Z,AAA,11,12,10,11.1234567891,100", vec!["row 3", "column `close`", "needs more than 9 decimals"]),
        data_case("short row", "2024-01-04T00:00:00Z,AAA,11,12", vec!["row 3", "fields"]),
        Case {
            name: "file not in time order",
            file: Some((
                "bars.csv",
                format!(
                    "{HEADER}2024-01-02,AAA,1,1,1,1,1\n2024-01-03,AAA,1,1,1,1,1\n2024-01-02,BBB,1,1,1,1,1\n"
                )
                .into_bytes(),
            )),
            config: None,
            args: vec![],
            expect: vec!["row 3", "column `ts`", "not in time order"],
        },
        Case {
            name: "non-UTF-8 CSV",
            file: Some(("bars.csv", non_utf8)),
            config: None,
            args: vec![],
            expect: vec!["bars.csv", "row 3", "UTF-8"],
        },
        Case {
            name: "empty CSV",
            file: Some(("bars.csv", Vec::new())),
            config: None,
            args: vec![],
            expect: vec!["bars.csv", "empty file"],
        },
        Case {
            name: "header-only CSV",
            file: Some(("bars.csv", HEADER.as_bytes().to_vec())),
            config: None,
            args: vec!["--set", "data.interval=\"1d\""],
            expect: vec!["bars.csv", "no valid bars"],
        },
        Case {
            name: "empty Parquet",
            file: Some(("bars.parquet", Vec::new())),
            config: None,
            args: vec![],
            expect: vec!["bars.parquet", "empty file"],
        },
        Case {
            name: "truncated Parquet",
            file: Some(("bars.parquet", goog[..goog.len() / 2].to_vec())),
            config: None,
            args: vec![],
            expect: vec!["bars.parquet", "not a readable Parquet file"],
        },
        Case {
            name: "Parquet column of the wrong type",
            file: Some(("bars.parquet", parquet_bytes(Arc::new(BooleanArray::from(vec![true; 4])), true))),
            config: None,
            args: vec![],
            expect: vec!["bars.parquet", "column `close`", "wrong type"],
        },
        Case {
            name: "Parquet NaN price",
            file: Some((
                "bars.parquet",
                parquet_bytes(Arc::new(Float64Array::from(vec![10.0, 10.0, f64::NAN, 10.0])), true),
            )),
            config: None,
            args: vec![],
            expect: vec!["bars.parquet", "row 3", "column `close`", "NaN"],
        },
        Case {
            name: "Parquet without ts",
            file: Some(("bars.parquet", parquet_bytes(Arc::new(Float64Array::from(vec![10.0; 4])), false))),
            config: None,
            args: vec![],
            expect: vec!["bars.parquet", "column `ts`", "missing column"],
        },
        Case {
            name: "missing data file",
            file: None,
            config: None,
            args: vec!["--data", "nowhere.parquet"],
            expect: vec!["nowhere.parquet", "cannot open"],
        },
        Case {
            name: "unknown config key",
            file: None,
            config: Some("[strategy]\nname = \"sma_cross\"\n[execution]\nfil = \"close\"\n"),
            args: vec![],
            expect: vec!["run.toml", "execution.fil", "unknown field"],
        },
        Case {
            name: "unknown strategy parameter",
            file: None,
            config: Some("[strategy]\nname = \"sma_cross\"\nfsat = 3\n"),
            args: vec![],
            expect: vec!["sma_cross", "unknown field `fsat`"],
        },
        Case {
            name: "invalid TOML",
            file: None,
            config: Some("[strategy\nname = 1\n"),
            args: vec![],
            expect: vec!["run.toml", "invalid TOML"],
        },
        Case {
            name: "bad --set",
            file: None,
            config: None,
            args: vec!["--set", "strategy.fast"],
            expect: vec!["--set `strategy.fast`", "KEY=VALUE"],
        },
        Case {
            name: "unknown strategy",
            file: None,
            config: None,
            args: vec!["--strategy", "moon_shot"],
            expect: vec!["unknown strategy `moon_shot`"],
        },
        Case {
            name: "fast >= slow",
            file: None,
            config: None,
            args: vec!["--set", "strategy.fast=30", "--set", "strategy.slow=10"],
            expect: vec!["fast (30) must be less than slow (10)"],
        },
        Case {
            name: "bad fill model",
            file: None,
            config: None,
            args: vec!["--set", "execution.fill=midpoint"],
            expect: vec!["execution.fill", "midpoint"],
        },
        Case {
            name: "bad interval",
            file: None,
            config: None,
            args: vec!["--set", "data.interval=\"7x\""],
            expect: vec!["data.interval", "7x"],
        },
        Case {
            name: "unsupported calendar",
            file: None,
            config: None,
            args: vec!["--set", "data.calendar=mars"],
            expect: vec!["data.calendar", "mars"],
        },
    ]
}

fn run_case(dir: &Path, case: &Case) -> (Option<i32>, String) {
    let mut args: Vec<String> = vec![
        "backtest".into(),
        "--quiet".into(),
        "--out".into(),
        "out".into(),
    ];
    if let Some(cfg) = case.config {
        std::fs::write(dir.join("run.toml"), cfg).unwrap();
        args.push("run.toml".into());
    }
    if let Some((name, bytes)) = &case.file {
        std::fs::write(dir.join(name), bytes).unwrap();
        args.push("--data".into());
        args.push((*name).into());
    }
    args.extend(case.args.iter().map(|s| s.to_string()));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = lockstep(dir, &argv);
    (o.status.code(), common::stderr(&o))
}

#[test]
fn every_bad_input_exits_2_with_a_precise_message() {
    let cases = cases();
    assert!(cases.len() >= 20);
    let mut failures = Vec::new();
    for case in &cases {
        let tmp = tempfile::tempdir().unwrap();
        let (code, err) = run_case(tmp.path(), case);
        let missing: Vec<_> = case.expect.iter().filter(|e| !err.contains(*e)).collect();
        if code != Some(2) || !missing.is_empty() || err.contains("panicked") {
            failures.push(format!(
                "{}: exit {:?}, missing {:?}, stderr: {}",
                case.name,
                code,
                missing,
                err.trim()
            ));
        }
        assert!(
            !tmp.path().join("out").exists(),
            "{}: a failed run left a report",
            case.name
        );
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn lenient_skips_and_counts_bad_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let mut rows = good_rows();
    rows[1] = "2024-01-03T00:00:00Z,AAA,10.5,9,10,11,100".into();
    rows.push("2024-01-06T00:00:00Z,AAA,abc,12,11,11.75,100".into());
    std::fs::write(
        tmp.path().join("bars.csv"),
        format!("{HEADER}{}\n", rows.join("\n")),
    )
    .unwrap();
    let o = lockstep(
        tmp.path(),
        &[
            "backtest",
            "--quiet",
            "--out",
            "out",
            "--data",
            "bars.csv",
            "--lenient",
            "--strategy",
            "buy_and_hold",
        ],
    );
    assert!(o.status.success(), "{}", common::stderr(&o));
    let s = common::summary(&tmp.path().join("out"));
    assert_eq!(s["skipped_rows"], 2);
    assert_eq!(s["bars"], 3);
}
