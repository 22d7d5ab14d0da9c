//! The Order object (§1.4) and the `POST /v2/orders` body (§1.3, the subset lockstep sends).

use super::codec;
use super::enums::{OrderSide, OrderStatus, OrderType, TimeInForce};
use lockstep_core::UnixNanos;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// An Alpaca order as returned by REST and carried by trade updates. Unknown fields are
/// ignored; `""` reads as `None`; decimals come from strings or numbers and are written as
/// strings; timestamps are RFC 3339 with any offset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    /// Server order id (a UUID).
    pub id: String,
    /// Client order id (ours, unique per account forever).
    pub client_order_id: String,
    /// Creation time.
    #[serde(
        default,
        deserialize_with = "codec::opt_time",
        serialize_with = "codec::ser_opt_time"
    )]
    pub created_at: Option<UnixNanos>,
    /// Last change.
    #[serde(
        default,
        deserialize_with = "codec::opt_time",
        serialize_with = "codec::ser_opt_time"
    )]
    pub updated_at: Option<UnixNanos>,
    /// Submission time (what `after`/`until` filter on).
    #[serde(
        default,
        deserialize_with = "codec::opt_time",
        serialize_with = "codec::ser_opt_time"
    )]
    pub submitted_at: Option<UnixNanos>,
    /// Time of the last fill.
    #[serde(
        default,
        deserialize_with = "codec::opt_time",
        serialize_with = "codec::ser_opt_time"
    )]
    pub filled_at: Option<UnixNanos>,
    /// Time it expired.
    #[serde(
        default,
        deserialize_with = "codec::opt_time",
        serialize_with = "codec::ser_opt_time"
    )]
    pub expired_at: Option<UnixNanos>,
    /// Time it will be auto-canceled.
    #[serde(
        default,
        deserialize_with = "codec::opt_time",
        serialize_with = "codec::ser_opt_time"
    )]
    pub expires_at: Option<UnixNanos>,
    /// Time it was canceled.
    #[serde(
        default,
        deserialize_with = "codec::opt_time",
        serialize_with = "codec::ser_opt_time"
    )]
    pub canceled_at: Option<UnixNanos>,
    /// Time it failed (rejected).
    #[serde(
        default,
        deserialize_with = "codec::opt_time",
        serialize_with = "codec::ser_opt_time"
    )]
    pub failed_at: Option<UnixNanos>,
    /// Time it was replaced.
    #[serde(
        default,
        deserialize_with = "codec::opt_time",
        serialize_with = "codec::ser_opt_time"
    )]
    pub replaced_at: Option<UnixNanos>,
    /// Id of the order that replaced this one.
    #[serde(default, deserialize_with = "codec::opt_string")]
    pub replaced_by: Option<String>,
    /// Id of the order this one replaced.
    #[serde(default, deserialize_with = "codec::opt_string")]
    pub replaces: Option<String>,
    /// Asset id (`""` on an mleg parent).
    #[serde(
        default,
        deserialize_with = "codec::opt_string",
        serialize_with = "codec::ser_empty_if_none"
    )]
    pub asset_id: Option<String>,
    /// Symbol (`""` on an mleg parent).
    #[serde(
        default,
        deserialize_with = "codec::opt_string",
        serialize_with = "codec::ser_empty_if_none"
    )]
    pub symbol: Option<String>,
    /// `us_equity`, `us_option`, `crypto`, ...
    #[serde(
        default,
        deserialize_with = "codec::opt_string",
        serialize_with = "codec::ser_empty_if_none"
    )]
    pub asset_class: Option<String>,
    /// Dollar amount of a notional order.
    #[serde(
        default,
        deserialize_with = "codec::opt_decimal",
        serialize_with = "codec::ser_opt_decimal"
    )]
    pub notional: Option<Decimal>,
    /// Ordered quantity (`None` on notional orders).
    #[serde(
        default,
        deserialize_with = "codec::opt_decimal",
        serialize_with = "codec::ser_opt_decimal"
    )]
    pub qty: Option<Decimal>,
    /// Cumulative filled quantity.
    #[serde(
        default,
        deserialize_with = "codec::decimal_or_zero",
        serialize_with = "codec::ser_decimal"
    )]
    pub filled_qty: Decimal,
    /// Average price over all fills; `None` before the first.
    #[serde(
        default,
        deserialize_with = "codec::opt_decimal",
        serialize_with = "codec::ser_opt_decimal"
    )]
    pub filled_avg_price: Option<Decimal>,
    /// `simple`/`""`, `bracket`, `oco`, `oto`, `mleg`.
    #[serde(
        default,
        deserialize_with = "codec::opt_string",
        serialize_with = "codec::ser_empty_if_none"
    )]
    pub order_class: Option<String>,
    /// `order_type`: the deprecated duplicate of `type`.
    #[serde(rename = "order_type", default, deserialize_with = "opt_order_type")]
    pub legacy_order_type: Option<OrderType>,
    /// `type`: the order type (`""` on mleg legs).
    #[serde(rename = "type", default, deserialize_with = "opt_order_type")]
    pub order_type: Option<OrderType>,
    /// Side (`""` on an mleg parent).
    #[serde(default, deserialize_with = "opt_side")]
    pub side: Option<OrderSide>,
    /// Options position intent.
    #[serde(default, deserialize_with = "codec::opt_string")]
    pub position_intent: Option<String>,
    /// Time in force.
    #[serde(default, deserialize_with = "opt_tif")]
    pub time_in_force: Option<TimeInForce>,
    /// Limit price.
    #[serde(
        default,
        deserialize_with = "codec::opt_decimal",
        serialize_with = "codec::ser_opt_decimal"
    )]
    pub limit_price: Option<Decimal>,
    /// Stop price.
    #[serde(
        default,
        deserialize_with = "codec::opt_decimal",
        serialize_with = "codec::ser_opt_decimal"
    )]
    pub stop_price: Option<Decimal>,
    /// Status (§1.5).
    pub status: OrderStatus,
    /// Extended-hours eligibility.
    #[serde(default, deserialize_with = "null_false")]
    pub extended_hours: bool,
    /// Legs of a bracket/OCO/OTO/mleg order.
    #[serde(default)]
    pub legs: Option<Vec<Order>>,
    /// Trailing percent.
    #[serde(
        default,
        deserialize_with = "codec::opt_decimal",
        serialize_with = "codec::ser_opt_decimal"
    )]
    pub trail_percent: Option<Decimal>,
    /// Trailing amount.
    #[serde(
        default,
        deserialize_with = "codec::opt_decimal",
        serialize_with = "codec::ser_opt_decimal"
    )]
    pub trail_price: Option<Decimal>,
    /// Trailing-stop high-water mark.
    #[serde(
        default,
        deserialize_with = "codec::opt_decimal",
        serialize_with = "codec::ser_opt_decimal"
    )]
    pub hwm: Option<Decimal>,
    /// Leg ratio (mleg legs).
    #[serde(
        default,
        deserialize_with = "codec::opt_decimal",
        serialize_with = "codec::ser_opt_decimal"
    )]
    pub ratio_qty: Option<Decimal>,
    /// Undocumented extra.
    #[serde(default, deserialize_with = "codec::opt_string")]
    pub source: Option<String>,
    /// Undocumented extra.
    #[serde(default, deserialize_with = "codec::opt_string")]
    pub subtag: Option<String>,
}

impl Order {
    /// The order type, from `type` or else the deprecated `order_type`.
    pub fn kind(&self) -> Option<&OrderType> {
        self.order_type.as_ref().or(self.legacy_order_type.as_ref())
    }
}

fn opt_order_type<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<OrderType>, D::Error> {
    Ok(codec::opt_string(d)?.map(|s| OrderType::parse(&s)))
}

fn opt_side<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<OrderSide>, D::Error> {
    Ok(codec::opt_string(d)?.map(|s| OrderSide::parse(&s)))
}

fn opt_tif<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<TimeInForce>, D::Error> {
    Ok(codec::opt_string(d)?.map(|s| TimeInForce::parse(&s)))
}

fn null_false<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(d)?.unwrap_or(false))
}

/// The body of `POST /v2/orders` (the simple-order subset). Decimals are sent as strings;
/// absent options are left out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderRequest {
    /// Ticker.
    pub symbol: String,
    /// Quantity (exactly one of `qty` and `notional`).
    #[serde(
        default,
        deserialize_with = "codec::opt_decimal",
        serialize_with = "codec::ser_opt_decimal",
        skip_serializing_if = "Option::is_none"
    )]
    pub qty: Option<Decimal>,
    /// Dollar amount (market + day only).
    #[serde(
        default,
        deserialize_with = "codec::opt_decimal",
        serialize_with = "codec::ser_opt_decimal",
        skip_serializing_if = "Option::is_none"
    )]
    pub notional: Option<Decimal>,
    /// Buy or sell.
    pub side: OrderSide,
    /// Order type.
    #[serde(rename = "type")]
    pub order_type: OrderType,
    /// Time in force.
    pub time_in_force: TimeInForce,
    /// Limit price (limit and stop_limit).
    #[serde(
        default,
        deserialize_with = "codec::opt_decimal",
        serialize_with = "codec::ser_opt_decimal",
        skip_serializing_if = "Option::is_none"
    )]
    pub limit_price: Option<Decimal>,
    /// Stop price (stop and stop_limit).
    #[serde(
        default,
        deserialize_with = "codec::opt_decimal",
        serialize_with = "codec::ser_opt_decimal",
        skip_serializing_if = "Option::is_none"
    )]
    pub stop_price: Option<Decimal>,
    /// Our id for the order (at most 128 chars; unique forever).
    #[serde(
        default,
        deserialize_with = "codec::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub client_order_id: Option<String>,
    /// Extended-hours eligibility (limit + day only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_hours: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The spec's example (§1.4) with its elided ids filled in.
    pub(crate) const SPEC_ORDER: &str = r#"{"id":"7b08df51-c1ac-453c-99f7-323a5f075f0d","client_order_id":"5680c4bc-5ffa-4b4b-8b2e-2ea2a5b6ef4f","created_at":"2023-12-12T22:31:24.668464435Z",
 "updated_at":"2023-12-12T22:31:24.668464435Z","submitted_at":"2023-12-12T22:31:24.666Z","filled_at":null,"expired_at":null,"expires_at":"2024-03-11T20:00:00Z",
 "canceled_at":null,"failed_at":null,"replaced_at":null,"replaced_by":null,"replaces":null,
 "asset_id":"b0b6dd9d-8b9b-48a9-ba46-b9d54906e415","symbol":"AAPL","asset_class":"us_equity","notional":null,"qty":"2",
 "filled_qty":"0","filled_avg_price":null,"order_class":"","order_type":"limit","type":"limit",
 "side":"buy","position_intent":null,"time_in_force":"gtc","limit_price":"150","stop_price":null,
 "status":"accepted","extended_hours":false,"legs":null,"trail_percent":null,"trail_price":null,
 "hwm":null,"ratio_qty":null,"source":null,"subtag":null}"#;

    #[test]
    fn spec_order_parses() {
        let o: Order = serde_json::from_str(SPEC_ORDER).unwrap();
        assert_eq!(o.symbol.as_deref(), Some("AAPL"));
        assert_eq!(o.qty, Some(Decimal::from(2)));
        assert_eq!(o.filled_qty, Decimal::ZERO);
        assert_eq!(o.filled_avg_price, None);
        assert_eq!(o.order_class, None, "\"\" reads as none");
        assert_eq!(o.kind(), Some(&OrderType::Limit));
        assert_eq!(o.side, Some(OrderSide::Buy));
        assert_eq!(o.time_in_force, Some(TimeInForce::Gtc));
        assert_eq!(o.limit_price, Some(Decimal::from(150)));
        assert_eq!(o.status, OrderStatus::Accepted);
        assert_eq!(o.created_at.map(|t| t.0 % 1_000_000_000), Some(668_464_435));
        // Round trip: what we write reads back the same.
        let again: Order = serde_json::from_str(&serde_json::to_string(&o).unwrap()).unwrap();
        assert_eq!(again, o);
    }

    #[test]
    fn lenient_order_fields() {
        // Numbers instead of strings, an offset timestamp, unknown fields, mleg empties.
        let text = r#"{"id":"a","client_order_id":"b","qty":2.5,"filled_qty":1,"filled_avg_price":"0",
            "submitted_at":"2025-06-24T12:00:00-04:00","symbol":"","side":"","type":"","status":"weird_new",
            "brand_new_field":{"x":1}}"#;
        let o: Order = serde_json::from_str(text).unwrap();
        assert_eq!(o.qty, Some(Decimal::new(25, 1)));
        assert_eq!(o.filled_qty, Decimal::ONE);
        assert_eq!(o.symbol, None);
        assert_eq!(o.side, None);
        assert_eq!(o.kind(), None);
        assert_eq!(o.status, OrderStatus::Other("weird_new".into()));
        assert_eq!(
            o.submitted_at.map(|t| t.to_iso()).as_deref(),
            Some("2025-06-24T16:00:00Z")
        );
        assert!(serde_json::from_str::<Order>(r#"{"id":"a","status":"new"}"#).is_err());
        assert!(serde_json::from_str::<Order>(
            r#"{"id":"a","client_order_id":"b","status":"new","qty":"x"}"#
        )
        .is_err());
    }

    #[test]
    fn request_writes_strings_and_skips_absent_fields() {
        let r = OrderRequest {
            symbol: "SPY".into(),
            qty: Some(Decimal::from(10)),
            notional: None,
            side: OrderSide::Buy,
            order_type: OrderType::Limit,
            time_in_force: TimeInForce::Day,
            limit_price: Some(Decimal::new(41230, 2)),
            stop_price: None,
            client_order_id: Some("ls-1".into()),
            extended_hours: None,
        };
        let text = serde_json::to_string(&r).unwrap();
        assert_eq!(
            text,
            r#"{"symbol":"SPY","qty":"10","side":"buy","type":"limit","time_in_force":"day","limit_price":"412.3","client_order_id":"ls-1"}"#
        );
        let back: OrderRequest = serde_json::from_str(&text).unwrap();
        assert_eq!(back, r);
        let numeric: OrderRequest = serde_json::from_str(
            r#"{"symbol":"SPY","qty":3,"side":"sell","type":"market","time_in_force":"gtc"}"#,
        )
        .unwrap();
        assert_eq!(numeric.qty, Some(Decimal::from(3)));
    }
}
