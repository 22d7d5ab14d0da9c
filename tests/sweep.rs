//! `lockstep sweep`: a grid of backtests in parallel, one row per point, identical whatever
//! the thread count or sharding; `sweep merge` joins shards byte for byte.

mod common;

use common::{csv_rows, lockstep, repo, stderr, summary};
use std::path::Path;

const GRID: [&str; 4] = [
    "--grid",
    "strategy.fast=5,10,20",
    "--grid",
    "strategy.slow=30,50",
];

/// Runs `sweep` on the GOOG sma_cross scenario with `extra` arguments into `out`.
fn sweep(cwd: &Path, out: &str, extra: &[&str]) -> std::process::Output {
    let config = repo().join("scenarios/goog_sma_cross.toml");
    let mut args = vec!["sweep", config.to_str().unwrap()];
    args.extend_from_slice(&GRID);
    args.extend_from_slice(&["--quiet", "--out", out]);
    args.extend_from_slice(extra);
    lockstep(cwd, &args)
}

fn bytes(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn each_row_is_the_backtest_of_its_point() {
    let tmp = tempfile::tempdir().unwrap();
    let o = sweep(tmp.path(), "s", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows = csv_rows(&tmp.path().join("s"), "sweep");
    let points: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r["strategy.fast"].as_str(), r["strategy.slow"].as_str()))
        .collect();
    assert_eq!(
        points,
        [
            ("5", "30"),
            ("5", "50"),
            ("10", "30"),
            ("10", "50"),
            ("20", "30"),
            ("20", "50")
        ]
    );
    // Point 2 is the reference run: sma_cross 10/30 on GOOG, 32 round trips, 66275.00.
    assert_eq!(
        (
            rows[2]["round_trips"].as_str(),
            rows[2]["realized_pnl"].as_str()
        ),
        ("32", "66275.00")
    );
    // Every row matches a plain backtest of the same point under the same run name.
    for (i, r) in rows.iter().enumerate() {
        let config = repo().join("scenarios/goog_sma_cross.toml");
        let fast = format!("strategy.fast={}", r["strategy.fast"]);
        let slow = format!("strategy.slow={}", r["strategy.slow"]);
        let name = format!("goog_sma_cross-p{i:04}");
        let out = format!("b{i}");
        let o = lockstep(
            tmp.path(),
            &[
                "backtest",
                config.to_str().unwrap(),
                "--set",
                &fast,
                "--set",
                &slow,
                "--name",
                &name,
                "--quiet",
                "--out",
                &out,
            ],
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let s = summary(&tmp.path().join(&out));
        assert_eq!(
            r["report_hash"],
            s["report_hash"].as_str().unwrap(),
            "point {i}"
        );
        assert_eq!(
            r["realized_pnl"],
            s["realized_pnl"].as_str().unwrap(),
            "point {i}"
        );
        assert!(tmp
            .path()
            .join(format!("s/points/p{i:04}/summary.json"))
            .exists());
    }
}

#[test]
fn the_table_is_the_same_with_one_or_two_threads() {
    let tmp = tempfile::tempdir().unwrap();
    for (out, threads) in [("one", "1"), ("two", "2")] {
        let o = sweep(tmp.path(), out, &["--threads", threads]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    for f in ["sweep.parquet", "sweep.csv"] {
        assert_eq!(
            bytes(&tmp.path().join("one").join(f)),
            bytes(&tmp.path().join("two").join(f)),
            "{f}"
        );
    }
}

#[test]
fn three_shards_merged_are_the_unsharded_table_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let o = sweep(tmp.path(), "whole", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    for i in 0..3 {
        let shard = format!("{i}/3");
        let o = sweep(tmp.path(), &format!("shard{i}"), &["--shard", &shard]);
        assert!(o.status.success(), "{}", stderr(&o));
        let rows = csv_rows(
            &tmp.path().join(format!("shard{i}")),
            &format!("sweep-shard-{i}-of-3"),
        );
        let idx: Vec<&str> = rows.iter().map(|r| r["index"].as_str()).collect();
        assert_eq!(
            idx,
            [i.to_string(), (i + 3).to_string()],
            "shard {i} holds i and i+3"
        );
    }
    let o = lockstep(
        tmp.path(),
        &[
            "sweep", "merge", "shard0", "shard1", "shard2", "--out", "merged",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    for f in ["sweep.parquet", "sweep.csv"] {
        assert_eq!(
            bytes(&tmp.path().join("whole").join(f)),
            bytes(&tmp.path().join("merged").join(f)),
            "{f}"
        );
    }
    // A missing shard is named, not papered over.
    let o = lockstep(
        tmp.path(),
        &["sweep", "merge", "shard0", "shard2", "--out", "bad"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("points missing [1, 4]"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_point_that_cannot_run_is_a_row_with_its_error() {
    let tmp = tempfile::tempdir().unwrap();
    let config = repo().join("scenarios/goog_sma_cross.toml");
    let o = lockstep(
        tmp.path(),
        &[
            "sweep",
            config.to_str().unwrap(),
            "--grid",
            "strategy.fast=10,40",
            "--quiet",
            "--out",
            "s",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let rows = csv_rows(&tmp.path().join("s"), "sweep");
    assert_eq!(rows[0]["round_trips"], "32");
    assert_eq!(rows[1]["round_trips"], "");
    assert!(rows[1]["error"].contains("fast"), "{:?}", rows[1]);
    let o = lockstep(
        tmp.path(),
        &["sweep", config.to_str().unwrap(), "--grid", "fast"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("KEY=V1,V2"), "{}", stderr(&o));
}

#[test]
fn shards_beyond_the_points_are_empty_and_still_merge() {
    let tmp = tempfile::tempdir().unwrap();
    let o = sweep(tmp.path(), "whole", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut dirs = Vec::new();
    for i in 0..8 {
        let shard = format!("{i}/8");
        let dir = format!("s{i}");
        let o = sweep(tmp.path(), &dir, &["--shard", &shard]);
        assert!(o.status.success(), "shard {i}: {}", stderr(&o));
        dirs.push(dir);
    }
    assert!(csv_rows(&tmp.path().join("s7"), "sweep-shard-7-of-8").is_empty());
    let mut args = vec!["sweep", "merge"];
    args.extend(dirs.iter().map(String::as_str));
    args.extend(["--out", "merged"]);
    let o = lockstep(tmp.path(), &args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        bytes(&tmp.path().join("whole/sweep.parquet")),
        bytes(&tmp.path().join("merged/sweep.parquet"))
    );
}

/// Points replay the data the sweep read once, with the result of reading the files in
/// every point, byte for byte: option quotes with a signal-driven strategy, and several
/// symbols merged under the NYSE calendar.
#[test]
fn shared_data_gives_the_points_their_own_reading_s_result() {
    let tmp = tempfile::tempdir().unwrap();
    for profile in ["wsb_snake_0dte_goog", "scanner_aig_bac_ibm_spy"] {
        let config = repo().join(format!("scenarios/profiles/{profile}.toml"));
        let run = |out: &str, extra: &[&str]| {
            let mut args = vec![
                "sweep",
                config.to_str().unwrap(),
                "--grid",
                "run.initial_cash=100000,250000",
                "--quiet",
                "--out",
                out,
            ];
            args.extend_from_slice(extra);
            let o = lockstep(tmp.path(), &args);
            assert!(o.status.success(), "{profile}: {}", stderr(&o));
            bytes(&tmp.path().join(out).join("sweep.csv"))
        };
        let shared = run(&format!("{profile}-shared"), &[]);
        let own = run(&format!("{profile}-own"), &["--no-shared-data"]);
        // Without --quiet the sweep says it shared the data.
        let o = lockstep(
            tmp.path(),
            &[
                "sweep",
                config.to_str().unwrap(),
                "--grid",
                "run.initial_cash=100000,250000",
                "--out",
                "said",
            ],
        );
        let said = String::from_utf8_lossy(&o.stdout);
        assert!(
            said.contains("bars shared by the points"),
            "{profile}: {said}"
        );
        assert_eq!(
            String::from_utf8_lossy(&shared),
            String::from_utf8_lossy(&own),
            "{profile}"
        );
        assert!(String::from_utf8_lossy(&shared).lines().count() == 3);
    }
}
