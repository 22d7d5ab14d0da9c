//! The alert webhook against a loopback axum server that records what it is sent and
//! answers from a script. Every test is bounded by a 20 s timeout.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use lockstep_live::alerts::{Alert, AlertConfig, AlertKind, AlertStats, Alerter};
use serde_json::Value;
use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::time::timeout;

/// How the fake webhook answers one request.
#[derive(Clone, Copy, Debug)]
enum Reply {
    Ok,
    Status(u16),
    /// 429 with this `Retry-After` value.
    TooMany(&'static str),
    /// Answer 200, but only after this long (longer than the client's timeout).
    Hang(Duration),
}

struct Hook {
    script: Mutex<VecDeque<Reply>>,
    default: Reply,
    /// (content-type, body) of every request, in arrival order.
    seen: Mutex<Vec<(String, String)>>,
    hits: AtomicUsize,
    /// Requests answered 2xx in time: deliveries.
    oks: AtomicUsize,
}

impl Hook {
    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
    fn oks(&self) -> usize {
        self.oks.load(Ordering::SeqCst)
    }
    fn bodies(&self) -> Vec<Value> {
        let seen = self.seen.lock().unwrap();
        seen.iter()
            .map(|(_, b)| serde_json::from_str(b).unwrap())
            .collect()
    }
}

async fn handle(State(hook): State<Arc<Hook>>, headers: HeaderMap, body: String) -> Response {
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    hook.seen.lock().unwrap().push((ctype, body));
    hook.hits.fetch_add(1, Ordering::SeqCst);
    let reply = hook.script.lock().unwrap().pop_front();
    match reply.unwrap_or(hook.default) {
        Reply::Ok => {
            hook.oks.fetch_add(1, Ordering::SeqCst);
            StatusCode::OK.into_response()
        }
        Reply::Status(code) => StatusCode::from_u16(code).unwrap().into_response(),
        Reply::TooMany(after) => (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, after)],
        )
            .into_response(),
        Reply::Hang(d) => {
            tokio::time::sleep(d).await;
            StatusCode::OK.into_response()
        }
    }
}

/// Starts the webhook; returns its URL (with a secret-looking path and query) and its record.
async fn start(default: Reply, script: Vec<Reply>) -> (String, Arc<Hook>) {
    let hook = Arc::new(Hook {
        script: Mutex::new(script.into()),
        default,
        seen: Mutex::new(Vec::new()),
        hits: AtomicUsize::new(0),
        oks: AtomicUsize::new(0),
    });
    let app = Router::new()
        .route("/hooks/T0/SECRET", post(handle))
        .with_state(Arc::clone(&hook));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/hooks/T0/SECRET?token=abc"), hook)
}

/// Test settings: millisecond backoffs.
fn cfg(url: &str) -> AlertConfig {
    AlertConfig {
        url: url.to_string(),
        retries: 5,
        first_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(50),
        timeout: Duration::from_secs(2),
        queue: 16,
    }
}

fn alert(kind: AlertKind, text: &str) -> Alert {
    Alert {
        kind,
        session: "paper-7".to_string(),
        at: "2026-03-02T14:30:00.000Z".to_string(),
        text: text.to_string(),
    }
}

async fn bounded<F: Future>(f: F) -> F::Output {
    timeout(Duration::from_secs(20), f)
        .await
        .expect("test exceeded its 20 s bound")
}

/// Drops the alerter (the last handle) and waits for the task's final counts.
async fn finish(alerter: Alerter, task: tokio::task::JoinHandle<AlertStats>) -> AlertStats {
    drop(alerter);
    task.await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivers_the_exact_body() {
    bounded(async {
        let (url, hook) = start(Reply::Ok, vec![]).await;
        let (alerter, task) = Alerter::spawn(cfg(&url));
        alerter.send(alert(AlertKind::BreakerTripped, "daily loss 2.1% > 2%"));
        let stats = finish(alerter, task).await;
        assert_eq!(
            stats,
            AlertStats {
                sent: 1,
                ..AlertStats::default()
            }
        );
        assert_eq!((hook.hits(), hook.oks()), (1, 1));
        let ctype = hook.seen.lock().unwrap()[0].0.clone();
        assert!(ctype.starts_with("application/json"), "{ctype}");
        let body = &hook.bodies()[0];
        let text = body["text"].as_str().unwrap();
        assert_eq!(
            text,
            "[lockstep paper-7] breaker_tripped: daily loss 2.1% > 2%"
        );
        assert!(text.contains("paper-7") && text.contains("breaker_tripped"));
        assert_eq!(body["content"], body["text"]);
        assert_eq!(body["kind"], "breaker_tripped");
        assert_eq!(body["session"], "paper-7");
        assert_eq!(body["at"], "2026-03-02T14:30:00.000Z");
        assert_eq!(body.as_object().unwrap().len(), 5, "{body}");
        assert_eq!(
            *body,
            alert(AlertKind::BreakerTripped, "daily loss 2.1% > 2%").body()
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried_and_delivered_once() {
    bounded(async {
        let (url, hook) = start(Reply::Ok, vec![Reply::Status(500), Reply::Status(503)]).await;
        let (alerter, task) = Alerter::spawn(cfg(&url));
        alerter.send(alert(AlertKind::StreamDown, "trade updates"));
        let stats = finish(alerter, task).await;
        assert_eq!((stats.sent, stats.retried, stats.failed), (1, 2, 0));
        assert_eq!((hook.hits(), hook.oks()), (3, 1));
        let bodies = hook.bodies();
        assert!(
            bodies.iter().all(|b| *b == bodies[0]),
            "same alert each time"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_zero_overrides_a_long_backoff() {
    bounded(async {
        let (url, hook) = start(Reply::Ok, vec![Reply::TooMany("0")]).await;
        let mut c = cfg(&url);
        c.first_backoff = Duration::from_secs(30);
        c.max_backoff = Duration::from_secs(60);
        let (alerter, task) = Alerter::spawn(c);
        let t0 = Instant::now();
        alerter.send(alert(AlertKind::Kill, "operator"));
        let stats = finish(alerter, task).await;
        assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
        assert_eq!((stats.sent, stats.retried, stats.failed), (1, 1, 0));
        assert_eq!((hook.hits(), hook.oks()), (2, 1));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_capped_at_max_backoff() {
    bounded(async {
        let (url, hook) = start(Reply::Ok, vec![Reply::TooMany("3600")]).await;
        let (alerter, task) = Alerter::spawn(cfg(&url)); // max_backoff 50 ms
        let t0 = Instant::now();
        alerter.send(alert(AlertKind::ClockSkew, "1.2 s"));
        let stats = finish(alerter, task).await;
        assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
        assert_eq!((stats.sent, stats.retried), (1, 1));
        assert_eq!(hook.hits(), 2);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_errors_are_not_retried() {
    bounded(async {
        let (url, hook) = start(Reply::Ok, vec![Reply::Status(400)]).await;
        let (alerter, task) = Alerter::spawn(cfg(&url));
        alerter.send(alert(AlertKind::Other, "refused"));
        let seen = async {
            while alerter.stats().failed == 0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        };
        seen.await;
        assert_eq!(hook.hits(), 1, "a 400 must not be retried");
        // The task carries on after a refusal.
        alerter.send(alert(AlertKind::Other, "accepted"));
        let stats = finish(alerter, task).await;
        assert_eq!((stats.failed, stats.retried, stats.sent), (1, 0, 1));
        assert_eq!((hook.hits(), hook.oks()), (2, 1));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_never_blocks_and_drops_when_full() {
    bounded(async {
        let (url, hook) = start(Reply::Hang(Duration::from_secs(5)), vec![]).await;
        let mut c = cfg(&url);
        c.queue = 2;
        c.retries = 1;
        c.timeout = Duration::from_millis(500);
        let (alerter, task) = Alerter::spawn(c);
        // Get the task stuck in a request the server sits on.
        alerter.send(alert(AlertKind::StaleFeed, "first"));
        while hook.hits() == 0 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let t0 = Instant::now();
        for i in 0..100 {
            alerter.send(alert(AlertKind::StaleFeed, &format!("burst {i}")));
        }
        let took = t0.elapsed();
        assert!(took < Duration::from_secs(1), "100 sends took {took:?}");
        let now = alerter.stats();
        assert_eq!(
            now.dropped, 98,
            "queue of 2 while the task is busy: {now:?}"
        );
        let stats = finish(alerter, task).await;
        // Three alerts attempted twice each, all timed out; none delivered.
        assert_eq!(
            stats,
            AlertStats {
                sent: 0,
                failed: 3,
                dropped: 98,
                retried: 3
            }
        );
        assert_eq!(hook.oks(), 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_port_gives_up_after_retries() {
    bounded(async {
        let port = {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            l.local_addr().unwrap().port()
        };
        let mut c = cfg(&format!("http://127.0.0.1:{port}/hooks/T0/SECRET"));
        c.retries = 3;
        let (alerter, task) = Alerter::spawn(c);
        let t0 = Instant::now();
        alerter.send(alert(AlertKind::EodCouldNotFlatten, "SPY 10"));
        let stats = finish(alerter, task).await;
        assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
        assert_eq!(
            stats,
            AlertStats {
                sent: 0,
                failed: 1,
                dropped: 0,
                retried: 3
            }
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_last_handle_drains_the_queue_in_order() {
    bounded(async {
        let (url, hook) = start(Reply::Ok, vec![]).await;
        let (alerter, task) = Alerter::spawn(cfg(&url));
        let clone = alerter.clone();
        for i in 0..5 {
            clone.send(alert(AlertKind::DailySummary, &format!("n{i}")));
        }
        drop(clone);
        let stats = finish(alerter, task).await;
        assert_eq!((stats.sent, stats.dropped, stats.failed), (5, 0, 0));
        let texts: Vec<_> = hook.bodies().iter().map(|b| b["text"].clone()).collect();
        let want: Vec<Value> = (0..5)
            .map(|i| format!("[lockstep paper-7] daily_summary: n{i}").into())
            .collect();
        assert_eq!(texts, want);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabled_sends_nowhere_and_debug_hides_the_secret() {
    bounded(async {
        let off = Alerter::disabled();
        assert!(!off.is_enabled());
        off.send(alert(AlertKind::Other, "nowhere"));
        assert_eq!(off.stats(), AlertStats::default());
        let (url, _hook) = start(Reply::Ok, vec![]).await;
        let shown = format!("{:?}", cfg(&url));
        assert!(shown.contains("http://127.0.0.1"), "{shown}");
        assert!(
            !shown.contains("SECRET") && !shown.contains("token"),
            "{shown}"
        );
    })
    .await;
}

#[test]
fn defaults_and_kind_names() {
    let c = AlertConfig::with_url("http://h/x");
    assert_eq!(
        (
            c.retries,
            c.first_backoff,
            c.max_backoff,
            c.timeout,
            c.queue
        ),
        (
            5,
            Duration::from_millis(500),
            Duration::from_secs(30),
            Duration::from_secs(5),
            1024
        )
    );
    use AlertKind::*;
    let names: Vec<_> = [
        BreakerTripped,
        BreakerReset,
        Kill,
        ReconcileDifference,
        StaleFeed,
        FeedRecovered,
        StreamDown,
        StreamUp,
        EodRan,
        EodCouldNotFlatten,
        ClockSkew,
        DailySummary,
        Other,
    ]
    .iter()
    .map(|k| k.as_str())
    .collect();
    assert_eq!(
        names,
        [
            "breaker_tripped",
            "breaker_reset",
            "kill",
            "reconcile_difference",
            "stale_feed",
            "feed_recovered",
            "stream_down",
            "stream_up",
            "eod_ran",
            "eod_could_not_flatten",
            "clock_skew",
            "daily_summary",
            "other"
        ]
    );
}
