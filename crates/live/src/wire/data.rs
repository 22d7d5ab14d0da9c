//! Market data: the real-time WebSocket messages (§4.3), the client's requests on it, and
//! the REST bars responses (§4.1 multi- and single-symbol shapes, §4.2 crypto).
//!
//! Market-data numbers are JSON numbers. They parse exactly (the shortest text of the
//! double, so `205.93` stays `205.93`) and are written from the exact decimal text, never
//! through a float.

use super::codec;
use super::WireError;
use lockstep_core::UnixNanos;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One bar as the REST API and the `b`/`u`/`d` messages carry it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BarData {
    /// Bar start.
    #[serde(rename = "t", deserialize_with = "codec::time")]
    pub time: UnixNanos,
    /// Open.
    #[serde(rename = "o", deserialize_with = "codec::decimal")]
    pub open: Decimal,
    /// High.
    #[serde(rename = "h", deserialize_with = "codec::decimal")]
    pub high: Decimal,
    /// Low.
    #[serde(rename = "l", deserialize_with = "codec::decimal")]
    pub low: Decimal,
    /// Close.
    #[serde(rename = "c", deserialize_with = "codec::decimal")]
    pub close: Decimal,
    /// Volume (fractional for crypto).
    #[serde(rename = "v", default, deserialize_with = "codec::decimal_or_zero")]
    pub volume: Decimal,
    /// Trade count.
    #[serde(rename = "n", default)]
    pub trades: Option<u64>,
    /// Volume-weighted average price.
    #[serde(rename = "vw", default, deserialize_with = "codec::opt_decimal")]
    pub vwap: Option<Decimal>,
}

impl BarData {
    /// Appends `"o":..,"h":..,...` (no braces) with exact number text; `n` and `vw` only
    /// when present.
    fn write_fields(&self, out: &mut String) {
        let _ = write!(
            out,
            "\"o\":{},\"h\":{},\"l\":{},\"c\":{},\"v\":{},\"t\":\"{}\"",
            codec::decimal_text(&self.open),
            codec::decimal_text(&self.high),
            codec::decimal_text(&self.low),
            codec::decimal_text(&self.close),
            codec::decimal_text(&self.volume),
            self.time.to_iso(),
        );
        if let Some(n) = self.trades {
            let _ = write!(out, ",\"n\":{n}");
        }
        if let Some(vw) = &self.vwap {
            let _ = write!(out, ",\"vw\":{}", codec::decimal_text(vw));
        }
    }

    /// The REST JSON object of this bar.
    pub fn to_json(&self) -> String {
        let mut out = String::from("{");
        self.write_fields(&mut out);
        out.push('}');
        out
    }
}

/// A bar message (`b`, `u` or `d`) for one symbol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BarMsg {
    /// Symbol (`S`).
    pub symbol: String,
    /// The bar.
    pub bar: BarData,
}

impl BarMsg {
    /// The message object with type tag `tag` (`"b"`, `"u"` or `"d"`), exact numbers.
    pub fn to_json(&self, tag: &str) -> String {
        let mut out = format!(
            "{{\"T\":{},\"S\":{},",
            json_str(tag),
            json_str(&self.symbol)
        );
        self.bar.write_fields(&mut out);
        out.push('}');
        out
    }
}

/// Channel lists of a subscription (what `subscribe` asks for and `subscription` confirms).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channels {
    /// Trades.
    #[serde(default, deserialize_with = "codec::null_as_empty")]
    pub trades: Vec<String>,
    /// Quotes.
    #[serde(default, deserialize_with = "codec::null_as_empty")]
    pub quotes: Vec<String>,
    /// Minute bars.
    #[serde(default, deserialize_with = "codec::null_as_empty")]
    pub bars: Vec<String>,
    /// Updated (late-corrected) bars.
    #[serde(
        rename = "updatedBars",
        default,
        deserialize_with = "codec::null_as_empty"
    )]
    pub updated_bars: Vec<String>,
    /// Daily bars.
    #[serde(
        rename = "dailyBars",
        default,
        deserialize_with = "codec::null_as_empty"
    )]
    pub daily_bars: Vec<String>,
    /// Trading statuses.
    #[serde(default, deserialize_with = "codec::null_as_empty")]
    pub statuses: Vec<String>,
    /// LULD bands.
    #[serde(default, deserialize_with = "codec::null_as_empty")]
    pub lulds: Vec<String>,
    /// Trade corrections (implied by trades).
    #[serde(default, deserialize_with = "codec::null_as_empty")]
    pub corrections: Vec<String>,
    /// Trade cancels/errors (implied by trades).
    #[serde(
        rename = "cancelErrors",
        default,
        deserialize_with = "codec::null_as_empty"
    )]
    pub cancel_errors: Vec<String>,
}

/// One message of a market-data frame (a frame is a JSON array of these).
#[derive(Debug, Clone, PartialEq)]
pub enum DataMessage {
    /// `{"T":"success","msg":"connected"|"authenticated"}`.
    Success {
        /// The text.
        msg: String,
    },
    /// `{"T":"error","code":406,"msg":"connection limit exceeded"}`.
    Error {
        /// 400..=410 or 500 (§4.3).
        code: i64,
        /// The text.
        msg: String,
    },
    /// The full current subscription.
    Subscription(Channels),
    /// A minute bar (`b`).
    Bar(BarMsg),
    /// An updated bar (`u`), same `t` as an earlier `b`.
    UpdatedBar(BarMsg),
    /// A daily bar (`d`).
    DailyBar(BarMsg),
    /// Any other type (`t`, `q`, `s`, ...), kept raw.
    Other {
        /// The `T` value.
        kind: String,
        /// The whole message.
        raw: serde_json::Value,
    },
}

impl DataMessage {
    /// The JSON of a control message (`success`, `error`, `subscription`) or a bar, with
    /// exact number text. `Other` is written back raw.
    pub fn to_json(&self) -> String {
        match self {
            DataMessage::Success { msg } => {
                format!("{{\"T\":\"success\",\"msg\":{}}}", json_str(msg))
            }
            DataMessage::Error { code, msg } => {
                format!(
                    "{{\"T\":\"error\",\"code\":{code},\"msg\":{}}}",
                    json_str(msg)
                )
            }
            DataMessage::Subscription(ch) => {
                let body = serde_json::to_string(ch).unwrap_or_else(|_| "{}".into());
                format!("{{\"T\":\"subscription\",{}", body.get(1..).unwrap_or("}"))
            }
            DataMessage::Bar(b) => b.to_json("b"),
            DataMessage::UpdatedBar(b) => b.to_json("u"),
            DataMessage::DailyBar(b) => b.to_json("d"),
            DataMessage::Other { raw, .. } => raw.to_string(),
        }
    }
}

/// A frame (JSON array) of messages.
pub fn data_frame_json(msgs: &[DataMessage]) -> String {
    let parts: Vec<String> = msgs.iter().map(DataMessage::to_json).collect();
    format!("[{}]", parts.join(","))
}

/// A JSON string literal.
pub(crate) fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

#[derive(Deserialize)]
struct Control {
    #[serde(default)]
    msg: String,
    #[serde(default)]
    code: i64,
}

fn bar_msg(kind: &str, v: serde_json::Value) -> Result<BarMsg, WireError> {
    let symbol = v
        .get("S")
        .and_then(|s| s.as_str())
        .ok_or_else(|| WireError::Shape(format!("`{kind}` message without a string `S`")))?
        .to_string();
    let bar = serde_json::from_value(v).map_err(|e| WireError::shape(kind, e))?;
    Ok(BarMsg { symbol, bar })
}

fn one_message(v: serde_json::Value) -> Result<DataMessage, WireError> {
    let kind = match v.get("T") {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(_) => return Err(WireError::Shape("`T` is not a string".into())),
        None => return Err(WireError::Shape("message without `T`".into())),
    };
    let control = |v| serde_json::from_value::<Control>(v).map_err(|e| WireError::shape(&kind, e));
    Ok(match kind.as_str() {
        "success" => DataMessage::Success {
            msg: control(v)?.msg,
        },
        "error" => {
            let c = control(v)?;
            DataMessage::Error {
                code: c.code,
                msg: c.msg,
            }
        }
        "subscription" => DataMessage::Subscription(
            serde_json::from_value(v).map_err(|e| WireError::shape("subscription", e))?,
        ),
        "b" => DataMessage::Bar(bar_msg("b", v)?),
        "u" => DataMessage::UpdatedBar(bar_msg("u", v)?),
        "d" => DataMessage::DailyBar(bar_msg("d", v)?),
        _ => DataMessage::Other { kind, raw: v },
    })
}

/// Parses one market-data frame (a JSON array). Never panics: malformed JSON, a non-array,
/// a message without `T`, or a known type with a missing or mistyped field is an `Err` with
/// a short reason. Unknown types are kept as [`DataMessage::Other`].
pub fn parse_data_frame(text: &str) -> Result<Vec<DataMessage>, WireError> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(WireError::from_json)?;
    let serde_json::Value::Array(items) = v else {
        return Err(WireError::Shape("frame is not a JSON array".into()));
    };
    items.into_iter().map(one_message).collect()
}

/// A client request on the market-data socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "lowercase")]
pub enum DataRequest {
    /// `{"action":"auth","key":..,"secret":..}`.
    Auth {
        /// APCA key id.
        key: String,
        /// APCA secret.
        secret: String,
    },
    /// `{"action":"subscribe","bars":["SPY"]}` (additive).
    Subscribe(Channels),
    /// `{"action":"unsubscribe","bars":["SPY"]}` (subtractive).
    Unsubscribe(Channels),
}

/// Parses one client request (what the fake reads).
pub fn parse_data_request(text: &str) -> Result<DataRequest, WireError> {
    serde_json::from_str(text).map_err(WireError::from_json)
}

/// `GET /v2/stocks/bars` and `GET /v1beta3/crypto/{loc}/bars`: bars by symbol.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BarsResponse {
    /// Bars per symbol, each in time order.
    #[serde(default, deserialize_with = "null_map")]
    pub bars: BTreeMap<String, Vec<BarData>>,
    /// Token of the next page; `None` on the last.
    #[serde(default, deserialize_with = "codec::opt_string")]
    pub next_page_token: Option<String>,
}

fn null_map<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, Vec<BarData>>, D::Error> {
    let v: Option<BTreeMap<String, Option<Vec<BarData>>>> = Deserialize::deserialize(d)?;
    Ok(v.unwrap_or_default()
        .into_iter()
        .map(|(k, b)| (k, b.unwrap_or_default()))
        .collect())
}

impl BarsResponse {
    /// The JSON text, exact numbers, symbols in order.
    pub fn to_json(&self) -> String {
        let per: Vec<String> = self
            .bars
            .iter()
            .map(|(s, bars)| {
                let items: Vec<String> = bars.iter().map(BarData::to_json).collect();
                format!("{}:[{}]", json_str(s), items.join(","))
            })
            .collect();
        format!(
            "{{\"bars\":{{{}}},\"next_page_token\":{}}}",
            per.join(","),
            token_json(&self.next_page_token)
        )
    }
}

/// `GET /v2/stocks/{symbol}/bars`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SymbolBarsResponse {
    /// The symbol.
    pub symbol: String,
    /// Bars in time order (`null` reads as empty).
    #[serde(default, deserialize_with = "codec::null_as_empty")]
    pub bars: Vec<BarData>,
    /// Token of the next page; `None` on the last.
    #[serde(default, deserialize_with = "codec::opt_string")]
    pub next_page_token: Option<String>,
    /// Currency, e.g. `USD`.
    #[serde(default, deserialize_with = "codec::opt_string")]
    pub currency: Option<String>,
}

impl SymbolBarsResponse {
    /// The JSON text, exact numbers.
    pub fn to_json(&self) -> String {
        let items: Vec<String> = self.bars.iter().map(BarData::to_json).collect();
        format!(
            "{{\"symbol\":{},\"bars\":[{}],\"next_page_token\":{},\"currency\":{}}}",
            json_str(&self.symbol),
            items.join(","),
            token_json(&self.next_page_token),
            self.currency
                .as_deref()
                .map_or("null".to_string(), json_str)
        )
    }
}

fn token_json(t: &Option<String>) -> String {
    t.as_deref().map_or("null".to_string(), json_str)
}

/// Parses a bars response body (either shape's parse errors as a short reason).
pub fn parse_bars_response(body: &str) -> Result<BarsResponse, WireError> {
    serde_json::from_str(body).map_err(|e| WireError::shape("bars", e))
}

/// Parses a single-symbol bars response body.
pub fn parse_symbol_bars_response(body: &str) -> Result<SymbolBarsResponse, WireError> {
    serde_json::from_str(body).map_err(|e| WireError::shape("bars", e))
}

#[cfg(test)]
#[path = "data_tests.rs"]
mod tests;
