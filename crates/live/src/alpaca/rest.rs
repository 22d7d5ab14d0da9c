//! Alpaca's trading REST API as the live venue needs it: submit (never retried by itself),
//! look up by client order id, cancel, account and positions. Every call waits its turn in
//! one shared budget under Alpaca's 200 requests a minute, and after any 429 every call
//! waits until the reset the broker named. Keys go only into headers.

use crate::wire::{Account, ApiError, FillActivity, Order, OrderRequest, Position};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use lockstep_core::UnixNanos;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// How many times a lookup, cancel or read meets a 429 before it gives up (a submit is
/// never retried here: the broker task decides, under the same client order id).
const TRIES_ON_429: u32 = 4;

/// Requests per minute the client allows itself (Alpaca allows 200).
pub const BUDGET_PER_MINUTE: u32 = 180;

/// What a submit came to.
#[derive(Debug, Clone, PartialEq)]
pub enum SubmitOutcome {
    /// The broker took it; its id.
    Accepted(String),
    /// A provable refusal (4xx other than 429): the order does not exist.
    Refused {
        /// HTTP status.
        status: u16,
        /// Alpaca's message.
        message: String,
    },
    /// Rate limited: not placed; try again (same id) after the wait.
    RateLimited(Duration),
    /// No answer we can trust (timeout, reset, 5xx): the order may or may not exist.
    Unknown(String),
}

/// What a cancel came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelOutcome {
    /// Accepted (204); the `canceled` event follows.
    Requested,
    /// The order is no longer cancelable (filled or already done): its events tell.
    NotCancelable,
    /// The broker does not know the id.
    NotFound,
}

/// The trading REST client.
pub struct TradingClient {
    http: reqwest::Client,
    base: String,
    key_id: String,
    secret_key: String,
    budget: DefaultDirectRateLimiter,
    /// After a 429: no request leaves before this instant.
    hold: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for TradingClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TradingClient")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

fn message(body: &str) -> String {
    serde_json::from_str::<ApiError>(body)
        .map(|e| format!("{} ({})", e.message, e.code))
        .unwrap_or_else(|_| body.chars().take(200).collect())
}

impl TradingClient {
    /// A client for `base` (e.g. `https://paper-api.alpaca.markets`).
    pub fn new(base: &str, key_id: &str, secret_key: &str) -> Result<Self, String> {
        let per_minute = NonZeroU32::new(BUDGET_PER_MINUTE).ok_or("zero budget")?;
        Self::with_budget(base, key_id, secret_key, per_minute)
    }

    /// As [`Self::new`] with a budget of `per_minute` requests (a broker that allows more,
    /// or a loopback fake in a campaign).
    pub fn with_budget(
        base: &str,
        key_id: &str,
        secret_key: &str,
        per_minute: NonZeroU32,
    ) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(TradingClient {
            http,
            base: base.trim_end_matches('/').to_string(),
            key_id: key_id.to_string(),
            secret_key: secret_key.to_string(),
            budget: RateLimiter::direct(Quota::per_minute(per_minute)),
            hold: Mutex::new(None),
        })
    }

    /// Waits for a place in the budget and until any 429 hold has passed.
    async fn turn(&self) {
        self.budget.until_ready().await;
        loop {
            let until = *self.hold.lock().unwrap_or_else(|e| e.into_inner());
            match until {
                Some(t) if t > Instant::now() => tokio::time::sleep_until(t).await,
                _ => return,
            }
        }
    }

    /// After a 429: holds every request until the reset `resp` names; returns the wait.
    fn hold_after(&self, resp: &reqwest::Response) -> Duration {
        let reset = resp
            .headers()
            .get("X-RateLimit-Reset")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let wait = wait_until(reset);
        let until = Instant::now() + wait;
        let mut hold = self.hold.lock().unwrap_or_else(|e| e.into_inner());
        if hold.is_none_or(|h| h < until) {
            *hold = Some(until);
        }
        wait
    }

    /// Sends the request `build` makes in its turn; on a 429 waits for the reset and sends
    /// it again, at most [`TRIES_ON_429`] times (for requests that are safe to repeat).
    async fn send(
        &self,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, reqwest::Error> {
        let mut tries = 0;
        loop {
            self.turn().await;
            let resp = build().send().await?;
            tries += 1;
            if resp.status().as_u16() != 429 || tries >= TRIES_ON_429 {
                return Ok(resp);
            }
            self.hold_after(&resp);
        }
    }

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .header("APCA-API-KEY-ID", &self.key_id)
            .header("APCA-API-SECRET-KEY", &self.secret_key)
    }

    /// Sends the order once. Never retries: a lost answer is `Unknown`, to be resolved by
    /// [`Self::by_client_id`].
    pub async fn submit(&self, order: &OrderRequest) -> SubmitOutcome {
        self.turn().await;
        let sent = self
            .req(reqwest::Method::POST, "/v2/orders")
            .json(order)
            .send()
            .await;
        let resp = match sent {
            Ok(r) => r,
            Err(e) => return SubmitOutcome::Unknown(format!("no answer: {e}")),
        };
        let status = resp.status();
        if status.as_u16() == 429 {
            return SubmitOutcome::RateLimited(self.hold_after(&resp));
        }
        let body = resp.text().await.unwrap_or_default();
        match status.as_u16() {
            200..=299 => match serde_json::from_str::<Order>(&body) {
                Ok(o) => SubmitOutcome::Accepted(o.id),
                Err(e) => SubmitOutcome::Unknown(format!("unreadable answer: {e}")),
            },
            400..=499 => SubmitOutcome::Refused {
                status: status.as_u16(),
                message: message(&body),
            },
            _ => SubmitOutcome::Unknown(format!("{status}: {}", message(&body))),
        }
    }

    /// The order with our id, `None` if the broker never took it.
    pub async fn by_client_id(&self, client_order_id: &str) -> Result<Option<Order>, String> {
        let resp = self
            .send(|| {
                self.req(reqwest::Method::GET, "/v2/orders:by_client_order_id")
                    .query(&[("client_order_id", client_order_id)])
            })
            .await
            .map_err(|e| format!("lookup: {e}"))?;
        match resp.status().as_u16() {
            404 => Ok(None),
            200..=299 => {
                let body = resp.text().await.map_err(|e| e.to_string())?;
                serde_json::from_str(&body)
                    .map(Some)
                    .map_err(|e| format!("lookup: {e}"))
            }
            s => Err(format!("lookup answered {s}")),
        }
    }

    /// Asks the broker to cancel order `broker_id`.
    pub async fn cancel(&self, broker_id: &str) -> Result<CancelOutcome, String> {
        let path = format!("/v2/orders/{broker_id}");
        let resp = self
            .send(|| self.req(reqwest::Method::DELETE, &path))
            .await
            .map_err(|e| format!("cancel: {e}"))?;
        match resp.status().as_u16() {
            200..=299 => Ok(CancelOutcome::Requested),
            422 => Ok(CancelOutcome::NotCancelable),
            404 => Ok(CancelOutcome::NotFound),
            s => Err(format!("cancel answered {s}")),
        }
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, String> {
        let resp = self
            .send(|| self.req(reqwest::Method::GET, path))
            .await
            .map_err(|e| format!("{path}: {e}"))?;
        let status = resp.status();
        let body = resp.text().await.map_err(|e| format!("{path}: {e}"))?;
        if !status.is_success() {
            return Err(format!("{path} answered {status}: {}", message(&body)));
        }
        serde_json::from_str(&body).map_err(|e| format!("{path}: {e}"))
    }

    /// The account.
    pub async fn account(&self) -> Result<Account, String> {
        self.get("/v2/account").await
    }

    /// Open positions.
    pub async fn positions(&self) -> Result<Vec<Position>, String> {
        self.get("/v2/positions").await
    }

    /// Open orders (at most 500, the broker's page limit).
    pub async fn open_orders(&self) -> Result<Vec<Order>, String> {
        self.get("/v2/orders?status=open&limit=500").await
    }

    /// Every `FILL` activity after `after`, oldest first, page by page (100 a page).
    pub async fn fills_since(&self, after: UnixNanos) -> Result<Vec<FillActivity>, String> {
        const PAGE: usize = 100;
        let mut out: Vec<FillActivity> = Vec::new();
        loop {
            let mut path = format!(
                "/v2/account/activities/FILL?direction=asc&page_size={PAGE}&after={}",
                after.to_iso()
            );
            if let Some(last) = out.last() {
                path.push_str(&format!("&page_token={}", last.id));
            }
            let page: Vec<FillActivity> = self.get(&path).await?;
            let full = page.len() >= PAGE;
            out.extend(page);
            if !full {
                return Ok(out);
            }
        }
    }

    /// The broker's clock.
    pub async fn clock(&self) -> Result<crate::wire::Clock, String> {
        self.get("/v2/clock").await
    }
}

/// How long to wait on a 429: until the reset the broker named (Unix seconds), at least
/// 0.2 s and at most Alpaca's one-minute window; 3 s when it named none (as alpaca-py).
fn wait_until(reset_epoch_secs: Option<u64>) -> Duration {
    let Some(reset) = reset_epoch_secs else {
        return Duration::from_secs(3);
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Duration::from_secs(reset)
        .saturating_sub(now)
        .clamp(Duration::from_millis(200), Duration::from_secs(60))
}
