//! The health/control endpoint over real HTTP on 127.0.0.1: liveness, readiness and its
//! reasons for every fault (and recovery), the Prometheus text, and the token-guarded
//! kill/lift control. Every test is bounded by a 20 s timeout.

#[path = "health/prom.rs"]
mod prom;

use lockstep_live::health::{serve, Control, Health, HealthState, Reconcile};
use prom::{metric, parse_metrics, Sample};
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::mpsc;

const SEC: i64 = 1_000_000_000;
const TOKEN: &str = "t0ken-for-tests-only";

async fn bounded(test: impl Future<Output = ()>) {
    if tokio::time::timeout(Duration::from_secs(20), test)
        .await
        .is_err()
    {
        panic!("test did not finish within 20 s");
    }
}

fn client() -> reqwest::Client {
    match reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
    {
        Ok(c) => c,
        Err(e) => panic!("client: {e}"),
    }
}

async fn start(
    health: &Health,
    control: Option<(String, mpsc::Sender<Control>)>,
) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let any = SocketAddr::from(([127, 0, 0, 1], 0));
    match serve(any, health.clone(), control).await {
        Ok((addr, task)) => {
            assert_ne!(addr.port(), 0, "serve returns the bound port");
            (addr, task)
        }
        Err(e) => panic!("serve: {e}"),
    }
}

/// Status, content type and body text of a request.
async fn send(req: reqwest::RequestBuilder) -> (StatusCode, String, String) {
    let resp = match req.send().await {
        Ok(r) => r,
        Err(e) => panic!("request failed: {e}"),
    };
    let status = resp.status();
    let ctype = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    match resp.text().await {
        Ok(body) => (status, ctype, body),
        Err(e) => panic!("body: {e}"),
    }
}

fn parse(body: &str) -> Value {
    match serde_json::from_str(body) {
        Ok(v) => v,
        Err(e) => panic!("not JSON ({e}): {body}"),
    }
}

async fn get(addr: SocketAddr, path: &str) -> (StatusCode, String, String) {
    send(client().get(format!("http://{addr}{path}"))).await
}

async fn readyz(addr: SocketAddr) -> (StatusCode, Value) {
    let (s, _, body) = get(addr, "/readyz").await;
    (s, parse(&body))
}

fn reasons(v: &Value) -> Vec<String> {
    v["reasons"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|r| r.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

async fn scrape(addr: SocketAddr) -> Vec<Sample> {
    let (s, ctype, body) = get(addr, "/metrics").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        ctype.starts_with("text/plain; version=0.0.4"),
        "content type {ctype:?}"
    );
    parse_metrics(&body)
}

fn heal(s: &mut HealthState) {
    s.reconcile = Reconcile::Done;
    s.stream_up = true;
    s.feed_up = true;
}

/// Asserts ready: 200, `ready: true`, no reasons, `lockstep_ready 1`.
async fn assert_ready(addr: SocketAddr, ctx: &str) {
    let (s, v) = readyz(addr).await;
    assert_eq!(s, StatusCode::OK, "{ctx}: {v}");
    assert_eq!(v["ready"], Value::Bool(true), "{ctx}");
    assert_eq!(reasons(&v), Vec::<String>::new(), "{ctx}");
    assert_eq!(
        metric(&scrape(addr).await, "lockstep_ready", &[]),
        Some(1.0),
        "{ctx}"
    );
}

/// Asserts not ready with exactly `reason`: 503, `ready: false`, `lockstep_ready 0`.
async fn assert_not_ready(addr: SocketAddr, reason: &str) -> Value {
    let (s, v) = readyz(addr).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{reason}: {v}");
    assert_eq!(v["ready"], Value::Bool(false), "{reason}");
    assert_eq!(reasons(&v), vec![reason.to_string()]);
    assert_eq!(
        metric(&scrape(addr).await, "lockstep_ready", &[]),
        Some(0.0),
        "{reason}"
    );
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn liveness_and_readiness_follow_every_fault() {
    bounded(async {
        let health = Health::new("paper-test");
        let (addr, task) = start(&health, None).await;

        let (s, ctype, body) = get(addr, "/healthz").await;
        assert_eq!((s, ctype.as_str()), (StatusCode::OK, "application/json"));
        assert_eq!(parse(&body), serde_json::json!({ "alive": true }));

        let (s, v) = readyz(addr).await;
        assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            reasons(&v),
            vec![
                "reconcile pending",
                "trade_updates stream down",
                "market-data feed down"
            ]
        );
        assert_eq!(v["reconcile"], serde_json::json!({ "state": "pending" }));
        assert_eq!(
            metric(&scrape(addr).await, "lockstep_reconciled", &[]),
            Some(0.0)
        );

        health.update(|s| {
            s.stream_up = true;
            s.feed_up = true;
        });
        assert_not_ready(addr, "reconcile pending").await;
        health.update(|s| s.reconcile = Reconcile::Failed("broker 500".into()));
        assert_not_ready(addr, "reconcile failed: broker 500").await;
        health.update(|s| {
            heal(s);
            s.clock = 1_714_572_000 * SEC;
            s.stale_after_ns = 60 * SEC;
            s.last_bar.insert("SPY".into(), s.clock - 30 * SEC);
            s.positions.insert("SPY".into(), "10".into());
            s.broker_positions = Some(s.positions.clone());
            s.clock_skew_ms = Some(-40);
            s.counters.insert("bars".into(), 3);
        });
        assert_ready(addr, "healthy").await;

        // Every field of the state is in the body, plus the derived ones.
        let (_, v) = readyz(addr).await;
        for field in [
            "session",
            "clock",
            "reconcile",
            "last_bar",
            "stale_after_ns",
            "market_open",
            "feed_up",
            "stream_up",
            "last_eod",
            "breaker",
            "kill",
            "positions",
            "broker_positions",
            "unknown_orders",
            "journal_lag",
            "clock_skew_ms",
            "max_skew_ms",
            "counters",
            "ready",
            "reasons",
            "last_bar_age_s",
        ] {
            assert!(v.get(field).is_some(), "readyz lacks {field}: {v}");
        }
        assert_eq!(v["session"], "paper-test");
        assert_eq!(v["reconcile"], serde_json::json!({ "state": "done" }));
        assert_eq!(v["last_bar_age_s"]["SPY"].as_f64(), Some(30.0));
        assert_eq!(v["max_skew_ms"].as_i64(), Some(2000));
        assert_eq!(v["counters"]["bars"].as_u64(), Some(3));

        // Stream down.
        health.update(|s| s.stream_up = false);
        assert_not_ready(addr, "trade_updates stream down").await;
        assert_eq!(
            metric(&scrape(addr).await, "lockstep_stream_up", &[]),
            Some(0.0)
        );
        health.update(|s| s.stream_up = true);
        assert_ready(addr, "stream back").await;

        // Feed down.
        health.update(|s| s.feed_up = false);
        assert_not_ready(addr, "market-data feed down").await;
        health.update(|s| s.feed_up = true);
        assert_ready(addr, "feed back").await;

        // Stale feed: only while the regular session is open.
        health.update(|s| s.clock += 65 * SEC); // last bar now 95 s old
        assert_ready(addr, "stale but market closed").await;
        health.update(|s| s.market_open = true);
        let v = assert_not_ready(addr, "feed stale: SPY 95 s").await;
        assert_eq!(v["last_bar_age_s"]["SPY"].as_f64(), Some(95.0));
        assert_eq!(
            metric(
                &scrape(addr).await,
                "lockstep_last_bar_age_seconds",
                &[("symbol", "SPY")]
            ),
            Some(95.0)
        );
        health.update(|s| {
            let now = s.clock;
            s.last_bar.insert("SPY".into(), now);
        });
        assert_ready(addr, "fresh bar while open").await;

        // Breaker.
        health.update(|s| s.breaker = Some("5 rejects in 60 s".into()));
        assert_not_ready(addr, "breaker tripped: 5 rejects in 60 s").await;
        assert_eq!(
            metric(&scrape(addr).await, "lockstep_breaker_tripped", &[]),
            Some(1.0)
        );
        health.update(|s| s.breaker = None);
        assert_ready(addr, "breaker reset").await;
        assert_eq!(
            metric(&scrape(addr).await, "lockstep_breaker_tripped", &[]),
            Some(0.0)
        );

        // Kill.
        health.update(|s| s.kill = Some("flatten".into()));
        assert_not_ready(addr, "killed: flatten").await;
        assert_eq!(
            metric(&scrape(addr).await, "lockstep_killed", &[]),
            Some(1.0)
        );
        health.update(|s| s.kill = None);
        assert_ready(addr, "kill lifted").await;

        // Clock skew: 2500 ms against a 2000 ms limit, either sign.
        health.update(|s| s.clock_skew_ms = Some(2_500));
        assert_not_ready(addr, "clock skew 2500 ms against the broker").await;
        assert_eq!(
            metric(&scrape(addr).await, "lockstep_clock_skew_ms", &[]),
            Some(2500.0)
        );
        health.update(|s| s.clock_skew_ms = Some(-2_500));
        assert_not_ready(addr, "clock skew -2500 ms against the broker").await;
        health.update(|s| s.clock_skew_ms = Some(2_000));
        assert_ready(addr, "skew at the limit").await;

        // Positions differ from the broker.
        health.update(|s| s.broker_positions = Some(BTreeMap::from([("SPY".into(), "5".into())])));
        assert_not_ready(
            addr,
            "positions differ from the broker: SPY engine 10 broker 5",
        )
        .await;
        health
            .update(|s| s.broker_positions = Some(BTreeMap::from([("SPY".into(), "10.0".into())])));
        assert_ready(addr, "positions agree").await;
        assert_eq!(
            metric(&scrape(addr).await, "lockstep_open_positions", &[]),
            Some(1.0)
        );

        // Unknown orders.
        health.update(|s| s.unknown_orders = 2);
        assert_not_ready(addr, "unknown orders at the broker: 2").await;
        assert_eq!(
            metric(&scrape(addr).await, "lockstep_unknown_orders", &[]),
            Some(2.0)
        );
        health.update(|s| s.unknown_orders = 0);
        assert_ready(addr, "unknown orders resolved").await;

        let (s, _, _) = get(addr, "/nope").await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        task.abort();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_prometheus_text() {
    bounded(async {
        let health = Health::new("odd \"name\" \\ with\nnewline");
        health.update(|s| {
            heal(s);
            s.clock = 1_000 * SEC;
            s.last_bar.insert("SPY".into(), 990 * SEC);
            s.last_bar.insert("QQQ".into(), 999_500_000_000);
            s.journal_lag = 4;
            s.counters.insert("bars".into(), 12);
            s.counters.insert("fills".into(), 3);
            s.counters.insert("odd\"counter".into(), 1);
        });
        let (addr, task) = start(&health, None).await;
        let (_, _, text) = get(addr, "/metrics").await;
        assert!(text.ends_with('\n'), "exposition ends with a newline");
        let m = parse_metrics(&text);
        assert_eq!(metric(&m, "lockstep_ready", &[]), Some(1.0));
        assert_eq!(
            metric(
                &m,
                "lockstep_info",
                &[("session", "odd \"name\" \\ with\nnewline")]
            ),
            Some(1.0),
            "session label round-trips through escaping: {text}"
        );
        assert!(text.contains(r#"lockstep_info{session="odd \"name\" \\ with\nnewline"} 1"#));
        assert_eq!(
            metric(&m, "lockstep_counter_total", &[("name", "bars")]),
            Some(12.0)
        );
        assert_eq!(
            metric(&m, "lockstep_counter_total", &[("name", "fills")]),
            Some(3.0)
        );
        assert_eq!(
            metric(&m, "lockstep_counter_total", &[("name", "odd\"counter")]),
            Some(1.0)
        );
        assert_eq!(
            metric(&m, "lockstep_last_bar_age_seconds", &[("symbol", "SPY")]),
            Some(10.0)
        );
        assert_eq!(
            metric(&m, "lockstep_last_bar_age_seconds", &[("symbol", "QQQ")]),
            Some(0.5)
        );
        for (name, want) in [
            ("lockstep_reconciled", 1.0),
            ("lockstep_stream_up", 1.0),
            ("lockstep_feed_up", 1.0),
            ("lockstep_breaker_tripped", 0.0),
            ("lockstep_killed", 0.0),
            ("lockstep_unknown_orders", 0.0),
            ("lockstep_journal_lag", 4.0),
            ("lockstep_open_positions", 0.0),
        ] {
            assert_eq!(metric(&m, name, &[]), Some(want), "{name}");
        }
        assert!(text.contains("# TYPE lockstep_counter_total counter\n"));
        assert!(text.contains("# TYPE lockstep_ready gauge\n"));
        assert!(text.contains("# TYPE lockstep_clock_skew_ms gauge\n"));
        assert_eq!(
            metric(&m, "lockstep_clock_skew_ms", &[]),
            None,
            "not measured yet"
        );

        health.update(|s| s.feed_up = false);
        let m = scrape(addr).await;
        assert_eq!(metric(&m, "lockstep_ready", &[]), Some(0.0));
        assert_eq!(metric(&m, "lockstep_feed_up", &[]), Some(0.0));
        task.abort();
    })
    .await;
}

fn post(addr: SocketAddr, path: &str) -> reqwest::RequestBuilder {
    client().post(format!("http://{addr}{path}"))
}

fn nothing_sent(rx: &mut mpsc::Receiver<Control>, ctx: &str) {
    assert!(
        rx.try_recv().is_err(),
        "{ctx}: a request reached the driver"
    );
}

async fn received(rx: &mut mpsc::Receiver<Control>) -> Control {
    match tokio::time::timeout(Duration::from_secs(5), rx.recv()).await {
        Ok(Some(c)) => c,
        other => panic!("the driver got nothing: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_and_lift_need_the_token() {
    bounded(async {
        let health = Health::new("s");
        let (tx, mut rx) = mpsc::channel(4);
        let (addr, task) = start(&health, Some((TOKEN.to_string(), tx))).await;
        let flatten = serde_json::json!({ "flatten": true });

        let (s, _, body) = send(post(addr, "/kill").json(&flatten)).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{body}");
        nothing_sent(&mut rx, "no token");
        for wrong in [
            "nope-nope",
            "t0ken-for-tests-onlY",
            "t0ken-for-tests-only-and-more",
        ] {
            let (s, _, body) = send(post(addr, "/kill").bearer_auth(wrong).json(&flatten)).await;
            assert_eq!(s, StatusCode::UNAUTHORIZED, "{wrong}: {body}");
            assert!(
                !body.contains(TOKEN) && !body.contains(wrong),
                "echoes a token: {body}"
            );
            nothing_sent(&mut rx, wrong);
        }
        let basic = post(addr, "/lift").header("Authorization", format!("Basic {TOKEN}"));
        assert_eq!(send(basic).await.0, StatusCode::UNAUTHORIZED);
        nothing_sent(&mut rx, "basic scheme");

        let (s, _, body) = send(post(addr, "/kill").bearer_auth(TOKEN).json(&flatten)).await;
        assert_eq!(s, StatusCode::ACCEPTED, "{body}");
        assert_eq!(parse(&body), serde_json::json!({ "accepted": true }));
        assert!(!body.contains(TOKEN));
        assert_eq!(received(&mut rx).await, Control::Kill { flatten: true });
        nothing_sent(&mut rx, "exactly one request per call");

        let (s, _, _) = send(post(addr, "/kill").bearer_auth(TOKEN)).await;
        assert_eq!(s, StatusCode::ACCEPTED);
        assert_eq!(received(&mut rx).await, Control::Kill { flatten: false });

        let bad = post(addr, "/kill")
            .bearer_auth(TOKEN)
            .body("{\"flatten\": \"yes\"}");
        assert_eq!(send(bad).await.0, StatusCode::BAD_REQUEST);
        nothing_sent(&mut rx, "bad body");

        let (s, _, _) = send(post(addr, "/lift").bearer_auth(TOKEN)).await;
        assert_eq!(s, StatusCode::ACCEPTED);
        assert_eq!(received(&mut rx).await, Control::Lift);

        // The driver gone: nothing can be accepted.
        drop(rx);
        let (s, _, _) = send(post(addr, "/lift").bearer_auth(TOKEN)).await;
        assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
        task.abort();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_disabled_is_forbidden() {
    bounded(async {
        let health = Health::new("s");
        let (addr, task) = start(&health, None).await;
        for path in ["/kill", "/lift"] {
            let (s, _, body) = send(post(addr, path).bearer_auth(TOKEN)).await;
            assert_eq!(s, StatusCode::FORBIDDEN, "{path}");
            assert_eq!(
                parse(&body),
                serde_json::json!({ "error": "control is disabled: set LOCKSTEP_CONTROL_TOKEN" })
            );
        }
        task.abort();

        // An empty token is no token: control stays disabled.
        let (tx, mut rx) = mpsc::channel(1);
        let (addr, task) = start(&health, Some((String::new(), tx))).await;
        let (s, _, _) = send(post(addr, "/kill").header("Authorization", "Bearer ")).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        nothing_sent(&mut rx, "empty token");
        task.abort();
    })
    .await;
}
