//! Recorded signals: JSON Lines, one object a line, as `backtest --signals FILE` reads them
//! and paper/live sessions export them.
//!
//! Fields: `ts` (ISO-8601, when the signal was received; UTC unless it names an offset), `symbol` (or
//! `ticker`), `direction` (`long`/`short` and the words [`Direction::parse`] knows),
//! optional `timeframe` (normalised by [`normalize_timeframe`]), `id` (text or number) and
//! `price` (a positive number or numeric text). Any other field is kept as its JSON text.
//! Blank lines are skipped. A bad line is an error naming the file, the line and the field;
//! with `lenient` it is skipped and reported in [`SignalFile::skipped`] instead.
//!
//! A `.parquet` file holds the same fields as columns (one row a signal; `ts` a timestamp
//! or ISO text); errors name the row instead of the line.

use crate::error::DataError;
use lockstep_core::signal::{normalize_timeframe, Direction, Signal};
use lockstep_core::UnixNanos;
use rust_decimal::Decimal;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// What a signal file held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignalFile {
    /// The signals, in time order (lines with the same `ts` keep their file order).
    pub signals: Vec<Signal>,
    /// The lines skipped in lenient mode, each with why.
    pub skipped: Vec<DataError>,
}

/// One record read: the signal, or (which field, what is wrong).
type Parsed = Result<Signal, (String, String)>;

/// Reads the signal file at `path` (JSON Lines, or Parquet by its `.parquet` extension).
pub fn read_signals(path: &Path, lenient: bool) -> Result<SignalFile, DataError> {
    let parquet = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
    let rows: Vec<(String, Parsed)> = if parquet {
        parquet_rows(path)?
            .into_iter()
            .enumerate()
            .map(|(i, obj)| (format!("row {}", i + 1), parse_object(&obj)))
            .collect()
    } else {
        let text = std::fs::read_to_string(path)
            .map_err(|e| DataError::file(path, format!("cannot read: {e}")))?;
        text.lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(i, line)| (format!("line {}", i + 1), parse_line(line)))
            .collect()
    };
    let mut out = SignalFile {
        signals: Vec::new(),
        skipped: Vec::new(),
    };
    for (at, parsed) in rows {
        match parsed {
            Ok(s) => out.signals.push(s),
            Err((field, reason)) => {
                let e = DataError::file(path, format!("{at}, {field}: {reason}"));
                if lenient {
                    out.skipped.push(e);
                } else {
                    return Err(e);
                }
            }
        }
    }
    out.signals.sort_by_key(|s| s.ts);
    Ok(out)
}

/// Every row of a Parquet signal file as a JSON object of its non-null cells, each as
/// text (timestamps as ISO-8601).
fn parquet_rows(path: &Path) -> Result<Vec<Map<String, Value>>, DataError> {
    use arrow_cast::display::{ArrayFormatter, FormatOptions};
    let bad = |e: String| DataError::file(path, e);
    let f = std::fs::File::open(path).map_err(|e| bad(format!("cannot read: {e}")))?;
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f)
        .and_then(|b| b.build())
        .map_err(|e| bad(format!("not a Parquet file: {e}")))?;
    let opts = FormatOptions::default();
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| bad(format!("cannot read: {e}")))?;
        let schema = batch.schema();
        // Timestamps are UTC instants: formatted without their zone name (naive = UTC).
        let naive = arrow_schema::DataType::Timestamp(arrow_schema::TimeUnit::Nanosecond, None);
        let arrays: Vec<arrow_array::ArrayRef> = batch
            .columns()
            .iter()
            .map(|col| match col.data_type() {
                arrow_schema::DataType::Timestamp(..) => arrow_cast::cast(col, &naive),
                _ => Ok(col.clone()),
            })
            .collect::<Result<_, _>>()
            .map_err(|e| bad(format!("a timestamp column: {e}")))?;
        let columns: Vec<(String, ArrayFormatter<'_>, &dyn arrow_array::Array)> = schema
            .fields()
            .iter()
            .zip(&arrays)
            .map(|(field, col)| {
                ArrayFormatter::try_new(col.as_ref(), &opts)
                    .map(|fmt| (field.name().clone(), fmt, col.as_ref()))
                    .map_err(|e| bad(format!("column `{}`: {e}", field.name())))
            })
            .collect::<Result<_, _>>()?;
        for i in 0..batch.num_rows() {
            let obj: Map<String, Value> = columns
                .iter()
                .filter(|(_, _, col)| col.is_valid(i))
                .map(|(name, fmt, _)| (name.clone(), Value::String(fmt.value(i).to_string())))
                .collect();
            rows.push(obj);
        }
    }
    Ok(rows)
}

/// One line: the signal, or (which field, what is wrong).
fn parse_line(line: &str) -> Result<Signal, (String, String)> {
    let value: Value = serde_json::from_str(line)
        .map_err(|e| ("the line".to_string(), format!("not JSON ({e})")))?;
    let Value::Object(obj) = value else {
        return Err(("the line".into(), "not a JSON object".into()));
    };
    parse_object(&obj)
}

fn field(name: &str) -> String {
    format!("field `{name}`")
}

fn text<'a>(obj: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, (String, String)> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err((field(name), "must be text".into())),
    }
}

/// A signal from a JSON object (shared by recorded files and webhook bodies).
pub fn parse_object(obj: &Map<String, Value>) -> Result<Signal, (String, String)> {
    let ts_text = text(obj, "ts")?.ok_or((field("ts"), "missing".into()))?;
    let ts = crate::timeparse::parse_ts_text(ts_text, None)
        .map(UnixNanos)
        .map_err(|e| (field("ts"), format!("{e} (e.g. 2024-01-02T14:31:00Z)")))?;
    let (symbol_key, symbol) = match text(obj, "symbol")? {
        Some(s) => ("symbol", s),
        None => (
            "ticker",
            text(obj, "ticker")?.ok_or((field("symbol"), "missing".into()))?,
        ),
    };
    let symbol = symbol.trim().to_ascii_uppercase();
    if symbol.is_empty() || symbol.chars().any(char::is_whitespace) {
        return Err((field(symbol_key), "must be one non-empty ticker".into()));
    }
    let dir_text = text(obj, "direction")?.ok_or((field("direction"), "missing".into()))?;
    let direction = Direction::parse(dir_text).ok_or_else(|| {
        (
            field("direction"),
            format!("`{dir_text}` is neither long (buy, bull) nor short (sell, bear)"),
        )
    })?;
    let timeframe = match obj.get("timeframe") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let raw = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => return Err((field("timeframe"), "must be text or a number".into())),
            };
            Some(normalize_timeframe(&raw).ok_or_else(|| {
                (
                    field("timeframe"),
                    format!("`{raw}` is not a timeframe (e.g. 5, 5m, 1h, D)"),
                )
            })?)
        }
    };
    let id = match obj.get("id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(_) => return Err((field("id"), "must be non-empty text or a number".into())),
    };
    let price = match obj.get("price") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let raw = match v {
                Value::String(s) => s.trim().to_string(),
                Value::Number(n) => n.to_string(),
                _ => return Err((field("price"), "must be a number".into())),
            };
            let p = raw
                .parse::<Decimal>()
                .or_else(|_| Decimal::from_scientific(&raw))
                .ok()
                .filter(|p| *p > Decimal::ZERO)
                .ok_or_else(|| (field("price"), format!("`{raw}` is not a positive number")))?;
            Some(p)
        }
    };
    let known = [
        "ts",
        "symbol",
        "ticker",
        "direction",
        "timeframe",
        "id",
        "price",
    ];
    let extra: BTreeMap<String, String> = obj
        .iter()
        .filter(|(k, _)| !known.contains(&k.as_str()) || (*k == "ticker" && symbol_key == "symbol"))
        .map(|(k, v)| (k.clone(), v.to_string()))
        .collect();
    Ok(Signal {
        ts,
        symbol,
        direction,
        timeframe,
        id,
        price,
        extra,
    })
}

/// One line of a signal file for `s` (what [`read_signals`] reads back as `s`).
pub fn signal_line(s: &Signal) -> String {
    let mut obj = Map::new();
    for (k, v) in &s.extra {
        let value = serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.clone()));
        obj.insert(k.clone(), value);
    }
    obj.insert("ts".into(), Value::String(s.ts.to_iso()));
    obj.insert("symbol".into(), Value::String(s.symbol.clone()));
    obj.insert(
        "direction".into(),
        Value::String(s.direction.as_str().into()),
    );
    if let Some(t) = &s.timeframe {
        obj.insert("timeframe".into(), Value::String(t.clone()));
    }
    if let Some(id) = &s.id {
        obj.insert("id".into(), Value::String(id.clone()));
    }
    if let Some(p) = s.price {
        obj.insert("price".into(), Value::String(p.normalize().to_string()));
    }
    Value::Object(obj).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parquet_file_reads_as_the_same_signals_as_its_json_lines() {
        use arrow_array::{
            ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, TimestampNanosecondArray,
        };
        use std::sync::Arc;
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("s.parquet");
        let ts = TimestampNanosecondArray::from(vec![
            1_450_968_062_000_000_000i64,
            1_450_968_542_000_000_000,
        ])
        .with_timezone("UTC");
        let cols: Vec<(&str, ArrayRef)> = vec![
            ("ts", Arc::new(ts)),
            ("symbol", Arc::new(StringArray::from(vec!["GOOG", "GOOG"]))),
            (
                "direction",
                Arc::new(StringArray::from(vec!["short", "buy"])),
            ),
            ("id", Arc::new(Int64Array::from(vec![1, 2]))),
            (
                "price",
                Arc::new(Float64Array::from(vec![Some(748.74), None])),
            ),
        ];
        let batch = RecordBatch::try_from_iter(cols).expect("batch");
        let f = std::fs::File::create(&path).expect("create");
        let mut w = parquet::arrow::ArrowWriter::try_new(f, batch.schema(), None).expect("writer");
        w.write(&batch).expect("write");
        w.close().expect("close");
        let from_parquet = read_signals(&path, false).expect("parquet signals");
        let (_d, jsonl) = file(
            "{\"ts\":\"2015-12-24T14:41:02Z\",\"symbol\":\"GOOG\",\"direction\":\"short\",\"id\":\"1\",\"price\":\"748.74\"}\n\
             {\"ts\":\"2015-12-24T14:49:02Z\",\"symbol\":\"GOOG\",\"direction\":\"long\",\"id\":\"2\"}\n",
        );
        assert_eq!(from_parquet, read_signals(&jsonl, false).expect("jsonl"));
        let bad = dir.path().join("bad.parquet");
        std::fs::write(&bad, "not parquet").expect("write");
        let e = read_signals(&bad, false)
            .expect_err("not parquet")
            .to_string();
        assert!(
            e.contains("bad.parquet") && e.contains("not a Parquet file"),
            "{e}"
        );
    }

    fn file(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("signals.jsonl");
        std::fs::write(&p, text).expect("write");
        (dir, p)
    }

    const GOOD: &str = r#"{"ts":"2024-01-02T09:31:00-05:00","ticker":"spy","direction":"BUY","timeframe":"5","id":7,"price":"472.5","strategy":"orb"}

{"ts":"2024-01-02T14:30:00Z","symbol":"QQQ","direction":"short"}
"#;

    /// A signal's time, symbol, direction, timeframe and id, as compared.
    type SignalFields<'a> = (String, String, &'a str, Option<String>, Option<String>);

    #[test]
    fn reads_normalises_orders_by_time_and_keeps_extra_fields() {
        let (_d, p) = file(GOOD);
        let f = read_signals(&p, false).expect("good file");
        assert!(f.skipped.is_empty());
        let got: Vec<SignalFields> = f
            .signals
            .iter()
            .map(|s| {
                (
                    s.ts.to_iso(),
                    s.symbol.clone(),
                    s.direction.as_str(),
                    s.timeframe.clone(),
                    s.id.clone(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "2024-01-02T14:30:00Z".into(),
                    "QQQ".into(),
                    "short",
                    None,
                    None
                ),
                (
                    "2024-01-02T14:31:00Z".into(),
                    "SPY".into(),
                    "long",
                    Some("5m".into()),
                    Some("7".into())
                ),
            ]
        );
        let spy = &f.signals[1];
        assert_eq!(spy.price, Some(Decimal::new(4725, 1)));
        assert_eq!(
            spy.extra.get("strategy").map(String::as_str),
            Some("\"orb\"")
        );
        // Written back and read again: the same signals.
        let lines: Vec<String> = f.signals.iter().map(signal_line).collect();
        let (_d2, p2) = file(&lines.join("\n"));
        assert_eq!(read_signals(&p2, false).expect("again").signals, f.signals);
    }

    #[test]
    fn a_bad_line_names_file_line_and_field_or_is_skipped_when_lenient() {
        let cases = [
            (
                r#"{"symbol":"SPY","direction":"long"}"#,
                "line 2, field `ts`: missing",
            ),
            (
                r#"{"ts":"yesterday","symbol":"SPY","direction":"long"}"#,
                "line 2, field `ts`: `yesterday` is not an ISO-8601 timestamp",
            ),
            (
                r#"{"ts":"2024-01-02T14:30:00Z","direction":"long"}"#,
                "line 2, field `symbol`: missing",
            ),
            (
                r#"{"ts":"2024-01-02T14:30:00Z","symbol":"SPY","direction":"flat"}"#,
                "line 2, field `direction`: `flat` is neither",
            ),
            (
                r#"{"ts":"2024-01-02T14:30:00Z","symbol":"SPY","direction":"long","timeframe":"5x"}"#,
                "line 2, field `timeframe`: `5x` is not a timeframe",
            ),
            (
                r#"{"ts":"2024-01-02T14:30:00Z","symbol":"SPY","direction":"long","price":"-1"}"#,
                "line 2, field `price`: `-1` is not a positive number",
            ),
            (
                r#"{"ts":"2024-01-02T14:30:00Z","symbol":"S P Y","direction":"long"}"#,
                "line 2, field `symbol`: must be one non-empty ticker",
            ),
            (r#"[1,2]"#, "line 2, the line: not a JSON object"),
            (r#"{"ts":"#, "line 2, the line: not JSON"),
        ];
        for (bad, want) in cases {
            let good = r#"{"ts":"2024-01-02T14:30:00Z","symbol":"SPY","direction":"long"}"#;
            let (_d, p) = file(&format!("{good}\n{bad}\n{good}\n"));
            let e = read_signals(&p, false).expect_err(bad).to_string();
            assert!(e.starts_with(&p.display().to_string()), "{e}");
            assert!(e.contains(want), "{bad}: {e}");
            let f = read_signals(&p, true).expect("lenient");
            assert_eq!(f.signals.len(), 2, "{bad}");
            assert_eq!(f.skipped.len(), 1, "{bad}");
            assert!(f.skipped[0].to_string().contains(want), "{bad}");
        }
    }

    #[test]
    fn a_missing_file_is_an_error_naming_it() {
        let e = read_signals(Path::new("/nonexistent/s.jsonl"), true).expect_err("missing");
        assert!(
            e.to_string()
                .starts_with("/nonexistent/s.jsonl: cannot read"),
            "{e}"
        );
    }
}
