//! Restart matrix: scripted downtime cases against the loopback fake, each ending in its
//! documented outcome (README, "Restart and reconciliation"). A live session is SIGKILLed
//! at a crash point, something happens while it is down (the fake's clock runs or stands
//! still; an operator trades by hand, asks for a kill), then `lockstep live --resume`
//! continues it.

mod common;

use common::crash::*;
use common::sessions::{csv_rows, session_slot, summary};
use lockstep_live::journal::{JournalReader, Record, RecordKind};
use std::path::Path;

fn records(dir: &Path) -> Vec<Record> {
    let reader = JournalReader::open(&dir.join("journal.db")).expect("journal");
    reader.read_all().expect("records").0
}

/// The records after the first `resume` record.
fn after_resume(dir: &Path) -> Vec<Record> {
    records(dir)
        .into_iter()
        .skip_while(|r| !(r.kind == RecordKind::Session && r.body.contains("\"resume\"")))
        .collect()
}

fn fills(dir: &Path) -> Vec<String> {
    csv_rows(&dir.join("fills.csv"), &[])
}

/// The fills booked equal the fake's, one for one, and every broker order of the session
/// has a journaled intent.
fn assert_booked_as_the_broker_filled(dir: &Path, end: &lockstep_live::fake::FakeEnd) {
    assert_eq!(
        fills(dir).len() as u64,
        end.stats.fills,
        "fills booked once"
    );
    let journaled = journaled_submissions(dir);
    for o in &end.orders {
        if !o.client_order_id.starts_with("by-hand") {
            assert!(
                journaled.contains(&o.client_order_id),
                "{}",
                o.client_order_id
            );
        }
    }
    assert_eq!(end.stats.duplicate_client_order_ids, 0);
}

fn started() -> (tempfile::TempDir, Setup) {
    let tmp = common::session_tempdir();
    let setup = short_session(tmp.path());
    (tmp, setup)
}

/// A market order placed by the session is filled while it is down (the clock runs 90 s):
/// the restart finds the fill by client id and books it once. The fake fills a market
/// order within its next 2 ms tick and streams the fill at once, which can reach the
/// session before the POST's answer (and so before the kill after it): the trade stream is
/// down from 19:35:50 to 19:40:50, so the fill is only to be found by the restart's lookup.
#[test]
fn a_fill_while_down_is_booked_once_on_restart() {
    let _slot = session_slot();
    let (tmp, mut setup) = started();
    let down_from = lockstep_core::UnixNanos(1_380_915_350_000_000_000);
    assert_eq!(down_from.to_iso(), "2013-10-04T19:35:50Z");
    setup.faults = vec![lockstep_live::fake::Fault::TradeStreamDownFor {
        at: down_from,
        clock_ns: 300_000_000_000,
    }];
    let out = tmp.path().join("s");
    let c = Campaign::start(&setup);
    assert!(c.first(&out, &[], Some("after_post:1")).killed);
    c.down_for(150);
    let r = c.resume(&out, &[], None);
    assert!(r.ok, "{}", r.stderr);
    let end = c.finish();
    let caught: Vec<Record> = after_resume(&out)
        .into_iter()
        .filter(|r| r.kind == RecordKind::VenueReport && r.body.contains("\"fill\""))
        .collect();
    assert!(
        caught
            .first()
            .is_some_and(|f| f.body.contains("\"order\":1,")),
        "the first fill after the restart is order 1's: {caught:?}"
    );
    assert_booked_as_the_broker_filled(&out, &end);
    assert_eq!(summary(&out)["open_positions"], serde_json::json!([]));
    assert!(replays_exactly(&out));
}

/// An operator leaves a limit order at the broker while the session is down (the clock
/// stands still): the restart journals it as an order this session did not place, trades
/// on, and ends exactly as the uncrashed run.
#[test]
fn a_foreign_open_order_is_journaled_and_trading_goes_on() {
    let _slot = session_slot();
    let (tmp, setup) = started();
    let base = tmp.path().join("base");
    let base_end = run_campaign(&setup, &base, &[]).end;
    let out = tmp.path().join("s");
    let c = Campaign::start(&setup);
    assert!(c.first(&out, &[], Some("decisions_durable:15")).killed);
    let by_hand = r#"{"symbol":"SPY","qty":"1","side":"buy","type":"limit","time_in_force":"day","limit_price":"100","client_order_id":"by-hand-1"}"#;
    assert_eq!(c.http("POST", "/v2/orders", by_hand).0, 200);
    let r = c.resume(&out, &[], None);
    assert!(r.ok, "{}", r.stderr);
    let end = c.finish();
    let alert = after_resume(&out)
        .into_iter()
        .find(|r| r.body.contains("foreign_orders"))
        .expect("the foreign order is journaled");
    assert!(alert.body.contains("by-hand-1"), "{}", alert.body);
    assert_eq!(
        fills(&out),
        fills(&base),
        "the same trades as without the restart"
    );
    assert_eq!(end.stats.fills, base_end.stats.fills);
    assert!(replays_exactly(&out));
}

/// An operator buys 5 SPY by hand while the session is down: a position the journal cannot
/// explain. The restart stops before any order (exit 1, the difference named); with
/// `live.external_positions = "ignore"` a second restart trades on beside it and leaves
/// the 5 shares alone.
#[test]
fn a_position_changed_by_hand_stops_the_restart_unless_ignored() {
    let _slot = session_slot();
    let (tmp, setup) = started();
    let out = tmp.path().join("s");
    let c = Campaign::start(&setup);
    assert!(c.first(&out, &[], Some("decisions_durable:6")).killed);
    let by_hand = r#"{"symbol":"SPY","qty":"5","side":"buy","type":"market","time_in_force":"day","client_order_id":"by-hand-2"}"#;
    assert_eq!(c.http("POST", "/v2/orders", by_hand).0, 200);
    c.down_for(20);
    let posted = journaled_submissions(&out).len();
    let r = c.resume(&out, &[], None);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(
        r.stderr.contains("reconciliation") && r.stderr.contains("SPY: journal"),
        "{}",
        r.stderr
    );
    let stop = after_resume(&out)
        .into_iter()
        .find(|r| r.body.contains("\"difference\""))
        .expect("the difference is journaled");
    assert!(stop.body.contains("\"action\":\"stop\""), "{}", stop.body);
    assert_eq!(
        journaled_submissions(&out).len(),
        posted,
        "nothing was decided or sent"
    );
    let r = c.resume(&out, &["--set", "live.external_positions=\"ignore\""], None);
    assert!(r.ok, "{}", r.stderr);
    let end = c.finish();
    let reconcile: Vec<String> = records(&out)
        .into_iter()
        .filter(|r| r.body.contains("reconcil"))
        .map(|r| r.body)
        .collect();
    assert!(
        reconcile
            .iter()
            .any(|b| b.contains("\"action\":\"ignore\"")),
        "{reconcile:#?}"
    );
    assert_eq!(summary(&out)["open_positions"], serde_json::json!([]));
    let spy: Vec<_> = end.positions.iter().filter(|p| p.symbol == "SPY").collect();
    assert_eq!(
        spy.first().map(|p| p.qty.to_string()),
        Some("5".into()),
        "the hand-bought shares are left alone"
    );
    assert!(replays_exactly(&out));
}

/// The session dies at 15:4x holding a position and comes back after 15:55: the EOD
/// flatten runs at once, the position is closed by the broker at market, nothing is held
/// across the close.
#[test]
fn a_restart_after_1555_still_runs_the_eod_flatten() {
    let _slot = session_slot();
    let (tmp, setup) = started();
    let out = tmp.path().join("s");
    let c = Campaign::start(&setup);
    assert!(c.first(&out, &[], Some("decisions_durable:12")).killed);
    c.down_for(1_800);
    let r = c.resume(&out, &[], None);
    assert!(r.ok, "{}", r.stderr);
    let end = c.finish();
    let s = summary(&out);
    assert_eq!(s["open_positions"], serde_json::json!([]));
    let eod: Vec<String> = fills(&out)
        .into_iter()
        .filter(|f| f.contains(",eod,"))
        .collect();
    assert!(!eod.is_empty(), "the flatten closed the position");
    assert!(
        eod.iter().all(|f| f.contains("T19:5")),
        "closed after the restart, before the close: {eod:?}"
    );
    assert_booked_as_the_broker_filled(&out, &end);
    assert!(replays_exactly(&out));
}

fn lockstep_kill(args: &[&str], out: &Path) {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_lockstep"))
        .arg("kill")
        .args(args)
        .arg(out)
        .output()
        .expect("kill runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Entries (submitted orders with no exit reason) journaled after the first record that
/// holds `marker`.
fn entries_after(all: &[Record], marker: &str) -> usize {
    all.iter()
        .skip_while(|r| !r.body.contains(marker))
        .filter(|r| {
            let v: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_default();
            v.get("submitted").is_some() && v["exit_reason"] == ""
        })
        .count()
}

/// `lockstep kill --flatten` while the session is down: the restart takes the request
/// before anything else, closes every position at market with reason `manual`, and
/// refuses every entry after it (`kill_switch`); `kill --lift` after a second crash lets
/// entries out again. Both are journaled inputs: the journal replays exactly.
#[test]
fn kill_flatten_across_a_restart_closes_everything_and_blocks_entries_until_lifted() {
    let _slot = session_slot();
    let (tmp, setup) = started();
    let out = tmp.path().join("s");
    let c = Campaign::start(&setup);
    assert!(c.first(&out, &[], Some("decisions_durable:10")).killed);
    lockstep_kill(&["--flatten"], &out);
    assert!(c.resume(&out, &[], Some("decisions_durable:12")).killed);
    let all = records(&out);
    assert!(
        all.iter()
            .any(|r| r.body.contains("\"command\":\"kill_flatten\"")),
        "the kill is a journaled input"
    );
    assert_eq!(
        entries_after(&all, "\"kill_flatten\""),
        0,
        "no entry after the kill"
    );
    let refused = all
        .iter()
        .filter(|r| r.body.contains("\"rejection\":\"kill_switch\""))
        .count();
    assert!(refused > 0, "entries were refused kill_switch while killed");
    lockstep_kill(&["--lift"], &out);
    let r = c.resume(&out, &[], None);
    assert!(r.ok, "{}", r.stderr);
    let end = c.finish();
    let manual: Vec<String> = fills(&out)
        .into_iter()
        .filter(|f| f.contains(",manual,"))
        .collect();
    assert!(
        !manual.is_empty(),
        "closed with reason manual: {:?}",
        fills(&out)
    );
    let all = records(&out);
    let tail: Vec<&String> = all
        .iter()
        .skip_while(|r| !r.body.contains("\"command\":\"lift\""))
        .map(|r| &r.body)
        .take(12)
        .collect();
    assert!(
        entries_after(&all, "\"command\":\"lift\"") > 0,
        "entries go out again after the lift: {tail:#?}"
    );
    assert_eq!(summary(&out)["open_positions"], serde_json::json!([]));
    assert_booked_as_the_broker_filled(&out, &end);
    assert!(replays_exactly(&out));
}

/// `lockstep kill` (no flatten) while down: no entry after it, positions stay until the
/// EOD flatten closes them (reason `eod`, never `manual`).
#[test]
fn kill_keeps_positions_and_blocks_entries() {
    let _slot = session_slot();
    let (tmp, mut setup) = started();
    // The guard's flatten (15:55) must reach the fake before the 16:00 close after a
    // resume: at 500x that is 0.6 s of real time, which a loaded machine can miss (seen
    // once in CI); at 200x it is 1.5 s.
    setup.speed = 200.0;
    let out = tmp.path().join("s");
    let c = Campaign::start(&setup);
    assert!(c.first(&out, &[], Some("decisions_durable:12")).killed);
    lockstep_kill(&[], &out.join("journal.db"));
    let r = c.resume(&out, &[], None);
    assert!(r.ok, "{}", r.stderr);
    let end = c.finish();
    let all = records(&out);
    assert!(all.iter().any(|r| r.body.contains("\"command\":\"kill\"")));
    assert_eq!(entries_after(&all, "\"command\":\"kill\""), 0);
    let f = fills(&out);
    assert!(f.iter().all(|x| !x.contains(",manual,")), "{f:?}");
    assert!(
        f.iter().any(|x| x.contains(",eod,")),
        "held until the EOD flatten: {f:?}"
    );
    assert_eq!(summary(&out)["open_positions"], serde_json::json!([]));
    assert_booked_as_the_broker_filled(&out, &end);
    assert!(replays_exactly(&out));
}

/// A session that ended cannot be resumed (exit 1, nothing sent); `--resume` with a CONFIG
/// is refused (exit 2: the journal's config is the session's); another process holding the
/// account is refused (exit 1).
#[test]
fn resume_refuses_an_ended_session_a_config_and_a_busy_account() {
    let _slot = session_slot();
    let (tmp, setup) = started();
    let out = tmp.path().join("s");
    let c = Campaign::start(&setup);
    assert!(c.first(&out, &[], None).ok);
    let before = journaled_submissions(&out).len();
    let r = c.resume(&out, &[], None);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(r.stderr.contains("the session ended"), "{}", r.stderr);
    assert_eq!(journaled_submissions(&out).len(), before);
    let config = setup.config.as_os_str();
    let r = c.run(&[config, "--resume".as_ref(), out.as_os_str()], None);
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(r.stderr.contains("leave CONFIG out"), "{}", r.stderr);
    let lock = account_lock_file();
    lock.try_lock().expect("the test holds the account");
    let other = tmp.path().join("other");
    let r = c.first(&other, &[], None);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(
        r.stderr.contains("another lockstep session"),
        "{}",
        r.stderr
    );
    assert!(!other.exists(), "the refused run created nothing");
    drop(lock);
    let end = c.finish();
    assert_eq!(end.orders.len(), before, "the refused runs sent nothing");
}

/// The account lock file a session holds (named by a hash of the key id).
fn account_lock_file() -> std::fs::File {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(common::sessions::key().as_bytes());
    let tag: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    let path = std::env::temp_dir().join(format!("lockstep-account-{tag}.lock"));
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .expect("lock file")
}
