//! `walkforward.html` from a walk-forward folder: the headline of `walkforward.json`
//! (out-of-sample beside in-sample and the no-learning baseline, overfit gap, learning
//! edge), per-window results, and the stitched out-of-sample P&L against the baseline's.

use crate::error::AnalyticsError;
use crate::html::{self, metric, section, table, Cell};
use crate::run_folder::json_text as text;
use crate::svg::time_lines;
use crate::sweep_page::SweepTable;
use crate::time::{date, parse_ts};
use std::path::{Path, PathBuf};

/// The headline figures shown with their `walkforward.json` key.
const HEADLINE: [(&str, &str); 10] = [
    ("OOS total P&L", "out_of_sample.total_pnl"),
    ("OOS P&L / year", "out_of_sample.pnl_per_year"),
    ("OOS Sharpe", "out_of_sample.sharpe"),
    ("IS P&L / year", "in_sample.pnl_per_year"),
    ("IS Sharpe", "in_sample.sharpe"),
    ("Baseline P&L / year", "baseline.pnl_per_year"),
    ("Baseline Sharpe", "baseline.sharpe"),
    ("Overfit gap (P&L / year)", "overfit_gap_pnl_per_year"),
    ("Overfit gap (Sharpe)", "overfit_gap_sharpe"),
    ("Learning edge (P&L / year)", "learning_edge_pnl_per_year"),
];

fn stitched(t: &SweepTable) -> String {
    let col = |n: &str| t.header.iter().position(|h| h == n);
    let (Some(end), Some(oos), Some(base)) = (col("test_end"), col("oos_pnl"), col("baseline_pnl"))
    else {
        return String::new();
    };
    let open = |prefix: &str| col(&format!("{prefix}_open_pnl"));
    let mut a = Vec::new();
    let mut b = Vec::new();
    let (mut sa, mut sb) = (0.0, 0.0);
    if let Some(start) = col("test_start")
        .and_then(|i| t.rows.first()?.get(i))
        .and_then(|s| parse_ts(s))
    {
        a.push((start as f64, 0.0));
        b.push((start as f64, 0.0));
    }
    for r in &t.rows {
        let Some(ts) = r.get(end).and_then(|s| parse_ts(s)) else {
            continue;
        };
        let v = |i: Option<usize>| {
            i.and_then(|i| r.get(i))
                .and_then(|s| s.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        sa += v(Some(oos)) + v(open("oos"));
        sb += v(Some(base)) + v(open("baseline"));
        a.push((ts as f64, sa));
        b.push((ts as f64, sb));
    }
    if a.is_empty() {
        return String::new();
    }
    format!(
        "<p class=\"note\"><span style=\"color:#1f5fbf\">■ out of sample (learned)</span> &nbsp; \
         <span style=\"color:#8a93a3\">■ baseline (no learning)</span>; cumulative P&amp;L at each test window's end.</p>{}",
        time_lines(&[(&b, "base"), (&a, "a")], true, "stitched out-of-sample P&L")
    )
}

/// The page of a walk-forward folder's `walkforward.json` and `windows.csv`.
pub fn render(headline: &serde_json::Value, windows: &SweepTable) -> String {
    let mut figures = String::from("<div class=\"metrics\">");
    for (label, key) in HEADLINE {
        figures.push_str(&metric(
            label,
            &text(headline, key).unwrap_or_else(|| "–".into()),
            Some(key),
        ));
    }
    figures.push_str("</div>");
    let h: Vec<&str> = windows.header.iter().map(String::as_str).collect();
    let rows: Vec<Vec<Cell>> = windows
        .rows
        .iter()
        .map(|r| {
            r.iter()
                .zip(&windows.header)
                .map(|(c, h)| match parse_ts(c) {
                    Some(ts) => Cell::text(date(ts)),
                    None if h.ends_with("_pnl") => Cell::signed(c.clone()),
                    None => Cell::text(c.clone()),
                })
                .collect()
        })
        .collect();
    let mut body = section("Headline", &figures);
    body += &section("Stitched out-of-sample P&L", &stitched(windows));
    body += &section("Windows", &table(&h, &rows, "windows"));
    let sub = format!(
        "learner {} · {} · train {} test {} step {} · {} windows · hash {}",
        text(headline, "learner").unwrap_or_default(),
        text(headline, "mode").unwrap_or_default(),
        text(headline, "train").unwrap_or_default(),
        text(headline, "test").unwrap_or_default(),
        text(headline, "step").unwrap_or_default(),
        text(headline, "windows").unwrap_or_default(),
        text(headline, "hash").unwrap_or_default()
    );
    html::page("lockstep · walk-forward", &sub, &body)
}

/// Writes `walkforward.html` into the walk-forward folder `dir`; returns its path.
pub fn write(dir: &Path) -> Result<PathBuf, AnalyticsError> {
    let path = dir.join("walkforward.json");
    let text = std::fs::read_to_string(&path).map_err(|e| AnalyticsError::file(&path, e))?;
    let headline: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| AnalyticsError::file(&path, e))?;
    let windows = SweepTable::read(&dir.join("windows.csv"))?;
    crate::write_atomic(
        &dir.join("walkforward.html"),
        render(&headline, &windows).as_bytes(),
    )
}
