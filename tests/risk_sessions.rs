//! Session breakers end to end: once the daily loss limit trips, entries stop for the rest
//! of that session only, and exits keep flowing.

mod common;

use common::{csv_rows, lockstep, repo};

/// sma_cross 3/10 on two SPY one-minute sessions under the NYSE calendar, with `sets`;
/// returns the temp dir (keep it alive) and the report folder.
fn spy_3_10(sets: &[&str]) -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let data = repo().join("data/lean_spy_1m_sample.parquet");
    let mut args = vec![
        "backtest",
        "--quiet",
        "--out",
        "out",
        "--data",
        data.to_str().unwrap(),
        "--set",
        "data.calendar=nyse",
        "--set",
        "strategy.fast=3",
        "--set",
        "strategy.slow=10",
    ];
    for s in sets {
        args.extend(["--set", s]);
    }
    let o = lockstep(tmp.path(), &args);
    assert!(o.status.success(), "{}", common::stderr(&o));
    let out = tmp.path().join("out");
    (tmp, out)
}

#[test]
fn the_daily_loss_limit_blocks_entries_until_the_session_ends_then_resumes() {
    let (_tmp, out) = spy_3_10(&["strategy.qty=10", "risk.daily_loss_limit=3"]);
    let tripped: Vec<String> = csv_rows(&out, "rejections")
        .into_iter()
        .filter(|r| r["code"] == "daily_loss_limit")
        .map(|r| r["ts"].clone())
        .collect();
    let fills = csv_rows(&out, "fills");
    let entries: Vec<&str> = fills
        .iter()
        .filter(|f| f["exit_reason"].is_empty())
        .map(|f| f["ts"].as_str())
        .collect();
    for day in ["2013-10-07", "2013-10-08"] {
        let first_trip = tripped
            .iter()
            .find(|t| t.starts_with(day))
            .unwrap_or_else(|| panic!("the limit trips on {day}"));
        let before = entries
            .iter()
            .filter(|t| t.starts_with(day) && **t < first_trip.as_str())
            .count();
        assert!(before > 0, "{day}: the session starts with entries allowed");
        // A fill at the next bar's open may follow an entry decided just before the trip;
        // nothing decided later fills that day.
        let after: Vec<_> = entries
            .iter()
            .filter(|t| t.starts_with(day) && **t > first_trip.as_str())
            .collect();
        assert!(
            after.len() <= 1,
            "{day}: entries after the trip at {first_trip}: {after:?}"
        );
    }
    let exits_after_trip = fills
        .iter()
        .filter(|f| !f["exit_reason"].is_empty() && f["ts"] > tripped[0])
        .count();
    assert!(
        exits_after_trip > 0,
        "exits still fill after the limit trips"
    );
}

#[test]
fn an_entry_blackout_refuses_entries_inside_its_hours_only() {
    let (tmp, out) = spy_3_10(&["risk.entry_blackout=[\"09:30-11:00\", \"14:00-16:00\"]"]);
    let rejections = csv_rows(&out, "rejections");
    assert!(!rejections.is_empty());
    let ny = |ts: &str| {
        chrono::DateTime::parse_from_rfc3339(ts)
            .unwrap()
            .with_timezone(&chrono_tz::America::New_York)
            .format("%H:%M")
            .to_string()
    };
    let blocked = |t: &str| ("09:30".."11:00").contains(&t) || ("14:00".."16:00").contains(&t);
    let refused: Vec<_> = rejections
        .iter()
        .filter(|r| r["code"] == "entry_blackout")
        .collect();
    assert!(!refused.is_empty());
    for r in refused {
        assert!(blocked(&ny(&r["ts"])), "{r:?}");
    }
    let orders = csv_rows(&out, "orders");
    let entries: Vec<_> = orders
        .iter()
        .filter(|o| o["exit_reason"].is_empty())
        .collect();
    assert!(!entries.is_empty());
    for o in entries {
        let t = ny(&o["created_ts"]);
        assert!(!blocked(&t), "an entry inside the blackout: {o:?}");
    }
    let o = lockstep(
        tmp.path(),
        &[
            "backtest",
            "--quiet",
            "--set",
            "risk.entry_blackout=[\"11:00-10:00\"]",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        common::stderr(&o).contains("start before end"),
        "{}",
        common::stderr(&o)
    );
}
