//! The shadow book of a live session never reaches the broker: `lockstep live` against the
//! loopback fake, two `dual_engine` instances trading SPY shares on webhook signals, with
//! `run.shadow = true`. Every order the fake received is one of the real book's; the
//! shadow book's orders (their own client-id prefix) are simulated only, and it traded.

mod common;

use common::sessions::*;
use common::webhook::*;
use serde_json::json;

const DUAL: &str = r#"
[run]
shadow = true

[ledger]
books = "per_strategy"

[[strategies]]
name = "dual_engine"
label = "engine_a"
engine = "a"
underlying = "SPY"
trade = "underlying"
contracts = 10
start = "09:31"

[[strategies]]
name = "dual_engine"
label = "engine_b"
engine = "b"
underlying = "SPY"
trade = "underlying"
contracts = 10
approve_score = 10
"#;

#[test]
fn shadow_orders_never_reach_the_venue() {
    let _slot = session_slot();
    let tmp = common::session_tempdir();
    let anchor = anchor_now();
    let fake = fake(SPEED, anchor, 5);
    let (child, addr) = start_session(tmp.path(), "live", DUAL, &fake, anchor);
    // A signal every 10 minutes of session clock from 10:00 ET, alternating long/short.
    let first = chrono::DateTime::parse_from_rfc3339("2013-10-04T14:00:00Z").expect("t");
    let first = first.timestamp_nanos_opt().expect("ns");
    for k in 0..24i64 {
        while clock_now(anchor) < first + k * 600_000_000_000 {
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        let dir = if k % 2 == 0 { "long" } else { "short" };
        let b =
            json!({"symbol": "SPY", "direction": dir, "id": format!("s-{k}"), "timeframe": k + 1})
                .to_string();
        let (code, answer) = post(&addr, b.as_bytes(), &signed(&b));
        assert_eq!(
            (code, answer["status"].as_str()),
            (200, Some("accepted")),
            "{answer}"
        );
    }
    let (out, err) = finish(child);
    let venue = fake.finish().expect("the fake's orders").orders;
    let dir = tmp.path().join("live");
    let s = summary(&dir);
    // Every order at the broker is a real-book order, and every real order went there.
    let real = csv_rows(&dir.join("orders.csv"), &[]);
    assert_eq!(
        venue.len(),
        real.len(),
        "{} at the fake, {} in the real book",
        venue.len(),
        real.len()
    );
    assert!(venue.len() >= 4, "the real book traded: {}", venue.len());
    assert!(
        venue.iter().all(|o| !o.client_order_id.contains("-shadow")),
        "a shadow order reached the venue"
    );
    // The shadow book traded too, under its own client ids, and is reported beside.
    let shadow_fills = csv_rows(&dir.join("shadow_fills.csv"), &[]);
    assert!(!shadow_fills.is_empty(), "the shadow book traded");
    assert_eq!(
        shadow_fills.len() as u64,
        s["shadow"]["fills"].as_u64().expect("fills")
    );
    let header = std::fs::read_to_string(dir.join("shadow_fills.csv")).expect("csv");
    assert!(
        header.lines().skip(1).all(|l| l.contains("-shadow-")),
        "{header}"
    );
    for e in ["engine_a", "engine_b"] {
        let fills = |v: &serde_json::Value| v["by_strategy"][e]["fills"].as_u64().unwrap_or(0);
        assert!(
            fills(&s) + fills(&s["shadow"]) > 0,
            "{e} traded in one book"
        );
    }
    assert_no_secrets(&dir, &[&out, &err]);
}
