//! `lockstep scenario run | verify | bless` end to end, on a copy of the shipped suite.

mod common;

use common::{lockstep, repo};
use std::path::Path;

/// Copies `scenarios/` and `data/` into `dir` so runs and blessings never touch the repo.
fn suite(dir: &Path) {
    for sub in ["scenarios", "scenarios/data", "data"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
        for e in std::fs::read_dir(repo().join(sub)).unwrap().flatten() {
            if e.path().is_file() {
                std::fs::copy(e.path(), dir.join(sub).join(e.file_name())).unwrap();
            }
        }
    }
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

#[test]
fn shipped_suite_verifies_and_runs_in_stable_order() {
    let tmp = tempfile::tempdir().unwrap();
    suite(tmp.path());
    let o = lockstep(tmp.path(), &["scenario", "verify"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        stdout(&o),
        common::stderr(&o)
    );
    let shipped = std::fs::read_dir(tmp.path().join("scenarios"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "toml"))
        })
        .count();
    assert!(shipped >= 23, "the suite shrank to {shipped}");
    let all_passed = format!("{shipped} of {shipped} scenarios passed");
    assert!(stdout(&o).contains(&all_passed), "{}", stdout(&o));
    let o = lockstep(tmp.path(), &["scenario", "run", "scenarios"]);
    assert_eq!(o.status.code(), Some(0));
    let names: Vec<String> = stdout(&o)
        .lines()
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    assert!(stdout(&o)
        .contains("goog_sma_cross                 PASS  trades     32  pnl       66275.00"));
    assert!(tmp
        .path()
        .join("reports/scenarios/goog_sma_cross/summary.json")
        .exists());
}

#[test]
fn one_cent_off_exits_3_with_a_diff_naming_the_field() {
    let tmp = tempfile::tempdir().unwrap();
    suite(tmp.path());
    let f = tmp.path().join("scenarios/goog_sma_cross.toml");
    let text = std::fs::read_to_string(&f).unwrap();
    std::fs::write(
        &f,
        text.replace("realized_pnl = \"66275.00\"", "realized_pnl = \"66275.01\""),
    )
    .unwrap();
    let o = lockstep(
        tmp.path(),
        &["scenario", "verify", "scenarios/goog_sma_cross.toml"],
    );
    assert_eq!(o.status.code(), Some(3));
    assert!(stdout(&o).contains("goog_sma_cross                 FAIL"));
    assert!(
        stdout(&o).contains("    realized_pnl: expected 66275.01, actual 66275.00"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_changed_error_message_fails_verification() {
    let tmp = tempfile::tempdir().unwrap();
    suite(tmp.path());
    let f = tmp.path().join("scenarios/error_unknown_strategy.toml");
    let text = std::fs::read_to_string(&f).unwrap();
    std::fs::write(&f, text.replace("moon_shot`\"", "sun_shot`\"")).unwrap();
    let o = lockstep(
        tmp.path(),
        &[
            "scenario",
            "verify",
            "scenarios/error_unknown_strategy.toml",
        ],
    );
    assert_eq!(o.status.code(), Some(3));
    assert!(stdout(&o).contains(
        "error: expected exit code 2 with a message containing `unknown strategy `sun_shot``"
    ));
}

#[test]
fn bless_round_trips_and_keeps_comments() {
    let tmp = tempfile::tempdir().unwrap();
    suite(tmp.path());
    let f = tmp.path().join("scenarios/shorts_reversals.toml");
    let original = std::fs::read_to_string(&f).unwrap();
    let cut = original.find("report_hash").unwrap();
    let stale = format!("{}round_trips = 1 # stale\n", &original[..cut]);
    std::fs::write(&f, &stale).unwrap();
    let o = lockstep(
        tmp.path(),
        &["scenario", "verify", "scenarios/shorts_reversals.toml"],
    );
    assert_eq!(o.status.code(), Some(3));
    let o = lockstep(
        tmp.path(),
        &["scenario", "bless", "scenarios/shorts_reversals.toml"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("shorts_reversals: round_trips: 1 -> 65"),
        "{}",
        stdout(&o)
    );
    let blessed = std::fs::read_to_string(&f).unwrap();
    assert!(
        blessed.starts_with("# Guards: shorts and reversals"),
        "comments survive"
    );
    assert!(blessed.contains("realized_pnl = \"81020.50\""));
    let o = lockstep(
        tmp.path(),
        &["scenario", "verify", "scenarios/shorts_reversals.toml"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let o = lockstep(tmp.path(), &["scenario", "bless", "scenarios"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(&f).unwrap(),
        blessed,
        "blessing an unchanged engine changes nothing"
    );
    for e in std::fs::read_dir(repo().join("scenarios"))
        .unwrap()
        .flatten()
    {
        if e.path().extension().is_some_and(|x| x == "toml")
            && e.file_name() != "shorts_reversals.toml"
        {
            let here = std::fs::read(tmp.path().join("scenarios").join(e.file_name())).unwrap();
            assert_eq!(
                here,
                std::fs::read(e.path()).unwrap(),
                "{:?} changed",
                e.file_name()
            );
        }
    }
}

#[test]
fn bless_refuses_an_unexpected_failure() {
    let tmp = tempfile::tempdir().unwrap();
    suite(tmp.path());
    let f = tmp.path().join("scenarios/buy_and_hold.toml");
    let text = std::fs::read_to_string(&f).unwrap();
    std::fs::write(&f, text.replace("qty = 10", "qty = 0")).unwrap();
    let o = lockstep(
        tmp.path(),
        &["scenario", "bless", "scenarios/buy_and_hold.toml"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("refusing to bless a run that failed (exit 2)"),
        "{}",
        stdout(&o)
    );
    assert_eq!(
        std::fs::read_to_string(&f).unwrap(),
        text.replace("qty = 10", "qty = 0")
    );
    let o = lockstep(
        tmp.path(),
        &["scenario", "run", "scenarios/buy_and_hold.toml"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("qty must be positive"));
}

#[test]
fn a_broken_invariant_fails_verification() {
    let tmp = tempfile::tempdir().unwrap();
    suite(tmp.path());
    let f = tmp.path().join("scenarios/multi_symbol_merge.toml");
    let text = std::fs::read_to_string(&f).unwrap();
    std::fs::write(
        &f,
        text.replace("max_open_positions = 3", "max_open_positions = 1"),
    )
    .unwrap();
    let o = lockstep(
        tmp.path(),
        &["scenario", "verify", "scenarios/multi_symbol_merge.toml"],
    );
    assert_eq!(o.status.code(), Some(3));
    assert!(
        stdout(&o)
            .contains("    invariant: expected holds, actual max_open_positions: 2 positions open"),
        "{}",
        stdout(&o)
    );
}
