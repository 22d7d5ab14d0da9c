//! The EOD guard: a timer per session that flattens every position at 15:55 New York time
//! (12:55 on early closes), whoever opened it.

mod common;

use common::{csv_rows, lockstep, repo, summary};

fn run(args: &[&str]) -> (tempfile::TempDir, serde_json::Value) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let mut all = vec![
        "backtest",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
        "--set",
        "data.calendar=nyse",
    ];
    all.extend_from_slice(args);
    let o = lockstep(&repo(), &all);
    assert!(o.status.success(), "{}", common::stderr(&o));
    let s = summary(&out);
    (tmp, s)
}

#[test]
fn flatten_closes_every_position_at_1555_and_records_each_session() {
    let (tmp, s) = run(&[
        "--data",
        "data/lean_spy_1m_sample.parquet",
        "--strategy",
        "buy_and_hold",
        "--set",
        "eod.policy=flatten",
    ]);
    assert_eq!(s["eod_ran_at"]["2013-10-07"], "2013-10-07T19:55:00Z");
    assert_eq!(s["eod_ran_at"]["2013-10-08"], "2013-10-08T19:55:00Z");
    assert_eq!(
        s["bars"], 780,
        "two regular sessions of 390 one-minute bars"
    );
    let fills = csv_rows(&tmp.path().join("out"), "fills");
    assert_eq!(fills.len(), 2);
    assert_eq!(
        fills[1]["ts"], "2013-10-07T19:55:00Z",
        "the 15:55 bar's open"
    );
    assert_eq!(fills[1]["exit_reason"], "eod");
    assert_eq!(fills[1]["stale_price"], "false");
    assert_eq!(s["open_positions"].as_array().unwrap().len(), 0);
    assert_eq!(s["exit_reasons"]["eod"]["count"], 1);
}

#[test]
fn hold_policy_records_the_guard_but_keeps_positions() {
    let (_tmp, s) = run(&[
        "--data",
        "data/lean_spy_1m_sample.parquet",
        "--strategy",
        "buy_and_hold",
    ]);
    assert_eq!(s["eod_ran_at"].as_object().unwrap().len(), 2);
    assert_eq!(s["open_positions"][0]["qty"], "100");
}

/// Runs the config text `toml` on the SPY 1-minute sample; returns the temp dir (the report
/// is in `out/`).
fn run_config(toml: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("run.toml"), toml).unwrap();
    let data = repo().join("data/lean_spy_1m_sample.parquet");
    let o = lockstep(
        tmp.path(),
        &[
            "backtest",
            "run.toml",
            "--quiet",
            "--out",
            "out",
            "--data",
            data.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", common::stderr(&o));
    tmp
}

#[test]
fn a_strategy_that_never_asks_is_flattened_too_and_entries_stop_after_the_guard() {
    let tmp = run_config(
        "[data]\ncalendar = \"nyse\"\n[eod]\npolicy = \"flatten\"\n\
         [[strategies]]\nname = \"sma_cross\"\nfast = 5\nslow = 20\n\
         [[strategies]]\nname = \"buy_and_hold\"\nqty = 7\n",
    );
    let fills = csv_rows(&tmp.path().join("out"), "fills");
    let bh: Vec<_> = fills
        .iter()
        .filter(|f| f["strategy"] == "buy_and_hold")
        .collect();
    assert_eq!(bh.len(), 2);
    assert_eq!(
        (bh[1]["side"].as_str(), bh[1]["exit_reason"].as_str()),
        ("sell", "eod")
    );
    assert!(
        fills.iter().all(|f| {
            let t = &f["ts"];
            f["exit_reason"] == "eod"
                || !(t.as_str() > "2013-10-07T19:55:00Z" && t.as_str() < "2013-10-08T13:30:00Z")
        }),
        "no fill other than the EOD exits between 15:55 and the next open"
    );
    let s = summary(&tmp.path().join("out"));
    assert_eq!(s["open_positions"].as_array().unwrap().len(), 0);
}

#[test]
fn no_bar_after_1555_fills_at_the_last_price_marked_stale() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("m.csv"),
        "ts,symbol,open,high,low,close,volume\n\
         2024-01-03T14:30:00Z,XYZ,10,10,10,10,1\n\
         2024-01-03T14:31:00Z,XYZ,11,11,11,11,1\n\
         2024-01-03T20:50:00Z,XYZ,12,12.5,12,12.5,1\n",
    )
    .unwrap();
    let o = lockstep(
        tmp.path(),
        &[
            "backtest",
            "--quiet",
            "--out",
            "out",
            "--data",
            "m.csv",
            "--strategy",
            "buy_and_hold",
            "--set",
            "data.calendar=nyse",
            "--set",
            "eod.policy=flatten",
            "--set",
            "data.interval=\"1m\"",
        ],
    );
    assert!(o.status.success(), "{}", common::stderr(&o));
    let fills = csv_rows(&tmp.path().join("out"), "fills");
    assert_eq!(fills.len(), 2);
    assert_eq!(fills[0]["price"], "11.00");
    assert_eq!(
        (
            fills[1]["ts"].as_str(),
            fills[1]["price"].as_str(),
            fills[1]["stale_price"].as_str()
        ),
        ("2024-01-03T21:00:00Z", "12.50", "true")
    );
    assert_eq!(summary(&tmp.path().join("out"))["realized_pnl"], "150.00");
}

#[test]
fn flatten_needs_a_session_calendar() {
    let o = lockstep(
        &repo(),
        &[
            "backtest",
            "--quiet",
            "--out",
            "/nonexistent/x",
            "--set",
            "eod.policy=flatten",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(common::stderr(&o).contains("eod.policy = \"flatten\" needs data.calendar = \"nyse\""));
}

#[test]
fn flatten_refuses_daily_bars() {
    let tmp = tempfile::tempdir().unwrap();
    let o = lockstep(
        &repo(),
        &[
            "backtest",
            "--quiet",
            "--out",
            tmp.path().join("o").to_str().unwrap(),
            "--set",
            "data.calendar=nyse",
            "--set",
            "eod.policy=flatten",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", common::stderr(&o));
    assert!(common::stderr(&o).contains("needs intraday bars"));
}

#[test]
fn on_an_early_close_the_guard_flattens_at_1255() {
    let (tmp, s) = run(&[
        "--data",
        "data/lean_goog_1m_20151223_28.parquet",
        "--strategy",
        "buy_and_hold",
        "--set",
        "strategy.qty=10",
        "--set",
        "strategy.reenter=true",
        "--set",
        "eod.policy=flatten",
    ]);
    assert_eq!(s["eod_ran_at"]["2015-12-23"], "2015-12-23T20:55:00Z");
    assert_eq!(
        s["eod_ran_at"]["2015-12-24"], "2015-12-24T17:55:00Z",
        "13:00 early close: 12:55 New York time"
    );
    assert_eq!(s["eod_ran_at"]["2015-12-28"], "2015-12-28T20:55:00Z");
    let fills = csv_rows(&tmp.path().join("out"), "fills");
    let eod: Vec<_> = fills
        .iter()
        .filter(|f| f["exit_reason"] == "eod")
        .map(|f| (f["ts"].as_str(), f["price"].as_str()))
        .collect();
    // Each close fills at the open of the bar starting at the guard's time (checked against
    // the open_text column of the source file with pyarrow).
    assert_eq!(
        eod,
        vec![
            ("2015-12-23T20:55:00Z", "749.10"),
            ("2015-12-24T17:55:00Z", "749.14"),
            ("2015-12-28T20:55:00Z", "762.53"),
        ]
    );
    assert_eq!(
        s["rejections"]["eod_cutoff"], 15,
        "5 bars a day after the guard"
    );
}

#[test]
fn a_strategy_can_hold_overnight_while_another_is_flattened() {
    let tmp = run_config(
        "[data]\ncalendar = \"nyse\"\n\
         [[strategies]]\nname = \"buy_and_hold\"\nlabel = \"day_trader\"\nqty = 3\neod = \"flatten\"\n\
         [[strategies]]\nname = \"buy_and_hold\"\nlabel = \"swing\"\nqty = 5\n",
    );
    let fills = csv_rows(&tmp.path().join("out"), "fills");
    let closes: Vec<_> = fills
        .iter()
        .filter(|f| !f["exit_reason"].is_empty())
        .map(|f| {
            (
                f["strategy"].as_str(),
                f["qty"].as_str(),
                f["exit_reason"].as_str(),
            )
        })
        .collect();
    assert_eq!(closes, vec![("day_trader", "3", "eod")]);
    let s = summary(&tmp.path().join("out"));
    assert_eq!(s["open_positions"][0]["qty"], "5", "swing holds overnight");
}
