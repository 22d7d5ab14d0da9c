//! Alpaca's JSON shapes (Trading API v2, trade-updates stream, market data), read leniently
//! and written the way Alpaca writes them.
//!
//! Reading rules (§0 of the Alpaca notes): decimals from strings or numbers into
//! [`rust_decimal::Decimal`], `""` as none, unknown fields ignored, RFC 3339 timestamps with
//! any offset into [`lockstep_core::UnixNanos`], unknown enum values kept as `Other(String)`.
//! The two frame parsers, [`parse_trade_update`] and [`parse_data_frame`], never panic: bad
//! input is a [`WireError`] with a short reason so the caller can journal the raw frame.

pub mod account;
pub mod activity;
pub mod codec;
pub mod data;
pub mod enums;
pub mod order;
pub mod stream;

pub use account::{Account, ApiError, Clock, Position};
pub use activity::FillActivity;
pub use data::{
    data_frame_json, parse_bars_response, parse_data_frame, parse_data_request,
    parse_symbol_bars_response, BarData, BarMsg, BarsResponse, Channels, DataMessage, DataRequest,
    SymbolBarsResponse,
};
pub use enums::{OrderSide, OrderStatus, OrderType, PositionSide, TimeInForce, TradeEvent};
pub use order::{Order, OrderRequest};
pub use stream::{
    parse_stream_request, parse_trade_update, stream_message_json, Authorization, Listening,
    StreamMessage, StreamRequest, TradeUpdate,
};

/// Why a frame or body could not be read. The text is short and names the problem, never
/// the whole input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Not JSON at all (syntax error, truncated, not UTF-8).
    #[error("not JSON: {0}")]
    Syntax(String),
    /// JSON of the wrong shape: a missing field, a wrong type, a bad value.
    #[error("bad shape: {0}")]
    Shape(String),
    /// A well-formed message of a kind this version does not know (e.g. a new `stream`).
    #[error("unknown {0}")]
    Unknown(String),
}

impl WireError {
    /// Classifies a serde_json error.
    pub(crate) fn from_json(e: serde_json::Error) -> WireError {
        let text = short(&e.to_string());
        if e.is_data() {
            WireError::Shape(text)
        } else {
            WireError::Syntax(text)
        }
    }

    /// A shape error inside a message of kind `what`.
    pub(crate) fn shape(what: &str, e: serde_json::Error) -> WireError {
        WireError::Shape(format!("{}: {}", stream::clip(what), short(&e.to_string())))
    }
}

/// At most 120 characters of an error text.
fn short(s: &str) -> String {
    if s.chars().count() <= 120 {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(117).collect();
        t.push_str("...");
        t
    }
}
