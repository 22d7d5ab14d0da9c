//! `--set KEY=VALUE`: a dotted TOML path and a TOML value, applied over the config table.

use crate::error::AppError;
use toml::{Table, Value};

fn bad(arg: &str, why: &str) -> AppError {
    AppError::BadInput(format!("--set `{arg}`: {why}"))
}

/// Parses the value part: any TOML value (`5`, `0.001`, `true`, `"x"`, `[1, 2]`), or a
/// bare word such as `close` or `GOOG` taken as a string.
fn parse_value(arg: &str, text: &str) -> Result<Value, AppError> {
    let doc = format!("v = {text}");
    if let Ok(mut t) = doc.parse::<Table>() {
        if let Some(v) = t.remove("v") {
            return Ok(v);
        }
    }
    let bare = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:".contains(c));
    if bare {
        Ok(Value::String(text.to_string()))
    } else {
        Err(bad(
            arg,
            "the value is not a TOML value (quote strings: key=\"text\")",
        ))
    }
}

/// Applies one `KEY=VALUE` to `root`, creating tables along the path. A numeric segment
/// indexes an array (`strategies.1.fast=5`).
pub fn apply(root: &mut Table, arg: &str) -> Result<(), AppError> {
    let (key, text) = arg
        .split_once('=')
        .ok_or_else(|| bad(arg, "expected KEY=VALUE, e.g. strategy.fast=5"))?;
    let key = key.trim();
    let parts: Vec<&str> = key.split('.').collect();
    if key.is_empty() || parts.iter().any(|p| p.is_empty()) {
        return Err(bad(arg, "the key is empty or has an empty segment"));
    }
    let value = parse_value(arg, text.trim())?;
    let (last, path) = parts.split_last().ok_or_else(|| bad(arg, "empty key"))?;
    let mut cur: &mut Value = {
        let first = path.first().copied().unwrap_or(last);
        if path.is_empty() {
            root.insert(first.to_string(), value);
            return Ok(());
        }
        root.entry(first.to_string())
            .or_insert_with(|| Value::Table(Table::new()))
    };
    for seg in &path[1..] {
        cur = step(cur, seg)
            .ok_or_else(|| bad(arg, &format!("`{seg}` is not a table or array index here")))?;
    }
    match cur {
        Value::Table(t) => {
            t.insert(last.to_string(), value);
            Ok(())
        }
        Value::Array(a) => {
            let i: usize = last
                .parse()
                .map_err(|_| bad(arg, "expected an array index"))?;
            let slot = a
                .get_mut(i)
                .ok_or_else(|| bad(arg, "array index out of range"))?;
            *slot = value;
            Ok(())
        }
        _ => Err(bad(
            arg,
            "the path runs through a value that is not a table",
        )),
    }
}

fn step<'a>(cur: &'a mut Value, seg: &str) -> Option<&'a mut Value> {
    match cur {
        Value::Table(t) => Some(
            t.entry(seg.to_string())
                .or_insert_with(|| Value::Table(Table::new())),
        ),
        Value::Array(a) => a.get_mut(seg.parse::<usize>().ok()?),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_nested_values_and_rejects_garbage() {
        let mut t = Table::new();
        apply(&mut t, "execution.commission.percent=0.001").unwrap();
        apply(&mut t, "execution.fill=close").unwrap();
        apply(&mut t, "strategy.fast=5").unwrap();
        assert_eq!(
            t["execution"]["commission"]["percent"].as_float(),
            Some(0.001)
        );
        assert_eq!(t["execution"]["fill"].as_str(), Some("close"));
        assert_eq!(t["strategy"]["fast"].as_integer(), Some(5));
        assert!(apply(&mut t, "nokey").is_err());
        assert!(apply(&mut t, "a..b=1").is_err());
        assert!(apply(&mut t, "x=[1,").is_err());
        assert!(apply(&mut t, "strategy.fast.x=1").is_err());
    }
}
