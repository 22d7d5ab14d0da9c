//! Account (§1.7), Position (§1.6), Clock (`GET /v2/clock`) and the error body (§2.1).

use super::codec;
use super::enums::PositionSide;
use lockstep_core::UnixNanos;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// `GET /v2/account`. Money fields are decimals (strings on the wire). The PDT fields are
/// optional (removed by Alpaca on 2026-07-06) and left out when `None`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    /// Account id (UUID).
    #[serde(default)]
    pub id: String,
    /// Account number.
    #[serde(default)]
    pub account_number: String,
    /// `ACTIVE` when the account may trade.
    pub status: String,
    /// Crypto status.
    #[serde(default, deserialize_with = "codec::opt_string")]
    pub crypto_status: Option<String>,
    /// `USD`.
    #[serde(default)]
    pub currency: String,
    /// Cash.
    #[serde(
        deserialize_with = "codec::decimal",
        serialize_with = "codec::ser_decimal"
    )]
    pub cash: Decimal,
    /// cash + long_market_value + short_market_value.
    #[serde(
        deserialize_with = "codec::decimal",
        serialize_with = "codec::ser_decimal"
    )]
    pub equity: Decimal,
    /// Equity at the previous 16:00 ET close.
    #[serde(
        default,
        deserialize_with = "codec::opt_decimal",
        serialize_with = "codec::ser_opt_decimal"
    )]
    pub last_equity: Option<Decimal>,
    /// Deprecated, = equity.
    #[serde(
        default,
        deserialize_with = "codec::opt_decimal",
        serialize_with = "codec::ser_opt_decimal"
    )]
    pub portfolio_value: Option<Decimal>,
    /// Market value of long positions.
    #[serde(
        default,
        deserialize_with = "codec::opt_decimal",
        serialize_with = "codec::ser_opt_decimal"
    )]
    pub long_market_value: Option<Decimal>,
    /// Market value of short positions (negative).
    #[serde(
        default,
        deserialize_with = "codec::opt_decimal",
        serialize_with = "codec::ser_opt_decimal"
    )]
    pub short_market_value: Option<Decimal>,
    /// Buying power.
    #[serde(
        deserialize_with = "codec::decimal",
        serialize_with = "codec::ser_decimal"
    )]
    pub buying_power: Decimal,
    /// Reg-T buying power.
    #[serde(
        default,
        deserialize_with = "codec::opt_decimal",
        serialize_with = "codec::ser_opt_decimal"
    )]
    pub regt_buying_power: Option<Decimal>,
    /// Non-marginable buying power.
    #[serde(
        default,
        deserialize_with = "codec::opt_decimal",
        serialize_with = "codec::ser_opt_decimal"
    )]
    pub non_marginable_buying_power: Option<Decimal>,
    /// Options buying power.
    #[serde(
        default,
        deserialize_with = "codec::opt_decimal",
        serialize_with = "codec::ser_opt_decimal"
    )]
    pub options_buying_power: Option<Decimal>,
    /// Initial margin.
    #[serde(
        default,
        deserialize_with = "codec::opt_decimal",
        serialize_with = "codec::ser_opt_decimal"
    )]
    pub initial_margin: Option<Decimal>,
    /// Maintenance margin.
    #[serde(
        default,
        deserialize_with = "codec::opt_decimal",
        serialize_with = "codec::ser_opt_decimal"
    )]
    pub maintenance_margin: Option<Decimal>,
    /// Maintenance margin at the previous close.
    #[serde(
        default,
        deserialize_with = "codec::opt_decimal",
        serialize_with = "codec::ser_opt_decimal"
    )]
    pub last_maintenance_margin: Option<Decimal>,
    /// Special memorandum account.
    #[serde(
        default,
        deserialize_with = "codec::opt_decimal",
        serialize_with = "codec::ser_opt_decimal"
    )]
    pub sma: Option<Decimal>,
    /// Margin multiplier ("1", "2" or "4").
    #[serde(
        default,
        deserialize_with = "codec::opt_decimal",
        serialize_with = "codec::ser_opt_decimal"
    )]
    pub multiplier: Option<Decimal>,
    /// Short selling allowed.
    #[serde(default)]
    pub shorting_enabled: bool,
    /// Trading blocked.
    #[serde(default)]
    pub trading_blocked: bool,
    /// Transfers blocked.
    #[serde(default)]
    pub transfers_blocked: bool,
    /// Account blocked.
    #[serde(default)]
    pub account_blocked: bool,
    /// The user suspended trading.
    #[serde(default)]
    pub trade_suspended_by_user: bool,
    /// Approved options level.
    #[serde(default)]
    pub options_approved_level: Option<i64>,
    /// Effective options level.
    #[serde(default)]
    pub options_trading_level: Option<i64>,
    /// Accrued fees.
    #[serde(
        default,
        deserialize_with = "codec::opt_decimal",
        serialize_with = "codec::ser_opt_decimal"
    )]
    pub accrued_fees: Option<Decimal>,
    /// Pending incoming transfers.
    #[serde(
        default,
        deserialize_with = "codec::opt_decimal",
        serialize_with = "codec::ser_opt_decimal"
    )]
    pub pending_transfer_in: Option<Decimal>,
    /// Pending outgoing transfers.
    #[serde(
        default,
        deserialize_with = "codec::opt_decimal",
        serialize_with = "codec::ser_opt_decimal"
    )]
    pub pending_transfer_out: Option<Decimal>,
    /// Date of the balances (`YYYY-MM-DD`).
    #[serde(default, deserialize_with = "codec::opt_string")]
    pub balance_asof: Option<String>,
    /// Account creation time.
    #[serde(
        default,
        deserialize_with = "codec::opt_time",
        serialize_with = "codec::ser_opt_time"
    )]
    pub created_at: Option<UnixNanos>,
    /// Gone since 2026-07-06; never rely on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern_day_trader: Option<bool>,
    /// Gone since 2026-07-06; never rely on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daytrade_count: Option<i64>,
    /// Gone since 2026-07-06; never rely on it.
    #[serde(
        default,
        deserialize_with = "codec::opt_decimal",
        serialize_with = "codec::ser_opt_decimal",
        skip_serializing_if = "Option::is_none"
    )]
    pub daytrading_buying_power: Option<Decimal>,
}

impl Account {
    /// The trade gate of §1.7: true when the account may not place orders.
    pub fn trading_gated(&self) -> bool {
        self.trading_blocked
            || self.account_blocked
            || self.trade_suspended_by_user
            || self.status != "ACTIVE"
    }
}

/// One open position (`GET /v2/positions`). `qty` is signed: shorts are negative.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Position {
    /// Asset id.
    #[serde(default)]
    pub asset_id: String,
    /// Symbol.
    pub symbol: String,
    /// Listing exchange (`""` for options).
    #[serde(default)]
    pub exchange: String,
    /// Asset class.
    #[serde(default)]
    pub asset_class: String,
    /// Marginable.
    #[serde(default)]
    pub asset_marginable: Option<bool>,
    /// Signed quantity.
    #[serde(
        deserialize_with = "codec::decimal",
        serialize_with = "codec::ser_decimal"
    )]
    pub qty: Decimal,
    /// qty minus what open orders hold.
    #[serde(
        default,
        deserialize_with = "codec::opt_decimal",
        serialize_with = "codec::ser_opt_decimal"
    )]
    pub qty_available: Option<Decimal>,
    /// Long or short.
    pub side: PositionSide,
    /// Average entry price.
    #[serde(
        deserialize_with = "codec::decimal",
        serialize_with = "codec::ser_decimal"
    )]
    pub avg_entry_price: Decimal,
    /// Market value (negative for shorts).
    #[serde(
        default,
        deserialize_with = "codec::opt_decimal",
        serialize_with = "codec::ser_opt_decimal"
    )]
    pub market_value: Option<Decimal>,
    /// Cost basis.
    #[serde(
        default,
        deserialize_with = "codec::opt_decimal",
        serialize_with = "codec::ser_opt_decimal"
    )]
    pub cost_basis: Option<Decimal>,
    /// Unrealized P&L.
    #[serde(
        default,
        deserialize_with = "codec::opt_decimal",
        serialize_with = "codec::ser_opt_decimal"
    )]
    pub unrealized_pl: Option<Decimal>,
    /// Unrealized P&L as a fraction of the cost basis.
    #[serde(
        default,
        deserialize_with = "codec::opt_decimal",
        serialize_with = "codec::ser_opt_decimal"
    )]
    pub unrealized_plpc: Option<Decimal>,
    /// Unrealized P&L today.
    #[serde(
        default,
        deserialize_with = "codec::opt_decimal",
        serialize_with = "codec::ser_opt_decimal"
    )]
    pub unrealized_intraday_pl: Option<Decimal>,
    /// Unrealized P&L today as a fraction.
    #[serde(
        default,
        deserialize_with = "codec::opt_decimal",
        serialize_with = "codec::ser_opt_decimal"
    )]
    pub unrealized_intraday_plpc: Option<Decimal>,
    /// Current price.
    #[serde(
        default,
        deserialize_with = "codec::opt_decimal",
        serialize_with = "codec::ser_opt_decimal"
    )]
    pub current_price: Option<Decimal>,
    /// Previous close.
    #[serde(
        default,
        deserialize_with = "codec::opt_decimal",
        serialize_with = "codec::ser_opt_decimal"
    )]
    pub lastday_price: Option<Decimal>,
    /// Change since the previous close, as a fraction.
    #[serde(
        default,
        deserialize_with = "codec::opt_decimal",
        serialize_with = "codec::ser_opt_decimal"
    )]
    pub change_today: Option<Decimal>,
}

/// `GET /v2/clock`. Alpaca writes the times with an ET offset; they parse to UTC instants
/// (and are written back as UTC by this type's `Serialize`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Clock {
    /// Server time.
    #[serde(deserialize_with = "codec::time", serialize_with = "codec::ser_time")]
    pub timestamp: UnixNanos,
    /// True inside the regular session.
    pub is_open: bool,
    /// Next session open.
    #[serde(deserialize_with = "codec::time", serialize_with = "codec::ser_time")]
    pub next_open: UnixNanos,
    /// Next session close (today's while open).
    #[serde(deserialize_with = "codec::time", serialize_with = "codec::ser_time")]
    pub next_close: UnixNanos,
}

/// The REST error body `{"code": 40010001, "message": "..."}`. Market-data errors may carry
/// only `message` (then `code` is 0). Extra fields (e.g. `available`) are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// Eight-digit Alpaca code whose first three digits repeat the HTTP family.
    #[serde(default)]
    pub code: i64,
    /// Human text.
    #[serde(default)]
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_with_and_without_pdt_fields() {
        let text = r#"{"id":"e6fe16f3-64a4-4921-8928-cadf02f92f98","account_number":"PA3717PJAYWN",
            "status":"ACTIVE","crypto_status":"ACTIVE","currency":"USD","cash":"100000","equity":"103820.56",
            "last_equity":"103529.01","portfolio_value":"103820.56","long_market_value":"3820.56",
            "short_market_value":"0","buying_power":"403820.56","multiplier":"4","shorting_enabled":true,
            "trading_blocked":false,"transfers_blocked":false,"account_blocked":false,
            "trade_suspended_by_user":false,"pattern_day_trader":false,"daytrade_count":0,
            "daytrading_buying_power":"0","options_trading_level":2,"created_at":"2022-04-19T17:45:05.024916716Z",
            "balance_asof":"2025-06-23","new_thing":1}"#;
        let a: Account = serde_json::from_str(text).unwrap();
        assert_eq!(a.equity, Decimal::new(10382056, 2));
        assert_eq!(a.pattern_day_trader, Some(false));
        assert!(!a.trading_gated());
        let no_pdt = r#"{"status":"ACCOUNT_CLOSED","cash":"1","equity":1,"buying_power":"0"}"#;
        let b: Account = serde_json::from_str(no_pdt).unwrap();
        assert_eq!(b.daytrade_count, None);
        assert!(b.trading_gated());
        let written = serde_json::to_string(&b).unwrap();
        assert!(!written.contains("pattern_day_trader"));
    }

    #[test]
    fn position_clock_and_error() {
        let p: Position = serde_json::from_str(
            r#"{"asset_id":"x","symbol":"SPY","exchange":"ARCA","asset_class":"us_equity","qty":"-5",
            "qty_available":"-5","side":"short","avg_entry_price":"412.5","market_value":"-2060",
            "unrealized_pl":"2.5","current_price":"412"}"#,
        )
        .unwrap();
        assert_eq!(p.qty, Decimal::from(-5));
        assert_eq!(p.side, PositionSide::Short);
        let c: Clock = serde_json::from_str(
            r#"{"timestamp":"2025-06-24T16:00:00-04:00","is_open":false,
            "next_open":"2025-06-25T09:30:00-04:00","next_close":"2025-06-25T16:00:00-04:00"}"#,
        )
        .unwrap();
        assert_eq!(c.timestamp.to_iso(), "2025-06-24T20:00:00Z");
        assert_eq!(c.next_open.to_iso(), "2025-06-25T13:30:00Z");
        let e: ApiError =
            serde_json::from_str(r#"{"code":40010001,"message":"client_order_id must be unique"}"#)
                .unwrap();
        assert_eq!(e.code, 40010001);
        let data_err: ApiError =
            serde_json::from_str(r#"{"message":"invalid timeframe"}"#).unwrap();
        assert_eq!(data_err.code, 0);
    }
}
