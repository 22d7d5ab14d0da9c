//! `sweep.parquet` / `sweep.csv`: one row per grid point (index, the point's values, its
//! results), written the same way whether the rows come from one run or from merged
//! shards, so the files are byte for byte identical. Money and metrics are exact decimals.

use crate::error::AppError;
use crate::parquet_out::{decimal_column, write_parquet};
use arrow_array::cast::AsArray;
use arrow_array::types::{Decimal128Type, Int64Type};
use arrow_array::{Array, ArrayRef, Int64Array, StringArray};
use arrow_schema::{DataType, Field};
use lockstep_report::fmt::{dec, money};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// Results of one point that ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointStats {
    /// FIFO round trips.
    pub round_trips: i64,
    /// Fills.
    pub fills: i64,
    /// Realized P&L (net of fees).
    pub realized_pnl: Decimal,
    /// Fees.
    pub fees: Decimal,
    /// Largest peak-to-trough fall of equity, as a fraction.
    pub max_drawdown: Option<Decimal>,
    /// Annualized Sharpe ratio of session returns.
    pub sharpe: Option<Decimal>,
    /// The point's report hash.
    pub report_hash: String,
}

/// One row: a point's index, values and outcome (stats, or why it could not run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointRow {
    /// Point index in the grid.
    pub index: usize,
    /// The point's value for each grid key, as given.
    pub values: Vec<String>,
    /// Its results, or the error that stopped it.
    pub outcome: Result<PointStats, String>,
}

/// What identifies a sweep: its grid keys, the grid line, the number of points and a
/// digest of the config the points ran on. Written into the Parquet file's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweepId {
    /// Grid keys, in order (one column each).
    pub keys: Vec<String>,
    /// `Grid::describe`.
    pub grid: String,
    /// Points in the whole grid.
    pub points: usize,
    /// sha256 of the config text, base overrides and data paths.
    pub config: String,
}

const META_GRID: &str = "lockstep.sweep.grid";
const META_POINTS: &str = "lockstep.sweep.points";
const META_CONFIG: &str = "lockstep.sweep.config";
const META_KEYS: &str = "lockstep.sweep.keys";

/// The result columns after the index and the grid keys.
pub const FIXED: [&str; 8] = [
    "round_trips",
    "fills",
    "realized_pnl",
    "fees",
    "max_drawdown",
    "sharpe",
    "report_hash",
    "error",
];

/// Reads one decimal result of a point.
type DecimalOf = fn(&PointStats) -> Option<Decimal>;

/// Writes `<stem>.parquet` and `<stem>.csv` into `dir`, rows sorted by index.
pub fn write(dir: &Path, stem: &str, id: &SweepId, rows: &[PointRow]) -> Result<(), AppError> {
    let mut rows: Vec<&PointRow> = rows.iter().collect();
    rows.sort_by_key(|r| r.index);
    let stats: Vec<Option<&PointStats>> = rows.iter().map(|r| r.outcome.as_ref().ok()).collect();
    let mut cols: Vec<(Field, ArrayRef)> = vec![(
        Field::new("index", DataType::Int64, false),
        Arc::new(Int64Array::from(
            rows.iter().map(|r| r.index as i64).collect::<Vec<_>>(),
        )),
    )];
    for (k, key) in id.keys.iter().enumerate() {
        let v: Vec<&str> = rows.iter().map(|r| r.values[k].as_str()).collect();
        cols.push((
            Field::new(key, DataType::Utf8, false),
            Arc::new(StringArray::from(v)),
        ));
    }
    let int = |name: &str, get: fn(&PointStats) -> i64| {
        let v: Vec<Option<i64>> = stats.iter().map(|s| s.map(get)).collect();
        (
            Field::new(name, DataType::Int64, true),
            Arc::new(Int64Array::from(v)) as ArrayRef,
        )
    };
    cols.push(int("round_trips", |s| s.round_trips));
    cols.push(int("fills", |s| s.fills));
    let decimals: [(&str, DecimalOf); 4] = [
        ("realized_pnl", |s| Some(s.realized_pnl)),
        ("fees", |s| Some(s.fees)),
        ("max_drawdown", |s| s.max_drawdown),
        ("sharpe", |s| s.sharpe),
    ];
    for (name, get) in decimals {
        let v: Vec<Option<Decimal>> = stats.iter().map(|s| s.and_then(get)).collect();
        cols.push(decimal_column(name, &v)?);
    }
    let text = |name: &str, f: &dyn Fn(&PointRow) -> Option<String>| {
        let v: Vec<Option<String>> = rows.iter().map(|r| f(r)).collect();
        (
            Field::new(name, DataType::Utf8, true),
            Arc::new(StringArray::from(v)) as ArrayRef,
        )
    };
    cols.push(text("report_hash", &|r| {
        r.outcome.as_ref().ok().map(|s| s.report_hash.clone())
    }));
    cols.push(text("error", &|r| r.outcome.as_ref().err().cloned()));
    let meta = vec![
        (META_KEYS, id.keys.join("\n")),
        (META_GRID, id.grid.clone()),
        (META_POINTS, id.points.to_string()),
        (META_CONFIG, id.config.clone()),
    ];
    write_parquet(&dir.join(format!("{stem}.parquet")), cols, meta)?;
    write_csv(dir, stem, id, &rows)
}

fn write_csv(dir: &Path, stem: &str, id: &SweepId, rows: &[&PointRow]) -> Result<(), AppError> {
    let path = dir.join(format!("{stem}.csv"));
    let err = |e: csv::Error| AppError::Runtime(format!("{}: {e}", path.display()));
    let mut w = csv::Writer::from_path(&path).map_err(err)?;
    let mut header = vec!["index".to_string()];
    header.extend(id.keys.iter().cloned());
    header.extend(FIXED.iter().map(|s| s.to_string()));
    w.write_record(&header).map_err(err)?;
    for r in rows {
        let mut rec = vec![r.index.to_string()];
        rec.extend(r.values.iter().cloned());
        let opt = |d: Option<Decimal>| d.map(|d| dec(d, 0)).unwrap_or_default();
        match &r.outcome {
            Ok(s) => rec.extend([
                s.round_trips.to_string(),
                s.fills.to_string(),
                money(s.realized_pnl),
                money(s.fees),
                opt(s.max_drawdown),
                opt(s.sharpe),
                s.report_hash.clone(),
                String::new(),
            ]),
            Err(e) => {
                rec.extend(std::iter::repeat_n(String::new(), 7));
                rec.push(e.clone());
            }
        }
        w.write_record(&rec).map_err(err)?;
    }
    w.flush()
        .map_err(|e| AppError::Runtime(format!("{}: {e}", path.display())))
}

/// Reads a sweep table written by [`write`]: its identity and rows.
pub fn read(path: &Path) -> Result<(SweepId, Vec<PointRow>), AppError> {
    let bad = |why: String| AppError::BadInput(format!("{}: {why}", path.display()));
    let file = std::fs::File::open(path).map_err(|e| bad(format!("cannot open: {e}")))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| bad(format!("not a readable Parquet file: {e}")))?;
    let meta: BTreeMap<String, String> = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .map(|kv| {
            kv.iter()
                .map(|k| (k.key.clone(), k.value.clone().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    let get = |k: &str| {
        meta.get(k)
            .cloned()
            .ok_or_else(|| bad(format!("not a lockstep sweep table (no `{k}` metadata)")))
    };
    let keys_line = get(META_KEYS)?;
    let id = SweepId {
        keys: keys_line.split('\n').map(str::to_string).collect(),
        grid: get(META_GRID)?,
        points: get(META_POINTS)?
            .parse()
            .map_err(|_| bad("bad point count".into()))?,
        config: get(META_CONFIG)?,
    };
    let reader = builder
        .build()
        .map_err(|e| bad(format!("cannot read: {e}")))?;
    let mut rows = Vec::new();
    for batch in reader {
        let b = batch.map_err(|e| bad(format!("cannot read: {e}")))?;
        let col = |name: &str| {
            b.column_by_name(name)
                .cloned()
                .ok_or_else(|| bad(format!("missing column `{name}`")))
        };
        let typed = |name: &str| bad(format!("column `{name}` has the wrong type"));
        let int = |name: &str| {
            col(name)?
                .as_primitive_opt::<Int64Type>()
                .cloned()
                .ok_or_else(|| typed(name))
        };
        let text = |name: &str| {
            col(name)?
                .as_string_opt::<i32>()
                .cloned()
                .ok_or_else(|| typed(name))
        };
        let decimal = |name: &str| -> Result<Vec<Option<Decimal>>, AppError> {
            let c = col(name)?;
            let a = c
                .as_primitive_opt::<Decimal128Type>()
                .ok_or_else(|| typed(name))?;
            let scale = a.scale().max(0) as u32;
            Ok((0..a.len())
                .map(|i| {
                    a.is_valid(i)
                        .then(|| Decimal::try_from_i128_with_scale(a.value(i), scale).ok())
                        .flatten()
                })
                .collect())
        };
        let (index, trips, fills) = (int("index")?, int("round_trips")?, int("fills")?);
        let values: Vec<_> = id.keys.iter().map(|k| text(k)).collect::<Result<_, _>>()?;
        let (pnl, fees) = (decimal("realized_pnl")?, decimal("fees")?);
        let (dd, sharpe) = (decimal("max_drawdown")?, decimal("sharpe")?);
        let (hash, error) = (text("report_hash")?, text("error")?);
        for i in 0..b.num_rows() {
            let outcome = if error.is_valid(i) {
                Err(error.value(i).to_string())
            } else {
                Ok(PointStats {
                    round_trips: trips.value(i),
                    fills: fills.value(i),
                    realized_pnl: pnl[i].unwrap_or_default(),
                    fees: fees[i].unwrap_or_default(),
                    max_drawdown: dd[i],
                    sharpe: sharpe[i],
                    report_hash: hash.value(i).to_string(),
                })
            };
            rows.push(PointRow {
                index: usize::try_from(index.value(i)).map_err(|_| bad("negative index".into()))?,
                values: values.iter().map(|v| v.value(i).to_string()).collect(),
                outcome,
            });
        }
    }
    Ok((id, rows))
}
