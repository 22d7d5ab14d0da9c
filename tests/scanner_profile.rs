//! Seed 003's scanner -> buyer -> monitor -> seller bot as the `scanner_aig_bac_ibm_spy`
//! profile: each of the audit's failures is checked on the run's own fills and orders.

mod common;

use common::{csv_rows, lockstep, repo, summary};
use std::collections::BTreeMap;

fn secs(iso: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(iso)
        .unwrap_or_else(|e| panic!("{iso}: {e}"))
        .timestamp()
}

#[test]
fn the_scanner_bot_cannot_double_buy_reenter_early_short_or_leave_a_position_unmanaged() {
    let tmp = tempfile::tempdir().expect("tmp");
    let profile = repo().join("scenarios/profiles/scanner_aig_bac_ibm_spy.toml");
    let o = lockstep(
        tmp.path(),
        &[
            "backtest",
            profile.to_str().expect("utf-8"),
            "--quiet",
            "--out",
            "out",
        ],
    );
    assert!(o.status.success(), "{}", common::stderr(&o));
    let out = tmp.path().join("out");
    let s = summary(&out);
    let fills = csv_rows(&out, "fills");
    let signals = std::fs::read_to_string(repo().join("data/signals_scanner_20131007_09.jsonl"))
        .expect("signals");
    let sent = signals.lines().count();
    let entries = fills.iter().filter(|f| f["exit_reason"].is_empty()).count();
    // Duplicate signals (the scanner re-sends while a symbol qualifies) buy nothing: far
    // fewer entries than signals, and a symbol's position never exceeds one lot of 100.
    assert_eq!(sent, 98);
    assert!(
        entries > 10 && entries < sent / 2,
        "{entries} entries from {sent} signals"
    );
    let mut position: BTreeMap<String, i64> = BTreeMap::new();
    let mut exited_at: BTreeMap<String, i64> = BTreeMap::new();
    for f in &fills {
        let q: i64 = f["qty"].parse().expect("qty");
        let p = position.entry(f["symbol"].clone()).or_default();
        let t = secs(&f["ts"]);
        if f["side"] == "buy" {
            // The cooldown every strategy shares: 30 minutes after any exit fill.
            if let Some(x) = exited_at.get(&f["symbol"]) {
                assert!(
                    t >= x + 1800,
                    "{} re-entered {} s after its exit",
                    f["symbol"],
                    t - x
                );
            }
            *p += q;
        } else {
            *p -= q;
            exited_at.insert(f["symbol"].clone(), t);
            // The monitor and seller are the exit manager: every sell has its rule.
            assert!(
                ["hard_stop", "trailing", "max_hold", "eod"].contains(&f["exit_reason"].as_str()),
                "{f:?}"
            );
        }
        assert!(
            (0..=100).contains(p),
            "{} position {p}: never short, never doubled",
            f["symbol"]
        );
    }
    // Nothing is left open: no position escapes the monitor.
    assert!(position.values().all(|p| *p == 0), "{position:?}");
    assert_eq!(s["open_positions"].as_array().map(Vec::len), Some(0));
    assert!(s["rejections"]["reentry_cooldown"].as_u64().unwrap_or(0) > 0);
}
