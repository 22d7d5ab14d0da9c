//! The outbound alert webhook of a live session. The engine loop hands an [`Alert`] to an
//! [`Alerter`] and moves on: [`Alerter::send`] never blocks and never awaits. A background
//! tokio task POSTs each alert as JSON (Slack's `text` and Discord's `content` both carry
//! the message), retrying connection errors, timeouts, 429 and 5xx with capped, jittered
//! exponential backoff. A full queue drops the alert and counts it; nothing is ever retried
//! forever. The webhook URL carries a secret: it is never printed in full and never logged.

use serde_json::{json, Value};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// The environment variable holding the webhook URL.
pub const ALERT_URL_ENV: &str = "LOCKSTEP_ALERT_URL";

/// Where and how alerts are delivered.
///
/// `Debug` prints only the URL's scheme and host, never its path or query (where webhook
/// secrets live).
#[derive(Clone, PartialEq, Eq)]
pub struct AlertConfig {
    /// The webhook URL (a secret: treat it like a key).
    pub url: String,
    /// Retries after the first attempt before an alert is given up (counted as failed).
    pub retries: u32,
    /// Backoff before the first retry; doubles with each further retry.
    pub first_backoff: Duration,
    /// Cap on any single wait, including one asked for by `Retry-After`.
    pub max_backoff: Duration,
    /// Bound on one HTTP attempt, connect to last byte.
    pub timeout: Duration,
    /// Alerts that may wait for delivery; beyond that `send` drops (at least 1 is used).
    pub queue: usize,
}

impl AlertConfig {
    /// The defaults for `url`: 5 retries, backoff 0.5 s doubling up to 30 s, 5 s per
    /// attempt, a queue of 1024.
    pub fn with_url(url: impl Into<String>) -> AlertConfig {
        AlertConfig {
            url: url.into(),
            retries: 5,
            first_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            timeout: Duration::from_secs(5),
            queue: 1024,
        }
    }

    /// The defaults for the URL in `LOCKSTEP_ALERT_URL`; `None` when it is unset, empty or
    /// not unicode (alerts are then off). Never panics.
    pub fn from_env() -> Option<AlertConfig> {
        let url = std::env::var(ALERT_URL_ENV).ok()?;
        let url = url.trim();
        (!url.is_empty()).then(|| AlertConfig::with_url(url))
    }
}

/// `scheme://host/…` of a URL, or a placeholder when it does not parse: never the secret.
fn redacted(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => format!("{}://{}/…", u.scheme(), u.host_str().unwrap_or("?")),
        Err(_) => "<unparseable url>".to_string(),
    }
}

impl fmt::Debug for AlertConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AlertConfig")
            .field("url", &redacted(&self.url))
            .field("retries", &self.retries)
            .field("first_backoff", &self.first_backoff)
            .field("max_backoff", &self.max_backoff)
            .field("timeout", &self.timeout)
            .field("queue", &self.queue)
            .finish()
    }
}

/// What an alert is about. The set is closed; [`AlertKind::Other`] covers the rest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AlertKind {
    /// A circuit breaker tripped: trading halted.
    BreakerTripped,
    /// A breaker was reset: trading may resume.
    BreakerReset,
    /// The kill switch was thrown.
    Kill,
    /// Reconciliation found the broker and the ledger disagree.
    ReconcileDifference,
    /// The market data feed went stale.
    StaleFeed,
    /// The feed is fresh again.
    FeedRecovered,
    /// A stream (data or trade updates) disconnected.
    StreamDown,
    /// A stream is connected again.
    StreamUp,
    /// End-of-day handling ran.
    EodRan,
    /// End-of-day handling could not flatten every position.
    EodCouldNotFlatten,
    /// The local clock disagrees with the broker's.
    ClockSkew,
    /// The daily summary.
    DailySummary,
    /// Anything else.
    Other,
}

impl AlertKind {
    /// The stable snake_case name that goes on the wire (`"breaker_tripped"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::BreakerTripped => "breaker_tripped",
            AlertKind::BreakerReset => "breaker_reset",
            AlertKind::Kill => "kill",
            AlertKind::ReconcileDifference => "reconcile_difference",
            AlertKind::StaleFeed => "stale_feed",
            AlertKind::FeedRecovered => "feed_recovered",
            AlertKind::StreamDown => "stream_down",
            AlertKind::StreamUp => "stream_up",
            AlertKind::EodRan => "eod_ran",
            AlertKind::EodCouldNotFlatten => "eod_could_not_flatten",
            AlertKind::ClockSkew => "clock_skew",
            AlertKind::DailySummary => "daily_summary",
            AlertKind::Other => "other",
        }
    }
}

impl fmt::Display for AlertKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One alert. Its content goes to the webhook as given: put no secrets in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alert {
    /// What it is about.
    pub kind: AlertKind,
    /// The session it comes from.
    pub session: String,
    /// When it was raised, RFC 3339 wall-clock time.
    pub at: String,
    /// Human-readable detail.
    pub text: String,
}

impl Alert {
    /// An alert stamped with the current wall-clock time (UTC, RFC 3339, milliseconds).
    pub fn now(kind: AlertKind, session: impl Into<String>, text: impl Into<String>) -> Alert {
        Alert {
            kind,
            session: session.into(),
            at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            text: text.into(),
        }
    }

    /// The one-line message: `[lockstep <session>] <kind>: <text>`.
    pub fn message(&self) -> String {
        format!("[lockstep {}] {}: {}", self.session, self.kind, self.text)
    }

    /// The JSON body posted: `text` and `content` (both [`Self::message`], for Slack and
    /// Discord), plus `kind`, `session` and `at` for machines. Exactly these five keys.
    pub fn body(&self) -> Value {
        let message = self.message();
        json!({
            "text": message,
            "content": message,
            "kind": self.kind.as_str(),
            "session": self.session,
            "at": self.at,
        })
    }
}

/// Delivery counts. Each alert handed to [`Alerter::send`] ends in exactly one of `sent`,
/// `failed` or `dropped` (once the task has finished with it); `retried` counts extra attempts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AlertStats {
    /// Delivered (the webhook answered 2xx).
    pub sent: u64,
    /// Given up: retries exhausted, or refused with a 4xx other than 429.
    pub failed: u64,
    /// Never attempted: the queue was full (or the task gone) when sent.
    pub dropped: u64,
    /// Attempts after the first, over all alerts.
    pub retried: u64,
}

#[derive(Debug, Default)]
struct Counters {
    sent: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
    retried: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> AlertStats {
        AlertStats {
            sent: self.sent.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            retried: self.retried.load(Ordering::Relaxed),
        }
    }
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// The handle the engine sends alerts through. Cheap to clone; all clones share one queue
/// and one set of counters. When the last clone of a spawned alerter is dropped, the task
/// delivers (or gives up on) what is queued and then ends.
#[derive(Clone, Debug)]
pub struct Alerter {
    tx: Option<mpsc::Sender<Alert>>,
    counters: Arc<Counters>,
}

impl Alerter {
    /// Starts the delivery task for `cfg`. Must be called inside a tokio runtime (it panics
    /// otherwise, like `tokio::spawn`). The handle resolves to the final counts once every
    /// `Alerter` clone is dropped and the queue is drained.
    pub fn spawn(cfg: AlertConfig) -> (Alerter, JoinHandle<AlertStats>) {
        let (tx, rx) = mpsc::channel(cfg.queue.max(1));
        let counters = Arc::new(Counters::default());
        let task = tokio::spawn(deliver(cfg, rx, Arc::clone(&counters)));
        (
            Alerter {
                tx: Some(tx),
                counters,
            },
            task,
        )
    }

    /// An alerter that sends nowhere: `send` discards and counts nothing.
    pub fn disabled() -> Alerter {
        Alerter {
            tx: None,
            counters: Arc::new(Counters::default()),
        }
    }

    /// Whether alerts go anywhere (false for [`Self::disabled`]).
    pub fn is_enabled(&self) -> bool {
        self.tx.is_some()
    }

    /// Queues `alert` for delivery and returns at once: never blocks, never awaits, never
    /// panics. When the queue is full (or the task has ended) the alert is dropped and
    /// counted in [`AlertStats::dropped`]. Safe to call from synchronous code on any thread.
    pub fn send(&self, alert: Alert) {
        let Some(tx) = &self.tx else { return };
        // Full or closed (the task has ended): either way the alert is dropped, counted.
        if tx.try_send(alert).is_err() {
            bump(&self.counters.dropped);
        }
    }

    /// The counts so far (a consistent-enough snapshot of shared atomics; each field is
    /// exact, fields may be read a moment apart).
    pub fn stats(&self) -> AlertStats {
        self.counters.snapshot()
    }
}

/// What one attempt came to.
enum Attempt {
    Delivered,
    /// Worth another try; the server's `Retry-After`, if it gave one.
    Retry(Option<Duration>),
    GiveUp,
}

async fn deliver(
    cfg: AlertConfig,
    mut rx: mpsc::Receiver<Alert>,
    counters: Arc<Counters>,
) -> AlertStats {
    // Building fails only if the HTTP stack cannot initialise; then every alert fails.
    let http = reqwest::Client::builder()
        .timeout(cfg.timeout)
        .connect_timeout(cfg.timeout)
        .build()
        .ok();
    let mut jitter = Jitter::seeded();
    while let Some(alert) = rx.recv().await {
        let Some(http) = &http else {
            bump(&counters.failed);
            continue;
        };
        let body = alert.body();
        let mut retry = 0u32;
        loop {
            let wait = match attempt(http, &cfg.url, &body).await {
                Attempt::Delivered => {
                    bump(&counters.sent);
                    break;
                }
                Attempt::GiveUp => {
                    bump(&counters.failed);
                    break;
                }
                Attempt::Retry(_) if retry >= cfg.retries => {
                    bump(&counters.failed);
                    break;
                }
                Attempt::Retry(Some(asked)) => asked.min(cfg.max_backoff),
                Attempt::Retry(None) => jitter.apply(backoff(&cfg, retry)),
            };
            tokio::time::sleep(wait).await;
            retry += 1;
            bump(&counters.retried);
        }
    }
    counters.snapshot()
}

/// One POST. Transport errors (refused, reset, timed out) are retried; an unusable URL is
/// not. The error itself is dropped unprinted: reqwest's messages include the URL.
async fn attempt(http: &reqwest::Client, url: &str, body: &Value) -> Attempt {
    let resp = match http.post(url).json(body).send().await {
        Ok(resp) => resp,
        Err(e) if e.is_builder() => return Attempt::GiveUp,
        Err(_) => return Attempt::Retry(None),
    };
    let status = resp.status();
    if status.is_success() {
        Attempt::Delivered
    } else if status == reqwest::StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        Attempt::Retry(retry_after(&resp))
    } else {
        Attempt::GiveUp
    }
}

/// `Retry-After` in delay-seconds form; the HTTP-date form is ignored (backoff applies).
fn retry_after(resp: &reqwest::Response) -> Option<Duration> {
    let value = resp.headers().get(reqwest::header::RETRY_AFTER)?;
    let secs = value.to_str().ok()?.trim().parse::<u64>().ok()?;
    Some(Duration::from_secs(secs))
}

/// `first_backoff * 2^retry`, capped at `max_backoff`, before jitter.
fn backoff(cfg: &AlertConfig, retry: u32) -> Duration {
    cfg.first_backoff
        .saturating_mul(2u32.saturating_pow(retry))
        .min(cfg.max_backoff)
}

/// Cheap jitter (splitmix64 over a clock-seeded counter): alerts are not trading decisions,
/// so this is outside the engine's determinism on purpose.
struct Jitter(u64);

impl Jitter {
    fn seeded() -> Jitter {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Jitter(nanos)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A wait in `[d/2, d]`: never longer than `d`, so the cap holds.
    fn apply(&mut self, d: Duration) -> Duration {
        let frac = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        d.mul_f64(0.5 + 0.5 * frac)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_the_cap_and_jitter_stays_within() {
        let mut cfg = AlertConfig::with_url("http://x");
        cfg.first_backoff = Duration::from_millis(500);
        cfg.max_backoff = Duration::from_secs(30);
        let raw: Vec<_> = (0..8).map(|r| backoff(&cfg, r).as_millis()).collect();
        assert_eq!(raw, [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
        assert_eq!(backoff(&cfg, u32::MAX), Duration::from_secs(30));
        let mut j = Jitter(7);
        let d = Duration::from_secs(2);
        let waits: Vec<_> = (0..100).map(|_| j.apply(d)).collect();
        assert!(waits.iter().all(|w| *w >= d / 2 && *w <= d));
        assert!(waits.windows(2).any(|w| w[0] != w[1]), "jitter varies");
    }
}
