//! Helpers of the fake-Alpaca tests: a fake on a manual clock, REST and WebSocket clients
//! with every step bounded by a timeout, and the SPY bars as lockstep's reader sees them.

use futures_util::{SinkExt, StreamExt};
use lockstep_core::{Bar, Calendar, SymbolTable, UnixNanos};
use lockstep_data::{open_source, DataOptions};
use lockstep_live::fake::{spawn, FakeConfig, FakeHandle, Fault};
use lockstep_live::time_source::{ManualClock, SharedTime};
use lockstep_live::wire::{
    parse_data_frame, parse_trade_update, DataMessage, StreamMessage, TradeUpdate,
};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{connect_async, MaybeTlsStream, WebSocketStream};

/// The key id the fake is started with.
pub const KEY: &str = "test-key";
/// The secret the fake is started with.
pub const SECRET: &str = "test-secret";
/// Bound of every network step.
pub const T: Duration = Duration::from_secs(5);
/// A client WebSocket.
pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The bundled SPY one-minute file.
pub fn data_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/lean_spy_1m_7days.parquet")
}

/// A New York wall time on the first SPY session (2013-10-04, EDT).
pub fn et(hms: &str) -> UnixNanos {
    let t = chrono::DateTime::parse_from_rfc3339(&format!("2013-10-04T{hms}-04:00")).unwrap();
    UnixNanos(t.timestamp_nanos_opt().unwrap())
}

/// The SPY bars as lockstep's own reader delivers them.
pub fn spy_bars() -> Vec<Bar> {
    let opts = DataOptions {
        calendar: Calendar::Nyse,
        ..DataOptions::default()
    };
    let mut src = open_source(&data_file(), &opts).unwrap();
    let mut symbols = SymbolTable::new();
    let mut out = Vec::new();
    while let Some(b) = src.next_bar(&mut symbols).unwrap() {
        out.push(b);
    }
    out
}

/// The bar opening at `ts`.
pub fn bar_at(bars: &[Bar], ts: UnixNanos) -> Bar {
    *bars
        .iter()
        .find(|b| b.ts == ts)
        .expect("a bar at that time")
}

/// A fake on a manual clock reading `at`, with these faults.
pub async fn start(at: UnixNanos, faults: Vec<Fault>) -> (FakeHandle, ManualClock) {
    let clock = ManualClock::new(at);
    let shared: SharedTime = Arc::new(clock.clone());
    let mut cfg = FakeConfig::new(KEY, SECRET, data_file(), shared);
    cfg.faults = faults;
    let h = timeout(T, spawn(cfg)).await.unwrap().unwrap();
    assert!(h.addr.ip().is_loopback());
    (h, clock)
}

/// Adds both APCA headers.
pub fn authed(rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    rb.header("APCA-API-KEY-ID", KEY)
        .header("APCA-API-SECRET-KEY", SECRET)
}

/// Sends a request; status, headers and the JSON body (`null` if none).
pub async fn send(rb: reqwest::RequestBuilder) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let resp = timeout(T, rb.send()).await.unwrap().unwrap();
    let (status, headers) = (resp.status(), resp.headers().clone());
    let text = timeout(T, resp.text()).await.unwrap().unwrap();
    (
        status,
        headers,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

/// An authenticated GET.
pub async fn get(h: &FakeHandle, path: &str) -> (StatusCode, Value) {
    let (s, _, v) = send(authed(
        reqwest::Client::new().get(format!("{}{path}", h.base_url())),
    ))
    .await;
    (s, v)
}

/// An authenticated `POST /v2/orders`.
pub async fn post_order(
    h: &FakeHandle,
    body: Value,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    send(authed(reqwest::Client::new().post(format!("{}/v2/orders", h.base_url()))).json(&body))
        .await
}

/// An authenticated DELETE; its status.
pub async fn delete(h: &FakeHandle, path: &str) -> StatusCode {
    send(authed(
        reqwest::Client::new().delete(format!("{}{path}", h.base_url())),
    ))
    .await
    .0
}

/// A limit buy of 1 SPY.
pub fn limit_buy(cid: &str, limit: &str, tif: &str) -> Value {
    json!({"symbol":"SPY","qty":"1","side":"buy","type":"limit","time_in_force":tif,"limit_price":limit,"client_order_id":cid})
}

/// Opens a WebSocket.
pub async fn connect(url: String) -> Ws {
    timeout(T, connect_async(url)).await.unwrap().unwrap().0
}

/// The next data or close frame (pings skipped).
pub async fn recv(ws: &mut Ws) -> Message {
    loop {
        let m = timeout(T, ws.next())
            .await
            .expect("timed out")
            .expect("stream ended")
            .expect("ws error");
        if !matches!(m, Message::Ping(_) | Message::Pong(_)) {
            return m;
        }
    }
}

/// Sends a JSON text frame.
pub async fn send_text(ws: &mut Ws, v: Value) {
    timeout(T, ws.send(Message::text(v.to_string())))
        .await
        .unwrap()
        .unwrap();
}

/// The next trade-stream message; it must arrive in a binary frame.
pub async fn recv_trade(ws: &mut Ws) -> StreamMessage {
    let m = recv(ws).await;
    assert!(m.is_binary(), "paper sends binary frames: {m:?}");
    parse_trade_update(&m.into_data()).unwrap()
}

/// The next trade-stream message, which must be a trade update.
pub async fn recv_update(ws: &mut Ws) -> TradeUpdate {
    match recv_trade(ws).await {
        StreamMessage::TradeUpdate(u) => *u,
        other => panic!("not a trade update: {other:?}"),
    }
}

/// A trade-updates socket through the whole handshake.
pub async fn listen(h: &FakeHandle) -> Ws {
    let mut ws = connect(h.trade_stream_url()).await;
    send_text(
        &mut ws,
        json!({"action":"authenticate","data":{"key_id":KEY,"secret_key":SECRET}}),
    )
    .await;
    assert!(
        matches!(recv_trade(&mut ws).await, StreamMessage::Authorization(a) if a.is_authorized())
    );
    send_text(
        &mut ws,
        json!({"action":"listen","data":{"streams":["trade_updates"]}}),
    )
    .await;
    assert!(
        matches!(recv_trade(&mut ws).await, StreamMessage::Listening(l) if l.streams == ["trade_updates"])
    );
    ws
}

/// The next market-data frame, raw and parsed.
pub async fn recv_data(ws: &mut Ws) -> (String, Vec<DataMessage>) {
    let text = recv(ws).await.into_text().unwrap().to_string();
    let msgs = parse_data_frame(&text).unwrap();
    (text, msgs)
}

/// A market-data socket, authenticated and subscribed to SPY bars.
pub async fn subscribe(url: String) -> Ws {
    let mut ws = connect(url).await;
    assert_eq!(
        recv_data(&mut ws).await.1,
        [DataMessage::Success {
            msg: "connected".into()
        }]
    );
    send_text(&mut ws, json!({"action":"auth","key":KEY,"secret":SECRET})).await;
    assert_eq!(
        recv_data(&mut ws).await.1,
        [DataMessage::Success {
            msg: "authenticated".into()
        }]
    );
    send_text(&mut ws, json!({"action":"subscribe","bars":["SPY"]})).await;
    let (text, sub) = recv_data(&mut ws).await;
    assert!(
        matches!(&sub[..], [DataMessage::Subscription(c)] if c.bars == ["SPY"]),
        "{text}"
    );
    ws
}

/// The `code` of an error body.
pub fn code(v: &Value) -> i64 {
    v["code"].as_i64().unwrap_or(0)
}
