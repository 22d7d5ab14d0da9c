//! `backtest --signals FILE` with the built-in `signal_follower` on the bundled SPY minutes:
//! each signal received at S fills, under `next_open`, at the open of SPY's first bar that
//! opens at or after S; a signal that finds the position where it points sends nothing; a
//! bad line is exit 2 naming file, line and field, or skipped with `--lenient`.

mod common;

use common::{csv_rows, lockstep, repo, summary};
use lockstep_core::{Bar, SymbolTable, UnixNanos};
use std::path::Path;

const DATA: &str = "data/lean_spy_1m_sample.parquet";

/// Every bar of the sample, in time order.
fn bars() -> Vec<Bar> {
    let opts = lockstep_data::DataOptions::default();
    let mut src = lockstep_data::open_source(&repo().join(DATA), &opts).expect("sample");
    let mut symbols = SymbolTable::new();
    let mut out = Vec::new();
    while let Some(b) = src.next_bar(&mut symbols).expect("bar") {
        out.push(b);
    }
    out
}

/// The first bar opening at or after `s`.
fn first_at_or_after(bars: &[Bar], s: UnixNanos) -> &Bar {
    bars.iter()
        .find(|b| b.ts >= s)
        .expect("a bar after the signal")
}

fn run(dir: &Path, signals: &str, extra: &[&str]) -> std::process::Output {
    std::fs::write(
        dir.join("follow.toml"),
        "[[strategies]]\nname = \"signal_follower\"\nqty = 10\n",
    )
    .expect("config");
    std::fs::write(dir.join("signals.jsonl"), signals).expect("signals");
    let data = repo().join(DATA);
    let mut args = vec![
        "backtest",
        "follow.toml",
        "--quiet",
        "--out",
        "out",
        "--data",
        data.to_str().expect("utf-8 path"),
        "--signals",
        "signals.jsonl",
    ];
    args.extend(extra);
    lockstep(dir, &args)
}

#[test]
fn each_signal_fills_at_the_open_of_the_first_bar_at_or_after_it() {
    let bars = bars();
    let t0 = bars[0].ts;
    let min = 60_000_000_000i64;
    // Mid-bar long, a second long while long (nothing), a short on a bar's open exactly,
    // a short while flat (nothing without allow_short), a long again.
    let plan = [
        (t0.plus(2 * min + 30_000_000_000), "buy"),
        (t0.plus(4 * min), "long"),
        (t0.plus(10 * min), "short"),
        (t0.plus(12 * min + 1), "sell"),
        (t0.plus(20 * min + 59_000_000_000), "bullish"),
    ];
    let lines: Vec<String> = plan
        .iter()
        .map(|(t, d)| {
            format!(
                r#"{{"ts":"{}","ticker":"spy","direction":"{d}","timeframe":"1","source":"test"}}"#,
                t.to_iso()
            )
        })
        .collect();
    let tmp = tempfile::tempdir().expect("tmp");
    let o = run(tmp.path(), &lines.join("\n"), &[]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    let out = tmp.path().join("out");
    let fills = csv_rows(&out, "fills");
    let got: Vec<(String, String, String, String)> = fills
        .iter()
        .map(|f| {
            (
                f["ts"].clone(),
                f["side"].clone(),
                f["qty"].clone(),
                f["price"].clone(),
            )
        })
        .collect();
    let want: Vec<(String, String, String, String)> = [(0, "buy"), (2, "sell"), (4, "buy")]
        .iter()
        .map(|(k, side)| {
            let b = first_at_or_after(&bars, plan[*k].0);
            (
                b.ts.to_iso(),
                side.to_string(),
                "10".to_string(),
                format!("{:.2}", lockstep_core::Scale::EQUITY.to_decimal(b.open)),
            )
        })
        .collect();
    assert_eq!(got, want);
    assert_eq!(
        first_at_or_after(&bars, plan[0].0).ts,
        t0.plus(3 * min),
        "the mid-bar signal waits for the next bar's open"
    );
    let lots = csv_rows(&out, "lots");
    assert_eq!(lots.len(), 1, "one round trip: {lots:?}");
    assert_eq!(lots[0]["exit_reason"], "signal");
    assert_eq!(
        summary(&out)["orders"],
        3,
        "no order for the signals that changed nothing"
    );
}

#[test]
fn a_bad_signal_line_is_exit_2_naming_file_line_and_field_unless_lenient() {
    let bars = bars();
    let good = format!(
        r#"{{"ts":"{}","symbol":"SPY","direction":"long"}}"#,
        bars[5].ts.to_iso()
    );
    let bad = r#"{"ts":"2013-10-07T14:00:00Z","symbol":"SPY","direction":"sideways"}"#;
    let tmp = tempfile::tempdir().expect("tmp");
    let o = run(tmp.path(), &format!("{good}\n{bad}\n"), &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = common::stderr(&o);
    assert!(
        err.contains("signals.jsonl: line 2, field `direction`: `sideways` is neither"),
        "{err}"
    );
    let o = run(tmp.path(), &format!("{good}\n{bad}\n"), &["--lenient"]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    let fills = csv_rows(&tmp.path().join("out"), "fills");
    assert_eq!(fills.len(), 1, "the good line still trades");
}
