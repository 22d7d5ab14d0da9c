//! `/stream`: the trade-updates WebSocket (§5). Handshake `authenticate` → `authorization`,
//! `listen` → `listening`; server messages are JSON in binary frames, as paper sends them.
//! One connection at a time: a second one is closed at once with code 1008.

use super::http::{ApiErr, App};
use super::state::{Outbound, TradeConn, C_CONN};
use crate::wire::{
    parse_stream_request, stream_message_json, Authorization, Listening, StreamMessage,
    StreamRequest,
};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State as Ax;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use tokio::sync::mpsc;

/// `GET /stream` with an upgrade; 503 without one while [`super::Fault::TradeStreamDownFor`]
/// keeps the stream down.
pub(crate) async fn upgrade(Ax(app): Ax<Arc<App>>, ws: WebSocketUpgrade) -> Response {
    let now = app.now();
    {
        let mut st = app.lock();
        if st.faults.trade_stream_down(now) {
            st.stats.trade_stream_refused += 1;
            return ApiErr::new(
                StatusCode::SERVICE_UNAVAILABLE,
                50310000,
                "trade updates unavailable",
            )
            .into_response();
        }
    }
    ws.on_upgrade(move |socket| session(app, socket))
}

fn close(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

fn binary(m: &StreamMessage) -> Message {
    Message::Binary(stream_message_json(m).into())
}

fn authorization(action: &str, ok: bool) -> Message {
    binary(&StreamMessage::Authorization(Authorization {
        action: action.into(),
        status: if ok { "authorized" } else { "unauthorized" }.into(),
    }))
}

/// Answers one client request; updates the listening flag in the state.
fn answer(app: &App, conn: u64, authorized: &mut bool, frame: &[u8]) -> Option<Message> {
    match parse_stream_request(frame).ok()? {
        StreamRequest::Authenticate { key_id, secret_key } => {
            *authorized = app.keys_match(&key_id, &secret_key);
            Some(authorization("authenticate", *authorized))
        }
        StreamRequest::Listen { .. } if !*authorized => Some(authorization("listen", false)),
        StreamRequest::Listen { streams } => {
            let streams: Vec<String> = streams
                .into_iter()
                .filter(|s| s == "trade_updates")
                .collect();
            let mut st = app.lock();
            if let Some(c) = st.trade.as_mut().filter(|c| c.id == conn) {
                c.listening = !streams.is_empty();
            }
            Some(binary(&StreamMessage::Listening(Listening { streams })))
        }
    }
}

/// Takes the one trade-stream slot; `None` when another connection holds it.
fn register(app: &App, etx: mpsc::UnboundedSender<Outbound>) -> Option<u64> {
    let mut st = app.lock();
    if st.trade.is_some() {
        st.stats.trade_stream_refused += 1;
        return None;
    }
    let id = st.next(C_CONN);
    st.trade = Some(TradeConn {
        id,
        tx: etx,
        listening: false,
    });
    st.stats.trade_stream_connections += 1;
    Some(id)
}

async fn session(app: Arc<App>, socket: WebSocket) {
    let (mut tx, mut rx) = socket.split();
    let (etx, mut erx) = mpsc::unbounded_channel::<Outbound>();
    let conn = register(&app, etx);
    let Some(conn) = conn else {
        let _ = tx.send(close(1008, "connection limit exceeded")).await;
        return;
    };
    let mut authorized = false;
    let mut shutdown = app.shutdown.clone();
    loop {
        tokio::select! {
            m = rx.next() => {
                let frame = match m {
                    Some(Ok(Message::Text(t))) => t.as_str().as_bytes().to_vec(),
                    Some(Ok(Message::Binary(b))) => b.to_vec(),
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    _ => break,
                };
                if let Some(reply) = answer(&app, conn, &mut authorized, &frame) {
                    if tx.send(reply).await.is_err() {
                        break;
                    }
                }
            }
            ev = erx.recv() => match ev {
                Some(Outbound::Binary(bytes)) => {
                    if tx.send(Message::Binary(bytes.into())).await.is_err() {
                        break;
                    }
                }
                Some(Outbound::Close) | None => {
                    let _ = tx.send(close(1001, "going away")).await;
                    break;
                }
            },
            _ = shutdown.changed() => {
                let _ = tx.send(close(1001, "server shutting down")).await;
                break;
            }
        }
    }
    let mut st = app.lock();
    if st.trade.as_ref().is_some_and(|c| c.id == conn) {
        st.trade = None;
    }
}
