//! A trade activity of `GET /v2/account/activities/FILL`: one execution, with the order it
//! belongs to and the order's cumulative quantity after it. After a stream gap these are
//! the exact prices and quantities of the fills that were missed.

use super::codec;
use super::enums::OrderSide;
use lockstep_core::UnixNanos;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One `FILL` activity. Its `id` (`<time>::<uuid>`) orders activities and is the page
/// token of the next page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FillActivity {
    /// Activity id, e.g. `20131004140000000::<uuid>`.
    pub id: String,
    /// `FILL`.
    #[serde(default)]
    pub activity_type: String,
    /// When it executed.
    #[serde(deserialize_with = "codec::time", serialize_with = "codec::ser_time")]
    pub transaction_time: UnixNanos,
    /// `fill` (the order is done) or `partial_fill`.
    #[serde(rename = "type", default)]
    pub fill_type: String,
    /// Execution price.
    #[serde(
        deserialize_with = "codec::decimal",
        serialize_with = "codec::ser_decimal"
    )]
    pub price: Decimal,
    /// Executed quantity.
    #[serde(
        deserialize_with = "codec::decimal",
        serialize_with = "codec::ser_decimal"
    )]
    pub qty: Decimal,
    /// Buy or sell.
    pub side: OrderSide,
    /// Ticker.
    #[serde(default)]
    pub symbol: String,
    /// The order's quantity still open after it.
    #[serde(
        default,
        deserialize_with = "codec::decimal_or_zero",
        serialize_with = "codec::ser_decimal"
    )]
    pub leaves_qty: Decimal,
    /// The order's filled quantity after it.
    #[serde(
        deserialize_with = "codec::decimal",
        serialize_with = "codec::ser_decimal"
    )]
    pub cum_qty: Decimal,
    /// The broker's order id.
    pub order_id: String,
    /// The order's status after it.
    #[serde(default)]
    pub order_status: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_alpacas_fill_activity() {
        let text = r#"{"id":"20131004140000000::8f2c","activity_type":"FILL",
            "transaction_time":"2013-10-04T10:00:00.000-04:00","type":"partial_fill",
            "price":"168.9","qty":"5","side":"buy","symbol":"SPY","leaves_qty":"5",
            "order_id":"o-1","cum_qty":"5","order_status":"partially_filled","extra":1}"#;
        let a: FillActivity = serde_json::from_str(text).expect("activity");
        assert_eq!(a.transaction_time.to_iso(), "2013-10-04T14:00:00Z");
        assert_eq!(a.price.to_string(), "168.9");
        assert_eq!((a.qty, a.cum_qty), (Decimal::from(5), Decimal::from(5)));
        assert_eq!(a.fill_type, "partial_fill");
        assert_eq!(a.side, OrderSide::Buy);
        let back: FillActivity =
            serde_json::from_str(&serde_json::to_string(&a).expect("json")).expect("again");
        assert_eq!(back, a);
    }
}
