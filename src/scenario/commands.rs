//! The `lockstep scenario run | verify | bless` commands. Each returns the process exit
//! code: 0 ok, 1 a run failed unexpectedly (`run`, `bless`), 3 expectations not met (`verify`).

use super::{collect, line, load, problems, run_all, Outcome, Scenario, REPORTS};
use crate::error::AppError;
use std::path::{Path, PathBuf};

fn load_all(paths: &[PathBuf]) -> Result<Vec<Scenario>, AppError> {
    let files = collect(paths)?;
    if files.is_empty() {
        return Err(AppError::BadInput("no scenario files found".into()));
    }
    files.iter().map(|p| load(p)).collect()
}

fn unexpected_failure(o: &Outcome) -> bool {
    o.result.is_err() != o.scenario.expect.error.is_some()
}

/// `scenario run`: runs scenarios, one line each; fails only on unexpected errors.
pub fn run(paths: &[PathBuf]) -> Result<i32, AppError> {
    let scenarios = load_all(paths)?;
    let outcomes = run_all(&scenarios, Path::new(REPORTS));
    let mut code = 0;
    for o in &outcomes {
        let ok = !unexpected_failure(o);
        println!("{}", line(o, ok));
        if !ok {
            if let Err((c, m)) = &o.result {
                println!("    error (exit {c}): {m}");
            }
            code = 1;
        }
    }
    Ok(code)
}

/// `scenario verify`: runs every scenario twice (the second time to check the hash is
/// stable), compares with `[expect]` and the invariants, prints a diff per mismatch.
pub fn verify(paths: &[PathBuf]) -> Result<i32, AppError> {
    let scenarios = load_all(paths)?;
    let outcomes = run_all(&scenarios, Path::new(REPORTS));
    let rerun_dir = Path::new(REPORTS).join(".rerun");
    let reruns = run_all(&scenarios, &rerun_dir);
    let _ = std::fs::remove_dir_all(&rerun_dir);
    let mut failed = 0;
    for (o, r) in outcomes.iter().zip(&reruns) {
        let problems = problems(o, Some(r));
        println!("{}", line(o, problems.is_empty()));
        for p in &problems {
            println!(
                "    {}: expected {}, actual {}",
                p.field, p.expected, p.actual
            );
        }
        if !problems.is_empty() {
            failed += 1;
        }
    }
    println!(
        "{} of {} scenarios passed",
        outcomes.len() - failed,
        outcomes.len()
    );
    Ok(if failed == 0 { 0 } else { 3 })
}

/// `scenario bless`: writes actual values into each scenario's `[expect]`.
pub fn bless(paths: &[PathBuf]) -> Result<i32, AppError> {
    let scenarios = load_all(paths)?;
    let outcomes = run_all(&scenarios, Path::new(REPORTS));
    let mut code = 0;
    for o in &outcomes {
        match super::bless::bless(o) {
            Ok(changes) if changes.is_empty() => println!("{:<30} unchanged", o.scenario.name),
            Ok(changes) => changes.iter().for_each(|c| println!("{c}")),
            Err(e) => {
                println!("{e}");
                code = 1;
            }
        }
    }
    Ok(code)
}
