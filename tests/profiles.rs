//! The seed bots as profiles: configs in `scenarios/profiles/` that run as plain backtests.
//! The scenario suite pins their hashes; these tests check them against the seed's rules
//! and hand-computed numbers.

mod common;

use common::{csv_rows, lockstep, repo, summary};
use std::path::PathBuf;

/// Runs `scenarios/profiles/<name>.toml` as a backtest; returns the temp dir (keep it alive),
/// the report folder and its summary.
fn run_profile(name: &str) -> (tempfile::TempDir, PathBuf, serde_json::Value) {
    let tmp = tempfile::tempdir().unwrap();
    let profile = repo().join(format!("scenarios/profiles/{name}.toml"));
    let o = lockstep(
        tmp.path(),
        &[
            "backtest",
            profile.to_str().unwrap(),
            "--quiet",
            "--out",
            "out",
        ],
    );
    assert!(o.status.success(), "{}", common::stderr(&o));
    let out = tmp.path().join("out");
    let s = summary(&out);
    (tmp, out, s)
}

#[test]
fn bottrader_crypto_exits_in_the_seeds_priority_with_taker_fees_split_fifo() {
    let (_tmp, out, s) = run_profile("bottrader_crypto");
    let reasons: Vec<&String> = s["exit_reasons"].as_object().unwrap().keys().collect();
    assert_eq!(
        reasons,
        ["signal", "soft_stop", "trailing"],
        "the seed's exits; a hard stop at -5 % cannot come before the -2.5 % soft stop on \
         these bars (no minute falls 2.5 % below the previous close)"
    );
    for code in ["daily_loss_limit", "loss_streak", "exit_not_in_profit"] {
        assert!(s["rejections"][code].as_u64().unwrap() > 0, "{code}");
    }
    let lots = csv_rows(&out, "lots");
    // First ETH round trip: buy 6 @ 359.12, sell 6 @ 359.72, taker fee 0.25 % each way:
    // fees 5.3868 + 5.3958, gross 3.60, net -7.1826.
    let first = &lots[0];
    assert_eq!(
        (first["symbol"].as_str(), first["qty"].as_str()),
        ("ETHUSD", "6")
    );
    assert_eq!(
        (first["open_fee"].as_str(), first["close_fee"].as_str()),
        ("5.3868", "5.3958")
    );
    assert_eq!(first["net_pnl"], "-7.1826");
    assert_eq!(first["exit_reason"], "signal");
    // A strategy's own exit only goes out when its price P&L at the deciding bar's close is
    // not negative (it then fills at the next open, which may be lower; fees are extra).
    let closes = bar_closes(&repo().join("data/lean_coinbase_btc_eth_1m_20170903_04.parquet"));
    let fills = csv_rows(&out, "fills");
    let orders = csv_rows(&out, "orders");
    let decided = |fill_id: &str| {
        let order_id = &fills.iter().find(|f| f["fill_id"] == fill_id).unwrap()["order_id"];
        orders.iter().find(|o| &o["order_id"] == order_id).unwrap()["created_ts"].clone()
    };
    for l in lots.iter().filter(|l| l["exit_reason"] == "signal") {
        let open: rust_decimal::Decimal = l["open_price"].parse().unwrap();
        let mark = closes[&(l["symbol"].clone(), decided(&l["close_fill_id"]))];
        assert!(
            mark >= open,
            "signal exit decided at a loss ({mark} < {open}): {l:?}"
        );
    }
    // Every soft stop was decided on a bar that closed at or below its level (entry less
    // 2.5 %, rounded down to the cent) and filled at the next bar's open, which is the
    // trigger bar's end. Checked against the bars themselves.
    let cent = rust_decimal::Decimal::new(1, 2);
    let soft: Vec<_> = lots
        .iter()
        .filter(|l| l["exit_reason"] == "soft_stop")
        .collect();
    assert!(!soft.is_empty());
    for l in soft {
        let open: rust_decimal::Decimal = l["open_price"].parse().unwrap();
        let level = (open * rust_decimal::Decimal::new(975, 3) / cent).floor() * cent;
        let trigger = closes[&(l["symbol"].clone(), l["close_ts"].clone())];
        assert!(
            trigger <= level,
            "{l:?}: trigger close {trigger} above level {level}"
        );
    }
}

#[test]
fn wsb_snake_buys_atm_0dte_within_its_caps_and_exits_by_its_rules() {
    let (_tmp, out, s) = run_profile("wsb_snake_0dte_goog");
    for (reason, _) in s["exit_reasons"].as_object().unwrap() {
        assert!(
            ["eod", "take_profit", "hard_stop", "max_hold"].contains(&reason.as_str()),
            "unexpected exit reason {reason}"
        );
    }
    let fills = csv_rows(&out, "fills");
    let orders = csv_rows(&out, "orders");
    let closes = bar_closes(&repo().join("data/lean_goog_1m_20151223_28.parquet"));
    let option_ends: Vec<(String, String)> =
        bar_closes(&repo().join("data/lean_goog_options_1m_20151224.parquet"))
            .into_keys()
            .collect();
    let hundred = rust_decimal::Decimal::from(100);
    let mut exposure = rust_decimal::Decimal::ZERO;
    let entries: Vec<_> = fills
        .iter()
        .filter(|f| f["exit_reason"].is_empty())
        .collect();
    assert!(!entries.is_empty());
    for f in entries {
        let qty: rust_decimal::Decimal = f["qty"].parse().unwrap();
        let price: rust_decimal::Decimal = f["price"].parse().unwrap();
        let notional = qty * price * hundred;
        assert!(notional <= rust_decimal::Decimal::from(1500), "{f:?}");
        exposure += notional;
        // The contract is the ATM one for GOOG's close at the deciding bar among the 0DTE
        // contracts of its right that traded in the 10 minutes before: for a call the
        // lowest strike at or above the close, for a put the highest at or below it.
        let occ = lockstep_core::OccSymbol::parse(&f["symbol"]).unwrap();
        let order = orders
            .iter()
            .find(|o| o["order_id"] == f["order_id"])
            .unwrap();
        let decided = &order["created_ts"];
        let spot = closes[&("GOOG".to_string(), decided.clone())];
        let since = (chrono::DateTime::parse_from_rfc3339(decided).unwrap()
            - chrono::Duration::seconds(600))
        .with_timezone(&chrono::Utc)
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
        let fresh: std::collections::BTreeSet<rust_decimal::Decimal> = option_ends
            .iter()
            .filter(|(_, end)| end.as_str() >= since.as_str() && end <= decided)
            .filter_map(|(sym, _)| lockstep_core::OccSymbol::parse(sym).ok())
            .filter(|c| c.right == occ.right && c.expiry == occ.expiry)
            .map(|c| c.strike)
            .collect();
        let expected = match occ.right {
            lockstep_core::OptionRight::Call => fresh.iter().find(|k| **k >= spot),
            lockstep_core::OptionRight::Put => fresh.iter().rev().find(|k| **k <= spot),
        };
        assert_eq!(Some(&occ.strike), expected, "{f:?} vs GOOG {spot}");
        assert_eq!(occ.expiry.to_string(), "2015-12-24", "0DTE");
        assert!(
            f["ts"].as_str() < "2015-12-24T17:55:00Z",
            "no entry after the guard"
        );
    }
    assert!(exposure <= rust_decimal::Decimal::from(6000));
}

/// Close of every bar by (symbol, bar end as ISO text).
fn bar_closes(
    path: &std::path::Path,
) -> std::collections::BTreeMap<(String, String), rust_decimal::Decimal> {
    let opts = lockstep_data::DataOptions {
        scale: lockstep_core::Scale::new(2).unwrap(),
        ..lockstep_data::DataOptions::default()
    };
    let mut src = lockstep_data::open_source(path, &opts).unwrap();
    let mut symbols = lockstep_core::SymbolTable::new();
    let mut out = std::collections::BTreeMap::new();
    while let Some(b) = src.next_bar(&mut symbols).unwrap() {
        let key = (symbols.name(b.symbol).to_string(), b.end.to_iso());
        out.insert(key, b.close_price());
    }
    out
}
