//! Helpers for sessions that take signals at `--webhook`: a plain HTTP client, signed
//! requests, the shared warped clock, and a bounded session child.

use super::sessions::*;
use lockstep_live::webhook::sign;
use serde_json::Value;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// The webhook secret of the tests (never stored by a session).
pub const HOOK_SECRET: &str = "hook-secret-never-stored-41c2";
/// The session clock's speed.
pub const SPEED: f64 = 1500.0;

/// POSTs `body` to `addr`'s `/webhook` with extra header lines; returns the status (0 when
/// the connection failed) and the JSON answer (`Null` when none).
pub fn post(addr: &str, body: &[u8], headers: &str) -> (u16, Value) {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(addr) else {
        return (0, Value::Null);
    };
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let head = format!(
        "POST /webhook HTTP/1.1\r\nHost: {addr}\r\n{headers}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    // A server refusing an oversized body may answer before reading all of it.
    let _ = s.write_all(head.as_bytes()).and_then(|_| s.write_all(body));
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let json = text
        .split("\r\n\r\n")
        .nth(1)
        .and_then(|b| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    (status, json)
}

pub fn signed(body: &str) -> String {
    format!(
        "X-Webhook-Signature: sha256={}\r\n",
        sign(body.as_bytes(), HOOK_SECRET.as_bytes())
    )
}

/// The session clock now (the fake's warped clock, standing until its anchor), as Unix
/// nanoseconds.
pub fn clock_now(anchor: i64) -> i64 {
    let start = chrono::DateTime::parse_from_rfc3339(START).expect("start");
    let start = start.timestamp_nanos_opt().expect("ns");
    let real = (lockstep_live::time_source::system_nanos() - anchor).max(0);
    start + (real as f64 * SPEED) as i64
}

/// Waits until something listens at `addr`.
pub fn wait_listening(addr: &str) {
    let t0 = Instant::now();
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "the webhook never listened"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Starts `lockstep <mode>` of `config` (written to `dir/session.toml`) into `dir/<mode>`
/// against `fake`, its webhook on a free loopback port with a day-long dedup window;
/// returns the child and the webhook's address once it listens.
pub fn start_session(
    dir: &Path,
    mode: &str,
    config: &str,
    fake: &lockstep_live::fake::FakeThread,
    anchor: i64,
) -> (std::process::Child, String) {
    std::fs::create_dir_all(dir).expect("dir");
    std::fs::write(dir.join("session.toml"), config).expect("config");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut cmd = session(
        mode,
        &dir.join("session.toml"),
        &dir.join(mode),
        fake,
        SPEED,
        anchor,
    );
    cmd.args(["--webhook", &addr])
        .args(["--set", "webhook.dedup_secs=86400"])
        .env("LOCKSTEP_WEBHOOK_SECRET", HOOK_SECRET)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().expect("spawn");
    wait_listening(&addr);
    (child, addr)
}

/// Waits (at most 90 s) for a session child to end well; returns its stdout and stderr.
pub fn finish(mut child: std::process::Child) -> (String, String) {
    let t0 = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if t0.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            panic!("the session ran past 90 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    let (o, e) = (
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    );
    assert!(out.status.success(), "the session failed:\n{o}\n{e}");
    (o, e)
}
