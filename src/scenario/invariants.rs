//! Named invariants checked on a run's written files (lots, fills, equity, summary), never
//! on engine internals: what a user can audit, the suite audits.

use crate::error::AppError;
use chrono::{NaiveTime, TimeZone};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

/// The `[invariants]` table of a scenario.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Invariants {
    /// No position may be held between these exchange times (e.g. 15:55 to 09:30 next day).
    pub no_position_between: Option<(NaiveTime, NaiveTime)>,
    /// Exchange time zone for `no_position_between` (default America/New_York).
    pub timezone: Option<Tz>,
    /// At most this many symbols with a position at any time.
    pub max_open_positions: Option<u64>,
    /// Every closing fill and every lot names its exit reason.
    pub every_close_has_exit_reason: bool,
    /// The FIFO ledger invariants of DESIGN, recomputed from the files.
    pub ledger_invariants: bool,
}

fn bad(file: &str, key: &str, why: &str) -> AppError {
    AppError::BadInput(format!("{file}: key `invariants.{key}`: {why}"))
}

impl Invariants {
    /// Parses an `[invariants]` table; unknown keys are errors.
    pub fn parse(file: &str, t: &toml::Table) -> Result<Invariants, AppError> {
        let mut inv = Invariants::default();
        for (k, v) in t {
            match k.as_str() {
                "no_position_between" => {
                    let pair: Vec<&str> = v
                        .as_array()
                        .map(|a| a.iter().filter_map(|x| x.as_str()).collect())
                        .unwrap_or_default();
                    let times: Vec<NaiveTime> = pair
                        .iter()
                        .filter_map(|s| NaiveTime::parse_from_str(s, "%H:%M").ok())
                        .collect();
                    if times.len() != 2 {
                        return Err(bad(
                            file,
                            k,
                            "expected two \"HH:MM\" times, e.g. [\"15:55\", \"09:30\"]",
                        ));
                    }
                    inv.no_position_between = Some((times[0], times[1]));
                }
                "timezone" => {
                    let z = v.as_str().and_then(|s| s.parse::<Tz>().ok());
                    inv.timezone = Some(z.ok_or_else(|| {
                        bad(file, k, "expected a time zone such as America/New_York")
                    })?);
                }
                "max_open_positions" => {
                    let n = v.as_integer().and_then(|i| u64::try_from(i).ok());
                    inv.max_open_positions =
                        Some(n.ok_or_else(|| bad(file, k, "expected a non-negative integer"))?);
                }
                "every_close_has_exit_reason" => {
                    inv.every_close_has_exit_reason = v
                        .as_bool()
                        .ok_or_else(|| bad(file, k, "expected true or false"))?
                }
                "ledger_invariants" => {
                    inv.ledger_invariants = v
                        .as_bool()
                        .ok_or_else(|| bad(file, k, "expected true or false"))?
                }
                other => return Err(bad(file, other, "unknown invariant")),
            }
        }
        Ok(inv)
    }

    /// Every violation found in `files`, as readable lines.
    pub fn check(&self, files: &RunFiles) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(window) = self.no_position_between {
            out.extend(no_position_between(
                files,
                window,
                self.timezone.unwrap_or(chrono_tz::America::New_York),
            ));
        }
        if let Some(max) = self.max_open_positions {
            out.extend(max_open_positions(files, max));
        }
        if self.every_close_has_exit_reason {
            out.extend(every_close_has_exit_reason(files));
        }
        if self.ledger_invariants {
            out.extend(ledger_invariants(files));
        }
        out
    }
}

/// A CSV table as rows of column -> text.
pub type Rows = Vec<BTreeMap<String, String>>;

/// The files of one run folder that invariants read.
#[derive(Debug, Clone, Default)]
pub struct RunFiles {
    /// `fills.csv`.
    pub fills: Rows,
    /// `lots.csv`.
    pub lots: Rows,
    /// `equity.csv`.
    pub equity: Rows,
    /// `summary.json`.
    pub summary: serde_json::Value,
}

fn read_rows(path: &Path) -> Result<Rows, String> {
    let mut r = csv::Reader::from_path(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let headers = r.headers().map_err(|e| e.to_string())?.clone();
    r.records()
        .map(|rec| {
            let rec = rec.map_err(|e| format!("{}: {e}", path.display()))?;
            Ok(headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect())
        })
        .collect()
}

impl RunFiles {
    /// Reads a run folder.
    pub fn read(dir: &Path) -> Result<RunFiles, String> {
        let summary =
            std::fs::read_to_string(dir.join("summary.json")).map_err(|e| e.to_string())?;
        Ok(RunFiles {
            fills: read_rows(&dir.join("fills.csv"))?,
            lots: read_rows(&dir.join("lots.csv"))?,
            equity: read_rows(&dir.join("equity.csv"))?,
            summary: serde_json::from_str(&summary).map_err(|e| e.to_string())?,
        })
    }
}

fn dec(row: &BTreeMap<String, String>, col: &str) -> Decimal {
    row.get(col)
        .and_then(|s| Decimal::from_str(s).ok())
        .unwrap_or_default()
}

fn ts(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .and_then(|d| d.timestamp_nanos_opt())
}

fn text<'a>(row: &'a BTreeMap<String, String>, col: &str) -> &'a str {
    row.get(col).map_or("", String::as_str)
}

/// Replays fills into signed positions; yields (fill row, position before, position after).
fn replay(files: &RunFiles) -> Vec<(usize, Decimal, Decimal)> {
    let mut pos: BTreeMap<String, Decimal> = BTreeMap::new();
    let mut out = Vec::new();
    for (i, f) in files.fills.iter().enumerate() {
        let q = dec(f, "qty");
        let signed = if text(f, "side") == "buy" { q } else { -q };
        let p = pos.entry(text(f, "symbol").to_string()).or_default();
        let before = *p;
        *p += signed;
        out.push((i, before, *p));
    }
    out
}

/// Forbidden windows `[start on day d, end on day d or d+1)` in UTC nanoseconds overlapping
/// `[from, to)`.
fn windows(from: i64, to: i64, (start, end): (NaiveTime, NaiveTime), tz: Tz) -> Vec<(i64, i64)> {
    let day = |ns: i64| {
        chrono::DateTime::from_timestamp_nanos(ns)
            .with_timezone(&tz)
            .date_naive()
    };
    let local = |d: chrono::NaiveDate, t: NaiveTime| {
        tz.from_local_datetime(&d.and_time(t))
            .earliest()
            .and_then(|x| x.timestamp_nanos_opt())
    };
    let mut out = Vec::new();
    let mut d = day(from).pred_opt().unwrap_or(day(from));
    while d <= day(to) {
        let end_day = if end <= start {
            d.succ_opt().unwrap_or(d)
        } else {
            d
        };
        if let (Some(a), Some(b)) = (local(d, start), local(end_day, end)) {
            if a < to && b > from {
                out.push((a, b));
            }
        }
        d = match d.succ_opt() {
            Some(n) => n,
            None => break,
        };
    }
    out
}

fn no_position_between(files: &RunFiles, window: (NaiveTime, NaiveTime), tz: Tz) -> Vec<String> {
    let mut out = Vec::new();
    for (i, l) in files.lots.iter().enumerate() {
        let (Some(a), Some(b)) = (ts(text(l, "open_ts")), ts(text(l, "close_ts"))) else {
            continue;
        };
        if let Some((w, _)) = windows(a, b, window, tz).first() {
            out.push(format!(
                "no_position_between: lots row {} ({} {}) was held across {}",
                i + 1,
                text(l, "symbol"),
                text(l, "open_ts"),
                lockstep_core::UnixNanos(*w)
            ));
        }
    }
    for e in &files.equity {
        let Some(t) = ts(text(e, "ts")) else { continue };
        if !dec(e, "positions_value").is_zero()
            && windows(t, t + 1, window, tz)
                .iter()
                .any(|(a, b)| *a <= t && t < *b)
        {
            out.push(format!(
                "no_position_between: a position was open at {}",
                text(e, "ts")
            ));
        }
    }
    out
}

fn max_open_positions(files: &RunFiles, max: u64) -> Vec<String> {
    let mut open: BTreeMap<String, Decimal> = BTreeMap::new();
    for (i, _, after) in replay(files) {
        open.insert(text(&files.fills[i], "symbol").to_string(), after);
        let n = open.values().filter(|q| !q.is_zero()).count() as u64;
        if n > max {
            return vec![format!(
                "max_open_positions: {n} positions open after fills row {} (max {max})",
                i + 1
            )];
        }
    }
    Vec::new()
}

fn every_close_has_exit_reason(files: &RunFiles) -> Vec<String> {
    let mut out = Vec::new();
    for (i, before, after) in replay(files) {
        let reduces = !before.is_zero()
            && (after.abs() < before.abs()
                || before.is_sign_negative() != after.is_sign_negative());
        if reduces && text(&files.fills[i], "exit_reason").is_empty() {
            out.push(format!(
                "every_close_has_exit_reason: fills row {} closes a position without a reason",
                i + 1
            ));
        }
    }
    for (i, l) in files.lots.iter().enumerate() {
        if text(l, "exit_reason").is_empty() {
            out.push(format!(
                "every_close_has_exit_reason: lots row {} has no exit_reason",
                i + 1
            ));
        }
    }
    out
}

fn ledger_invariants(files: &RunFiles) -> Vec<String> {
    let mut out = Vec::new();
    let mut allocated: BTreeMap<String, Decimal> = BTreeMap::new();
    for l in &files.lots {
        *allocated
            .entry(text(l, "close_fill_id").to_string())
            .or_default() += dec(l, "qty").abs();
        let gross = dec(l, "gross_pnl");
        if dec(l, "net_pnl") != gross - dec(l, "open_fee") - dec(l, "close_fee") {
            out.push(format!(
                "ledger_invariants: lot closed by fill {} has net != gross - fees",
                text(l, "close_fill_id")
            ));
        }
    }
    let mut final_pos: BTreeMap<String, Decimal> = BTreeMap::new();
    for (i, before, after) in replay(files) {
        let f = &files.fills[i];
        let closed = if before.is_zero()
            || before.is_sign_negative() == (after - before).is_sign_negative()
        {
            Decimal::ZERO
        } else {
            before.abs().min(dec(f, "qty"))
        };
        let got = allocated
            .get(text(f, "fill_id"))
            .copied()
            .unwrap_or_default();
        if got != closed {
            out.push(format!(
                "ledger_invariants: fill {} closed {closed} but lots allocate {got}",
                text(f, "fill_id")
            ));
        }
        final_pos.insert(text(f, "symbol").to_string(), after);
    }
    let s = &files.summary;
    let sdec = |k: &str| {
        s.get(k)
            .and_then(|v| v.as_str())
            .and_then(|t| Decimal::from_str(t).ok())
            .unwrap_or_default()
    };
    let open: BTreeMap<String, Decimal> = s
        .get("open_positions")
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|p| {
                    Some((
                        p.get("symbol")?.as_str()?.to_string(),
                        Decimal::from_str(p.get("qty")?.as_str()?).ok()?,
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let held: BTreeMap<String, Decimal> = final_pos
        .into_iter()
        .filter(|(_, q)| !q.is_zero())
        .collect();
    if held != open {
        out.push(format!(
            "ledger_invariants: fills leave positions {held:?} but the summary reports {open:?}"
        ));
    }
    let realized: Decimal = files.lots.iter().map(|l| dec(l, "net_pnl")).sum();
    if realized != sdec("realized_pnl") {
        out.push(format!(
            "ledger_invariants: lots sum to {realized} but realized_pnl is {}",
            sdec("realized_pnl")
        ));
    }
    let fees: Decimal = files.fills.iter().map(|f| dec(f, "fee")).sum();
    if fees != sdec("fees") {
        out.push(format!(
            "ledger_invariants: fills charge {fees} but fees is {}",
            sdec("fees")
        ));
    }
    for (i, e) in files.equity.iter().enumerate() {
        if dec(e, "cash") + dec(e, "positions_value") != dec(e, "equity") {
            out.push(format!(
                "ledger_invariants: equity row {} is not cash + positions_value",
                i + 1
            ));
        }
    }
    if let Some(last) = files.equity.last() {
        if dec(last, "equity") != sdec("final_equity") {
            out.push(
                "ledger_invariants: the last equity row differs from final_equity".to_string(),
            );
        }
    }
    out
}
