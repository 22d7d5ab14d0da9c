//! The health endpoint of a running live session against the loopback fake: `/readyz`
//! turns ready once the session is reconciled, an operator's authenticated `POST /kill`
//! flips it to not ready (reason `killed`) within 2 s and `POST /lift` back; a wrong token
//! is refused; the broker's update stream going down for 90 s of clock time at 15:40 flips
//! it (reason `trade_updates stream down`) and back once the stream is caught up; a
//! market-data feed that stalls for 5 clock minutes at 15:45 flips it (`feed stale`) and back
//! with the next bar; `/metrics` reports it; the kill, the lift, the stream and feed changes,
//! the EOD run and the day's summary reach the alert webhook (a loopback receiver); the kill
//! and lift are journaled inputs, so the session's journal replays exactly.
//!
//! A second session: three 429s in a row trip `risk.venue_breaker` (`breaker tripped`,
//! back after its 120 s cool-down), the broker's clock reading 5 s ahead flips it (`clock
//! skew`, back once they agree), and 5 SPY bought by hand at the broker flips it
//! (`positions differ from the broker`, with `live.external_positions = "ignore"`) until
//! they are sold again. Each flip and each return is seen within 2 s of real time.

mod common;

use common::crash::*;
use common::sessions::session_slot;
use std::process::Stdio;
use std::time::{Duration, Instant};

const TOKEN: &str = "test-control-token-3b9f";
/// How fast `/readyz` must follow a fault and its healing.
const TWO_S: Duration = Duration::from_secs(2);

/// A loopback webhook receiver: answers 200 to every POST and keeps the bodies.
fn alert_receiver() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let keep = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            // Read the head, then as many body bytes as Content-Length says.
            while let Ok(n) = stream.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_string();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let len = head
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse::<usize>().ok())?
                        })
                        .unwrap_or(0);
                    if body.len() >= len {
                        keep.lock().expect("alerts").push(body.to_string());
                        break;
                    }
                }
            }
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
    });
    (format!("http://{addr}/hook/secret-path"), got)
}

/// Polls `/readyz` until `want` holds or `limit` passes; returns the last answer.
fn readyz_until(addr: &str, limit: Duration, want: impl Fn(u16, &str) -> bool) -> (u16, String) {
    let t0 = Instant::now();
    loop {
        let (status, body) = http_at(addr, "GET", "/readyz", "", "");
        if want(status, &body) || t0.elapsed() > limit {
            return (status, body);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Starts a session of `setup` into `out` with `extra` arguments, its health endpoint on a
/// free loopback port, the control token and alerts to `hook`; waits until `/healthz`
/// answers. Returns the child and the endpoint's address.
fn start_with_health(
    c: &Campaign,
    setup: &Setup,
    out: &std::path::Path,
    extra: &[&str],
    hook: &str,
) -> (std::process::Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut cmd = c.command();
    cmd.arg(&setup.config)
        .arg("--out")
        .arg(out)
        .args(["--health", &addr])
        .args(extra)
        .env("LOCKSTEP_CONTROL_TOKEN", TOKEN)
        .env("LOCKSTEP_ALERT_URL", hook);
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let t0 = Instant::now();
    let up = loop {
        let (status, body) = http_at(&addr, "GET", "/healthz", "", "");
        if status == 200 {
            break body;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "the endpoint never came up"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(up.contains("\"alive\":true"), "{up}");
    (child, addr)
}

/// The kinds of the alerts `alerts` received, in order.
fn alert_kinds(alerts: &std::sync::Mutex<Vec<String>>) -> Vec<String> {
    alerts
        .lock()
        .expect("alerts")
        .iter()
        .filter_map(|b| serde_json::from_str::<serde_json::Value>(b).ok())
        .filter_map(|v| Some(v.get("kind")?.as_str()?.to_string()))
        .collect()
}

#[test]
fn readyz_follows_reconcile_kill_and_lift_and_metrics_say_so() {
    let _slot = session_slot();
    let tmp = common::session_tempdir();
    let mut setup = short_session(tmp.path());
    setup.speed = 120.0;
    // 15:40 ET: the update stream drops and reconnects are refused for 90 s of clock time.
    let at = lockstep_core::UnixNanos(1_380_915_600_000_000_000);
    assert_eq!(at.to_iso(), "2013-10-04T19:40:00Z");
    // 15:45 ET: the market-data feed stalls for 5 minutes of clock time (stale after 3).
    let stall = lockstep_core::UnixNanos(1_380_915_900_000_000_000);
    assert_eq!(stall.to_iso(), "2013-10-04T19:45:00Z");
    setup.faults = vec![
        lockstep_live::fake::Fault::TradeStreamDownFor {
            at,
            clock_ns: 90_000_000_000,
        },
        lockstep_live::fake::Fault::StallBarsFor {
            at: stall,
            clock_ns: 300_000_000_000,
        },
    ];
    let c = Campaign::start(&setup);
    let out = tmp.path().join("s");
    let (hook, alerts) = alert_receiver();
    let (mut child, addr) = start_with_health(&c, &setup, &out, &[], &hook);
    let (status, body) = readyz_until(&addr, TWO_S, |s, _| s == 200);
    assert_eq!(status, 200, "ready once reconciled: {body}");
    assert!(body.contains("\"state\":\"done\""), "{body}");

    let bearer = |t: &str| format!("Authorization: Bearer {t}\r\n");
    let (status, _) = http_at(&addr, "POST", "/kill", &bearer("wrong"), "{}");
    assert_eq!(status, 401, "a wrong token is refused");
    let (status, _) = http_at(&addr, "POST", "/kill", &bearer(TOKEN), "{}");
    assert_eq!(status, 202);
    let (status, body) = readyz_until(&addr, TWO_S, |s, b| s == 503 && b.contains("killed"));
    assert_eq!(status, 503, "not ready while killed: {body}");
    assert!(body.contains("killed"), "{body}");
    let (_, metrics) = http_at(&addr, "GET", "/metrics", "", "");
    assert!(metrics.contains("lockstep_killed 1"), "{metrics}");
    assert!(metrics.contains("lockstep_ready 0"), "{metrics}");

    let (status, _) = http_at(&addr, "POST", "/lift", &bearer(TOKEN), "");
    assert_eq!(status, 202);
    let (status, body) = readyz_until(&addr, TWO_S, |s, _| s == 200);
    assert_eq!(status, 200, "ready again after the lift: {body}");

    let down = "trade_updates stream down";
    // The drop comes at 15:40, a few seconds of real time after the start.
    let (status, body) = readyz_until(&addr, Duration::from_secs(8), |s, b| {
        s == 503 && b.contains(down)
    });
    assert!(
        status == 503 && body.contains(down),
        "the stream drop shows: {body}"
    );
    // 90 s of clock time is 0.75 s at 120x, then the reconnect (0.5 s backoff) and catch-up.
    let (status, body) = readyz_until(&addr, Duration::from_secs(4), |s, _| s == 200);
    assert_eq!(status, 200, "ready again once the stream is back: {body}");

    // No bar after 15:45: stale from 15:48 (3 minutes, 1.5 s at 120x), fresh again with
    // the 15:50 bar, one second later.
    let stale = "feed stale: SPY";
    let (status, body) = readyz_until(&addr, Duration::from_secs(8), |s, b| {
        s == 503 && b.contains(stale)
    });
    assert!(
        status == 503 && body.contains(stale),
        "the stall shows: {body}"
    );
    let (status, body) = readyz_until(&addr, Duration::from_secs(1) + TWO_S, |s, _| s == 200);
    assert_eq!(status, 200, "ready again once bars flow: {body}");

    let status = wait_bounded(&mut child, Duration::from_secs(60)).expect("the session stops");
    assert!(status.success());
    drop(c);
    let kinds = alert_kinds(&alerts);
    for kind in [
        "kill",
        "stream_down",
        "stream_up",
        "stale_feed",
        "feed_recovered",
        "eod_ran",
        "daily_summary",
    ] {
        assert!(
            kinds.iter().any(|k| k == kind),
            "no {kind} alert in {kinds:?}"
        );
    }
    assert_eq!(
        kinds.iter().filter(|k| *k == "kill").count(),
        2,
        "kill on, then lifted: {kinds:?}"
    );
    let journal = lockstep_live::journal::JournalReader::open(&out.join("journal.db"))
        .expect("journal")
        .read_all()
        .expect("records")
        .0;
    let commands: Vec<&str> = journal
        .iter()
        .filter(|r| r.kind == lockstep_live::journal::RecordKind::Command)
        .filter_map(|r| {
            ["\"kill\"", "\"lift\""]
                .into_iter()
                .find(|c| r.body.contains(c))
        })
        .collect();
    assert_eq!(
        commands,
        vec!["\"kill\"", "\"lift\""],
        "both journaled, in order"
    );
    assert!(replays_exactly(&out));
}

/// The session clock `/readyz` reports (Unix nanoseconds).
fn clock_of(body: &str) -> i64 {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("clock")?.as_i64())
        .unwrap_or(0)
}

#[test]
fn readyz_follows_the_breaker_clock_skew_and_a_position_changed_by_hand() {
    use lockstep_live::fake::Fault;
    let _slot = session_slot();
    let tmp = common::session_tempdir();
    let mut setup = short_session(tmp.path());
    setup.speed = 60.0;
    // The first three order posts meet 429 (three venue errors in a row: the breaker's
    // count); from 15:44 ET the broker's clock reads 5 s ahead for 60 s of clock time.
    let skew_at = lockstep_core::UnixNanos(1_380_915_840_000_000_000);
    assert_eq!(skew_at.to_iso(), "2013-10-04T19:44:00Z");
    setup.faults = vec![
        Fault::Http(429, 3),
        Fault::ClockOffsetFor {
            at: skew_at,
            clock_ns: 60_000_000_000,
            offset_ms: 5000,
        },
    ];
    let c = Campaign::start(&setup);
    let out = tmp.path().join("s");
    let (hook, alerts) = alert_receiver();
    let extra = [
        "--set",
        "risk.venue_breaker_errors=3",
        "--set",
        "risk.venue_breaker_cooldown_secs=120",
        "--set",
        "live.check_every_secs=30",
        "--set",
        "live.external_positions=\"ignore\"",
    ];
    let (mut child, addr) = start_with_health(&c, &setup, &out, &extra, &hook);

    // Breaker: tripped by the third 429, reset 120 clock seconds (2 s) later.
    let tripped = "breaker tripped";
    let (status, body) = readyz_until(&addr, Duration::from_secs(10), |s, b| {
        s == 503 && b.contains(tripped)
    });
    assert!(status == 503 && body.contains(tripped), "{body}");
    let (status, body) = readyz_until(&addr, Duration::from_secs(2) + TWO_S, |s, _| s == 200);
    assert_eq!(status, 200, "ready once the breaker reset: {body}");

    // Skew: seen at the first clock read after 15:44 (every 30 clock seconds, 0.5 s).
    let skew = "clock skew";
    let (status, body) = readyz_until(&addr, Duration::from_secs(8), |s, b| {
        s == 503 && b.contains(skew)
    });
    assert!(status == 503 && body.contains(skew), "{body}");
    let (status, body) = readyz_until(&addr, Duration::from_secs(1) + TWO_S, |s, _| s == 200);
    assert_eq!(status, 200, "ready once the clocks agree: {body}");
    assert!(
        clock_of(&body) < 1_380_916_500_000_000_000,
        "healed before 15:55, with time left to change a position: {body}"
    );

    // Someone buys 5 SPY at the broker's website; the next book read (0.5 s) shows it,
    // and selling them again heals it.
    let hand = |side: &str, n: u32| {
        let order = format!(
            r#"{{"symbol":"SPY","qty":"5","side":"{side}","type":"market","time_in_force":"day","client_order_id":"by-hand-{n}"}}"#
        );
        assert_eq!(c.http("POST", "/v2/orders", &order).0, 200);
    };
    hand("buy", 1);
    let differ = "positions differ from the broker";
    let (status, body) = readyz_until(&addr, TWO_S, |s, b| s == 503 && b.contains(differ));
    assert!(status == 503 && body.contains(differ), "{body}");
    hand("sell", 2);
    let (status, body) = readyz_until(&addr, TWO_S, |s, _| s == 200);
    assert_eq!(status, 200, "ready once the book agrees again: {body}");

    let status = wait_bounded(&mut child, Duration::from_secs(60)).expect("the session stops");
    assert!(status.success());
    drop(c);
    let kinds = alert_kinds(&alerts);
    for kind in ["breaker_tripped", "breaker_reset", "clock_skew", "eod_ran"] {
        assert!(
            kinds.iter().any(|k| k == kind),
            "no {kind} alert in {kinds:?}"
        );
    }
    let s = common::summary(&out);
    assert_eq!(s["eod_ran_at"]["2013-10-04"], "2013-10-04T19:55:00Z");
    assert_eq!(s["open_positions"], serde_json::json!([]));
    assert!(
        s["rejections"]["venue_breaker"].as_u64().unwrap_or(0) > 0,
        "entries were refused while the breaker was tripped: {}",
        s["rejections"]
    );
    let journal = lockstep_live::journal::JournalReader::open(&out.join("journal.db"))
        .expect("journal")
        .read_all()
        .expect("records")
        .0;
    let count = |what: &str| {
        journal
            .iter()
            .filter(|r| r.kind == lockstep_live::journal::RecordKind::Command)
            .filter(|r| r.body.contains(what))
            .count()
    };
    assert_eq!(
        count("\"broker_error\""),
        3,
        "each 429 is a journaled input"
    );
    assert_eq!(
        count("\"clock_skewed\""),
        1,
        "the skew is a journaled input"
    );
    assert_eq!(count("\"clock_agrees\""), 1, "and so is its end");
    assert!(replays_exactly(&out));
}
