//! The live bar source: Alpaca's market-data websocket (stocks or crypto) with REST
//! backfill on connect and after every reconnect. Bars reach the driver in time order per
//! symbol, each once; `updatedBars` come as corrections (journaled, never a second bar);
//! frames that cannot be read come raw, to be journaled and counted, never a panic.

use crate::time_source::SharedTime;
use crate::wire::{
    parse_bars_response, parse_data_frame, BarData, BarMsg, Channels, DataMessage, DataRequest,
};
use futures_util::{SinkExt, StreamExt};
use lockstep_core::UnixNanos;
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

/// What the feed hands the driver.
#[derive(Debug, Clone, PartialEq)]
pub enum FeedEvent {
    /// A minute bar, first delivery.
    Bar(BarMsg),
    /// A late correction of a bar already delivered (`updatedBars`).
    Correction(BarMsg),
    /// A frame or body that could not be read, with why.
    Raw {
        /// The text as received (truncated to 4 KiB).
        text: String,
        /// What was wrong.
        reason: String,
    },
    /// The stream is subscribed and caught up by REST.
    Connected,
    /// The stream dropped (a reconnect follows after a backoff).
    Disconnected(String),
}

/// Where and what the feed subscribes to. Keys are only ever sent to the configured hosts.
#[derive(Clone)]
pub struct FeedConfig {
    /// Market-data websocket URL (`wss://stream.data.alpaca.markets/v2/iex` by default).
    pub stream_url: String,
    /// Market-data REST base URL (`https://data.alpaca.markets`).
    pub rest_url: String,
    /// API key id.
    pub key_id: String,
    /// API secret.
    pub secret_key: String,
    /// Symbols whose minute bars to follow.
    pub symbols: Vec<String>,
    /// Crypto pairs (REST under `/v1beta3/crypto/us`) instead of stocks.
    pub crypto: bool,
    /// The clock (for backfill windows).
    pub clock: SharedTime,
    /// Backfill starts here on the first connect (later: after the last bar seen).
    pub backfill_from: UnixNanos,
    /// Bars already consumed (a resumed session's journal): per symbol, the open time of
    /// the last one; only later bars are handed on.
    pub seen: BTreeMap<String, UnixNanos>,
}

impl std::fmt::Debug for FeedConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedConfig")
            .field("stream_url", &self.stream_url)
            .field("rest_url", &self.rest_url)
            .field("symbols", &self.symbols)
            .field("crypto", &self.crypto)
            .finish_non_exhaustive()
    }
}

/// Reconnect backoff: 0.5 s doubling to 30 s, with a deterministic jitter of up to 25 %.
pub fn backoff(attempt: u32) -> Duration {
    let base = 500u64.saturating_mul(1u64 << attempt.min(6)).min(30_000);
    let jitter = (u64::from(attempt).wrapping_mul(2_654_435_761) % 1000) * base / 4000;
    Duration::from_millis(base + jitter)
}

fn clip(text: &str) -> String {
    text.chars().take(4096).collect()
}

/// Per-symbol watermark: a bar is new only if it opens after the last one delivered.
#[derive(Debug, Default)]
struct Seen(BTreeMap<String, UnixNanos>);

impl Seen {
    fn fresh(&mut self, b: &BarMsg) -> bool {
        let last = self
            .0
            .entry(b.symbol.clone())
            .or_insert(UnixNanos(i64::MIN));
        if b.bar.time > *last {
            *last = b.bar.time;
            true
        } else {
            false
        }
    }

    fn resume_from(&self, default: UnixNanos) -> UnixNanos {
        self.0
            .values()
            .copied()
            .filter(|t| t.0 > i64::MIN)
            .min()
            .map_or(default, |t| t.plus(1))
    }
}

/// Runs the feed until the driver drops its receiver.
pub async fn run_feed(cfg: FeedConfig, tx: mpsc::Sender<FeedEvent>) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build();
    let Ok(http) = http else {
        let _ = tx
            .send(FeedEvent::Disconnected(
                "cannot build the HTTP client".into(),
            ))
            .await;
        return;
    };
    let mut seen = Seen(cfg.seen.clone());
    let mut attempt = 0u32;
    loop {
        match session(&cfg, &http, &tx, &mut seen).await {
            Ok(()) => return,
            Err(why) => {
                if tx.send(FeedEvent::Disconnected(why)).await.is_err() {
                    return;
                }
            }
        }
        tokio::time::sleep(backoff(attempt)).await;
        attempt = attempt.saturating_add(1);
    }
}

/// One connection: handshake, subscribe, backfill, then stream. `Ok` when the driver is
/// gone; `Err` with why the connection ended otherwise.
async fn session(
    cfg: &FeedConfig,
    http: &reqwest::Client,
    tx: &mpsc::Sender<FeedEvent>,
    seen: &mut Seen,
) -> Result<(), String> {
    let (mut ws, _) = tokio_tungstenite::connect_async(cfg.stream_url.as_str())
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let auth = DataRequest::Auth {
        key: cfg.key_id.clone(),
        secret: cfg.secret_key.clone(),
    };
    let sub = DataRequest::Subscribe(Channels {
        bars: cfg.symbols.clone(),
        updated_bars: cfg.symbols.clone(),
        ..Channels::default()
    });
    for req in [auth, sub] {
        let text = serde_json::to_string(&req).map_err(|e| e.to_string())?;
        ws.send(Message::text(text))
            .await
            .map_err(|e| format!("send: {e}"))?;
    }
    let mut subscribed = false;
    while let Some(frame) = ws.next().await {
        let text = match frame.map_err(|e| format!("read: {e}"))? {
            Message::Text(t) => t.to_string(),
            Message::Binary(b) => String::from_utf8_lossy(&b).to_string(),
            Message::Close(c) => return Err(format!("closed by the server: {c:?}")),
            _ => continue,
        };
        let msgs = match parse_data_frame(&text) {
            Ok(m) => m,
            Err(e) => {
                let raw = FeedEvent::Raw {
                    text: clip(&text),
                    reason: e.to_string(),
                };
                if tx.send(raw).await.is_err() {
                    return Ok(());
                }
                continue;
            }
        };
        for m in msgs {
            let event = match m {
                DataMessage::Error { code, msg } => {
                    return Err(format!("market data error {code}: {msg}"))
                }
                DataMessage::Subscription(_) if !subscribed => {
                    subscribed = true;
                    if backfill(cfg, http, tx, seen).await.is_err() {
                        return Ok(());
                    }
                    FeedEvent::Connected
                }
                DataMessage::Bar(b) if seen.fresh(&b) => FeedEvent::Bar(b),
                DataMessage::UpdatedBar(b) => FeedEvent::Correction(b),
                _ => continue,
            };
            if tx.send(event).await.is_err() {
                return Ok(());
            }
        }
    }
    Err("the stream ended".into())
}

/// Fetches the bars missed since the last one seen, page by page, and hands on the new ones.
/// `Err` only when the driver is gone; a REST failure is reported as a raw event.
async fn backfill(
    cfg: &FeedConfig,
    http: &reqwest::Client,
    tx: &mpsc::Sender<FeedEvent>,
    seen: &mut Seen,
) -> Result<(), ()> {
    let start = seen.resume_from(cfg.backfill_from);
    let end = cfg.clock.now();
    if start >= end {
        return Ok(());
    }
    let path = if cfg.crypto {
        "/v1beta3/crypto/us/bars"
    } else {
        "/v2/stocks/bars"
    };
    let url = format!("{}{path}", cfg.rest_url.trim_end_matches('/'));
    let mut token: Option<String> = None;
    loop {
        let mut query = vec![
            ("symbols", cfg.symbols.join(",")),
            ("timeframe", "1Min".to_string()),
            ("start", start.to_iso()),
            ("end", end.to_iso()),
            ("limit", "10000".to_string()),
        ];
        if let Some(t) = &token {
            query.push(("page_token", t.clone()));
        }
        let answer = http
            .get(&url)
            .query(&query)
            .header("APCA-API-KEY-ID", &cfg.key_id)
            .header("APCA-API-SECRET-KEY", &cfg.secret_key)
            .send()
            .await;
        let body = match answer {
            Ok(r) if r.status().is_success() => r.text().await.unwrap_or_default(),
            Ok(r) => {
                let status = r.status();
                let text = r.text().await.unwrap_or_default();
                let raw = FeedEvent::Raw {
                    text: clip(&text),
                    reason: format!("backfill answered {status}"),
                };
                return tx.send(raw).await.map_err(|_| ());
            }
            Err(e) => {
                let raw = FeedEvent::Raw {
                    text: String::new(),
                    reason: format!("backfill failed: {e}"),
                };
                return tx.send(raw).await.map_err(|_| ());
            }
        };
        let page = match parse_bars_response(&body) {
            Ok(p) => p,
            Err(e) => {
                let raw = FeedEvent::Raw {
                    text: clip(&body),
                    reason: e.to_string(),
                };
                return tx.send(raw).await.map_err(|_| ());
            }
        };
        for b in merge_by_time(page.bars) {
            if seen.fresh(&b) {
                tx.send(FeedEvent::Bar(b)).await.map_err(|_| ())?;
            }
        }
        match page.next_page_token {
            Some(t) => token = Some(t),
            None => return Ok(()),
        }
    }
}

/// A page's bars (grouped by symbol) in time order, then symbol order.
fn merge_by_time(bars: BTreeMap<String, Vec<BarData>>) -> Vec<BarMsg> {
    let mut all: Vec<BarMsg> = bars
        .into_iter()
        .flat_map(|(symbol, list)| {
            list.into_iter().map(move |bar| BarMsg {
                symbol: symbol.clone(),
                bar,
            })
        })
        .collect();
    all.sort_by(|a, b| (a.bar.time, &a.symbol).cmp(&(b.bar.time, &b.symbol)));
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_half_a_second_to_thirty() {
        assert!(backoff(0) >= Duration::from_millis(500));
        assert!(backoff(0) < Duration::from_millis(650));
        assert!(backoff(1) >= Duration::from_millis(1000));
        for a in 6..40 {
            assert!(backoff(a) >= Duration::from_secs(30));
            assert!(backoff(a) <= Duration::from_millis(37_500));
        }
    }
}
