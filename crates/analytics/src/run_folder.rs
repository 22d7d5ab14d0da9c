//! A finished run folder read back for analysis: `summary.json`, the CSV tables (the exact,
//! hashed bytes), the decimated `prices.csv` and the recorded `config.toml` when present.

use crate::error::AnalyticsError;
use crate::twin_rows::{TwinRow, TwinRows};
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// A decimal cell read from its exact text (never through a float: a CSV reader would
/// otherwise hand `738.00` over as the number 738).
fn de_dec<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    let s = <&str>::deserialize(d)?;
    s.parse::<Decimal>()
        .map_err(|e| serde::de::Error::custom(format!("`{s}` is not a decimal: {e}")))
}

/// A label cell (a symbol, a strategy, a side, a reason): shared among the rows that hold
/// the same text, since a table repeats a few of them on every row.
pub type Label = std::sync::Arc<str>;

/// One `equity.csv` row.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct EquityRow {
    /// Row time, ISO-8601 UTC.
    #[serde(deserialize_with = "crate::time::de_ts")]
    pub ts: i64,
    /// Marked value of open positions.
    #[serde(deserialize_with = "de_dec")]
    pub positions_value: Decimal,
    /// Cash plus marked positions.
    #[serde(deserialize_with = "de_dec")]
    pub equity: Decimal,
}

/// One `lots.csv` row (a FIFO allocation).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LotRow {
    /// Instrument.
    pub symbol: Label,
    /// Fill that closed it.
    pub close_fill_id: u64,
    /// Quantity closed.
    #[serde(deserialize_with = "de_dec")]
    pub qty: Decimal,
    /// When it opened.
    #[serde(deserialize_with = "crate::time::de_ts")]
    pub open_ts: i64,
    /// When it closed.
    #[serde(deserialize_with = "crate::time::de_ts")]
    pub close_ts: i64,
    /// Net P&L after fees.
    #[serde(deserialize_with = "de_dec")]
    pub net_pnl: Decimal,
    /// Why it closed.
    pub exit_reason: Label,
}

/// One `fills.csv` row.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct FillRow {
    /// Fill id.
    pub fill_id: u64,
    /// Strategy that owned the order.
    pub strategy: Label,
    /// When.
    #[serde(deserialize_with = "crate::time::de_ts")]
    pub ts: i64,
    /// Instrument.
    pub symbol: Label,
    /// `buy` or `sell`.
    pub side: Label,
    /// Quantity.
    #[serde(deserialize_with = "de_dec")]
    pub qty: Decimal,
    /// Price.
    #[serde(deserialize_with = "de_dec")]
    pub price: Decimal,
    /// Fee.
    #[serde(deserialize_with = "de_dec")]
    pub fee: Decimal,
    /// Exit reason (empty for entries).
    pub exit_reason: Label,
}

/// One `prices.csv` row: a decimated bucket of closes.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PriceRow {
    /// Instrument.
    pub symbol: String,
    /// First close time in the bucket.
    #[serde(deserialize_with = "crate::time::de_ts")]
    pub ts: i64,
    /// Last close time in the bucket.
    #[serde(deserialize_with = "crate::time::de_ts")]
    pub last_ts: i64,
    /// First close.
    pub first: f64,
    /// Lowest close.
    pub low: f64,
    /// Highest close.
    pub high: f64,
    /// Last close.
    pub last: f64,
}

/// A run folder read back: its small files in memory; its tables are read row by row
/// ([`RunFolder::rows`]), so memory does not grow with the length of the run.
#[derive(Debug, Clone)]
pub struct RunFolder {
    /// The folder.
    pub dir: PathBuf,
    /// `summary.json` as written.
    pub summary: serde_json::Value,
    /// `prices.csv` (empty when the run recorded none; at most a few thousand rows a symbol).
    pub prices: Vec<PriceRow>,
    /// `config.toml` text, when recorded.
    pub config: Option<String>,
    /// `run.json` as written, when present.
    pub run: Option<serde_json::Value>,
}

/// The rows of one table, read one at a time; an error names the file and row.
pub struct Rows<T> {
    path: PathBuf,
    inner: csv::DeserializeRecordsIntoIter<std::fs::File, T>,
    line: usize,
}

impl<T: DeserializeOwned> Iterator for Rows<T> {
    type Item = Result<T, AnalyticsError>;

    fn next(&mut self) -> Option<Self::Item> {
        let row = self.inner.next()?;
        self.line += 1;
        Some(row.map_err(|e| AnalyticsError::row(&self.path, self.line, e)))
    }
}

/// Opens `path` as a table of `T` rows.
pub fn rows<T: DeserializeOwned>(path: &Path) -> Result<Rows<T>, AnalyticsError> {
    let r = csv::Reader::from_path(path).map_err(|e| AnalyticsError::file(path, e))?;
    Ok(Rows {
        path: path.to_path_buf(),
        inner: r.into_deserialize(),
        line: 1,
    })
}

/// The values of one table's rows: from its Parquet twin when the run wrote one, else from
/// the CSV ([`RunFolder::fill_values`]).
pub enum Values<T> {
    /// Read from the twin.
    Twin(TwinRows<T>),
    /// Read from the CSV.
    Csv(Rows<T>),
}

impl<T: DeserializeOwned + TwinRow> Iterator for Values<T> {
    type Item = Result<T, AnalyticsError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Values::Twin(r) => r.next(),
            Values::Csv(r) => r.next(),
        }
    }
}

/// A string or number of a JSON document by dotted path (`metrics.sharpe`), as written.
pub fn json_text(doc: &serde_json::Value, path: &str) -> Option<String> {
    let mut v = doc;
    for key in path.split('.') {
        v = v.get(key)?;
    }
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn read_json(path: &Path) -> Result<serde_json::Value, AnalyticsError> {
    let text = std::fs::read_to_string(path).map_err(|e| AnalyticsError::file(path, e))?;
    serde_json::from_str(&text).map_err(|e| AnalyticsError::file(path, e))
}

impl RunFolder {
    /// Reads the run folder `dir`; an error names the missing or bad file (and row).
    pub fn open(dir: &Path) -> Result<Self, AnalyticsError> {
        if !dir.join("summary.json").is_file() {
            return Err(AnalyticsError::NotARun(dir.to_path_buf()));
        }
        for table in ["equity.csv", "lots.csv", "fills.csv"] {
            if !dir.join(table).is_file() {
                return Err(AnalyticsError::file(&dir.join(table), "missing"));
            }
        }
        let prices = dir.join("prices.csv");
        let run = dir.join("run.json");
        Ok(RunFolder {
            dir: dir.to_path_buf(),
            summary: read_json(&dir.join("summary.json"))?,
            prices: if prices.is_file() {
                rows(&prices)?.collect::<Result<_, _>>()?
            } else {
                Vec::new()
            },
            config: std::fs::read_to_string(dir.join("config.toml")).ok(),
            run: run.is_file().then(|| read_json(&run)).transpose()?,
        })
    }

    /// The rows of `equity.csv`.
    pub fn equity(&self) -> Result<Rows<EquityRow>, AnalyticsError> {
        rows(&self.dir.join("equity.csv"))
    }

    /// The rows of `lots.csv`.
    pub fn lots(&self) -> Result<Rows<LotRow>, AnalyticsError> {
        rows(&self.dir.join("lots.csv"))
    }

    /// The rows of `fills.csv`.
    pub fn fills(&self) -> Result<Rows<FillRow>, AnalyticsError> {
        rows(&self.dir.join("fills.csv"))
    }

    /// The values of `<name>.parquet` when there is one, else of `<name>.csv`.
    fn values<T: DeserializeOwned + TwinRow>(
        &self,
        name: &str,
    ) -> Result<Values<T>, AnalyticsError> {
        let twin = self.dir.join(format!("{name}.parquet"));
        if twin.is_file() {
            return TwinRows::open(&twin).map(Values::Twin);
        }
        rows(&self.dir.join(format!("{name}.csv"))).map(Values::Csv)
    }

    /// The values of the equity rows, decoded from the Parquet twin when there is one
    /// (numerically equal to the CSV, read several times faster; see [`crate::twin_rows`]).
    pub fn equity_values(&self) -> Result<Values<EquityRow>, AnalyticsError> {
        self.values("equity")
    }

    /// The values of the lots, as [`RunFolder::equity_values`].
    pub fn lot_values(&self) -> Result<Values<LotRow>, AnalyticsError> {
        self.values("lots")
    }

    /// The values of the fills, as [`RunFolder::equity_values`].
    pub fn fill_values(&self) -> Result<Values<FillRow>, AnalyticsError> {
        self.values("fills")
    }

    /// A string field of `summary.json` by dotted path (`metrics.sharpe`); numbers are
    /// given as written.
    pub fn field(&self, path: &str) -> Option<String> {
        json_text(&self.summary, path)
    }

    /// The run's name (its `run_id`, or the folder name).
    pub fn name(&self) -> String {
        self.field("run_id").unwrap_or_else(|| {
            self.dir
                .file_name()
                .map_or("run".into(), |n| n.to_string_lossy().into_owned())
        })
    }

    /// Starting cash (`initial_cash`), 0 when absent.
    pub fn initial_cash(&self) -> Decimal {
        self.field("initial_cash")
            .and_then(|s| s.parse().ok())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_keep_their_exact_text() {
        let text = "symbol,close_fill_id,qty,open_ts,close_ts,net_pnl,exit_reason\n\
                    GOOG,2,100,2004-12-21T05:00:00Z,2005-01-31T05:00:00Z,738.00,signal\n\
                    GOOG,4,0.1,2004-12-21T05:00:00Z,2005-01-31T05:00:00Z,63251.341000000000000001,stop\n";
        let rows: Vec<LotRow> = csv::Reader::from_reader(text.as_bytes())
            .deserialize()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows[0].net_pnl.to_string(), "738.00");
        assert_eq!(rows[1].net_pnl.to_string(), "63251.341000000000000001");
        assert_eq!(rows[1].qty.to_string(), "0.1");
    }

    #[test]
    fn a_bad_cell_names_the_file_and_row() {
        let dir = std::env::temp_dir().join(format!("lockstep-analytics-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("summary.json"), "{}").unwrap();
        std::fs::write(
            dir.join("equity.csv"),
            "ts,positions_value,equity\n2024-01-01T00:00:00Z,0,1x\n",
        )
        .unwrap();
        std::fs::write(dir.join("lots.csv"), "").unwrap();
        std::fs::write(dir.join("fills.csv"), "").unwrap();
        let run = RunFolder::open(&dir).unwrap();
        let err = run
            .equity()
            .unwrap()
            .find_map(Result::err)
            .unwrap()
            .to_string();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(
            err.contains("equity.csv: row 2:") && err.contains("`1x` is not a decimal"),
            "{err}"
        );
    }
}
