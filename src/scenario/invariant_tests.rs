//! Each invariant holds on a real run and fails on a deliberately broken copy of its files.

use super::invariants::{Invariants, RunFiles};
use crate::run::{execute, RunPlan};
use chrono::NaiveTime;

fn goog_run(dir: &std::path::Path, sets: &[&str]) -> RunFiles {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let cfg = crate::config::load(None, &sets, |_| Ok(())).expect("config");
    let plan = RunPlan {
        cfg,
        config_path: None,
        data: Vec::new(),
        name: None,
        out: Some(dir.to_path_buf()),
        quiet: true,
        page: None,
        recorded: None,
    };
    execute(&plan, Vec::new()).expect("run");
    RunFiles::read(dir).expect("files")
}

fn all() -> Invariants {
    Invariants {
        max_open_positions: Some(1),
        every_close_has_exit_reason: true,
        ledger_invariants: true,
        ..Invariants::default()
    }
}

#[test]
fn invariants_hold_on_a_real_run_and_fail_on_broken_files() {
    let tmp = tempfile::tempdir().unwrap();
    let files = goog_run(
        &tmp.path().join("r"),
        &[
            "execution.commission.percent=0.001",
            "strategy.allow_short=true",
        ],
    );
    assert_eq!(all().check(&files), Vec::<String>::new());

    let mut f = files.clone();
    f.lots[3].insert("exit_reason".into(), String::new());
    assert!(all()
        .check(&f)
        .iter()
        .any(|v| v.contains("lots row 4 has no exit_reason")));

    let mut f = files.clone();
    f.fills[1].insert("exit_reason".into(), String::new());
    assert!(all()
        .check(&f)
        .iter()
        .any(|v| v.contains("fills row 2 closes a position without a reason")));

    let mut f = files.clone();
    f.lots[0].insert("net_pnl".into(), "1.00".into());
    let v = all().check(&f);
    assert!(v.iter().any(|v| v.contains("net != gross - fees")), "{v:?}");
    assert!(v.iter().any(|v| v.contains("lots sum to")), "{v:?}");

    let mut f = files.clone();
    f.lots.remove(0);
    assert!(all()
        .check(&f)
        .iter()
        .any(|v| v.contains("closed 100 but lots allocate 0")));

    let mut f = files.clone();
    f.fills[0].insert("fee".into(), "0".into());
    assert!(all().check(&f).iter().any(|v| v.contains("fills charge")));

    let mut f = files.clone();
    f.equity[5].insert("cash".into(), "1".into());
    assert!(all()
        .check(&f)
        .iter()
        .any(|v| v.contains("equity row 6 is not cash + positions_value")));

    let mut f = files.clone();
    let mut extra = f.fills[0].clone();
    extra.insert("symbol".into(), "OTHER".into());
    f.fills.insert(1, extra);
    assert!(all()
        .check(&f)
        .iter()
        .any(|v| v.starts_with("max_open_positions: 2 positions")));
    assert!(all()
        .check(&f)
        .iter()
        .any(|v| v.contains("summary reports")));
}

#[test]
fn no_position_between_catches_overnight_holds() {
    let tmp = tempfile::tempdir().unwrap();
    let files = goog_run(&tmp.path().join("r"), &[]);
    let inv = Invariants {
        no_position_between: Some((
            NaiveTime::from_hms_opt(15, 55, 0).unwrap(),
            NaiveTime::from_hms_opt(9, 30, 0).unwrap(),
        )),
        ..Invariants::default()
    };
    let v = inv.check(&files);
    assert!(
        v.iter()
            .any(|v| v.starts_with("no_position_between: lots row 1 (GOOG")),
        "{:?}",
        v.first()
    );
    let mut flat = files.clone();
    flat.lots.clear();
    flat.equity.iter_mut().for_each(|e| {
        e.insert("positions_value".into(), "0.00".into());
    });
    assert_eq!(inv.check(&flat), Vec::<String>::new());
}
