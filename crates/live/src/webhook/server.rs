//! The HTTP side: `POST /webhook` screens the request on the server's task and hands the
//! result to the driver, which judges, journals and answers it; the answer goes out only
//! after the outcome is durable.

use super::screen::{screen, too_large, Screened, SIGNATURE_HEADER};
use super::{Call, Reply};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// How long a request waits for the driver's answer before it is answered 503.
const ANSWER_WAIT: Duration = Duration::from_secs(10);

struct Ctx {
    /// The shared secret (from the environment; never logged, echoed or journaled).
    secret: Vec<u8>,
    calls: mpsc::Sender<Call>,
}

/// Binds `addr` (port 0 picks a free port) and serves `POST /webhook` on a spawned task
/// until the returned handle is aborted; returns the bound address. Every request is
/// screened ([`super::screen::screen`]) and sent to `calls` with a reply slot; the answer is
/// whatever the driver replies: 200 `accepted`/`duplicate`, 400, 401, 413 or 422
/// `rejected`, each `{"status", "id", "errors"}`. 503 `rejected` when the session is
/// stopping (the driver took no call within 10 s). Any other path is 404.
pub async fn serve(
    addr: SocketAddr,
    secret: String,
    calls: mpsc::Sender<Call>,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let ctx = Arc::new(Ctx {
        secret: secret.into_bytes(),
        calls,
    });
    let app = Router::new()
        .route("/webhook", post(webhook))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(super::screen::BODY_LIMIT))
        .with_state(ctx);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((bound, task))
}

async fn not_found() -> Response {
    let body = json!({"status": "rejected", "id": null, "errors": ["not found: POST /webhook"]});
    (StatusCode::NOT_FOUND, Json(body)).into_response()
}

fn answer(reply: Reply) -> Response {
    let status = StatusCode::from_u16(reply.http).unwrap_or(StatusCode::BAD_REQUEST);
    (status, Json(reply.body())).into_response()
}

async fn webhook(
    State(ctx): State<Arc<Ctx>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let screened = match body {
        Ok(body) => {
            let signature = headers
                .get(SIGNATURE_HEADER)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).to_string());
            screen(&body, signature.as_deref(), &ctx.secret)
        }
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            let declared = headers
                .get(axum::http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok()?.parse().ok())
                .unwrap_or(super::screen::BODY_LIMIT + 1);
            Screened::Refused(too_large(declared))
        }
        Err(e) => Screened::Refused(super::screen::Refusal {
            http: 400,
            errors: vec![format!("body: {}", e.body_text())],
            bytes: 0,
            body: None,
        }),
    };
    let (tx, rx) = oneshot::channel();
    let stopping = || answer(Reply::stopping());
    if ctx
        .calls
        .send_timeout(
            Call {
                screened,
                reply: tx,
            },
            ANSWER_WAIT,
        )
        .await
        .is_err()
    {
        return stopping();
    }
    match tokio::time::timeout(ANSWER_WAIT, rx).await {
        Ok(Ok(reply)) => answer(reply),
        _ => stopping(),
    }
}
