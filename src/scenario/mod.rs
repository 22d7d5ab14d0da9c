//! Scenarios: a backtest config plus `[expect]` (and optional `[invariants]`), the unit of
//! trust of the regression suite. `run`, `verify` and `bless` run them in parallel (rayon),
//! collect results by index and print them in a stable order.

pub mod bless;
pub mod commands;
pub mod expect;
#[cfg(test)]
mod invariant_tests;
pub mod invariants;

use crate::config;
use crate::error::AppError;
use crate::run::{execute, RunPlan};
use crate::walkforward::{run_walkforward, WalkforwardArgs};
use expect::{Actual, Expect, Mismatch};
use invariants::{Invariants, RunFiles};
use rayon::prelude::*;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Instant;

/// Where scenario runs are written: `<REPORTS>/<name>/`.
pub const REPORTS: &str = "reports/scenarios";

/// One scenario file, loaded.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// File stem; also the run name.
    pub name: String,
    /// The file.
    pub path: PathBuf,
    /// Its expectations.
    pub expect: Expect,
    /// Its invariants.
    pub invariants: Invariants,
    /// The config part, or the error it gives (an error scenario may test exactly that).
    pub plan: Result<RunPlan, (i32, String)>,
    /// A `[walkforward]` scenario: it runs `lockstep walkforward`, and its expectations
    /// are those of the stitched out-of-sample record (summed over the test windows) and
    /// the walk-forward hash.
    pub walkforward: bool,
}

/// What running a scenario produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The scenario.
    pub scenario: Scenario,
    /// The run's facts, or (exit code, message) when it failed.
    pub result: Result<Actual, (i32, String)>,
    /// Wall seconds.
    pub secs: f64,
    /// The run folder.
    pub dir: PathBuf,
}

/// Lists scenario files: each PATH is a file or a folder (its `*.toml`, recursively),
/// sorted by path. No PATH means `scenarios/`.
pub fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>, AppError> {
    let roots = if paths.is_empty() {
        vec![PathBuf::from("scenarios")]
    } else {
        paths.to_vec()
    };
    let mut out = Vec::new();
    for root in roots {
        if root.is_dir() {
            walk(&root, &mut out)?;
        } else if root.is_file() {
            out.push(root);
        } else {
            return Err(AppError::BadInput(format!(
                "{}: no such scenario file or folder",
                root.display()
            )));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), AppError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| AppError::BadInput(format!("{}: {e}", dir.display())))?;
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out)?;
        } else if p.extension().is_some_and(|x| x == "toml") {
            out.push(p);
        }
    }
    Ok(())
}

/// Loads a scenario file. A broken `[expect]` or `[invariants]` is an error for the
/// caller; a broken config part becomes the scenario's (possibly expected) failure.
pub fn load(path: &Path) -> Result<Scenario, AppError> {
    let file = path.display().to_string();
    let name = path
        .file_stem()
        .map_or_else(|| "scenario".into(), |s| s.to_string_lossy().to_string());
    let mut table = config::read_table(path)?;
    let expect = match table.remove("expect") {
        None => Expect::default(),
        Some(toml::Value::Table(t)) => Expect::parse(&file, &t)?,
        Some(_) => {
            return Err(AppError::BadInput(format!(
                "{file}: `expect` must be a table"
            )))
        }
    };
    let invariants = match table.remove("invariants") {
        None => Invariants::default(),
        Some(toml::Value::Table(t)) => Invariants::parse(&file, &t)?,
        Some(_) => {
            return Err(AppError::BadInput(format!(
                "{file}: `invariants` must be a table"
            )))
        }
    };
    let walkforward = table.remove("walkforward").is_some();
    let config_toml = toml::to_string(&table).ok();
    let plan = config::from_table(table, Some(path))
        .map(|cfg| RunPlan {
            cfg,
            config_path: Some(path.to_path_buf()),
            data: Vec::new(),
            name: Some(name.clone()),
            out: None,
            quiet: true,
            page: Some(crate::run::PagePlan { config_toml }),
            recorded: None,
        })
        .map_err(|e| (e.exit_code(), e.to_string()));
    Ok(Scenario {
        name,
        path: path.to_path_buf(),
        expect,
        invariants,
        plan,
        walkforward,
    })
}

fn actual(s: &crate::run::BacktestResult) -> Actual {
    let sm = &s.report.summary;
    let d = |t: &str| Decimal::from_str(t).unwrap_or_default();
    Actual {
        report_hash: s.report.hash.clone(),
        round_trips: sm.round_trips,
        fills: sm.fills,
        realized_pnl: d(&sm.realized_pnl),
        fees: d(&sm.fees),
        open_positions_at_end: sm.open_positions.len() as u64,
        exit_reasons: sm
            .exit_reasons
            .iter()
            .map(|(k, v)| (k.clone(), v.count))
            .collect(),
        rejections: sm.rejections.clone(),
    }
}

/// Runs a `[walkforward]` scenario into `dir`: the out-of-sample record summed over its
/// test windows, under the walk-forward hash.
fn walkforward_actual(scenario: &Scenario, dir: &Path) -> Result<Actual, (i32, String)> {
    let args = WalkforwardArgs {
        config: scenario.path.clone(),
        set: Vec::new(),
        data: Vec::new(),
        out: Some(dir.to_path_buf()),
        threads: None,
        quiet: true,
        no_shared_data: false,
    };
    let r = run_walkforward(&args).map_err(|e| (e.exit_code(), e.to_string()))?;
    let mut a = Actual {
        report_hash: r.headline.hash.clone(),
        round_trips: 0,
        fills: 0,
        realized_pnl: Decimal::ZERO,
        fees: Decimal::ZERO,
        open_positions_at_end: 0,
        exit_reasons: BTreeMap::new(),
        rejections: BTreeMap::new(),
    };
    for w in &r.windows {
        let s = &w.oos;
        a.round_trips += s.round_trips;
        a.fills += s.fills;
        a.realized_pnl += s.realized_pnl;
        a.fees += s.fees;
        a.open_positions_at_end += s.open_positions;
        for (k, v) in &s.exit_reasons {
            *a.exit_reasons.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &s.rejections {
            *a.rejections.entry(k.clone()).or_default() += v;
        }
    }
    Ok(a)
}

/// Runs one scenario into `dir`.
pub fn run_one(scenario: &Scenario, dir: &Path) -> Outcome {
    let started = Instant::now();
    let result = match &scenario.plan {
        Err(e) => Err(e.clone()),
        Ok(_) if scenario.walkforward => walkforward_actual(scenario, dir),
        Ok(plan) => {
            let plan = RunPlan {
                out: Some(dir.to_path_buf()),
                ..plan.clone()
            };
            execute(
                &plan,
                vec![
                    "lockstep".into(),
                    "scenario".into(),
                    scenario.path.display().to_string(),
                ],
            )
            .map(|r| actual(&r))
            .map_err(|e| (e.exit_code(), e.to_string()))
        }
    };
    Outcome {
        scenario: scenario.clone(),
        result,
        secs: started.elapsed().as_secs_f64(),
        dir: dir.to_path_buf(),
    }
}

/// Runs every scenario in parallel; results keep the input order.
pub fn run_all(scenarios: &[Scenario], reports: &Path) -> Vec<Outcome> {
    scenarios
        .par_iter()
        .map(|s| run_one(s, &reports.join(&s.name)))
        .collect()
}

/// Everything wrong with an outcome: unmet expectations, broken invariants, and (when
/// `rerun` is given) a `report_hash` that changed on a second run.
pub fn problems(o: &Outcome, rerun: Option<&Outcome>) -> Vec<Mismatch> {
    let mut out = match &o.result {
        Err((code, msg)) => o.scenario.expect.compare_error(*code, msg),
        Ok(a) => o.scenario.expect.compare(a),
    };
    if o.result.is_ok() && o.scenario.walkforward {
        if o.scenario.invariants != Invariants::default() {
            out.push(Mismatch {
                field: "invariants".into(),
                expected: "none in a walk-forward scenario".into(),
                actual: "[invariants] given; check each test run with a backtest scenario".into(),
            });
        }
    } else if o.result.is_ok() {
        match RunFiles::read(&o.dir) {
            Ok(files) => {
                out.extend(
                    o.scenario
                        .invariants
                        .check(&files)
                        .into_iter()
                        .map(|v| Mismatch {
                            field: "invariant".into(),
                            expected: "holds".into(),
                            actual: v,
                        }),
                )
            }
            Err(e) => out.push(Mismatch {
                field: "report".into(),
                expected: "readable run files".into(),
                actual: e,
            }),
        }
    }
    if let (Ok(a), Some(Ok(b))) = (&o.result, rerun.map(|r| &r.result)) {
        if a.report_hash != b.report_hash {
            out.push(Mismatch {
                field: "determinism".into(),
                expected: a.report_hash.clone(),
                actual: format!("{} on a second run", b.report_hash),
            });
        }
    }
    out
}

/// The one-line result of a scenario.
pub fn line(o: &Outcome, ok: bool) -> String {
    let verdict = if ok { "PASS" } else { "FAIL" };
    match &o.result {
        Ok(a) => format!(
            "{:<30} {verdict}  trades {:>6}  pnl {:>14}  {:>6.2}s",
            o.scenario.name, a.round_trips, a.realized_pnl, o.secs
        ),
        Err((code, _)) => format!(
            "{:<30} {verdict}  error exit {code}{:>32.2}s",
            o.scenario.name, o.secs
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn outcome(hash: &str) -> Outcome {
        Outcome {
            scenario: Scenario {
                name: "s".into(),
                path: PathBuf::from("s.toml"),
                expect: Expect::default(),
                invariants: Invariants::default(),
                plan: Err((2, "unused".into())),
                walkforward: false,
            },
            result: Ok(Actual {
                report_hash: hash.into(),
                round_trips: 0,
                fills: 0,
                realized_pnl: Decimal::ZERO,
                fees: Decimal::ZERO,
                open_positions_at_end: 0,
                exit_reasons: BTreeMap::new(),
                rejections: BTreeMap::new(),
            }),
            secs: 0.0,
            dir: PathBuf::from("/nonexistent"),
        }
    }

    #[test]
    fn a_hash_that_changes_between_runs_is_reported() {
        let p = problems(&outcome("a"), Some(&outcome("b")));
        assert!(
            p.iter()
                .any(|m| m.field == "determinism" && m.actual == "b on a second run"),
            "{p:?}"
        );
        let p = problems(&outcome("a"), Some(&outcome("a")));
        assert!(p.iter().all(|m| m.field != "determinism"));
    }
}
