//! Prices at any scale, never changed silently: a 5-decimal FX CSV and an 8-decimal crypto
//! file whose prices are floats only load and trade at their true prices with no setting;
//! an explicit `data.price_decimals` still wins; a price needing more than 9 decimals is
//! refused naming file, row and column.

mod common;

use common::{csv_rows, lockstep, repo, stderr, summary};
use lockstep_core::{Scale, SymbolTable};
use lockstep_data::{open_source, DataOptions, PriceScale};
use std::collections::BTreeSet;
use std::path::Path;

const FX: &str = "data/backtestingpy_eurusd_1h_1000.csv";
const CRYPTO_FLOATS: &str = "data/freqtrade_dash_btc_5m_floats.parquet";

/// Every close of `file` as canonical decimal text, read at 9 decimals (independent of
/// the inference under test).
fn closes(file: &str) -> BTreeSet<String> {
    let opts = DataOptions {
        price_scale: PriceScale::Fixed(Scale::new(9).expect("scale")),
        ..DataOptions::default()
    };
    let mut src = open_source(&repo().join(file), &opts).expect("opens");
    let mut symbols = SymbolTable::new();
    let mut out = BTreeSet::new();
    while let Some(bar) = src.next_bar(&mut symbols).expect("reads") {
        out.insert(bar.close_price().normalize().to_string());
    }
    out
}

/// Fill prices of a `close`-fill sma_cross backtest of `file`, plus `extra` settings.
fn fill_prices(dir: &Path, file: &str, extra: &[&str]) -> Vec<String> {
    let data = repo().join(file);
    let mut args = vec![
        "backtest",
        "--quiet",
        "--out",
        "out",
        "--data",
        data.to_str().expect("utf-8 path"),
        "--set",
        "execution.fill=close",
    ];
    args.extend_from_slice(extra);
    let o = lockstep(dir, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = dir.join("out");
    assert!(
        summary(&out)["fills"].as_u64().unwrap_or(0) >= 10,
        "enough fills to compare"
    );
    csv_rows(&out, "fills")
        .into_iter()
        .map(|r| r["price"].clone())
        .collect()
}

fn decimals(text: &str) -> usize {
    text.split_once('.').map_or(0, |(_, f)| f.len())
}

fn scratch(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("lockstep-scale-{name}"))
        .tempdir()
        .expect("temp dir")
}

#[test]
fn fx_text_trades_at_five_decimals_with_no_setting() {
    let dir = scratch("fx");
    let prices = fill_prices(dir.path(), FX, &[]);
    let data = closes(FX);
    for p in &prices {
        assert!(
            data.contains(p.trim_end_matches('0')),
            "fill at {p}, not a close of the data"
        );
    }
    assert!(
        prices.iter().any(|p| decimals(p) == 5),
        "5-decimal fills: {prices:?}"
    );
}

#[test]
fn crypto_floats_trade_at_eight_decimals_with_no_setting() {
    let dir = scratch("crypto");
    let prices = fill_prices(dir.path(), CRYPTO_FLOATS, &[]);
    let data = closes(CRYPTO_FLOATS);
    for p in &prices {
        assert!(
            data.contains(p.trim_end_matches('0')),
            "fill at {p}, not a close of the data"
        );
    }
    assert!(
        prices.iter().any(|p| decimals(p) == 8),
        "8-decimal fills: {prices:?}"
    );
    assert_eq!(
        prices[0], "0.07583245",
        "the first fill, at the data's close"
    );
    let o = lockstep(
        dir.path(),
        &[
            "data",
            "inspect",
            repo().join(CRYPTO_FLOATS).to_str().expect("utf-8"),
        ],
    );
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("prices:    8 decimals (inferred"), "{text}");
}

#[test]
fn an_explicit_scale_still_wins() {
    let dir = scratch("explicit");
    let rounded = fill_prices(
        dir.path(),
        CRYPTO_FLOATS,
        &["--set", "data.price_decimals=4"],
    );
    assert!(rounded.iter().all(|p| decimals(p) <= 4), "{rounded:?}");
    assert_eq!(
        rounded[0], "0.0758",
        "0.07583245 rounded to the 4 decimals asked for"
    );
    let data = repo().join(FX);
    let o = lockstep(
        dir.path(),
        &[
            "backtest",
            "--quiet",
            "--out",
            "out2",
            "--data",
            data.to_str().expect("utf-8"),
            "--set",
            "data.price_decimals=4",
        ],
    );
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("has more than 4 decimals"), "{err}");
}

#[test]
fn a_price_needing_more_than_nine_decimals_is_refused_naming_row_and_column() {
    let dir = scratch("fine");
    std::fs::write(
        dir.path().join("fine.csv"),
        "ts,open,high,low,close,volume\n\
         2024-01-02T00:00:00Z,1.5,1.6,1.4,1.5,10\n\
         2024-01-02T00:01:00Z,1.5,1.6,1.4,1.5,10\n\
         2024-01-02T00:02:00Z,1.5,1.6,1.4,1.5000000001,10\n",
    )
    .expect("write");
    let o = lockstep(
        dir.path(),
        &["backtest", "--quiet", "--out", "out", "--data", "fine.csv"],
    );
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("fine.csv") && err.contains("row 3") && err.contains("`close`"),
        "names file, row and column: {err}"
    );
    assert!(err.contains("needs more than 9 decimals"), "{err}");
}
