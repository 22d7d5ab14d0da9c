//! `lockstep walkforward`: learners see only their train window (a poisoned future cannot
//! change what they learned), windows tile the data, and the result does not depend on the
//! thread count.

mod common;

use common::{csv_rows, lockstep, stderr};
use std::path::Path;

const DAY: i64 = 86_400;

/// 500 daily bars of a seeded random walk from 2020-01-01 as CSV; prices of bars opening in
/// `[poison_from, poison_to)` (Unix seconds) are bent upwards.
fn daily_csv(path: &Path, poison: Option<(i64, i64)>) {
    let start = 1_577_836_800; // 2020-01-01T00:00:00Z
    let mut state: u64 = 42;
    let mut price = 100.0f64;
    let mut out = String::from("ts_utc,symbol,open,high,low,close,volume\n");
    for d in 0..500 {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        let step = ((state >> 33) % 2001) as f64 / 1000.0 - 1.0;
        let open = price;
        price = (price + step).max(1.0);
        let ts = start + d * DAY;
        // Inside the poisoned range prices ramp up 3 % a day: new trends, new signals.
        let k = match poison {
            Some((a, b)) if ts >= a && ts < b => 1.0 + 0.03 * ((ts - a) / DAY) as f64,
            _ => 1.0,
        };
        let (o, c) = (open * k, price * k);
        let (h, l) = (o.max(c) + 0.5, (o.min(c) - 0.5).max(0.01));
        let when = chrono::DateTime::from_timestamp(ts, 0)
            .unwrap()
            .format("%Y-%m-%dT%H:%M:%SZ");
        out.push_str(&format!("{when},SYN,{o:.2},{h:.2},{l:.2},{c:.2},1000\n"));
    }
    std::fs::write(path, out).unwrap();
}

fn config(dir: &Path, mode: &str) {
    config_with(dir, mode, "param_search");
}

fn config_with(dir: &Path, mode: &str, learner: &str) {
    let text = format!(
        "[data]\npaths = [\"daily.csv\"]\ninterval = \"1d\"\n\n[strategy]\nname = \"sma_cross\"\nfast = 5\nslow = 20\nqty = 10\n\n\
         [walkforward]\ntrain = \"120d\"\ntest = \"60d\"\nmode = \"{mode}\"\nlearner = \"{learner}\"\n\
         objective = \"realized_pnl\"\nmin_trades = 1\ngrid = {{ \"strategy.fast\" = [3, 5, 8], \"strategy.slow\" = [15, 30] }}\n\
         min_pattern_trades = 1\nbucket_minutes = 60\nmin_bucket_trades = 1\n"
    );
    std::fs::write(dir.join("wf.toml"), text).unwrap();
}

fn run(dir: &Path, out: &str, extra: &[&str]) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut args = vec!["walkforward", "wf.toml", "--quiet", "--out", out];
    args.extend_from_slice(extra);
    let o = lockstep(dir, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    csv_rows(&dir.join(out), "windows")
}

fn unix(iso: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(iso)
        .unwrap()
        .timestamp()
}

#[test]
fn poisoning_a_test_window_cannot_change_what_any_learner_learned_up_to_it() {
    for learner in [
        "param_search",
        "time_of_day",
        "pattern_memory",
        "feature_weights",
    ] {
        poisoned(learner);
    }
}

fn poisoned(learner: &str) {
    let tmp = tempfile::tempdir().unwrap();
    daily_csv(&tmp.path().join("daily.csv"), None);
    config_with(tmp.path(), "rolling", learner);
    let clean = run(tmp.path(), "clean", &[]);
    assert!(clean.len() >= 5, "{} windows", clean.len());
    // A window after the first whose test window trades without learning.
    let k = (1..clean.len())
        .find(|&w| clean[w]["baseline_trades"] != "0")
        .expect("a window that trades");
    let range = (unix(&clean[k]["test_start"]), unix(&clean[k]["test_end"]));
    daily_csv(&tmp.path().join("daily.csv"), Some(range));
    let poisoned = run(tmp.path(), "poisoned", &[]);
    for w in 0..=k {
        for col in ["learned", "is_trades", "is_pnl"] {
            assert_eq!(
                clean[w][col], poisoned[w][col],
                "{learner}: window {w} {col}"
            );
        }
    }
    let test_side = |r: &std::collections::BTreeMap<String, String>| {
        [
            "oos_pnl",
            "oos_open_pnl",
            "baseline_pnl",
            "baseline_open_pnl",
        ]
        .map(|c| r[c].clone())
    };
    assert_ne!(
        test_side(&clean[k]),
        test_side(&poisoned[k]),
        "{learner}: the poison did reach window {k}'s test window"
    );
}

#[test]
fn test_windows_tile_and_anchored_train_windows_start_at_the_first_bar() {
    let tmp = tempfile::tempdir().unwrap();
    daily_csv(&tmp.path().join("daily.csv"), None);
    config(tmp.path(), "rolling");
    let rolling = run(tmp.path(), "rolling", &[]);
    config(tmp.path(), "anchored");
    let anchored = run(tmp.path(), "anchored", &[]);
    assert_eq!(rolling.len(), anchored.len());
    // 500 days from 2020-01-01: the first train window ends on day 120 (2020-04-30); test
    // windows of 60 days follow back to back; there are 7 (the last one runs past the data).
    assert_eq!(rolling.len(), 7);
    assert_eq!(rolling[0]["test_start"], "2020-04-30T00:00:00Z");
    for pair in rolling.windows(2) {
        assert_eq!(
            pair[0]["test_end"], pair[1]["test_start"],
            "no gap, no overlap"
        );
    }
    for (w, (r, a)) in rolling.iter().zip(&anchored).enumerate() {
        assert_eq!(r["test_start"], a["test_start"]);
        assert_eq!(
            a["train_start"], "2020-01-01T00:00:00Z",
            "anchored window {w}"
        );
        assert_eq!(unix(&r["train_end"]) - unix(&r["train_start"]), 120 * DAY);
    }
    assert_eq!(
        rolling[1]["train_start"], "2020-03-01T00:00:00Z",
        "rolled by 60 days"
    );
}

#[test]
fn the_result_is_the_same_with_one_or_two_threads_and_with_or_without_shared_data() {
    let tmp = tempfile::tempdir().unwrap();
    daily_csv(&tmp.path().join("daily.csv"), None);
    config(tmp.path(), "rolling");
    run(tmp.path(), "one", &["--threads", "1"]);
    run(tmp.path(), "two", &["--threads", "2"]);
    // Every run reading the file itself instead of replaying the data read once.
    run(tmp.path(), "own", &["--threads", "2", "--no-shared-data"]);
    for other in ["two", "own"] {
        for f in ["windows.csv", "windows.parquet", "walkforward.json"] {
            assert_eq!(
                std::fs::read(tmp.path().join("one").join(f)).unwrap(),
                std::fs::read(tmp.path().join(other).join(f)).unwrap(),
                "{other}: {f}"
            );
        }
    }
}

#[test]
fn spy_param_search_example_and_its_baseline_is_the_plain_backtest_of_each_test_year() {
    let tmp = tempfile::tempdir().unwrap();
    let config = common::repo().join("examples/walkforward_spy_param_search.toml");
    let o = lockstep(
        tmp.path(),
        &[
            "walkforward",
            config.to_str().unwrap(),
            "--quiet",
            "--out",
            "wf",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let rows = csv_rows(&tmp.path().join("wf"), "windows");
    assert_eq!(rows.len(), 21, "2001 to 2021, one test year each");
    assert_eq!(rows[0]["learned"], "strategy.fast=10 strategy.slow=50");
    let text = std::fs::read_to_string(tmp.path().join("wf/walkforward.json")).unwrap();
    let h: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(h["out_of_sample"]["round_trips"], 43);
    assert_eq!(h["out_of_sample"]["realized_pnl"], "-741.00");
    assert_eq!(h["baseline"]["realized_pnl"], "3635.00");
    // Positions open at a test window's end are valued at its last price and counted.
    assert_eq!(h["out_of_sample"]["open_pnl"], "12695.00");
    assert_eq!(h["out_of_sample"]["total_pnl"], "11954.00");
    assert_eq!(h["baseline"]["total_pnl"], "13694.00");
    // The no-learning baseline of a window is sma_cross 10/30 replayed on that test year
    // alone (data.from / data.to), nothing else.
    for w in [0usize, 7, 20] {
        let r = &rows[w];
        let from = format!("data.from=\"{}\"", r["test_start"]);
        let to = format!("data.to=\"{}\"", r["test_end"]);
        let out = format!("b{w}");
        let o = lockstep(
            tmp.path(),
            &[
                "backtest",
                config.to_str().unwrap(),
                "--set",
                &from,
                "--set",
                &to,
                "--quiet",
                "--out",
                &out,
            ],
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let s = common::summary(&tmp.path().join(&out));
        assert_eq!(s["realized_pnl"], r["baseline_pnl"].as_str(), "window {w}");
        assert_eq!(
            s["unrealized_pnl"],
            r["baseline_open_pnl"].as_str(),
            "window {w}"
        );
        assert_eq!(
            s["round_trips"].to_string(),
            r["baseline_trades"],
            "window {w}"
        );
    }
}

#[test]
fn a_learner_cannot_be_given_exits_or_risk_limits_to_tune() {
    let tmp = tempfile::tempdir().unwrap();
    daily_csv(&tmp.path().join("daily.csv"), None);
    config(tmp.path(), "rolling");
    let text = std::fs::read_to_string(tmp.path().join("wf.toml")).unwrap();
    let text = text.replace(
        "grid = { \"strategy.fast\" = [3, 5, 8], \"strategy.slow\" = [15, 30] }",
        "grid = { \"exits.hard_stop_pct\" = [0.01, 0.02] }",
    );
    std::fs::write(tmp.path().join("wf.toml"), text).unwrap();
    let o = lockstep(
        tmp.path(),
        &["walkforward", "wf.toml", "--quiet", "--out", "x"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o)
            .contains("only set strategy parameters and entry filters, not `exits.hard_stop_pct"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn the_configs_own_data_to_is_a_holdout_no_window_reaches() {
    let tmp = tempfile::tempdir().unwrap();
    daily_csv(&tmp.path().join("daily.csv"), None);
    config(tmp.path(), "rolling");
    let all = run(tmp.path(), "all", &[]);
    let held = run(
        tmp.path(),
        "held",
        &["--set", "data.to=\"2020-11-01T00:00:00Z\""],
    );
    assert!(held.len() < all.len(), "{} vs {}", held.len(), all.len());
    let holdout = unix("2020-11-01T00:00:00Z");
    for w in &held {
        assert!(unix(&w["test_start"]) < holdout, "{w:?}");
    }
    // The windows both runs share learned and traded the same (the last one is clipped).
    for (a, b) in all.iter().zip(&held).take(held.len() - 1) {
        assert_eq!(
            (&a["learned"], &a["oos_pnl"]),
            (&b["learned"], &b["oos_pnl"])
        );
    }
}
