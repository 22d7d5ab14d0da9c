//! The trade-updates stream (§5): server messages `authorization`, `listening` and
//! `trade_updates`, and the client's `authenticate` and `listen` requests.

use super::codec;
use super::enums::TradeEvent;
use super::order::Order;
use super::WireError;
use lockstep_core::UnixNanos;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A server message on `/stream`: a JSON object `{"stream": ..., "data": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "stream", content = "data")]
pub enum StreamMessage {
    /// The answer to `authenticate` (or to a `listen` sent before it).
    #[serde(rename = "authorization")]
    Authorization(Authorization),
    /// The answer to `listen`.
    #[serde(rename = "listening")]
    Listening(Listening),
    /// An order event.
    #[serde(rename = "trade_updates")]
    TradeUpdate(Box<TradeUpdate>),
}

/// `{"action":"authenticate","status":"authorized"|"unauthorized"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authorization {
    /// The request answered: `authenticate` or `listen`.
    #[serde(default)]
    pub action: String,
    /// `authorized` or `unauthorized`.
    pub status: String,
}

impl Authorization {
    /// True for `status == "authorized"`.
    pub fn is_authorized(&self) -> bool {
        self.status == "authorized"
    }
}

/// `{"streams":["trade_updates"]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listening {
    /// The streams now listened to.
    #[serde(default, deserialize_with = "codec::null_as_empty")]
    pub streams: Vec<String>,
}

/// One `trade_updates` event. `price`, `qty` and `position_qty` are present on fills;
/// derive cumulative state from `order.filled_qty` / `order.filled_avg_price` and dedupe
/// fills by `execution_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TradeUpdate {
    /// What happened (unknown events are `TradeEvent::Other`).
    pub event: TradeEvent,
    /// Unique id of a fill.
    #[serde(
        default,
        deserialize_with = "codec::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub execution_id: Option<String>,
    /// Event time.
    #[serde(
        default,
        deserialize_with = "codec::opt_time",
        serialize_with = "codec::ser_opt_time",
        skip_serializing_if = "Option::is_none"
    )]
    pub timestamp: Option<UnixNanos>,
    /// Fill price.
    #[serde(
        default,
        deserialize_with = "codec::opt_decimal",
        serialize_with = "codec::ser_opt_decimal",
        skip_serializing_if = "Option::is_none"
    )]
    pub price: Option<Decimal>,
    /// Fill quantity.
    #[serde(
        default,
        deserialize_with = "codec::opt_decimal",
        serialize_with = "codec::ser_opt_decimal",
        skip_serializing_if = "Option::is_none"
    )]
    pub qty: Option<Decimal>,
    /// Signed position after this event.
    #[serde(
        default,
        deserialize_with = "codec::opt_decimal",
        serialize_with = "codec::ser_opt_decimal",
        skip_serializing_if = "Option::is_none"
    )]
    pub position_qty: Option<Decimal>,
    /// The order after the event.
    pub order: Order,
}

/// A client request on `/stream`: `{"action": ..., "data": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", content = "data", rename_all = "lowercase")]
pub enum StreamRequest {
    /// `{"action":"authenticate","data":{"key_id":..,"secret_key":..}}`.
    Authenticate {
        /// APCA key id.
        key_id: String,
        /// APCA secret.
        secret_key: String,
    },
    /// `{"action":"listen","data":{"streams":["trade_updates"]}}`.
    Listen {
        /// Streams to listen to (replaces the set; `[]` stops).
        #[serde(default, deserialize_with = "codec::null_as_empty")]
        streams: Vec<String>,
    },
}

#[derive(Deserialize)]
struct Envelope {
    stream: String,
    #[serde(default)]
    data: serde_json::Value,
}

/// Parses one server frame (text or binary payload). Never panics: malformed JSON, an
/// unknown `stream`, a missing field or a wrong type is an `Err` with a short reason, so the
/// caller can journal the raw frame. An unknown *event* is not an error (`TradeEvent::Other`).
pub fn parse_trade_update(frame: &[u8]) -> Result<StreamMessage, WireError> {
    let env: Envelope = serde_json::from_slice(frame).map_err(WireError::from_json)?;
    let data = env.data;
    match env.stream.as_str() {
        "authorization" => serde_json::from_value(data)
            .map(StreamMessage::Authorization)
            .map_err(|e| WireError::shape("authorization", e)),
        "listening" => serde_json::from_value(data)
            .map(StreamMessage::Listening)
            .map_err(|e| WireError::shape("listening", e)),
        "trade_updates" => serde_json::from_value(data)
            .map(|u| StreamMessage::TradeUpdate(Box::new(u)))
            .map_err(|e| WireError::shape("trade_updates", e)),
        other => Err(WireError::Unknown(format!("stream `{}`", clip(other)))),
    }
}

/// Parses one client request on `/stream` (what the fake reads).
pub fn parse_stream_request(frame: &[u8]) -> Result<StreamRequest, WireError> {
    serde_json::from_slice(frame).map_err(WireError::from_json)
}

/// At most 40 characters of untrusted text, for error messages.
pub(crate) fn clip(s: &str) -> String {
    s.chars().take(40).collect()
}

/// The JSON of a server message (what the fake sends in binary frames).
pub fn stream_message_json(m: &StreamMessage) -> Vec<u8> {
    // Serializing these types cannot fail (string keys, no non-finite floats).
    serde_json::to_vec(m).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::enums::OrderStatus;

    const FILL: &str = r#"{"stream":"trade_updates","data":{"event":"fill","execution_id":"2f63ea93-423d-4169-b3f6-3fdafc10c418",
       "timestamp":"2022-04-19T17:45:05.024916716Z","price":"105.8988475","qty":"1790.86",
       "position_qty":"0","order":{"id":"7b08df51-c1ac-453c-99f7-323a5f075f0d","client_order_id":"c1",
       "created_at":"2022-04-19T13:45:04.5-04:00","symbol":"AAPL","qty":"1790.86","filled_qty":"1790.86",
       "filled_avg_price":"105.8988475","order_class":"","type":"market","side":"sell",
       "time_in_force":"day","status":"filled","extended_hours":false}}}"#;

    #[test]
    fn handshake_messages() {
        let a = parse_trade_update(
            br#"{"stream":"authorization","data":{"action":"authenticate","status":"authorized"}}"#,
        )
        .unwrap();
        assert!(matches!(a, StreamMessage::Authorization(ref x) if x.is_authorized()));
        let u = parse_trade_update(
            br#"{"stream":"authorization","data":{"action":"listen","status":"unauthorized"}}"#,
        )
        .unwrap();
        assert!(matches!(u, StreamMessage::Authorization(ref x) if !x.is_authorized()));
        let l =
            parse_trade_update(br#"{"stream":"listening","data":{"streams":["trade_updates"]}}"#)
                .unwrap();
        assert_eq!(
            l,
            StreamMessage::Listening(Listening {
                streams: vec!["trade_updates".into()]
            })
        );
    }

    #[test]
    fn fill_event_and_round_trip() {
        let m = parse_trade_update(FILL.as_bytes()).unwrap();
        let StreamMessage::TradeUpdate(u) = &m else {
            panic!("not an update")
        };
        assert_eq!(u.event, TradeEvent::Fill);
        assert_eq!(u.price, Some(Decimal::new(1058988475, 7)));
        assert_eq!(u.position_qty, Some(Decimal::ZERO));
        assert_eq!(u.order.status, OrderStatus::Filled);
        assert_eq!(u.order.filled_qty, Decimal::new(179086, 2));
        let again = parse_trade_update(&stream_message_json(&m)).unwrap();
        assert_eq!(again, m);
    }

    #[test]
    fn unknown_event_is_kept_and_bad_frames_are_errors() {
        let text = FILL.replace("\"event\":\"fill\"", "\"event\":\"trade_bust\"");
        let m = parse_trade_update(text.as_bytes()).unwrap();
        let StreamMessage::TradeUpdate(u) = m else {
            panic!("not an update")
        };
        assert_eq!(u.event, TradeEvent::Other("trade_bust".into()));
        for bad in [
            &b"not json"[..],
            b"",
            b"[1,2]",
            br#"{"stream":"nope","data":{}}"#,
            br#"{"stream":"trade_updates","data":{"event":"fill"}}"#,
            br#"{"stream":"trade_updates","data":{"event":7,"order":{}}}"#,
            br#"{"data":{}}"#,
            &[0xff, 0xfe, 0x00],
        ] {
            let e = parse_trade_update(bad).unwrap_err();
            assert!(e.to_string().len() < 160, "short reason: {e}");
        }
    }

    #[test]
    fn truncated_and_corrupted_frames_never_panic() {
        let base = FILL.as_bytes();
        for cut in 0..base.len() {
            assert!(parse_trade_update(&base[..cut]).is_err());
        }
        for i in 0..base.len() {
            let mut b = base.to_vec();
            b[i] ^= 0x5a;
            let _ = parse_trade_update(&b);
        }
    }

    #[test]
    fn client_requests() {
        let r = parse_stream_request(
            br#"{"action":"authenticate","data":{"key_id":"k","secret_key":"s"}}"#,
        )
        .unwrap();
        assert_eq!(
            r,
            StreamRequest::Authenticate {
                key_id: "k".into(),
                secret_key: "s".into()
            }
        );
        let text = serde_json::to_string(&StreamRequest::Listen {
            streams: vec!["trade_updates".into()],
        })
        .unwrap();
        assert_eq!(
            text,
            r#"{"action":"listen","data":{"streams":["trade_updates"]}}"#
        );
        assert!(parse_stream_request(br#"{"action":"dance"}"#).is_err());
    }
}
