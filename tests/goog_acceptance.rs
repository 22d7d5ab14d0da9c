//! Issue 3 acceptance: GOOG daily sma_cross 10/30 qty 100 matches five independent engines.

mod common;

use common::{csv_rows, lockstep, repo, summary};

fn run(out: &std::path::Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["backtest", "--quiet", "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = lockstep(&repo(), &args);
    assert!(
        o.status.success(),
        "backtest failed: {}",
        common::stderr(&o)
    );
    summary(out)
}

#[test]
fn default_run_matches_reference_trades() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let s = run(&out, &[]);
    assert_eq!(s["bars"], 2148);
    assert_eq!(s["round_trips"], 32);
    assert_eq!(s["realized_pnl"], "66275.00");
    assert_eq!(s["fees"], "0.00");
    assert_eq!(s["first_ts"], "2004-08-19T04:00:00Z");
    assert_eq!(s["last_ts"], "2013-03-01T05:00:00Z");
    let open = &s["open_positions"];
    assert_eq!(open.as_array().unwrap().len(), 1);
    assert_eq!(open[0]["symbol"], "GOOG");
    assert_eq!(open[0]["qty"], "100");
    assert_eq!(open[0]["avg_price"], "695.00");
    assert_eq!(s["exit_reasons"]["signal"]["count"], 32);

    let lots = csv_rows(&out, "lots");
    assert_eq!(lots.len(), 32);
    let first = &lots[0];
    assert_eq!(first["open_ts"], "2004-12-21T05:00:00Z");
    assert_eq!(first["open_price"], "186.31");
    assert_eq!(first["close_ts"], "2005-01-31T05:00:00Z");
    assert_eq!(first["close_price"], "193.69");
    assert_eq!(first["net_pnl"], "738.00");
    let last = &lots[31];
    assert_eq!(last["open_ts"], "2012-07-10T04:00:00Z");
    assert_eq!(last["open_price"], "590.19");
    assert_eq!(last["close_ts"], "2012-10-23T04:00:00Z");
    assert_eq!(last["close_price"], "672.01");
    assert_eq!(last["net_pnl"], "8182.00");

    let fills = csv_rows(&out, "fills");
    assert_eq!(fills.len(), 65);
    let entry = fills.last().unwrap();
    assert_eq!(entry["ts"], "2012-12-04T05:00:00Z");
    assert_eq!(entry["price"], "695.00");
    assert_eq!(entry["side"], "buy");
    assert_eq!(entry["exit_reason"], "");
    assert_eq!(fills[1]["exit_reason"], "signal");
    assert_eq!(fills[0]["client_order_id"], "default-1");
}

#[test]
fn percent_commission_matches_reference() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let s = run(&out, &["--set", "execution.commission.percent=0.001"]);
    assert_eq!(s["realized_pnl"], "63251.341");
    assert_eq!(s["round_trips"], 32);
    let lots = csv_rows(&out, "lots");
    let first = &lots[0];
    let fees: rust_decimal::Decimal = first["open_fee"].parse::<rust_decimal::Decimal>().unwrap()
        + first["close_fee"].parse::<rust_decimal::Decimal>().unwrap();
    assert_eq!(fees, "38.000".parse().unwrap());
    assert_eq!(
        first["net_pnl"].parse::<rust_decimal::Decimal>().unwrap(),
        "700.000".parse().unwrap()
    );
}

#[test]
fn report_hash_is_reproducible_and_independent_of_out_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let a = run(&tmp.path().join("a"), &[]);
    let b = run(&tmp.path().join("b"), &[]);
    let again = run(&tmp.path().join("a"), &[]);
    assert_eq!(a["report_hash"], b["report_hash"]);
    assert_eq!(a["report_hash"], again["report_hash"]);
    let c = run(&tmp.path().join("c"), &["--set", "strategy.fast=5"]);
    assert_ne!(
        a["report_hash"], c["report_hash"],
        "a different run must hash differently"
    );
    for f in [
        "fills.csv",
        "lots.csv",
        "orders.csv",
        "equity.csv",
        "rejections.csv",
    ] {
        let x = std::fs::read(tmp.path().join("a").join(f)).unwrap();
        let y = std::fs::read(tmp.path().join("b").join(f)).unwrap();
        assert_eq!(x, y, "{f} differs between identical runs");
    }
}

#[test]
fn csv_twin_of_the_sample_gives_the_same_trades() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("csv");
    let s = run(
        &out,
        &[
            "--data",
            "data/backtestingpy_goog_1d.csv",
            "--name",
            "default",
        ],
    );
    let p = run(&tmp.path().join("pq"), &[]);
    assert_eq!(s["realized_pnl"], "66275.00");
    assert_eq!(s["report_hash"], p["report_hash"]);
}

#[test]
fn per_share_commission_applies_its_minimum_per_fill() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let s = run(
        &out,
        &[
            "--set",
            "execution.commission.per_share=0.005",
            "--set",
            "execution.commission.minimum=1",
        ],
    );
    // 100 shares x 0.005 = 0.50 < 1.00, so every one of the 65 fills pays the 1.00 minimum;
    // the 32 round trips carry 64 of them.
    assert_eq!(s["fees"], "65.00");
    assert_eq!(s["realized_pnl"], "66211.00");
}

#[test]
fn risk_limits_reject_entries_with_a_code() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let s = run(&out, &["--set", "risk.max_order_notional=20000"]);
    // Entries priced above 200/share are refused; exits always go through, so every
    // accepted entry is closed and the final 695.00 entry is refused.
    let rejected = s["rejections"]["max_order_notional"].as_u64().unwrap();
    assert!(rejected > 0);
    let rows = csv_rows(&out, "rejections");
    assert_eq!(rows.len() as u64, rejected);
    assert!(rows
        .iter()
        .all(|r| r["code"] == "max_order_notional" && r["side"] == "buy"));
    let fills = csv_rows(&out, "fills");
    let entries: Vec<_> = fills.iter().filter(|f| f["side"] == "buy").collect();
    assert_eq!(fills.len(), 2 * entries.len(), "every entry has its exit");
    assert_eq!(s["round_trips"].as_u64().unwrap() + rejected, 33);
    assert_eq!(s["open_positions"].as_array().unwrap().len(), 0);
}

#[test]
fn nyse_calendar_delivers_daily_bars_at_the_close_with_the_same_trades() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let s = run(&out, &["--set", "data.calendar=nyse"]);
    assert_eq!(s["round_trips"], 32);
    assert_eq!(s["realized_pnl"], "66275.00");
    let equity = csv_rows(&out, "equity");
    // Sessions close at 16:00 New York: 20:00Z in summer, 21:00Z in winter; 2012-11-23 and
    // 2012-12-24 close early at 13:00.
    assert_eq!(equity[0]["ts"], "2004-08-19T20:00:00Z");
    assert!(equity.iter().any(|e| e["ts"] == "2012-11-23T18:00:00Z"));
    assert!(equity.iter().any(|e| e["ts"] == "2012-12-24T18:00:00Z"));
    assert!(equity.iter().all(|e| {
        let t = &e["ts"];
        t.ends_with("T20:00:00Z")
            || t.ends_with("T21:00:00Z")
            || t.ends_with("T17:00:00Z")
            || t.ends_with("T18:00:00Z")
    }));
}
