//! `scenario bless`: writes a run's actual values into the scenario's `[expect]` table,
//! keeping the file's comments and layout (toml_edit). Values that already match are left
//! untouched, so blessing an unchanged engine changes no byte.

use super::expect::Actual;
use super::Outcome;
use crate::error::AppError;
use std::collections::BTreeMap;
use toml_edit::{value, DocumentMut, InlineTable, Item, Table};

fn counts(m: &BTreeMap<String, u64>) -> InlineTable {
    let mut t = InlineTable::new();
    for (k, v) in m {
        t.insert(k, (*v as i64).into());
    }
    t
}

/// The new `[expect]` entries of a successful run, as (key, display text, item).
fn entries(a: &Actual) -> Vec<(&'static str, String, Item)> {
    vec![
        (
            "report_hash",
            a.report_hash.clone(),
            value(a.report_hash.clone()),
        ),
        (
            "round_trips",
            a.round_trips.to_string(),
            value(a.round_trips as i64),
        ),
        ("fills", a.fills.to_string(), value(a.fills as i64)),
        (
            "realized_pnl",
            a.realized_pnl.to_string(),
            value(a.realized_pnl.to_string()),
        ),
        ("fees", a.fees.to_string(), value(a.fees.to_string())),
        (
            "open_positions_at_end",
            a.open_positions_at_end.to_string(),
            value(a.open_positions_at_end as i64),
        ),
        (
            "exit_reasons",
            format!("{:?}", a.exit_reasons),
            value(counts(&a.exit_reasons)),
        ),
        (
            "rejections",
            format!("{:?}", a.rejections),
            value(counts(&a.rejections)),
        ),
    ]
}

/// The value `[expect]` held for `key`, as text.
fn previous(o: &Outcome, key: &str) -> Option<String> {
    let e = &o.scenario.expect;
    match key {
        "report_hash" => e.report_hash.clone(),
        "round_trips" => e.round_trips.map(|v| v.to_string()),
        "fills" => e.fills.map(|v| v.to_string()),
        "realized_pnl" => e.realized_pnl.map(|v| v.to_string()),
        "fees" => e.fees.map(|v| v.to_string()),
        "open_positions_at_end" => e.open_positions_at_end.map(|v| v.to_string()),
        "exit_reasons" => e.exit_reasons.as_ref().map(|m| format!("{m:?}")),
        "rejections" => e.rejections.as_ref().map(|m| format!("{m:?}")),
        _ => None,
    }
}

/// Updates the scenario file of `o` and returns the changes made (`key: old -> new`).
/// Refuses a run that failed unexpectedly, an expected error that did not happen, and
/// an error whose text no longer matches (edit `message_contains` by hand).
pub fn bless(o: &Outcome) -> Result<Vec<String>, AppError> {
    let path = &o.scenario.path;
    let file = path.display().to_string();
    let a = match (&o.result, &o.scenario.expect.error) {
        (Err((code, msg)), None) => {
            return Err(AppError::Runtime(format!(
                "{file}: refusing to bless a run that failed (exit {code}): {msg}"
            )))
        }
        (Err(_), Some(_)) => {
            let m = o.scenario.expect.compare_error(
                o.result.as_ref().err().map_or(0, |e| e.0),
                o.result.as_ref().err().map_or("", |e| e.1.as_str()),
            );
            return match m.first() {
                None => Ok(Vec::new()),
                Some(x) => Err(AppError::Runtime(format!(
                    "{file}: refusing to bless: expected {}, got {}",
                    x.expected, x.actual
                ))),
            };
        }
        (Ok(_), Some(_)) => {
            return Err(AppError::Runtime(format!(
                "{file}: refusing to bless: the scenario expects an error but the run succeeded"
            )))
        }
        (Ok(a), None) => a,
    };
    let text =
        std::fs::read_to_string(path).map_err(|e| AppError::Runtime(format!("{file}: {e}")))?;
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e| AppError::BadInput(format!("{file}: {e}")))?;
    if !doc.contains_key("expect") {
        doc.insert("expect", Item::Table(Table::new()));
    }
    let table = doc["expect"]
        .as_table_mut()
        .ok_or_else(|| AppError::BadInput(format!("{file}: `expect` must be a table")))?;
    let mut changes = Vec::new();
    for (key, shown, item) in entries(a) {
        let old = previous(o, key);
        if old.as_deref() == Some(shown.as_str()) {
            continue;
        }
        let old = old.unwrap_or_else(|| "(none)".to_string());
        changes.push(format!("{}: {key}: {old} -> {shown}", o.scenario.name));
        match table.get_mut(key) {
            Some(slot) => *slot = item,
            None => {
                table.insert(key, item);
            }
        }
    }
    if !changes.is_empty() {
        std::fs::write(path, doc.to_string())
            .map_err(|e| AppError::Runtime(format!("{file}: {e}")))?;
    }
    Ok(changes)
}
