//! Fill models and reversals checked against small hand-computed examples.

mod common;

use common::{csv_rows, lockstep, summary};
use std::path::Path;

/// Seven daily bars. With sma_cross fast=1 slow=2 the strategy compares each close with
/// the previous one: up-crosses at d3 and d7, a down-cross at d5.
const BARS: &str = "\
ts,symbol,open,high,low,close,volume
2024-01-01,XYZ,10,10.5,9.5,10,1000
2024-01-02,XYZ,9.8,10,8.9,9,1000
2024-01-03,XYZ,9.2,11.2,9,11,1000
2024-01-04,XYZ,11.1,12.5,11,12,1000
2024-01-05,XYZ,11.9,12,9.8,10,1000
2024-01-06,XYZ,9.9,10,8.5,9,1000
2024-01-07,XYZ,9.5,13.5,9.5,13,1000
";

fn run(dir: &Path, extra: &[&str]) -> serde_json::Value {
    std::fs::write(dir.join("bars.csv"), BARS).unwrap();
    let mut args = vec![
        "backtest",
        "--quiet",
        "--out",
        "out",
        "--data",
        "bars.csv",
        "--set",
        "strategy.fast=1",
        "--set",
        "strategy.slow=2",
    ];
    args.extend_from_slice(extra);
    let o = lockstep(dir, &args);
    assert!(o.status.success(), "{}", common::stderr(&o));
    summary(&dir.join("out"))
}

#[test]
fn close_model_fills_at_the_deciding_bars_close() {
    let tmp = tempfile::tempdir().unwrap();
    let s = run(
        tmp.path(),
        &[
            "--set",
            "execution.fill=close",
            "--set",
            "execution.commission.percent=0.001",
        ],
    );
    // Buy 100 @ 11 (d3 close), sell 100 @ 10 (d5 close): gross -100, fees 1.1 + 1.0.
    assert_eq!(s["round_trips"], 1);
    assert_eq!(s["gross_pnl"], "-100.00");
    assert_eq!(s["realized_pnl"], "-102.10");
    // Buy 100 @ 13 at d7's close stays open; its 1.3 fee is in the lot, not realized.
    assert_eq!(s["fees"], "3.40");
    assert_eq!(s["open_positions"][0]["avg_price"], "13.00");
    let fills = csv_rows(&tmp.path().join("out"), "fills");
    let got: Vec<(&str, &str, &str)> = fills
        .iter()
        .map(|f| (f["ts"].as_str(), f["side"].as_str(), f["price"].as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("2024-01-04T00:00:00Z", "buy", "11.00"),
            ("2024-01-06T00:00:00Z", "sell", "10.00"),
            ("2024-01-08T00:00:00Z", "buy", "13.00"),
        ]
    );
}

#[test]
fn next_open_model_fills_at_the_following_open_and_expires_the_rest() {
    let tmp = tempfile::tempdir().unwrap();
    let s = run(tmp.path(), &[]);
    // Buy @ d4 open 11.1, sell @ d6 open 9.9; the d7 buy has no later bar and expires.
    assert_eq!(s["realized_pnl"], "-120.00");
    assert_eq!(s["open_positions"].as_array().unwrap().len(), 0);
    let orders = csv_rows(&tmp.path().join("out"), "orders");
    let status: Vec<&str> = orders.iter().map(|o| o["status"].as_str()).collect();
    assert_eq!(status, ["filled", "filled", "expired"]);
    let fills = csv_rows(&tmp.path().join("out"), "fills");
    assert_eq!(fills[0]["ts"], "2024-01-04T00:00:00Z");
    assert_eq!(fills[0]["price"], "11.10");
    assert_eq!(fills[1]["price"], "9.90");
}

#[test]
fn reversal_splits_the_closing_fee_between_close_and_new_lot() {
    let tmp = tempfile::tempdir().unwrap();
    let s = run(
        tmp.path(),
        &[
            "--set",
            "execution.fill=close",
            "--set",
            "execution.commission.percent=0.001",
            "--set",
            "strategy.allow_short=true",
        ],
    );
    // buy 100@11 (fee 1.1); sell 200@10 (fee 2.0: 1.0 closes the long, 1.0 opens the short);
    // buy 200@13 (fee 2.6: 1.3 closes the short, 1.3 opens the new long).
    let lots = csv_rows(&tmp.path().join("out"), "lots");
    let rows: Vec<Vec<&str>> = lots
        .iter()
        .map(|l| {
            [
                "qty",
                "open_price",
                "close_price",
                "open_fee",
                "close_fee",
                "gross_pnl",
                "net_pnl",
            ]
            .iter()
            .map(|k| l[*k].as_str())
            .collect()
        })
        .collect();
    assert_eq!(
        rows,
        [
            ["100", "11.00", "10.00", "1.10", "1.00", "-100.00", "-102.10"],
            ["-100", "10.00", "13.00", "1.00", "1.30", "-300.00", "-302.30"],
        ]
    );
    assert_eq!(s["realized_pnl"], "-404.40");
    assert_eq!(s["open_positions"][0]["qty"], "100");
}

/// sma_cross 1/2 and buy_and_hold 50 over [`BARS`], filled at the close, with `sets`;
/// returns the temp dir (keep it alive) and the output of `lockstep`.
fn two_strategies(sets: &[&str]) -> (tempfile::TempDir, std::process::Output) {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("two.toml"),
        "[[strategies]]\nname = \"sma_cross\"\nfast = 1\nslow = 2\n[[strategies]]\nname = \"buy_and_hold\"\nqty = 50\n",
    )
    .unwrap();
    std::fs::write(tmp.path().join("bars.csv"), BARS).unwrap();
    let mut args = vec![
        "backtest", "two.toml", "--quiet", "--out", "out", "--data", "bars.csv",
    ];
    args.extend(["--set", "execution.fill=close"]);
    for s in sets {
        args.extend(["--set", s]);
    }
    let o = lockstep(tmp.path(), &args);
    (tmp, o)
}

#[test]
fn strategies_share_one_ledger() {
    let (tmp, o) = two_strategies(&[]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    let s = summary(&tmp.path().join("out"));
    // buy_and_hold's 50 @ 10 is the oldest lot, so sma_cross's first sell closes it first (FIFO).
    let lots = csv_rows(&tmp.path().join("out"), "lots");
    assert_eq!(lots[0]["open_price"], "10.00");
    assert_eq!(lots[0]["qty"], "50");
    assert_eq!(lots[1]["open_price"], "11.00");
    assert_eq!(lots[1]["qty"], "50");
    assert_eq!(s["open_positions"][0]["qty"], "150");
    let fills = csv_rows(&tmp.path().join("out"), "fills");
    let by: Vec<&str> = fills.iter().map(|f| f["strategy"].as_str()).collect();
    assert_eq!(by, ["buy_and_hold", "sma_cross", "sma_cross", "sma_cross"]);
    assert!(s.get("by_strategy").is_none() && !lots[0].contains_key("strategy"));
}

/// The same two strategies with `ledger.books = "per_strategy"`: sma_cross's sell of 100 @
/// 10 closes its own 100 @ 11 (net -100.00), and buy_and_hold's 50 @ 10 stays open. Lots
/// name their book; the summary has a table per strategy.
#[test]
fn per_strategy_books_keep_buy_and_hold_lot_open() {
    let (tmp, o) = two_strategies(&["ledger.books=\"per_strategy\""]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    let out = tmp.path().join("out");
    let lots = csv_rows(&out, "lots");
    assert_eq!(lots.len(), 1, "{lots:?}");
    let lot = &lots[0];
    assert_eq!(
        [
            &lot["open_price"],
            &lot["close_price"],
            &lot["qty"],
            &lot["net_pnl"],
            &lot["strategy"]
        ],
        ["11.00", "10.00", "100", "-100.00", "sma_cross"]
    );
    let s = summary(&out);
    assert_eq!(s["realized_pnl"], "-100.00");
    assert_eq!(s["open_positions"][0]["qty"], "150");
    let bh = &s["by_strategy"]["buy_and_hold"];
    assert_eq!(
        (bh["fills"].as_u64(), bh["round_trips"].as_u64()),
        (Some(1), Some(0))
    );
    assert_eq!(bh["realized_pnl"], "0.00");
    let sma = &s["by_strategy"]["sma_cross"];
    assert_eq!(
        (sma["fills"].as_u64(), sma["round_trips"].as_u64()),
        (Some(3), Some(1))
    );
    assert_eq!(
        (&sma["gross_pnl"], &sma["realized_pnl"]),
        (&"-100.00".into(), &"-100.00".into())
    );
    let (_t, bad) = two_strategies(&["ledger.books=\"mine\""]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        common::stderr(&bad).contains("ledger.books: `mine` is not one of shared, per_strategy")
    );
}

#[test]
fn equity_has_one_row_per_session_or_per_bar() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("m.csv"),
        "ts,symbol,open,high,low,close,volume\n\
         2024-01-01T23:57:00Z,M,1,1,1,1,1\n\
         2024-01-01T23:58:00Z,M,1,1,1,1,1\n\
         2024-01-02T00:00:00Z,M,1,1,1,1,1\n\
         2024-01-02T10:00:00Z,M,1,1,1,1,1\n\
         2024-01-03T10:00:00Z,M,1,1,1,1,1\n",
    )
    .unwrap();
    let rows = |mode: &str| {
        let out = format!("out-{mode}");
        let o = lockstep(
            tmp.path(),
            &[
                "backtest",
                "--quiet",
                "--out",
                &out,
                "--data",
                "m.csv",
                "--set",
                &format!("report.equity={mode}"),
            ],
        );
        assert!(o.status.success(), "{}", common::stderr(&o));
        csv_rows(&tmp.path().join(&out), "equity")
            .iter()
            .map(|r| r["ts"].clone())
            .collect::<Vec<_>>()
    };
    // 1-minute bars are delivered at ts + 1m: 23:58, 23:59 (Jan 1), 00:01, 10:01 (Jan 2), 10:01 (Jan 3).
    assert_eq!(
        rows("session"),
        [
            "2024-01-01T23:59:00Z",
            "2024-01-02T10:01:00Z",
            "2024-01-03T10:01:00Z"
        ]
    );
    assert_eq!(rows("bar").len(), 5);
}
