//! Recorded signals: JSON Lines, one object a line, as `backtest --signals FILE` reads them
//! and paper/live sessions export them.
//!
//! Fields: `ts` (ISO-8601, when the signal was received; UTC unless it names an offset), `symbol` (or
//! `ticker`), `direction` (`long`/`short` and the words [`Direction::parse`] knows),
//! optional `timeframe` (normalised by [`normalize_timeframe`]), `id` (text or number) and
//! `price` (a positive number or numeric text). Any other field is kept as its JSON text.
//! Blank lines are skipped. A bad line is an error naming the file, the line and the field;
//! with `lenient` it is skipped and reported in [`SignalFile::skipped`] instead.

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

/// Reads the signal file at `path`.
pub fn read_signals(path: &Path, lenient: bool) -> Result<SignalFile, DataError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| DataError::file(path, format!("cannot read: {e}")))?;
    let mut out = SignalFile {
        signals: Vec::new(),
        skipped: Vec::new(),
    };
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match parse_line(line) {
            Ok(s) => out.signals.push(s),
            Err((field, reason)) => {
                let e = DataError::file(path, format!("line {}, {field}: {reason}", i + 1));
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

    fn file(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("signals.jsonl");
        std::fs::write(&p, text).expect("write");
        (dir, p)
    }

    const GOOD: &str = r#"{"ts":"2024-01-02T09:31:00-05:00","ticker":"spy","direction":"BUY","timeframe":"5","id":7,"price":"472.5","strategy":"orb"}

{"ts":"2024-01-02T14:30:00Z","symbol":"QQQ","direction":"short"}
"#;

    #[test]
    fn reads_normalises_orders_by_time_and_keeps_extra_fields() {
        let (_d, p) = file(GOOD);
        let f = read_signals(&p, false).expect("good file");
        assert!(f.skipped.is_empty());
        let got: Vec<(String, String, &str, Option<String>, Option<String>)> = f
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
