//! The seed bots as profiles: configs in `scenarios/profiles/` that run as plain backtests.
//! The scenario suite pins their hashes; these tests check them against the seed's rules
//! and hand-computed numbers.

mod common;

use common::{csv_rows, lockstep, repo, summary};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

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

/// The wsb profile `name` on `underlying` (bars in `underlying_file`) trading the option quote
/// bars in `quotes_file`; entries must come before `guard` (UTC ISO text).
fn check_wsb_profile(
    name: &str,
    underlying: &str,
    underlying_file: &str,
    quotes_file: &str,
    guard: &str,
) {
    let (_tmp, out, s) = run_profile(name);
    for (reason, _) in s["exit_reasons"].as_object().unwrap() {
        assert!(
            ["eod", "take_profit", "hard_stop", "max_hold"].contains(&reason.as_str()),
            "unexpected exit reason {reason}"
        );
    }
    let fills = csv_rows(&out, "fills");
    let orders = csv_rows(&out, "orders");
    let closes = bar_closes(&repo().join(underlying_file));
    let quote_ends: Vec<(String, String)> =
        bar_closes(&repo().join(quotes_file)).into_keys().collect();
    let hundred = Decimal::from(100);
    let mut exposure = Decimal::ZERO;
    let entries: Vec<_> = fills
        .iter()
        .filter(|f| f["exit_reason"].is_empty())
        .collect();
    assert!(!entries.is_empty());
    for f in entries {
        let qty: Decimal = f["qty"].parse().unwrap();
        let price: Decimal = f["price"].parse().unwrap();
        let notional = qty * price * hundred;
        assert!(notional <= Decimal::from(1500), "{f:?}");
        exposure += notional;
        // The contract is the ATM one for the underlying's close at the deciding bar among
        // the 0DTE contracts of its right quoted in the 10 minutes before: for a call the
        // lowest strike at or above the close, for a put the highest at or below it.
        let occ = lockstep_core::OccSymbol::parse(&f["symbol"]).unwrap();
        let order = orders
            .iter()
            .find(|o| o["order_id"] == f["order_id"])
            .unwrap();
        let decided = &order["created_ts"];
        let spot = closes[&(underlying.to_string(), decided.clone())];
        let since = iso_minus(decided, 600);
        let fresh: std::collections::BTreeSet<Decimal> = quote_ends
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
        assert_eq!(Some(&occ.strike), expected, "{f:?} vs {underlying} {spot}");
        assert_eq!(
            occ.expiry,
            chrono::NaiveDate::parse_from_str(&f["ts"][..10], "%Y-%m-%d").unwrap(),
            "0DTE"
        );
        assert!(f["ts"].as_str() < guard, "no entry after the guard");
    }
    assert!(exposure <= Decimal::from(6000));
    check_quote_fills(&fills, &orders, &repo().join(quotes_file));
}

#[test]
fn wsb_snake_on_goog_buys_atm_0dte_within_its_caps_and_exits_by_its_rules() {
    check_wsb_profile(
        "wsb_snake_0dte_goog",
        "GOOG",
        "data/lean_goog_1m_20151223_28.parquet",
        "data/lean_goog_option_quotes_1m_20151224.parquet",
        "2015-12-24T17:55:00Z",
    );
}

#[test]
fn wsb_snake_on_spxw_trades_0dte_weeklies_off_the_spx_index() {
    check_wsb_profile(
        "wsb_snake_0dte_spxw",
        "SPX",
        "data/lean_spx_index_1m_20210104.parquet",
        "data/lean_spxw_0dte_quotes_1m_20210104.parquet",
        "2021-01-04T20:55:00Z",
    );
}

type Rows = [std::collections::BTreeMap<String, String>];

/// Every option fill of a wsb profile is at a price the quotes offered, read straight from
/// the Parquet text columns: a market entry at the ask open of the bar that filled it, a
/// limit entry at min(ask open, limit) (at the limit only if the ask touched it); market
/// exits at the bid open; a stop at min(level, bid open) and a target at max(level, bid
/// open) of the bar that crossed them (the fill is stamped at that bar's end), the level
/// being entry x (1 -/+ pct).
fn check_quote_fills(fills: &Rows, orders: &Rows, quotes: &Path) {
    let q = quote_rows(quotes);
    let mut entry = std::collections::BTreeMap::new();
    for f in fills {
        let price: Decimal = f["price"].parse().unwrap();
        let key = (f["symbol"].clone(), f["ts"].clone());
        let reason = f["exit_reason"].as_str();
        match reason {
            "" => {
                assert_eq!(f["side"], "buy");
                let order = orders.iter().find(|o| o["order_id"] == f["order_id"]);
                let limit = order.and_then(|o| o["limit_price"].parse::<Decimal>().ok());
                // A fill at the open is stamped with the bar's open, one at the limit
                // inside the bar with its end.
                let at_open = &q[&key];
                match limit {
                    None => assert_eq!(Some(price), at_open.ask_open, "market entry: {f:?}"),
                    Some(l) if f["liquidity"] == "taker" => {
                        assert_eq!(Some(price), at_open.ask_open, "marketable limit: {f:?}");
                        assert!(price <= l, "{f:?} above its limit {l}");
                    }
                    Some(l) => {
                        let bar = &q[&(f["symbol"].clone(), iso_minus(&f["ts"], 60))];
                        assert_eq!(price, l, "resting limit fills at its level: {f:?}");
                        assert!(bar.ask_open.unwrap() > l && bar.ask_low.unwrap() <= l);
                    }
                }
                entry.insert(f["symbol"].clone(), price);
            }
            "hard_stop" | "take_profit" => {
                let open = entry[&f["symbol"]];
                let (pct, worse) = if reason == "hard_stop" {
                    (Decimal::new(-8, 2), true)
                } else {
                    (Decimal::new(12, 2), false)
                };
                let level = open * (Decimal::ONE + pct);
                let bar = &q[&(f["symbol"].clone(), iso_minus(&f["ts"], 60))];
                let bid_open = bar.bid_open.unwrap();
                let (lo, hi) = (bar.bid_low.unwrap(), bar.bid_high.unwrap());
                if worse {
                    assert_eq!(price, bid_open.min(level), "stop fill: {f:?}");
                    assert!(lo <= level, "{f:?}: the bid never reached {level}");
                } else {
                    assert_eq!(price, bid_open.max(level), "target fill: {f:?}");
                    assert!(hi > level, "{f:?}: the bid never traded through {level}");
                }
            }
            _ => {
                assert_eq!(f["side"], "sell");
                assert_eq!(Some(price), q[&key].bid_open, "exit at the bid: {f:?}");
            }
        }
    }
}

/// ISO text `secs` seconds before `iso`.
fn iso_minus(iso: &str, secs: i64) -> String {
    (chrono::DateTime::parse_from_rfc3339(iso).unwrap() - chrono::Duration::seconds(secs))
        .with_timezone(&chrono::Utc)
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// The quote sides the tests compare fills against.
struct QuoteRow {
    bid_open: Option<Decimal>,
    bid_high: Option<Decimal>,
    bid_low: Option<Decimal>,
    ask_open: Option<Decimal>,
    ask_low: Option<Decimal>,
}

/// Quote rows by (symbol, bar open as ISO text), read from the file's exact text columns
/// with the `parquet` crate alone (not through lockstep's reader).
fn quote_rows(path: &Path) -> std::collections::BTreeMap<(String, String), QuoteRow> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::TimestampNanosecondType;
    use arrow_array::Array;
    let file = std::fs::File::open(path).unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let mut out = std::collections::BTreeMap::new();
    for batch in reader {
        let batch = batch.unwrap();
        let text = |name: &str| {
            batch
                .column_by_name(name)
                .unwrap()
                .as_string::<i32>()
                .clone()
        };
        let ts = batch.column_by_name("ts").unwrap();
        let ts = ts.as_primitive::<TimestampNanosecondType>();
        let symbol = text("symbol");
        let cols = ["bid_open", "bid_high", "bid_low", "ask_open", "ask_low"]
            .map(|c| text(&format!("{c}_text")));
        for i in 0..batch.num_rows() {
            let cell = |k: usize| {
                cols[k]
                    .is_valid(i)
                    .then(|| cols[k].value(i).parse::<Decimal>().unwrap())
            };
            let when = lockstep_core::UnixNanos(ts.value(i)).to_iso();
            out.insert(
                (symbol.value(i).to_string(), when),
                QuoteRow {
                    bid_open: cell(0),
                    bid_high: cell(1),
                    bid_low: cell(2),
                    ask_open: cell(3),
                    ask_low: cell(4),
                },
            );
        }
    }
    out
}

/// Close of every bar by (symbol, bar end as ISO text).
fn bar_closes(
    path: &std::path::Path,
) -> std::collections::BTreeMap<(String, String), rust_decimal::Decimal> {
    let opts = lockstep_data::DataOptions {
        price_scale: lockstep_data::PriceScale::Fixed(lockstep_core::Scale::new(2).unwrap()),
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

/// Seconds since the epoch of an RFC 3339 time.
fn secs(iso: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(iso)
        .unwrap_or_else(|e| panic!("{iso}: {e}"))
        .timestamp()
}

/// Seed 003's scanner -> buyer -> monitor -> seller bot (`scanner_aig_bac_ibm_spy`): each
/// of the audit's failures is checked on the run's own fills.
#[test]
fn the_scanner_bot_cannot_double_buy_reenter_early_short_or_leave_a_position_unmanaged() {
    let (_tmp, out, s) = run_profile("scanner_aig_bac_ibm_spy");
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
