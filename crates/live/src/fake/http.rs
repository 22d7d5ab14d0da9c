//! The shared server context, error bodies, header auth and the route table.

use super::bars::BarStore;
use super::state::State;
use super::{data_rest, data_stream, rest_account, rest_orders, trade_stream};
use crate::time_source::SharedTime;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use lockstep_core::UnixNanos;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::sync::watch;

/// What every handler and socket task shares.
#[derive(Debug)]
pub(crate) struct App {
    /// All mutable state.
    pub state: Mutex<State>,
    /// The clock everything follows.
    pub clock: SharedTime,
    /// The market (immutable).
    pub bars: Arc<BarStore>,
    /// How often sockets look at the clock.
    pub tick: Duration,
    /// Flips to true on shutdown.
    pub shutdown: watch::Receiver<bool>,
    /// APCA key id.
    pub key_id: String,
    /// APCA secret.
    pub secret_key: String,
}

impl App {
    /// The state, even if a panicking task poisoned the lock.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The clock's now.
    pub fn now(&self) -> UnixNanos {
        self.clock.now()
    }

    /// The state, advanced to the clock's now (everything due has happened).
    pub fn current(&self) -> MutexGuard<'_, State> {
        let now = self.now();
        let mut st = self.lock();
        st.advance(now);
        st
    }

    /// True when both keys match.
    pub fn keys_match(&self, key: &str, secret: &str) -> bool {
        key == self.key_id && secret == self.secret_key
    }

    /// Checks the `APCA-API-KEY-ID` and `APCA-API-SECRET-KEY` headers.
    pub fn auth(&self, headers: &HeaderMap) -> Result<(), ApiErr> {
        let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        match (get("apca-api-key-id"), get("apca-api-secret-key")) {
            (Some(k), Some(s)) if self.keys_match(k, s) => Ok(()),
            _ => Err(ApiErr::new(
                StatusCode::UNAUTHORIZED,
                40110000,
                "request is not authorized",
            )),
        }
    }

    /// True when the request carries no APCA headers at all (crypto data needs none).
    pub fn no_auth_headers(headers: &HeaderMap) -> bool {
        !headers.contains_key("apca-api-key-id") && !headers.contains_key("apca-api-secret-key")
    }
}

/// An error answer: HTTP status and the `{"code","message"}` body, plus optional extra
/// fields (e.g. `available` on an insufficient-qty 403) and headers.
#[derive(Debug, Clone)]
pub(crate) struct ApiErr {
    /// HTTP status.
    pub status: StatusCode,
    /// Alpaca code (0 leaves `code` out, as market data does).
    pub code: i64,
    /// Text.
    pub message: String,
    /// Extra body fields.
    pub extra: serde_json::Map<String, serde_json::Value>,
    /// Extra headers.
    pub headers: Vec<(&'static str, String)>,
}

impl ApiErr {
    /// An error with a code and a message.
    pub fn new(status: StatusCode, code: i64, message: impl Into<String>) -> ApiErr {
        ApiErr {
            status,
            code,
            message: message.into(),
            extra: serde_json::Map::new(),
            headers: Vec::new(),
        }
    }

    /// 422 with code 42210000.
    pub fn unprocessable(message: impl Into<String>) -> ApiErr {
        ApiErr::new(StatusCode::UNPROCESSABLE_ENTITY, 42210000, message)
    }

    /// 422 with code 40010000 (a missing or invalid field).
    pub fn invalid(message: impl Into<String>) -> ApiErr {
        ApiErr::new(StatusCode::UNPROCESSABLE_ENTITY, 40010000, message)
    }

    /// 400 with code 40010000.
    pub fn bad_request(message: impl Into<String>) -> ApiErr {
        ApiErr::new(StatusCode::BAD_REQUEST, 40010000, message)
    }

    /// 404 with code 40410000.
    pub fn not_found(message: impl Into<String>) -> ApiErr {
        ApiErr::new(StatusCode::NOT_FOUND, 40410000, message)
    }

    /// A market-data error: only `message`.
    pub fn data(status: StatusCode, message: impl Into<String>) -> ApiErr {
        ApiErr::new(status, 0, message)
    }
}

impl IntoResponse for ApiErr {
    fn into_response(self) -> Response {
        let mut body = serde_json::Map::new();
        if self.code != 0 {
            body.insert("code".into(), self.code.into());
        }
        body.insert("message".into(), self.message.into());
        body.extend(self.extra);
        let mut resp = json(self.status, serde_json::Value::Object(body).to_string());
        for (name, value) in self.headers {
            if let Ok(v) = HeaderValue::from_str(&value) {
                resp.headers_mut().insert(name, v);
            }
        }
        resp
    }
}

/// A JSON response with this exact body text.
pub(crate) fn json(status: StatusCode, body: String) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// A 200 JSON response of a serializable value.
pub(crate) fn ok_json<T: serde::Serialize>(v: &T) -> Response {
    match serde_json::to_string(v) {
        Ok(body) => json(StatusCode::OK, body),
        Err(e) => {
            ApiErr::new(StatusCode::INTERNAL_SERVER_ERROR, 50010000, e.to_string()).into_response()
        }
    }
}

async fn not_found() -> Response {
    ApiErr::not_found("endpoint not found").into_response()
}

/// The endpoints that share Alpaca's trading request budget (market data has its own).
const TRADING_PATHS: [&str; 5] = [
    "/v2/account",
    "/v2/clock",
    "/v2/calendar",
    "/v2/positions",
    "/v2/orders",
];

/// Real Unix milliseconds (a rate limit is on the wall clock, not the market's).
fn real_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// A 429 as Alpaca sends it: the budget, none left, and the Unix second it resets.
pub(crate) fn too_many_requests(limit: u32, reset_secs: u64) -> Response {
    let mut e = ApiErr::new(
        StatusCode::TOO_MANY_REQUESTS,
        42910000,
        "rate limit exceeded",
    );
    e.headers = vec![
        ("x-ratelimit-limit", limit.to_string()),
        ("x-ratelimit-remaining", "0".into()),
        ("x-ratelimit-reset", reset_secs.to_string()),
    ];
    e.into_response()
}

/// A 429 for a scripted [`super::Fault::Http`]: resets at the next real second.
pub(crate) fn scripted_429() -> Response {
    too_many_requests(200, real_ms() / 1000 + 1)
}

/// Counts a trading request against [`super::Fault::RateLimit`]'s budget; over it, 429.
async fn budget(
    axum::extract::State(app): axum::extract::State<Arc<App>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = req.uri().path();
    if TRADING_PATHS.iter().any(|p| path.starts_with(p)) {
        let mut st = app.lock();
        let verdict = st
            .faults
            .rate
            .as_mut()
            .map(|w| (w.limit(), w.take(real_ms())));
        if let Some((limit, Err(reset))) = verdict {
            st.stats.rate_limited += 1;
            return too_many_requests(limit, reset);
        }
    }
    next.run(req).await
}

/// Every route the fake serves.
pub(crate) fn router(app: Arc<App>) -> Router {
    use axum::routing::post;
    Router::new()
        .route("/v2/account", get(rest_account::account))
        .route(
            "/v2/account/activities/{kind}",
            get(super::activities::activities),
        )
        .route("/v2/clock", get(rest_account::clock))
        .route("/v2/calendar", get(rest_account::calendar))
        .route("/v2/positions", get(rest_account::positions))
        .route("/v2/positions/{symbol}", get(rest_account::position))
        .route(
            "/v2/orders",
            post(rest_orders::post_order)
                .get(rest_orders::list_orders)
                .delete(rest_orders::cancel_all),
        )
        .route(
            "/v2/orders/{id}",
            get(rest_orders::get_order).delete(rest_orders::cancel_order),
        )
        .route(
            "/v2/orders:by_client_order_id",
            get(rest_orders::get_by_client_id),
        )
        .route("/stream", get(trade_stream::upgrade))
        .route("/v2/iex", get(data_stream::upgrade))
        .route("/v2/sip", get(data_stream::upgrade))
        .route("/v2/delayed_sip", get(data_stream::upgrade))
        .route("/v2/test", get(data_stream::upgrade))
        .route("/v1beta3/crypto/us", get(data_stream::upgrade))
        .route("/v2/stocks/bars", get(data_rest::stock_bars))
        .route("/v2/stocks/{symbol}/bars", get(data_rest::symbol_bars))
        .route("/v1beta3/crypto/us/bars", get(data_rest::crypto_bars))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&app),
            budget,
        ))
        .with_state(app)
}
