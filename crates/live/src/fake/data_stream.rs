//! Market-data WebSockets (`/v2/iex`, `/v2/sip`, `/v2/delayed_sip`, `/v2/test`,
//! `/v1beta3/crypto/us`), §4.3: `connected`, auth (headers or message, within 10 s of real
//! time), `subscribe`/`unsubscribe` answered with the full set, then each subscribed bar as
//! `[{"T":"b",...}]` once the clock reaches its delivery time, in order. One connection per
//! endpoint: a second one gets error 406 after authenticating and is closed.

use super::bars::normalize;
use super::http::App;
use super::state::C_CONN;
use crate::wire::{
    data_frame_json, parse_data_request, BarData, BarMsg, Channels, DataMessage, DataRequest,
};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State as Ax;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use lockstep_core::UnixNanos;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

type Tx = SplitSink<WebSocket, Message>;
type Rx = SplitStream<WebSocket>;

/// How long a client has to authenticate (real time, whatever the clock does).
const AUTH_TIMEOUT: Duration = Duration::from_secs(10);
/// Most messages in one frame.
const BATCH: usize = 1000;

/// `GET` on a data endpoint with an upgrade.
pub(crate) async fn upgrade(
    Ax(app): Ax<Arc<App>>,
    headers: HeaderMap,
    uri: Uri,
    ws: WebSocketUpgrade,
) -> Response {
    let get = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let header_auth = match (get("apca-api-key-id"), get("apca-api-secret-key")) {
        (Some(k), Some(s)) => Some(app.keys_match(&k, &s)),
        _ => None,
    };
    let endpoint = uri.path().to_string();
    ws.on_upgrade(move |socket| session(app, socket, endpoint, header_auth))
}

async fn send(tx: &mut Tx, msgs: &[DataMessage]) -> bool {
    tx.send(Message::Text(data_frame_json(msgs).into()))
        .await
        .is_ok()
}

fn error(code: i64, msg: &str) -> DataMessage {
    DataMessage::Error {
        code,
        msg: msg.into(),
    }
}

/// Waits for a valid `auth` message; `false` when the client failed, left or timed out
/// (the reason was sent).
async fn authenticate(app: &App, tx: &mut Tx, rx: &mut Rx) -> bool {
    let deadline = tokio::time::Instant::now() + AUTH_TIMEOUT;
    loop {
        let m = match tokio::time::timeout_at(deadline, rx.next()).await {
            Err(_) => {
                send(tx, &[error(404, "auth timeout")]).await;
                return false;
            }
            Ok(Some(Ok(Message::Text(t)))) => t.as_str().to_string(),
            Ok(Some(Ok(Message::Binary(b)))) => String::from_utf8_lossy(&b).into_owned(),
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
            Ok(_) => return false,
        };
        match parse_data_request(&m) {
            Ok(DataRequest::Auth { key, secret }) if app.keys_match(&key, &secret) => return true,
            Ok(DataRequest::Auth { .. }) => {
                send(tx, &[error(402, "auth failed")]).await;
                return false;
            }
            Ok(_) => {
                if !send(tx, &[error(401, "not authenticated")]).await {
                    return false;
                }
            }
            Err(_) => {
                if !send(tx, &[error(400, "invalid syntax")]).await {
                    return false;
                }
            }
        }
    }
}

/// One connection's subscription to bars: normalized symbol → (name as subscribed, since).
#[derive(Debug, Default)]
struct Subs {
    bars: BTreeMap<String, (String, UnixNanos)>,
    all_since: Option<UnixNanos>,
    other: Channels,
}

impl Subs {
    fn apply(&mut self, ch: Channels, add: bool, now: UnixNanos) {
        for s in ch.bars {
            match (s.as_str(), add) {
                ("*", true) => self.all_since = Some(self.all_since.unwrap_or(now)),
                ("*", false) => self.all_since = None,
                (_, true) => {
                    self.bars.entry(normalize(&s)).or_insert((s, now));
                }
                (_, false) => {
                    self.bars.remove(&normalize(&s));
                }
            }
        }
        let merge = |mine: &mut Vec<String>, theirs: Vec<String>| {
            let mut set: BTreeSet<String> = mine.drain(..).collect();
            for x in theirs {
                if add {
                    set.insert(x);
                } else {
                    set.remove(&x);
                }
            }
            *mine = set.into_iter().collect();
        };
        merge(&mut self.other.trades, ch.trades);
        merge(&mut self.other.quotes, ch.quotes);
        merge(&mut self.other.updated_bars, ch.updated_bars);
        merge(&mut self.other.daily_bars, ch.daily_bars);
        merge(&mut self.other.statuses, ch.statuses);
        merge(&mut self.other.lulds, ch.lulds);
    }

    fn current(&self) -> Channels {
        let mut ch = self.other.clone();
        ch.bars = self.bars.values().map(|(s, _)| s.clone()).collect();
        ch.bars.sort();
        if self.all_since.is_some() {
            ch.bars.insert(0, "*".into());
        }
        ch.corrections = ch.trades.clone();
        ch.cancel_errors = ch.trades.clone();
        ch
    }

    /// The name to send a bar of `symbol` delivered at `end` under, if subscribed then.
    fn wants(&self, symbol: &str, end: UnixNanos) -> Option<String> {
        if let Some((name, since)) = self.bars.get(&normalize(symbol)) {
            if end > *since {
                return Some(name.clone());
            }
        }
        self.all_since
            .filter(|s| end > *s)
            .map(|_| symbol.to_string())
    }

    fn any(&self) -> bool {
        self.all_since.is_some() || !self.bars.is_empty()
    }
}

async fn session(app: Arc<App>, socket: WebSocket, endpoint: String, header_auth: Option<bool>) {
    let (mut tx, mut rx) = socket.split();
    if !send(
        &mut tx,
        &[DataMessage::Success {
            msg: "connected".into(),
        }],
    )
    .await
    {
        return;
    }
    let ok = match header_auth {
        Some(false) => {
            send(&mut tx, &[error(402, "auth failed")]).await;
            false
        }
        Some(true) => true,
        None => authenticate(&app, &mut tx, &mut rx).await,
    };
    if !ok {
        let _ = tx.send(Message::Close(None)).await;
        return;
    }
    let conn = {
        let mut st = app.lock();
        if st.data_slots.contains_key(&endpoint) {
            st.stats.data_stream_refused += 1;
            None
        } else {
            let id = st.next(C_CONN);
            st.data_slots.insert(endpoint.clone(), id);
            st.stats.data_stream_connections += 1;
            Some(id)
        }
    };
    let Some(conn) = conn else {
        send(&mut tx, &[error(406, "connection limit exceeded")]).await;
        let _ = tx.send(Message::Close(None)).await;
        return;
    };
    if send(
        &mut tx,
        &[DataMessage::Success {
            msg: "authenticated".into(),
        }],
    )
    .await
    {
        stream(&app, &mut tx, &mut rx).await;
    }
    let mut st = app.lock();
    if st.data_slots.get(&endpoint) == Some(&conn) {
        st.data_slots.remove(&endpoint);
    }
}

/// The subscribed phase: requests, and bars as the clock passes their delivery time.
async fn stream(app: &App, tx: &mut Tx, rx: &mut Rx) {
    let bars = Arc::clone(&app.bars);
    let mut cursor = bars.first_after(app.now());
    let mut subs = Subs::default();
    let mut ticker = tokio::time::interval(app.tick);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut shutdown = app.shutdown.clone();
    loop {
        tokio::select! {
            m = rx.next() => {
                let text = match m {
                    Some(Ok(Message::Text(t))) => t.as_str().to_string(),
                    Some(Ok(Message::Binary(b))) => String::from_utf8_lossy(&b).into_owned(),
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    _ => return,
                };
                let reply = match parse_data_request(&text) {
                    Ok(DataRequest::Auth { .. }) => error(403, "already authenticated"),
                    Ok(DataRequest::Subscribe(ch)) => {
                        subs.apply(ch, true, app.now());
                        DataMessage::Subscription(subs.current())
                    }
                    Ok(DataRequest::Unsubscribe(ch)) => {
                        subs.apply(ch, false, app.now());
                        DataMessage::Subscription(subs.current())
                    }
                    Err(_) => error(400, "invalid syntax"),
                };
                if !send(tx, &[reply]).await {
                    return;
                }
            }
            _ = ticker.tick() => {
                let now = app.now();
                let (withheld, malformed) = {
                    let mut st = app.lock();
                    let m = if subs.any() { st.faults.malformed_data.pop_front() } else { None };
                    if m.is_some() {
                        st.stats.malformed_frames_sent += 1;
                    }
                    let withheld: Vec<bool> = bars
                        .bars
                        .iter()
                        .skip(cursor)
                        .take_while(|b| st.faults.bar_due(b.end) <= now)
                        .map(|b| st.faults.bar_withheld(b.end))
                        .collect();
                    (withheld, m)
                };
                if let Some(text) = malformed {
                    if tx.send(Message::Text(text.into())).await.is_err() {
                        return;
                    }
                }
                let mut out = Vec::new();
                for withheld in withheld {
                    let Some(b) = bars.bars.get(cursor) else { break };
                    cursor += 1;
                    if withheld {
                        continue;
                    }
                    if let Some(name) = subs.wants(&b.symbol, b.end) {
                        out.push(DataMessage::Bar(BarMsg {
                            symbol: name,
                            bar: BarData {
                                time: b.ts,
                                open: b.open,
                                high: b.high,
                                low: b.low,
                                close: b.close,
                                volume: b.volume,
                                trades: Some(0),
                                vwap: Some(Default::default()),
                            },
                        }));
                    }
                }
                for chunk in out.chunks(BATCH) {
                    if !send(tx, chunk).await {
                        return;
                    }
                }
            }
            _ = shutdown.changed() => {
                let _ = tx.send(Message::Close(None)).await;
                return;
            }
        }
    }
}
