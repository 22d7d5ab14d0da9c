//! Options end to end: OCC symbols are contracts with a multiplier of 100, and a contract
//! still open at its expiry close settles in cash at intrinsic value (reason `expiry`).

mod common;

use common::{csv_rows, lockstep, repo, summary};
use rust_decimal::Decimal;

fn run(sets: &[&str]) -> (tempfile::TempDir, serde_json::Value) {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = repo().join("scenarios/options_expiry_settlement.toml");
    let mut args = vec![
        "backtest",
        scenario.to_str().unwrap(),
        "--quiet",
        "--out",
        "out",
    ];
    for s in sets {
        args.extend_from_slice(&["--set", s]);
    }
    let o = lockstep(tmp.path(), &args);
    assert!(o.status.success(), "{}", common::stderr(&o));
    let s = summary(&tmp.path().join("out"));
    (tmp, s)
}

#[test]
fn contracts_open_at_expiry_settle_at_intrinsic_value_times_100() {
    let (tmp, s) = run(&[]);
    let fills = csv_rows(&tmp.path().join("out"), "fills");
    let settled: Vec<_> = fills
        .iter()
        .filter(|f| f["exit_reason"] == "expiry")
        .map(|f| {
            (
                f["strategy"].as_str(),
                f["price"].as_str(),
                f["ts"].as_str(),
                f["fee"].as_str(),
            )
        })
        .collect();
    // GOOG's last regular bar of 2015-12-24 (12:59 ET) closed at 748.40 (`close_text` of the
    // source file); the session closed at 13:00 ET = 18:00Z.
    assert_eq!(
        settled,
        vec![
            ("itm_call", "8.40", "2015-12-24T18:00:00Z", "0.00"),
            ("itm_put", "1.60", "2015-12-24T18:00:00Z", "0.00"),
            ("otm_call", "0.00", "2015-12-24T18:00:00Z", "0.00"),
            ("otm_put", "0.00", "2015-12-24T18:00:00Z", "0.00"),
        ]
    );
    // P&L per contract is (settlement - premium paid) x 100, from the entry fills.
    let settle = [840, 160, 0, 0].map(|cents| Decimal::new(cents, 2));
    let entry_by_strategy: Vec<(String, Decimal)> = fills
        .iter()
        .filter(|f| f["exit_reason"].is_empty())
        .map(|f| (f["strategy"].clone(), f["price"].parse().unwrap()))
        .collect();
    assert_eq!(entry_by_strategy.len(), 4, "one contract each");
    let order = ["itm_call", "itm_put", "otm_call", "otm_put"];
    let expected: Decimal = order
        .iter()
        .zip(settle)
        .map(|(name, px)| {
            let paid = entry_by_strategy
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, p)| *p)
                .unwrap();
            (px - paid) * Decimal::from(100)
        })
        .sum();
    let realized: Decimal = s["realized_pnl"].as_str().unwrap().parse().unwrap();
    assert_eq!(realized, expected);
    assert_eq!(s["exit_reasons"]["expiry"]["count"], 4);
    assert_eq!(s["open_positions"].as_array().unwrap().len(), 0);
}

#[test]
fn by_default_the_guard_closes_expiring_contracts_before_the_close() {
    let (tmp, s) = run(&["eod.flatten_expiring=true"]);
    assert_eq!(s["eod_ran_at"]["2015-12-24"], "2015-12-24T17:55:00Z");
    let reasons: Vec<&String> = s["exit_reasons"].as_object().unwrap().keys().collect();
    assert_eq!(
        reasons,
        ["eod"],
        "closed by the guard, nothing left to settle"
    );
    let fills = csv_rows(&tmp.path().join("out"), "fills");
    assert!(fills
        .iter()
        .filter(|f| f["exit_reason"] == "eod")
        .all(|f| f["ts"].as_str() >= "2015-12-24T17:55:00Z"));
}

#[test]
fn percent_commissions_are_on_the_contract_notional() {
    let (tmp, _) = run(&["execution.commission.percent=0.001"]);
    let fills = csv_rows(&tmp.path().join("out"), "fills");
    let call = fills
        .iter()
        .find(|f| f["strategy"] == "itm_call" && f["exit_reason"].is_empty())
        .unwrap();
    // 1 contract x 9.95 x 100 x 0.1 % = 0.995.
    assert_eq!(
        (call["price"].as_str(), call["fee"].as_str()),
        ("9.95", "0.995")
    );
}

#[test]
fn options_without_session_closes_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = repo().join("scenarios/options_expiry_settlement.toml");
    let o = lockstep(
        tmp.path(),
        &[
            "backtest",
            scenario.to_str().unwrap(),
            "--quiet",
            "--out",
            "out",
            "--set",
            "data.calendar=\"24x7\"",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    let err = common::stderr(&o);
    assert!(
        err.contains("is an option: options need data.calendar = \"nyse\""),
        "{err}"
    );
    assert!(!tmp.path().join("out").exists(), "nothing half-written");
}

#[test]
fn per_contract_commission_with_a_minimum() {
    let (tmp, s) = run(&[
        "execution.commission.per_contract=0.65",
        "execution.commission.minimum=1.00",
    ]);
    let fills = csv_rows(&tmp.path().join("out"), "fills");
    // 1 contract x 0.65 is under the 1.00 minimum on each of the 4 buys; cash settlement at
    // expiry charges nothing: 4 x 1.00 in all.
    let fees: Vec<&str> = fills.iter().map(|f| f["fee"].as_str()).collect();
    assert_eq!(fees.iter().filter(|f| **f == "1.00").count(), 4, "{fees:?}");
    assert_eq!(s["fees"], "4.00");
}

#[test]
fn an_index_is_a_price_source_that_no_order_can_trade() {
    let tmp = tempfile::tempdir().unwrap();
    let spx = repo().join("data/lean_spx_index_1m_20210104.parquet");
    let data = format!("data.paths=[\"{}\"]", spx.display());
    let args = [
        "backtest",
        "--set",
        data.as_str(),
        "--set",
        "data.calendar=nyse",
        "--set",
        "strategy.name=buy_and_hold",
        "--quiet",
        "--out",
        "out",
    ];
    let o = lockstep(tmp.path(), &args);
    assert!(o.status.success(), "{}", common::stderr(&o));
    let s = summary(&tmp.path().join("out"));
    assert_eq!(
        (s["fills"].as_u64(), s["bars"].as_u64()),
        (Some(0), Some(390))
    );
    assert_eq!(s["rejections"]["not_tradable"], 1);
    let rej = csv_rows(&tmp.path().join("out"), "rejections");
    assert_eq!(
        rej[0]["detail"],
        "SPX is an index: a price source, not tradable"
    );
    // Listed as an ordinary symbol instead, the same bars are tradable.
    let mut args = args.to_vec();
    args.extend_from_slice(&["--set", "data.indexes=[]"]);
    let tmp2 = tempfile::tempdir().unwrap();
    let o = lockstep(tmp2.path(), &args);
    assert!(o.status.success(), "{}", common::stderr(&o));
    assert_eq!(summary(&tmp2.path().join("out"))["fills"], 1);
}

/// `exits.min_dte = 0` on the 0DTE GOOG profile without its stop, target and max hold:
/// every contract (all expire the day they are bought) is closed by the min-DTE rule at
/// market on the first bar it is judged, so each round trip lasts one minute, unless the
/// next bar has no bid to sell at (the close is withdrawn `no_quote` and asked again).
#[test]
fn min_dte_closes_options_within_their_days_to_expiry() {
    let tmp = tempfile::tempdir().expect("tmp");
    let profile =
        std::fs::read_to_string(repo().join("scenarios/profiles/wsb_snake_0dte_goog.toml"))
            .expect("profile");
    let data = repo().join("data");
    let cfg = profile
        .replace("../../data", data.to_str().expect("utf-8"))
        .replace(
            "take_profit_pct = 0.12\nhard_stop_pct = 0.08\nmax_hold_secs = 720",
            "min_dte = 0",
        );
    let cfg = &cfg[..cfg.find("[invariants]").expect("invariants")];
    std::fs::write(tmp.path().join("dte.toml"), cfg).expect("config");
    let o = lockstep(
        tmp.path(),
        &["backtest", "dte.toml", "--quiet", "--out", "out"],
    );
    assert!(o.status.success(), "{}", common::stderr(&o));
    let out = tmp.path().join("out");
    let lots = csv_rows(&out, "lots");
    assert!(lots.len() > 10, "{} round trips", lots.len());
    assert!(
        lots.iter().all(|l| l["exit_reason"] == "min_dte"),
        "{lots:?}"
    );
    let s = summary(&out);
    let longer = lots.iter().filter(|l| l["holding_secs"] != "60").count() as u64;
    let no_quote = s["rejections"]["no_quote"].as_u64().unwrap_or(0);
    assert!(
        longer <= no_quote,
        "{longer} held over a minute, {no_quote} no_quote"
    );
    assert_eq!(
        s["exit_reasons"]["min_dte"]["count"].as_u64(),
        Some(lots.len() as u64)
    );
}
