//! The exit manager end to end: a position nobody asks to close is closed by its rules,
//! with the fixed priority, the intrabar assumption and the reason on every record.
//! Every number below is computed by hand from the bars in each test.

mod common;

use common::{csv_rows, lockstep, summary};
use std::path::Path;

const HEADER: &str = "ts,symbol,open,high,low,close,volume\n";

/// buy_and_hold decides on day 1's close and buys 100 at day 2's open (100.00). Bars are
/// daily on the `24x7` calendar: day N opens at N 00:00Z and is delivered at N+1 00:00Z. A
/// level crossed inside day N fills when the bar is delivered (stamped N+1 00:00Z); a market
/// exit decided on day N fills at day N+1's open (also N+1 00:00Z).
fn run(dir: &Path, bars: &str, strategy: &str, sets: &[&str]) -> serde_json::Value {
    std::fs::write(dir.join("bars.csv"), format!("{HEADER}{bars}")).unwrap();
    let mut args = vec![
        "backtest",
        "--quiet",
        "--out",
        "out",
        "--data",
        "bars.csv",
        "--strategy",
        strategy,
    ];
    for s in sets {
        args.extend_from_slice(&["--set", s]);
    }
    let o = lockstep(dir, &args);
    assert!(o.status.success(), "{}", common::stderr(&o));
    summary(&dir.join("out"))
}

fn exits(dir: &Path) -> Vec<(String, String, String)> {
    csv_rows(&dir.join("out"), "fills")
        .into_iter()
        .filter(|f| !f["exit_reason"].is_empty())
        .map(|f| {
            (
                f["ts"].clone(),
                f["price"].clone(),
                f["exit_reason"].clone(),
            )
        })
        .collect()
}

const STOP_AND_TARGET_IN_ONE_BAR: &str = "\
2024-01-01,XYZ,100,100,100,100,1000
2024-01-02,XYZ,100,112,94,100,1000
2024-01-03,XYZ,100,100,100,100,1000
";

#[test]
fn stop_and_target_in_one_bar_is_a_hard_stop_unless_optimistic() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = ["exits.hard_stop_pct=0.05", "exits.take_profit_pct=0.10"];
    let s = run(
        tmp.path(),
        STOP_AND_TARGET_IN_ONE_BAR,
        "buy_and_hold",
        &rules,
    );
    // Entry 100.00 at day 2's open; day 2 spans 94..112, so both 95.00 and 110.00 traded.
    assert_eq!(
        exits(tmp.path()),
        vec![(
            "2024-01-03T00:00:00Z".into(),
            "95.00".into(),
            "hard_stop".into()
        )]
    );
    assert_eq!(s["realized_pnl"], "-500.00");
    assert_eq!(s["exit_reasons"]["hard_stop"]["count"], 1);
    assert_eq!(s["exit_reasons"]["hard_stop"]["net_pnl"], "-500.00");
    let lots = csv_rows(&tmp.path().join("out"), "lots");
    assert_eq!(lots[0]["exit_reason"], "hard_stop");

    let tmp = tempfile::tempdir().unwrap();
    let mut optimistic = rules.to_vec();
    optimistic.push("exits.intrabar=\"optimistic\"");
    let s = run(
        tmp.path(),
        STOP_AND_TARGET_IN_ONE_BAR,
        "buy_and_hold",
        &optimistic,
    );
    assert_eq!(
        exits(tmp.path()),
        vec![(
            "2024-01-03T00:00:00Z".into(),
            "110.00".into(),
            "take_profit".into()
        )]
    );
    assert_eq!(s["realized_pnl"], "1000.00");
}

#[test]
fn a_gap_through_the_stop_fills_at_the_open_and_a_target_needs_a_trade_through() {
    let tmp = tempfile::tempdir().unwrap();
    let bars = "\
2024-01-01,XYZ,100,100,100,100,1000
2024-01-02,XYZ,100,110,99,105,1000
2024-01-03,XYZ,90,92,88,91,1000
";
    let rules = ["exits.hard_stop_pct=0.05", "exits.take_profit_pct=0.10"];
    let s = run(tmp.path(), bars, "buy_and_hold", &rules);
    // Day 2 touches 110.00 but does not trade through it; day 3 opens at 90, below 95.
    assert_eq!(
        exits(tmp.path()),
        vec![(
            "2024-01-04T00:00:00Z".into(),
            "90.00".into(),
            "hard_stop".into()
        )]
    );
    assert_eq!(s["realized_pnl"], "-1000.00");
}

#[test]
fn a_trailing_stop_follows_the_best_price_and_fills_at_its_level() {
    let tmp = tempfile::tempdir().unwrap();
    let bars = "\
2024-01-01,XYZ,100,100,100,100,1000
2024-01-02,XYZ,100,110,100,108,1000
2024-01-03,XYZ,107,108,106,107,1000
2024-01-04,XYZ,106,106,104,105,1000
";
    let s = run(
        tmp.path(),
        bars,
        "buy_and_hold",
        &["exits.trailing_pct=0.05"],
    );
    // Best 110 after day 2 -> stop 104.50; day 3 (low 106) keeps it; day 4 reaches 104.
    assert_eq!(
        exits(tmp.path()),
        vec![(
            "2024-01-05T00:00:00Z".into(),
            "104.50".into(),
            "trailing".into()
        )]
    );
    assert_eq!(s["realized_pnl"], "450.00");

    let tmp = tempfile::tempdir().unwrap();
    let s = run(
        tmp.path(),
        bars,
        "buy_and_hold",
        &[
            "exits.trailing_pct=0.05",
            "exits.trailing_activation_pct=0.2",
        ],
    );
    assert!(
        exits(tmp.path()).is_empty(),
        "never 20 % up: the trail never starts"
    );
    assert_eq!(s["open_positions"][0]["qty"], "100");
}

#[test]
fn an_atr_trail_widening_later_does_not_loosen_the_stop() {
    let tmp = tempfile::tempdir().unwrap();
    let bars = "\
2024-01-01,XYZ,100,100,100,100,1000
2024-01-02,XYZ,100,104,98,102,1000
2024-01-03,XYZ,102,103,99,100,1000
2024-01-04,XYZ,100,101,97.5,98,1000
";
    let s = run(
        tmp.path(),
        bars,
        "buy_and_hold",
        &["exits.trailing_atr=2", "exits.atr_period=2"],
    );
    // True ranges 0, 6, 4. After day 2: ATR(2) = 3, best 104, stop 104 - 6 = 98.00. After
    // day 3: ATR = 5 would put it at 94, looser, so it stays at 98.00; day 4 reaches 97.5.
    assert_eq!(
        exits(tmp.path()),
        vec![(
            "2024-01-05T00:00:00Z".into(),
            "98.00".into(),
            "trailing".into()
        )]
    );
    assert_eq!(s["realized_pnl"], "-200.00");
}

#[test]
fn soft_stop_and_max_hold_close_with_market_orders_at_the_next_open() {
    let bars = "\
2024-01-01,XYZ,100,100,100,100,1000
2024-01-02,XYZ,100,101,96,97,1000
2024-01-03,XYZ,98,99,97,98,1000
2024-01-04,XYZ,99,99,99,99,1000
";
    let tmp = tempfile::tempdir().unwrap();
    let s = run(
        tmp.path(),
        bars,
        "buy_and_hold",
        &["exits.soft_stop_pct=0.02"],
    );
    // Day 2 closes at 97, below 98.00: sold at day 3's open.
    assert_eq!(
        exits(tmp.path()),
        vec![(
            "2024-01-03T00:00:00Z".into(),
            "98.00".into(),
            "soft_stop".into()
        )]
    );
    assert_eq!(s["realized_pnl"], "-200.00");

    let tmp = tempfile::tempdir().unwrap();
    let s = run(
        tmp.path(),
        bars,
        "buy_and_hold",
        &["exits.max_hold_secs=86400"],
    );
    // Bought at day 2's open; day 2's bar ends a day later: sold at day 3's open.
    assert_eq!(
        exits(tmp.path()),
        vec![(
            "2024-01-03T00:00:00Z".into(),
            "98.00".into(),
            "max_hold".into()
        )]
    );
    assert_eq!(s["realized_pnl"], "-200.00");
}

/// sma_cross fast=1 slow=2 buys at day 4's open (11.1) and signals a sell on day 5, which
/// would fill at day 6's open (9.9): a loss.
const CROSSES: &str = "\
2024-01-01,XYZ,10,10.5,9.5,10,1000
2024-01-02,XYZ,9.8,10,8.9,9,1000
2024-01-03,XYZ,9.2,11.2,9,11,1000
2024-01-04,XYZ,11.1,12.5,11,12,1000
2024-01-05,XYZ,11.9,12,9.8,10,1000
2024-01-06,XYZ,9.9,10,8.5,9,1000
";

#[test]
fn signal_exits_only_in_profit_keep_a_losing_position_open() {
    let sma = ["strategy.fast=1", "strategy.slow=2"];
    let tmp = tempfile::tempdir().unwrap();
    let s = run(tmp.path(), CROSSES, "sma_cross", &sma);
    assert_eq!(
        exits(tmp.path()),
        vec![(
            "2024-01-06T00:00:00Z".into(),
            "9.90".into(),
            "signal".into()
        )]
    );
    assert_eq!(s["realized_pnl"], "-120.00");

    let tmp = tempfile::tempdir().unwrap();
    let mut held = sma.to_vec();
    held.push("exits.signal_only_in_profit=true");
    let s = run(tmp.path(), CROSSES, "sma_cross", &held);
    assert!(exits(tmp.path()).is_empty());
    assert_eq!(s["rejections"]["exit_not_in_profit"], 1);
    assert_eq!(s["open_positions"][0]["qty"], "100");
    assert_eq!(s["open_positions"][0]["avg_price"], "11.10");
}

#[test]
fn per_strategy_exit_rules_override_the_global_ones() {
    let tmp = tempfile::tempdir().unwrap();
    // Both buy at day 2's open (100.00); day 2's low of 92 reaches both stops.
    let bars = "\
2024-01-01,XYZ,100,100,100,100,1000
2024-01-02,XYZ,100,101,92,95,1000
";
    std::fs::write(tmp.path().join("bars.csv"), format!("{HEADER}{bars}")).unwrap();
    std::fs::write(
        tmp.path().join("two.toml"),
        "[data]\npaths = [\"bars.csv\"]\n[exits]\nhard_stop_pct = 0.05\n\
         [[strategies]]\nname = \"buy_and_hold\"\nlabel = \"wide\"\nexits = { hard_stop_pct = 0.07 }\n\
         [[strategies]]\nname = \"buy_and_hold\"\nlabel = \"global\"\nqty = 10\n",
    )
    .unwrap();
    let o = lockstep(
        tmp.path(),
        &["backtest", "two.toml", "--quiet", "--out", "out"],
    );
    assert!(o.status.success(), "{}", common::stderr(&o));
    let fills = csv_rows(&tmp.path().join("out"), "fills");
    let closes: Vec<_> = fills
        .iter()
        .filter(|f| f["exit_reason"] == "hard_stop")
        .map(|f| {
            (
                f["strategy"].as_str(),
                f["qty"].as_str(),
                f["price"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        closes,
        vec![("wide", "100", "93.00"), ("global", "10", "95.00")]
    );
    let s = summary(&tmp.path().join("out"));
    assert_eq!(s["realized_pnl"], "-750.00");
}

#[test]
fn a_strategys_trailing_kind_replaces_the_global_one() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("bars.csv"), format!("{HEADER}{CROSSES}")).unwrap();
    std::fs::write(
        tmp.path().join("atr.toml"),
        "[data]\npaths = [\"bars.csv\"]\n[exits]\ntrailing_pct = 0.01\n\
         [[strategies]]\nname = \"buy_and_hold\"\nexits = { trailing_atr = 2, atr_period = 2 }\n",
    )
    .unwrap();
    let o = lockstep(
        tmp.path(),
        &["backtest", "atr.toml", "--quiet", "--out", "out"],
    );
    assert!(o.status.success(), "{}", common::stderr(&o));
}

#[test]
fn bad_exit_settings_are_config_errors() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("bars.csv"), format!("{HEADER}{CROSSES}")).unwrap();
    for (set, needle) in [
        (
            "exits.hard_stop_pct=-0.1",
            "exits.hard_stop_pct: -0.1 must not be negative",
        ),
        ("exits.intrabar=\"sideways\"", "exits.intrabar"),
        (
            "exits.trailing_atr=0",
            "trailing_atr and atr_period must be positive",
        ),
        (
            "execution.max_participation=1.5",
            "execution.max_participation: 1.5",
        ),
        (
            "execution.faults.reject_probability=2.0",
            "not a probability",
        ),
        (
            "risk.entry_cutoff=\"25:00\"",
            "risk.entry_cutoff: `25:00` is not HH:MM",
        ),
        (
            "execution.slippage={ticks=1, tick_size=0}",
            "execution.slippage.tick_size: 0 must be positive",
        ),
        ("execution.slippage.bps=10000", "below 10000"),
    ] {
        let o = lockstep(
            tmp.path(),
            &[
                "backtest", "--quiet", "--out", "out", "--data", "bars.csv", "--set", set,
            ],
        );
        assert_eq!(o.status.code(), Some(2), "{set}");
        assert!(
            common::stderr(&o).contains(needle),
            "{set}: {}",
            common::stderr(&o)
        );
    }
}
