//! Which input column feeds which bar field, chosen once per file from its schema.

use crate::error::DataError;
use std::path::Path;

/// The bar fields read from a file, in a fixed order.
pub const PRICE_FIELDS: [&str; 4] = ["open", "high", "low", "close"];

/// Names accepted for the timestamp column, in order of preference.
pub const TS_NAMES: [&str; 2] = ["ts", "ts_utc"];

/// Picks the source column of `field`: the exact `<field>_text` column wins over `<field>`.
pub fn pick_value_column<'a>(names: &'a [String], field: &str) -> Option<(usize, &'a str)> {
    let text = format!("{field}_text");
    names
        .iter()
        .position(|n| *n == text)
        .or_else(|| names.iter().position(|n| n == field))
        .map(|i| (i, names[i].as_str()))
}

/// Picks the timestamp column.
pub fn pick_ts_column(names: &[String]) -> Option<(usize, &str)> {
    TS_NAMES
        .iter()
        .find_map(|t| names.iter().position(|n| n == t))
        .map(|i| (i, names[i].as_str()))
}

/// A readable list of the columns a file has, for "missing column" messages.
pub fn list(names: &[String]) -> String {
    names.join(", ")
}

/// The source columns of (ts, open, high, low, close, volume): positions and names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnMap {
    /// Column positions in the file.
    pub idx: [usize; 6],
    /// Column names in the file (e.g. `close_text`).
    pub names: [String; 6],
}

/// Maps a file's header to bar fields; a missing field is an error naming the column and
/// listing what the file has.
pub fn resolve(file: &Path, names: &[String]) -> Result<ColumnMap, DataError> {
    let missing = |c: &str| {
        DataError::column(
            file,
            c,
            format!("missing column (file has: {})", list(names)),
        )
    };
    let (ts_i, ts_name) = pick_ts_column(names).ok_or_else(|| missing("ts"))?;
    let mut map = ColumnMap {
        idx: [ts_i; 6],
        names: std::array::from_fn(|_| ts_name.to_string()),
    };
    for (k, field) in PRICE_FIELDS.iter().chain(["volume"].iter()).enumerate() {
        let (i, name) = pick_value_column(names, field).ok_or_else(|| missing(field))?;
        map.idx[k + 1] = i;
        map.names[k + 1] = name.to_string();
    }
    Ok(map)
}

/// The quote fields of a quote-bar file, bid side first.
pub const QUOTE_FIELDS: [&str; 8] = [
    "bid_open",
    "bid_high",
    "bid_low",
    "bid_close",
    "ask_open",
    "ask_high",
    "ask_low",
    "ask_close",
];

/// The source columns of a quote-bar file: positions and names of `QUOTE_FIELDS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteMap {
    /// Column positions in the file.
    pub idx: [usize; 8],
    /// Column names in the file (e.g. `bid_close_text`).
    pub names: [String; 8],
}

/// A file without a `close` column but with `bid_*`/`ask_*` columns holds quote bars:
/// all eight quote columns are then required. `Ok(None)` for a trade-bar file.
pub fn resolve_quotes(file: &Path, names: &[String]) -> Result<Option<QuoteMap>, DataError> {
    let has_close = pick_value_column(names, "close").is_some();
    let quoted = names
        .iter()
        .any(|n| n.starts_with("bid_") || n.starts_with("ask_"));
    if has_close || !quoted {
        return Ok(None);
    }
    let mut idx = [0; 8];
    let mut out: [String; 8] = Default::default();
    for (k, field) in QUOTE_FIELDS.iter().enumerate() {
        let (i, name) = pick_value_column(names, field).ok_or_else(|| {
            DataError::column(
                file,
                field,
                format!("missing quote column (file has: {})", list(names)),
            )
        })?;
        idx[k] = i;
        out[k] = name.to_string();
    }
    Ok(Some(QuoteMap { idx, names: out }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_column_wins() {
        let names: Vec<String> = ["ts", "close", "close_text"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(pick_value_column(&names, "close"), Some((2, "close_text")));
        assert_eq!(pick_ts_column(&names), Some((0, "ts")));
        assert_eq!(pick_value_column(&names, "open"), None);
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn quote_files_need_all_eight_sides_and_trade_files_are_not_quotes() {
        let p = Path::new("q.parquet");
        let mut names = strings(&["ts", "symbol"]);
        names.extend(QUOTE_FIELDS.iter().map(|f| format!("{f}_text")));
        let map = resolve_quotes(p, &names).unwrap().unwrap();
        assert_eq!(map.names[7], "ask_close_text");
        assert_eq!(map.idx[0], 2);
        names.pop();
        let e = resolve_quotes(p, &names).unwrap_err().to_string();
        assert!(
            e.contains("ask_close") && e.contains("missing quote column"),
            "{e}"
        );
        let trade = strings(&["ts", "open", "high", "low", "close", "volume", "bid_size"]);
        assert_eq!(resolve_quotes(p, &trade).unwrap(), None);
    }
}
