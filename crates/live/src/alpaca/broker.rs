//! The broker task: connects the `trade_updates` stream first (no order is sent before it
//! is authorized and listening), then sends the loop's requests (closes, cancels and
//! reconciliation ahead of waiting entries, see [`super::lanes`]) and turns stream
//! events into venue reports. A submit whose answer is lost is looked up by its client order
//! id, and re-sent only under the same id when the broker provably never took it.

use super::lanes::Lanes;
use super::reconcile::{catch_up_open, check_book, check_clock, lookup, reconcile_order, Book};
use super::rest::{CancelOutcome, SubmitOutcome, TradingClient};
use super::updates::{engine_order_id, KnownOrder, Translator};
use super::venue::Outgoing;
use crate::feed::backoff;
use crate::time_source::SharedTime;
use crate::wire::{
    parse_trade_update, OrderRequest, OrderSide, OrderType, StreamMessage, StreamRequest,
    TimeInForce as WireTif,
};
use futures_util::{SinkExt, StreamExt};
use lockstep_core::{OrderId, OrderKind, Side, TimeInForce, UnixNanos};
use lockstep_engine::VenueReport;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

/// Where the broker is and who we are there.
#[derive(Clone)]
pub struct BrokerConfig {
    /// Trading REST base; its `/stream` carries trade updates.
    pub trading_url: String,
    /// API key id.
    pub key_id: String,
    /// API secret.
    pub secret_key: String,
    /// The run id our client order ids start with.
    pub run_id: String,
    /// The clock (report times when the broker gives none).
    pub clock: SharedTime,
    /// After a restart: the last order number the journal knows and its working orders
    /// (so nothing already booked is reported again); empty for a new session.
    pub resumed: Option<(u64, Vec<KnownOrder>)>,
    /// Requests a minute the client allows itself (`None`: [`super::rest::BUDGET_PER_MINUTE`],
    /// under Alpaca's 200).
    pub budget_per_minute: Option<std::num::NonZeroU32>,
}

impl std::fmt::Debug for BrokerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrokerConfig")
            .field("trading_url", &self.trading_url)
            .field("run_id", &self.run_id)
            .finish_non_exhaustive()
    }
}

/// What the broker task tells the driver.
#[derive(Debug, Clone, PartialEq)]
pub enum BrokerEvent {
    /// The update stream is listening (and, after a gap, caught up): orders may flow.
    Ready,
    /// The update stream is down (a reconnect follows): entries must wait.
    Down(String),
    /// A report for the loop, received at this clock time.
    Report(UnixNanos, VenueReport),
    /// A frame that could not be read (journaled raw and counted).
    Raw {
        /// The text as received (at most 4 KiB).
        text: String,
        /// What was wrong.
        reason: String,
    },
    /// Something to journal and show a person.
    Alert(String),
    /// A real broker error (5xx, timeout, 429, failed lookup or cancel): journaled, shown,
    /// and counted toward the venue breaker.
    Error(String),
    /// The broker's positions and foreign open orders (answer to `CheckBook`).
    Book(Book),
    /// Our clock minus the broker's, in milliseconds (answer to `CheckClock`).
    Clock(i64),
}

/// State the broker task's parts share.
pub(super) type Shared<T> = Arc<Mutex<T>>;

fn stream_url(trading_url: &str) -> String {
    let base = trading_url.trim_end_matches('/');
    let ws = base
        .strip_prefix("https://")
        .map(|r| format!("wss://{r}"))
        .or_else(|| base.strip_prefix("http://").map(|r| format!("ws://{r}")))
        .unwrap_or_else(|| base.to_string());
    format!("{ws}/stream")
}

fn order_request(o: &Outgoing) -> Option<OrderRequest> {
    let Outgoing::Submit {
        client_order_id,
        symbol,
        side,
        qty,
        kind,
        tif,
        ..
    } = o
    else {
        return None;
    };
    let (order_type, limit_price, stop_price) = match *kind {
        OrderKind::Market => (OrderType::Market, None, None),
        OrderKind::Limit { limit } => (OrderType::Limit, Some(limit), None),
        OrderKind::Stop { stop } => (OrderType::Stop, None, Some(stop)),
        OrderKind::StopLimit { stop, limit } => (OrderType::StopLimit, Some(limit), Some(stop)),
    };
    Some(OrderRequest {
        symbol: symbol.clone(),
        qty: Some(*qty),
        notional: None,
        side: match side {
            Side::Buy => OrderSide::Buy,
            Side::Sell => OrderSide::Sell,
        },
        order_type,
        time_in_force: match tif {
            TimeInForce::Day => WireTif::Day,
            TimeInForce::Gtc => WireTif::Gtc,
            TimeInForce::Ioc => WireTif::Ioc,
        },
        limit_price,
        stop_price,
        client_order_id: Some(client_order_id.clone()),
        extended_hours: None,
    })
}

/// Runs until the driver drops its request sender and event receiver.
pub async fn run_broker(
    cfg: BrokerConfig,
    requests: mpsc::Receiver<Outgoing>,
    events: mpsc::Sender<BrokerEvent>,
) {
    let made = match cfg.budget_per_minute {
        Some(n) => TradingClient::with_budget(&cfg.trading_url, &cfg.key_id, &cfg.secret_key, n),
        None => TradingClient::new(&cfg.trading_url, &cfg.key_id, &cfg.secret_key),
    };
    let client = match made {
        Ok(c) => Arc::new(c),
        Err(e) => {
            let _ = events
                .send(BrokerEvent::Alert(format!("broker client: {e}")))
                .await;
            return;
        }
    };
    match client.account().await {
        Ok(a) if a.trading_gated() => {
            let _ = events
                .send(BrokerEvent::Alert(
                    "the account cannot trade (blocked or not active)".into(),
                ))
                .await;
        }
        Ok(_) => {}
        Err(e) => {
            let _ = events
                .send(BrokerEvent::Alert(format!("account: {e}")))
                .await;
        }
    }
    let translator: Shared<Translator> = Arc::new(Mutex::new(match &cfg.resumed {
        Some((last, working)) => Translator::resumed(*last, working),
        None => Translator::default(),
    }));
    let ids: Shared<BTreeMap<OrderId, String>> = Arc::default();
    let mut requests = Some(requests);
    let mut attempt = 0u32;
    let mut reconnect = false;
    loop {
        let gap = Gap {
            client: &client,
            ids: &ids,
            reconnect,
        };
        reconnect = true;
        let connected = updates(&cfg, &events, &translator, gap, || {
            // The first time the stream listens, the request sender starts.
            if let Some(rx) = requests.take() {
                tokio::spawn(send_requests(
                    cfg.clone(),
                    client.clone(),
                    rx,
                    events.clone(),
                    translator.clone(),
                    ids.clone(),
                ));
            }
        })
        .await;
        match connected {
            Ok(()) => return,
            Err(why) => {
                let down = BrokerEvent::Down(format!("trade updates stream: {why}; reconnecting"));
                if events.send(down).await.is_err() {
                    return;
                }
            }
        }
        tokio::time::sleep(backoff(attempt)).await;
        attempt = attempt.saturating_add(1);
    }
}

/// What a reconnect needs to catch up on the orders whose updates it may have missed.
struct Gap<'a> {
    client: &'a TradingClient,
    ids: &'a Shared<BTreeMap<OrderId, String>>,
    reconnect: bool,
}

impl Gap<'_> {
    /// Re-reads every order not known to be finished, by client order id, and reports what
    /// the stream missed (booked once: the translator sizes fills from cumulative qty).
    async fn catch_up(
        &self,
        cfg: &BrokerConfig,
        translator: &Shared<Translator>,
    ) -> Vec<BrokerEvent> {
        catch_up_open(cfg, self.client, translator, self.ids).await
    }
}

/// One connection of the update stream. `Ok` when the driver is gone.
async fn updates(
    cfg: &BrokerConfig,
    events: &mpsc::Sender<BrokerEvent>,
    translator: &Shared<Translator>,
    gap: Gap<'_>,
    mut on_ready: impl FnMut(),
) -> Result<(), String> {
    let (mut ws, _) = tokio_tungstenite::connect_async(stream_url(&cfg.trading_url))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let auth = StreamRequest::Authenticate {
        key_id: cfg.key_id.clone(),
        secret_key: cfg.secret_key.clone(),
    };
    let listen = StreamRequest::Listen {
        streams: vec!["trade_updates".into()],
    };
    for r in [auth, listen] {
        let text = serde_json::to_string(&r).map_err(|e| e.to_string())?;
        ws.send(Message::text(text))
            .await
            .map_err(|e| format!("send: {e}"))?;
    }
    while let Some(frame) = ws.next().await {
        let bytes = match frame.map_err(|e| format!("read: {e}"))? {
            Message::Binary(b) => b.to_vec(),
            Message::Text(t) => t.as_bytes().to_vec(),
            Message::Close(c) => return Err(format!("closed: {c:?}")),
            _ => continue,
        };
        let now = cfg.clock.now();
        let out: Vec<BrokerEvent> = match parse_trade_update(&bytes) {
            Ok(StreamMessage::Authorization(a)) if !a.is_authorized() => {
                return Err("unauthorized: check APCA_API_KEY_ID / APCA_API_SECRET_KEY".into())
            }
            Ok(StreamMessage::Authorization(_)) => Vec::new(),
            Ok(StreamMessage::Listening(_)) => {
                on_ready();
                let mut out = Vec::new();
                if gap.reconnect {
                    out.extend(gap.catch_up(cfg, translator).await);
                }
                out.push(BrokerEvent::Ready);
                out
            }
            Ok(StreamMessage::TradeUpdate(u)) => {
                match engine_order_id(&u.order.client_order_id, &cfg.run_id) {
                    Some(id) => {
                        let reports = lock(translator).translate(&u, id, now);
                        crate::crash::point("update_received");
                        reports
                            .into_iter()
                            .map(|r| BrokerEvent::Report(now, r))
                            .collect()
                    }
                    None => vec![BrokerEvent::Alert(format!(
                        "an update for an order this run did not place: {}",
                        u.order.client_order_id
                    ))],
                }
            }
            Err(e) => vec![BrokerEvent::Raw {
                text: String::from_utf8_lossy(&bytes).chars().take(4096).collect(),
                reason: e.to_string(),
            }],
        };
        for e in out {
            if events.send(e).await.is_err() {
                return Ok(());
            }
        }
    }
    Err("the stream ended".into())
}

/// Locks `m`, even if a holder panicked (the data is plain bookkeeping).
pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Sends requests one after another: in the loop's order within each of the [`Lanes`],
/// closes, cancels and reconciliation ahead of new entries.
async fn send_requests(
    cfg: BrokerConfig,
    client: Arc<TradingClient>,
    mut rx: mpsc::Receiver<Outgoing>,
    events: mpsc::Sender<BrokerEvent>,
    translator: Shared<Translator>,
    ids: Shared<BTreeMap<OrderId, String>>,
) {
    let mut lanes = Lanes::default();
    loop {
        while let Ok(waiting) = rx.try_recv() {
            lanes.push(waiting);
        }
        let req = match lanes.pop() {
            Some(r) => r,
            None => match rx.recv().await {
                Some(r) => r,
                None => return,
            },
        };
        let out = match &req {
            Outgoing::Submit {
                order_id,
                client_order_id,
                after_restart,
                ..
            } => {
                let placed = Placing {
                    cfg: &cfg,
                    client: &client,
                    translator: &translator,
                    ids: &ids,
                };
                placed
                    .place(&req, *order_id, client_order_id, *after_restart)
                    .await
            }
            Outgoing::Cancel {
                order_id,
                client_order_id,
            } => cancel(&client, *order_id, client_order_id, &ids).await,
            Outgoing::Reconcile {
                order_id,
                client_order_id,
            } => {
                reconcile_order(&cfg, &client, *order_id, client_order_id, &translator, &ids).await
            }
            Outgoing::CheckBook { attempt } => {
                check_book(&cfg, &client, *attempt, &translator, &ids).await
            }
            Outgoing::CheckClock => check_clock(&cfg, &client).await,
        };
        for e in out {
            if events.send(e).await.is_err() {
                return;
            }
        }
    }
}

/// What placing an order needs from the broker task.
struct Placing<'a> {
    cfg: &'a BrokerConfig,
    client: &'a TradingClient,
    translator: &'a Shared<Translator>,
    ids: &'a Shared<BTreeMap<OrderId, String>>,
}

impl Placing<'_> {
    /// Submits `req`; after a restart the order is first looked up by client id (the
    /// broker may have it already) and posted only if the broker never took it.
    async fn place(
        &self,
        req: &Outgoing,
        order_id: OrderId,
        cid: &str,
        after_restart: bool,
    ) -> Vec<BrokerEvent> {
        let mut out = Vec::new();
        if after_restart {
            match lookup(
                self.cfg,
                self.client,
                order_id,
                cid,
                self.translator,
                self.ids,
            )
            .await
            {
                Ok(Some(events)) => return events,
                Ok(None) => {}
                Err(e) => out.push(BrokerEvent::Error(format!("lookup {cid}: {e}"))),
            }
        }
        out.extend(
            submit(
                self.cfg,
                self.client,
                req,
                order_id,
                cid,
                self.translator,
                self.ids,
            )
            .await,
        );
        out
    }
}

async fn submit(
    cfg: &BrokerConfig,
    client: &TradingClient,
    req: &Outgoing,
    order_id: OrderId,
    cid: &str,
    translator: &Shared<Translator>,
    ids: &Shared<BTreeMap<OrderId, String>>,
) -> Vec<BrokerEvent> {
    let Some(body) = order_request(req) else {
        return Vec::new();
    };
    let mut alerts = Vec::new();
    for _ in 0..6 {
        crate::crash::point("before_post");
        match client.submit(&body).await {
            SubmitOutcome::Accepted(id) => {
                crate::crash::point("after_post");
                lock(ids).insert(order_id, id);
                return alerts;
            }
            SubmitOutcome::RateLimited(wait) => {
                // Not placed; the client holds every request until the reset, then this
                // order goes again under the same id.
                alerts.push(BrokerEvent::Error(format!(
                    "order {cid}: rate limited (429); waiting {} ms for the reset",
                    wait.as_millis()
                )));
            }
            SubmitOutcome::Refused { message, .. } if message.contains("must be unique") => {
                // Our id is already there: an earlier attempt (maybe before a restart)
                // landed; report what it did meanwhile.
                let mut out = alerts;
                out.extend(reconcile_order(cfg, client, order_id, cid, translator, ids).await);
                return out;
            }
            SubmitOutcome::Refused { status, message } => {
                let now = cfg.clock.now();
                let reason = format!("{status}: {message}");
                let mut out = alerts;
                out.extend(
                    lock(translator)
                        .refused(order_id, now, reason)
                        .into_iter()
                        .map(|r| BrokerEvent::Report(now, r)),
                );
                return out;
            }
            SubmitOutcome::Unknown(why) => {
                alerts.push(BrokerEvent::Error(format!(
                    "order {cid}: {why}; looking it up by client order id"
                )));
                for _ in 0..3 {
                    match client.by_client_id(cid).await {
                        Ok(Some(o)) => {
                            lock(ids).insert(order_id, o.id);
                            return alerts;
                        }
                        Ok(None) => break,
                        Err(_) => tokio::time::sleep(Duration::from_millis(300)).await,
                    }
                }
            }
        }
    }
    alerts.push(BrokerEvent::Alert(format!(
        "order {cid}: still not placed after 6 attempts; left unresolved"
    )));
    alerts
}

async fn cancel(
    client: &TradingClient,
    order_id: OrderId,
    cid: &str,
    ids: &Shared<BTreeMap<OrderId, String>>,
) -> Vec<BrokerEvent> {
    let known = lock(ids).get(&order_id).cloned();
    let broker_id = match known {
        Some(id) => id,
        None => match client.by_client_id(cid).await {
            Ok(Some(o)) => o.id,
            _ => {
                return vec![BrokerEvent::Alert(format!(
                    "cancel {cid}: the broker does not know it"
                ))]
            }
        },
    };
    crate::crash::point("before_cancel");
    match client.cancel(&broker_id).await {
        Ok(CancelOutcome::Requested | CancelOutcome::NotCancelable) => Vec::new(),
        Ok(CancelOutcome::NotFound) => {
            vec![BrokerEvent::Alert(format!(
                "cancel {cid}: not found at the broker"
            ))]
        }
        Err(e) => vec![BrokerEvent::Error(format!("cancel {cid}: {e}"))],
    }
}
