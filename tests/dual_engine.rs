//! Seed 002's dual-engine platform as the `dual_engine` profile: deterministic A/B
//! assignment, the real and shadow books side by side, per-engine P&L that adds up.

mod common;

use common::{csv_rows, lockstep, repo, summary};
use lockstep_strategies::dual_engine::ab::{assign, Engine};
use rust_decimal::Decimal;
use std::path::Path;

const PROFILE: &str = "scenarios/profiles/dual_engine_goog.toml";

fn dec(v: &serde_json::Value) -> Decimal {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("decimal: {v}"))
}

/// 600 recorded signals (a file), read twice: the same engines both times, and the share
/// sent to A within 2 points of the split, for splits of 0.5 and 0.3.
#[test]
fn the_ab_split_of_a_signal_file_is_stable_and_near_the_configured_share() {
    let tmp = tempfile::tempdir().expect("tmp");
    let path = tmp.path().join("many.jsonl");
    let lines: String = (0..600)
        .map(|k| {
            let (sym, tf) = (["SPY", "QQQ", "GOOG"][k % 3], ["1", "5", "15"][k % 3]);
            format!("{{\"ts\":\"2024-01-03T15:{:02}:00Z\",\"symbol\":\"{sym}\",\"direction\":\"long\",\"timeframe\":\"{tf}\",\"id\":\"tv-{k}\"}}\n", k % 60)
        })
        .collect();
    std::fs::write(&path, lines).expect("write");
    let engines = |split: f64| -> Vec<Engine> {
        let file = lockstep_data::signals::read_signals(&path, false).expect("signals");
        assert_eq!(file.signals.len(), 600);
        file.signals
            .iter()
            .map(|s| {
                let tf = s.timeframe.as_deref().unwrap_or("");
                assign(&s.symbol, tf, s.id.as_deref().unwrap_or(""), split)
            })
            .collect()
    };
    for split in [0.5, 0.3] {
        let first = engines(split);
        assert_eq!(first, engines(split), "same file, same engines");
        let a = first.iter().filter(|e| **e == Engine::A).count() as f64 / 600.0;
        assert!((a - split).abs() <= 0.02, "split {split}: {a} to A");
    }
}

fn run(dir: &Path, sets: &[&str]) -> serde_json::Value {
    let mut args = vec!["backtest", PROFILE, "--quiet", "--out"];
    let out = dir.to_str().expect("utf-8");
    args.push(out);
    for s in sets {
        args.extend(["--set", s]);
    }
    let o = lockstep(&repo(), &args);
    assert!(o.status.success(), "{}", common::stderr(&o));
    summary(dir)
}

/// Per-engine P&L adds up to each book, and each book's lots add up to its P&L.
#[test]
fn per_engine_pnl_adds_up_to_the_real_and_the_shadow_book() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("out");
    let s = run(&out, &[]);
    let engines = |v: &serde_json::Value| -> Decimal {
        ["engine_a", "engine_b"]
            .iter()
            .map(|e| dec(&v["by_strategy"][e]["realized_pnl"]))
            .sum()
    };
    assert_eq!(engines(&s), dec(&s["realized_pnl"]));
    assert_eq!(engines(&s["shadow"]), dec(&s["shadow"]["realized_pnl"]));
    let lots_sum = |name: &str| -> Decimal {
        csv_rows(&out, name)
            .iter()
            .map(|r| r["net_pnl"].parse::<Decimal>().expect("pnl"))
            .sum()
    };
    assert_eq!(lots_sum("lots"), dec(&s["realized_pnl"]));
    assert_eq!(lots_sum("shadow_lots"), dec(&s["shadow"]["realized_pnl"]));
    for (book, v) in [("real", &s), ("shadow", &s["shadow"])] {
        for e in ["engine_a", "engine_b"] {
            assert!(
                v["by_strategy"][e]["fills"].as_u64().unwrap_or(0) > 0,
                "{book} {e} traded"
            );
        }
    }
    let shadow_fills = csv_rows(&out, "shadow_fills");
    assert_eq!(
        shadow_fills.len() as u64,
        s["shadow"]["fills"].as_u64().expect("fills")
    );
}

/// With every signal assigned to A, only engine A trades for real and only engine B in
/// the shadow book (it prices B's decisions on A's signals); with none, the reverse. A
/// shadow decision never becomes a real order.
#[test]
fn the_shadow_book_holds_exactly_the_other_engines_decisions() {
    let tmp = tempfile::tempdir().expect("tmp");
    let fills = |v: &serde_json::Value, e: &str| v["by_strategy"][e]["fills"].as_u64().unwrap_or(0);
    let sets = |split: &str| -> [String; 2] {
        [
            format!("strategies=[{{name=\"dual_engine\",label=\"engine_a\",engine=\"a\",underlying=\"GOOG\",stop=\"12:30\",split_to_a={split}}},{{name=\"dual_engine\",label=\"engine_b\",engine=\"b\",underlying=\"GOOG\",trend_full_pct=0.001,momentum_full_pct=0.001,split_to_a={split}}}]"),
            "run.shadow=true".into(),
        ]
    };
    let all_a = sets("1.0");
    let s = run(&tmp.path().join("a"), &[&all_a[0], &all_a[1]]);
    assert!(
        fills(&s, "engine_a") > 0 && fills(&s, "engine_b") == 0,
        "{}",
        s["by_strategy"]
    );
    let sh = &s["shadow"];
    assert!(
        fills(sh, "engine_b") > 0 && fills(sh, "engine_a") == 0,
        "{}",
        sh["by_strategy"]
    );
    let real_orders = csv_rows(&tmp.path().join("a"), "orders");
    assert!(real_orders.iter().all(|o| o["strategy"] == "engine_a"));
    let all_b = sets("0.0");
    let s = run(&tmp.path().join("b"), &[&all_b[0], &all_b[1]]);
    assert!(
        fills(&s, "engine_b") > 0 && fills(&s, "engine_a") == 0,
        "{}",
        s["by_strategy"]
    );
    let sh = &s["shadow"];
    assert!(
        fills(sh, "engine_a") > 0 && fills(sh, "engine_b") == 0,
        "{}",
        sh["by_strategy"]
    );
}

/// A shadow run needs a strategy with a role; paper and live refuse it for now.
#[test]
fn shadow_without_a_role_is_exit_2_naming_the_key() {
    let tmp = tempfile::tempdir().expect("tmp");
    let o = lockstep(
        tmp.path(),
        &[
            "backtest",
            "--quiet",
            "--out",
            "o",
            "--set",
            "run.shadow=true",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        common::stderr(&o).contains("run.shadow: no strategy has a shadow role"),
        "{}",
        common::stderr(&o)
    );
}
