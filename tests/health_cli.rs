//! The health endpoint of a running live session against the loopback fake: `/readyz`
//! turns ready once the session is reconciled, an operator's authenticated `POST /kill`
//! flips it to not ready (reason `killed`) within 2 s and `POST /lift` back; a wrong token
//! is refused; the broker's update stream going down for 90 s of clock time at 15:40 flips
//! it (reason `trade_updates stream down`) and back once the stream is caught up; `/metrics` reports it; the kill, the lift, the EOD run and the day's summary
//! reach the alert webhook (a loopback receiver); the kill and lift are journaled inputs,
//! so the session's journal replays exactly.

mod common;

use common::crash::*;
use common::sessions::one_at_a_time;
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

#[test]
fn readyz_follows_reconcile_kill_and_lift_and_metrics_say_so() {
    let _serial = one_at_a_time();
    let tmp = tempfile::tempdir().expect("tmp");
    let mut setup = short_session(tmp.path());
    setup.speed = 120.0;
    // 15:40 ET: the update stream drops and reconnects are refused for 90 s of clock time.
    let at = lockstep_core::UnixNanos(1_380_915_600_000_000_000);
    assert_eq!(at.to_iso(), "2013-10-04T19:40:00Z");
    setup.faults = vec![lockstep_live::fake::Fault::TradeStreamDownFor {
        at,
        clock_ns: 90_000_000_000,
    }];
    let c = Campaign::start(&setup);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let out = tmp.path().join("s");
    let (hook, alerts) = alert_receiver();
    let mut cmd = c.command();
    cmd.arg(&setup.config)
        .arg("--out")
        .arg(&out)
        .args(["--health", &addr])
        .env("LOCKSTEP_CONTROL_TOKEN", TOKEN)
        .env("LOCKSTEP_ALERT_URL", &hook);
    let mut child = cmd
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

    let status = wait_bounded(&mut child, Duration::from_secs(60)).expect("the session stops");
    assert!(status.success());
    drop(c);
    let kinds: Vec<String> = alerts
        .lock()
        .expect("alerts")
        .iter()
        .filter_map(|b| serde_json::from_str::<serde_json::Value>(b).ok())
        .filter_map(|v| Some(v.get("kind")?.as_str()?.to_string()))
        .collect();
    for kind in [
        "kill",
        "stream_down",
        "stream_up",
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
