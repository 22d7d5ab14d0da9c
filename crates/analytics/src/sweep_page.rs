//! `sweep.html` from a sweep folder's `sweep.csv`: a heat map of realized P&L over the
//! first two grid keys (the best point over any further keys) and the table of all points.

use crate::error::AnalyticsError;
use crate::html::{self, heat, section, table, Cell};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The first result column; the grid keys sit between `index` and it.
const FIRST_RESULT: &str = "round_trips";
const OBJECTIVE: &str = "realized_pnl";

/// A sweep table read back: header and rows as text.
#[derive(Debug, Clone)]
pub struct SweepTable {
    /// Column names.
    pub header: Vec<String>,
    /// Rows, one per point.
    pub rows: Vec<Vec<String>>,
}

impl SweepTable {
    /// Reads `sweep.csv`.
    pub fn read(path: &Path) -> Result<Self, AnalyticsError> {
        let mut r = csv::Reader::from_path(path).map_err(|e| AnalyticsError::file(path, e))?;
        let header = r
            .headers()
            .map_err(|e| AnalyticsError::file(path, e))?
            .iter()
            .map(str::to_string)
            .collect();
        let mut rows = Vec::new();
        for (i, rec) in r.records().enumerate() {
            let rec = rec.map_err(|e| AnalyticsError::row(path, i + 2, e))?;
            rows.push(rec.iter().map(str::to_string).collect());
        }
        Ok(SweepTable { header, rows })
    }

    fn col(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// The grid keys, in order.
    pub fn keys(&self) -> &[String] {
        let end = self.col(FIRST_RESULT).unwrap_or(self.header.len());
        self.header.get(1..end).unwrap_or(&[])
    }
}

fn num_order(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.total_cmp(&y),
        _ => a.cmp(b),
    }
}

fn heatmap(t: &SweepTable) -> String {
    let keys = t.keys();
    let Some(obj) = t.col(OBJECTIVE) else {
        return String::new();
    };
    if keys.len() < 2 {
        return "<p class=\"note\">One grid key: see the table.</p>".into();
    }
    let mut cells: BTreeMap<(String, String), Decimal> = BTreeMap::new();
    for r in &t.rows {
        let Some(v) = r.get(obj).and_then(|s| s.parse::<Decimal>().ok()) else {
            continue;
        };
        let k = (r[1].clone(), r[2].clone());
        let best = cells.entry(k).or_insert(v);
        *best = (*best).max(v);
    }
    let mut xs: Vec<&String> = cells.keys().map(|k| &k.1).collect();
    let mut ys: Vec<&String> = cells.keys().map(|k| &k.0).collect();
    for v in [&mut xs, &mut ys] {
        v.sort_by(|a, b| num_order(a, b));
        v.dedup();
    }
    let scale = cells
        .values()
        .map(|d| d.abs())
        .max()
        .and_then(|d| d.to_string().parse::<f64>().ok())
        .unwrap_or(1.0);
    let rows: Vec<Vec<Cell>> = ys
        .iter()
        .map(|y| {
            let mut row = vec![Cell::text(format!("{} = {y}", keys[0]))];
            for x in &xs {
                row.push(match cells.get(&((*y).clone(), (*x).clone())) {
                    Some(v) => Cell {
                        text: v.to_string(),
                        class: None,
                        background: v.to_string().parse::<f64>().ok().map(|f| heat(f, scale)),
                    },
                    None => Cell::text(""),
                });
            }
            row
        })
        .collect();
    let mut headers: Vec<String> = vec![String::new()];
    headers.extend(xs.iter().map(|x| format!("{} = {x}", keys[1])));
    let h: Vec<&str> = headers.iter().map(String::as_str).collect();
    let note = if keys.len() > 2 {
        "<p class=\"note\">Each cell is the best point over the other grid keys.</p>"
    } else {
        ""
    };
    format!("{note}{}", table(&h, &rows, "heat"))
}

/// The page of a sweep table.
pub fn render(t: &SweepTable) -> String {
    let h: Vec<&str> = t.header.iter().map(String::as_str).collect();
    let rows: Vec<Vec<Cell>> = t
        .rows
        .iter()
        .map(|r| r.iter().map(|c| Cell::text(c.clone())).collect())
        .collect();
    let mut body = section(
        &format!("Realized P&L over {}", t.keys().join(" × ")),
        &heatmap(t),
    );
    body += &section("All points", &table(&h, &rows, "points"));
    let sub = format!(
        "{} points · grid keys: {}",
        t.rows.len(),
        t.keys().join(", ")
    );
    html::page("lockstep · sweep", &sub, &body)
}

/// Writes `sweep.html` beside the `sweep.csv` in `dir`; returns its path.
pub fn write(dir: &Path) -> Result<PathBuf, AnalyticsError> {
    let t = SweepTable::read(&dir.join("sweep.csv"))?;
    crate::write_atomic(&dir.join("sweep.html"), render(&t).as_bytes())
}
