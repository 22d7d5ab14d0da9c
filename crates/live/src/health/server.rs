//! The HTTP side: routes, bearer-token check and the listener.

use super::{metrics, Control, Health};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use lockstep_core::UnixNanos;
use serde::Deserialize;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// The environment variable a caller reads the control token from (the server itself
/// reads no environment; it is named in the 403 answer when control is disabled).
pub const CONTROL_TOKEN_ENV: &str = "LOCKSTEP_CONTROL_TOKEN";

/// How long a control request waits for room in the driver's channel.
const SEND_WAIT: Duration = Duration::from_secs(5);

/// What every handler shares.
struct Ctx {
    health: Health,
    /// The bearer token and the driver's channel; `None` = control disabled.
    control: Option<(String, mpsc::Sender<Control>)>,
}

/// Binds `addr` (port 0 picks a free port) and serves the health and control routes on a
/// spawned task until the returned handle is aborted (or the runtime stops). Returns the
/// bound address. Binds exactly `addr`: [`super::loopback_default`] is loopback, any other
/// interface is served only because the caller asked for it.
///
/// `GET /healthz`: 200 `{"alive":true}` while the task runs. `GET /readyz`: 200 when
/// [`Health::reasons`] is empty, else 503; the body is every [`super::HealthState`] field
/// plus `ready`, `reasons`, `clock_iso` and `last_bar_age_s` (symbol -> seconds), all from
/// one snapshot. `GET /metrics`: [`metrics::render`] with [`metrics::CONTENT_TYPE`].
///
/// `control`: `Some((token, sender))` enables `POST /kill` and `POST /lift` for requests
/// carrying `Authorization: Bearer <token>` (compared in constant time for a given length;
/// an empty token counts as no token, i.e. control disabled). The token is never logged nor
/// echoed. Each accepted request is sent to `sender` once and answered 202
/// `{"accepted":true}`; 401 for a missing or wrong token, 403 when control is disabled,
/// 400 for a body that is not `{"flatten": bool}`, 503 when the driver's channel is
/// closed or stays full for 5 s (nothing is sent then).
pub async fn serve(
    addr: SocketAddr,
    health: Health,
    control: Option<(String, mpsc::Sender<Control>)>,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let control = control.filter(|(token, _)| !token.is_empty());
    let app = router(Arc::new(Ctx { health, control }));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((bound, task))
}

fn router(ctx: Arc<Ctx>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .route("/kill", post(kill))
        .route("/lift", post(lift))
        .fallback(not_found)
        .with_state(ctx)
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "not found")
}

async fn healthz() -> Response {
    Json(json!({ "alive": true })).into_response()
}

async fn readyz(State(ctx): State<Arc<Ctx>>) -> Response {
    let state = ctx.health.snapshot();
    let reasons = state.not_ready_reasons();
    let ready = reasons.is_empty();
    let mut body = match serde_json::to_value(&state) {
        Ok(Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    };
    body.insert("ready".into(), ready.into());
    body.insert("reasons".into(), reasons.into());
    body.insert("clock_iso".into(), UnixNanos(state.clock).to_iso().into());
    let ages: serde_json::Map<String, Value> = state
        .last_bar_age_ns()
        .into_iter()
        .map(|(s, ns)| (s, Value::from(ns as f64 / 1e9)))
        .collect();
    body.insert("last_bar_age_s".into(), Value::Object(ages));
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(Value::Object(body))).into_response()
}

async fn metrics_text(State(ctx): State<Arc<Ctx>>) -> Response {
    let text = metrics::render(&ctx.health.snapshot());
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(metrics::CONTENT_TYPE),
        )],
        text,
    )
        .into_response()
}

/// Equal length and equal bytes, looking at every byte whatever the first difference.
fn token_eq(given: &[u8], expected: &[u8]) -> bool {
    if given.len() != expected.len() {
        return false;
    }
    let diff = given
        .iter()
        .zip(expected)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    std::hint::black_box(diff) == 0
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive).
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Why a control request is refused.
enum Denied {
    /// No token configured (403).
    Disabled,
    /// Missing or wrong bearer token (401).
    Unauthorized,
}

impl IntoResponse for Denied {
    fn into_response(self) -> Response {
        match self {
            Denied::Disabled => error(
                StatusCode::FORBIDDEN,
                &format!("control is disabled: set {CONTROL_TOKEN_ENV}"),
            ),
            Denied::Unauthorized => {
                let mut resp = error(StatusCode::UNAUTHORIZED, "missing or wrong bearer token");
                resp.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                resp
            }
        }
    }
}

/// The driver's channel when control is enabled and the request carries the token.
fn authorize<'a>(ctx: &'a Ctx, headers: &HeaderMap) -> Result<&'a mpsc::Sender<Control>, Denied> {
    let Some((token, tx)) = &ctx.control else {
        return Err(Denied::Disabled);
    };
    match bearer(headers) {
        Some(given) if token_eq(given.as_bytes(), token.as_bytes()) => Ok(tx),
        _ => Err(Denied::Unauthorized),
    }
}

async fn forward(tx: &mpsc::Sender<Control>, c: Control) -> Response {
    match tokio::time::timeout(SEND_WAIT, tx.send(c)).await {
        Ok(Ok(())) => (StatusCode::ACCEPTED, Json(json!({ "accepted": true }))).into_response(),
        Ok(Err(_)) => error(StatusCode::SERVICE_UNAVAILABLE, "the driver is not running"),
        Err(_) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the driver did not take the request in time",
        ),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KillBody {
    #[serde(default)]
    flatten: bool,
}

async fn kill(State(ctx): State<Arc<Ctx>>, headers: HeaderMap, body: Bytes) -> Response {
    let tx = match authorize(&ctx, &headers) {
        Ok(tx) => tx,
        Err(denied) => return denied.into_response(),
    };
    let flatten = if body.iter().all(u8::is_ascii_whitespace) {
        false
    } else {
        match serde_json::from_slice::<KillBody>(&body) {
            Ok(b) => b.flatten,
            Err(_) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "body must be empty or {\"flatten\": true|false}",
                )
            }
        }
    };
    forward(tx, Control::Kill { flatten }).await
}

async fn lift(State(ctx): State<Arc<Ctx>>, headers: HeaderMap) -> Response {
    match authorize(&ctx, &headers) {
        Ok(tx) => forward(tx, Control::Lift).await,
        Err(denied) => denied.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_comparison() {
        assert!(token_eq(b"s3cret", b"s3cret"));
        assert!(!token_eq(b"s3cre", b"s3cret"));
        assert!(!token_eq(b"s3creT", b"s3cret"));
        assert!(!token_eq(b"", b"x"));
    }

    #[test]
    fn bearer_header_parsing() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer(&h), None);
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer abc"),
        );
        assert_eq!(bearer(&h), Some("abc"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer(&h), None);
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert_eq!(bearer(&h), None);
    }
}
