//! The `[expect]` table of a scenario and its comparison with a run's outcome.

use crate::error::AppError;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::str::FromStr;

/// Expected failure of a scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedError {
    /// Process exit code (2 for bad input).
    pub exit_code: i32,
    /// Text the error message must contain.
    pub message_contains: String,
}

/// What a scenario must produce. Absent fields are not checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Expect {
    /// `report_hash` of the run.
    pub report_hash: Option<String>,
    /// FIFO allocations.
    pub round_trips: Option<u64>,
    /// Fills.
    pub fills: Option<u64>,
    /// Sum of allocations' net P&L (exact).
    pub realized_pnl: Option<Decimal>,
    /// All fees (exact).
    pub fees: Option<Decimal>,
    /// Number of positions open at the end.
    pub open_positions_at_end: Option<u64>,
    /// Allocations per exit reason (the whole map: unlisted reasons must be absent).
    pub exit_reasons: Option<BTreeMap<String, u64>>,
    /// Rejections per code (the whole map).
    pub rejections: Option<BTreeMap<String, u64>>,
    /// The run must fail like this.
    pub error: Option<ExpectedError>,
}

/// The facts of a finished run that expectations are checked against.
#[derive(Debug, Clone, PartialEq)]
pub struct Actual {
    /// `report_hash`.
    pub report_hash: String,
    /// Round trips.
    pub round_trips: u64,
    /// Fills.
    pub fills: u64,
    /// Realized P&L.
    pub realized_pnl: Decimal,
    /// Fees.
    pub fees: Decimal,
    /// Open positions at the end.
    pub open_positions_at_end: u64,
    /// Allocations per exit reason.
    pub exit_reasons: BTreeMap<String, u64>,
    /// Rejections per code.
    pub rejections: BTreeMap<String, u64>,
}

/// One expectation that was not met.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// Dotted field name, e.g. `realized_pnl` or `exit_reasons.signal`.
    pub field: String,
    /// What the scenario expects.
    pub expected: String,
    /// What the run produced.
    pub actual: String,
}

fn bad(file: &str, key: &str, why: &str) -> AppError {
    AppError::BadInput(format!("{file}: key `expect.{key}`: {why}"))
}

fn int(file: &str, key: &str, v: &toml::Value) -> Result<u64, AppError> {
    v.as_integer()
        .and_then(|i| u64::try_from(i).ok())
        .ok_or_else(|| bad(file, key, "expected a non-negative integer"))
}

fn decimal(file: &str, key: &str, v: &toml::Value) -> Result<Decimal, AppError> {
    let text = match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        _ => {
            return Err(bad(
                file,
                key,
                "expected a decimal string such as \"66275.00\"",
            ))
        }
    };
    Decimal::from_str(&text).map_err(|_| bad(file, key, "not a decimal number"))
}

fn counts(file: &str, key: &str, v: &toml::Value) -> Result<BTreeMap<String, u64>, AppError> {
    let t = v
        .as_table()
        .ok_or_else(|| bad(file, key, "expected a table of counts"))?;
    t.iter()
        .map(|(k, v)| Ok((k.clone(), int(file, &format!("{key}.{k}"), v)?)))
        .collect()
}

impl Expect {
    /// Parses an `[expect]` table; unknown keys are errors naming `file` and the key.
    pub fn parse(file: &str, t: &toml::Table) -> Result<Expect, AppError> {
        let mut e = Expect::default();
        for (k, v) in t {
            match k.as_str() {
                "report_hash" => {
                    e.report_hash = Some(
                        v.as_str()
                            .ok_or_else(|| bad(file, k, "expected text"))?
                            .to_string(),
                    )
                }
                "round_trips" => e.round_trips = Some(int(file, k, v)?),
                "fills" => e.fills = Some(int(file, k, v)?),
                "realized_pnl" => e.realized_pnl = Some(decimal(file, k, v)?),
                "fees" => e.fees = Some(decimal(file, k, v)?),
                "open_positions_at_end" => e.open_positions_at_end = Some(int(file, k, v)?),
                "exit_reasons" => e.exit_reasons = Some(counts(file, k, v)?),
                "rejections" => e.rejections = Some(counts(file, k, v)?),
                "error" => {
                    let t = v
                        .as_table()
                        .ok_or_else(|| bad(file, k, "expected a table"))?;
                    let code = t
                        .get("exit_code")
                        .ok_or_else(|| bad(file, "error.exit_code", "missing"))?;
                    let msg = t
                        .get("message_contains")
                        .and_then(|m| m.as_str())
                        .ok_or_else(|| bad(file, "error.message_contains", "missing text"))?;
                    if let Some(extra) = t
                        .keys()
                        .find(|k| *k != "exit_code" && *k != "message_contains")
                    {
                        return Err(bad(file, &format!("error.{extra}"), "unknown key"));
                    }
                    e.error = Some(ExpectedError {
                        exit_code: int(file, "error.exit_code", code)? as i32,
                        message_contains: msg.to_string(),
                    });
                }
                other => return Err(bad(file, other, "unknown expectation")),
            }
        }
        Ok(e)
    }

    /// Every unmet expectation of a successful run, in field order.
    pub fn compare(&self, a: &Actual) -> Vec<Mismatch> {
        let mut out = Vec::new();
        let mut check = |field: &str, expected: Option<String>, actual: String, equal: bool| {
            if let Some(expected) = expected {
                if !equal {
                    out.push(Mismatch {
                        field: field.to_string(),
                        expected,
                        actual,
                    });
                }
            }
        };
        check(
            "report_hash",
            self.report_hash.clone(),
            a.report_hash.clone(),
            self.report_hash.as_ref() == Some(&a.report_hash),
        );
        check(
            "round_trips",
            self.round_trips.map(|v| v.to_string()),
            a.round_trips.to_string(),
            self.round_trips == Some(a.round_trips),
        );
        check(
            "fills",
            self.fills.map(|v| v.to_string()),
            a.fills.to_string(),
            self.fills == Some(a.fills),
        );
        check(
            "realized_pnl",
            self.realized_pnl.map(|v| v.to_string()),
            a.realized_pnl.to_string(),
            self.realized_pnl == Some(a.realized_pnl),
        );
        check(
            "fees",
            self.fees.map(|v| v.to_string()),
            a.fees.to_string(),
            self.fees == Some(a.fees),
        );
        check(
            "open_positions_at_end",
            self.open_positions_at_end.map(|v| v.to_string()),
            a.open_positions_at_end.to_string(),
            self.open_positions_at_end == Some(a.open_positions_at_end),
        );
        for (name, exp, act) in [
            ("exit_reasons", &self.exit_reasons, &a.exit_reasons),
            ("rejections", &self.rejections, &a.rejections),
        ] {
            let Some(exp) = exp else { continue };
            let keys: std::collections::BTreeSet<&String> = exp.keys().chain(act.keys()).collect();
            for k in keys {
                let (e, g) = (
                    exp.get(k).copied().unwrap_or(0),
                    act.get(k).copied().unwrap_or(0),
                );
                check(
                    &format!("{name}.{k}"),
                    Some(e.to_string()),
                    g.to_string(),
                    e == g,
                );
            }
        }
        if let Some(err) = &self.error {
            out.push(Mismatch {
                field: "error".into(),
                expected: format!(
                    "exit code {} with a message containing `{}`",
                    err.exit_code, err.message_contains
                ),
                actual: "the run succeeded".into(),
            });
        }
        out
    }

    /// Unmet expectations of a failed run.
    pub fn compare_error(&self, exit_code: i32, message: &str) -> Vec<Mismatch> {
        match &self.error {
            None => vec![Mismatch {
                field: "error".into(),
                expected: "a successful run".into(),
                actual: format!("exit code {exit_code}: {message}"),
            }],
            Some(e) if e.exit_code != exit_code || !message.contains(&e.message_contains) => {
                vec![Mismatch {
                    field: "error".into(),
                    expected: format!(
                        "exit code {} with a message containing `{}`",
                        e.exit_code, e.message_contains
                    ),
                    actual: format!("exit code {exit_code}: {message}"),
                }]
            }
            Some(_) => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actual() -> Actual {
        Actual {
            report_hash: "h".into(),
            round_trips: 32,
            fills: 65,
            realized_pnl: Decimal::from_str("66275.00").unwrap(),
            fees: Decimal::ZERO,
            open_positions_at_end: 1,
            exit_reasons: [("signal".to_string(), 32)].into_iter().collect(),
            rejections: BTreeMap::new(),
        }
    }

    #[test]
    fn one_cent_off_names_the_field() {
        let t: toml::Table =
            "realized_pnl = \"66275.01\"\nround_trips = 32\nexit_reasons = { signal = 32 }"
                .parse()
                .unwrap();
        let e = Expect::parse("s.toml", &t).unwrap();
        let m = e.compare(&actual());
        assert_eq!(
            m,
            [Mismatch {
                field: "realized_pnl".into(),
                expected: "66275.01".into(),
                actual: "66275.00".into()
            }]
        );
        let t: toml::Table = "exit_reasons = { signal = 31, eod = 1 }".parse().unwrap();
        let fields: Vec<String> = Expect::parse("s.toml", &t)
            .unwrap()
            .compare(&actual())
            .into_iter()
            .map(|m| m.field)
            .collect();
        assert_eq!(fields, ["exit_reasons.eod", "exit_reasons.signal"]);
    }

    #[test]
    fn errors_must_match_code_and_text() {
        let t: toml::Table = "error = { exit_code = 2, message_contains = \"row 3\" }"
            .parse()
            .unwrap();
        let e = Expect::parse("s.toml", &t).unwrap();
        assert!(e
            .compare_error(2, "f.csv: row 3, column `close`")
            .is_empty());
        assert_eq!(e.compare_error(2, "f.csv: row 4").len(), 1);
        assert_eq!(e.compare_error(1, "row 3").len(), 1);
        assert_eq!(
            e.compare(&actual()).len(),
            1,
            "an expected error that did not happen is a mismatch"
        );
        assert!(Expect::parse("s.toml", &"bogus = 1".parse().unwrap()).is_err());
    }
}
