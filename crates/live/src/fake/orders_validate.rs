//! Validation of `POST /v2/orders` (§1.3 rules for whole-share and fractional equities) and
//! the account checks that follow (§2.1, §7.4): 400/422 for bad requests, 403 for business
//! rejections.

use super::et::ny_date_time;
use super::http::ApiErr;
use super::state::{Kind, State};
use crate::wire::{codec, OrderRequest, OrderSide, OrderType, TimeInForce, WireError};
use axum::http::StatusCode;
use lockstep_core::UnixNanos;
use rust_decimal::Decimal;

/// A request that passed every check.
#[derive(Debug, Clone)]
pub(crate) struct NewOrder {
    /// The symbol as the client wrote it.
    pub symbol: String,
    /// The bar file's symbol.
    pub file_symbol: String,
    /// Buy or sell.
    pub buy: bool,
    /// Type and prices.
    pub kind: Kind,
    /// Wire type.
    pub order_type: OrderType,
    /// Time in force.
    pub tif: TimeInForce,
    /// Quantity.
    pub qty: Decimal,
    /// Extended hours.
    pub extended_hours: bool,
    /// Buying power to hold while the order is open.
    pub reserve: Decimal,
}

/// Decodes the body: 400 when it is not JSON, 422 when a field is missing or mistyped.
pub(crate) fn parse_body(body: &[u8]) -> Result<OrderRequest, ApiErr> {
    serde_json::from_slice(body).map_err(|e| match WireError::from_json(e) {
        WireError::Syntax(_) => ApiErr::bad_request("request body format is invalid"),
        other => ApiErr::invalid(other.to_string()),
    })
}

/// At most 2 decimals at or above $1, at most 4 below.
fn sub_penny(p: Decimal) -> bool {
    let dp = p.normalize().scale();
    if p >= Decimal::ONE {
        dp > 2
    } else {
        dp > 4
    }
}

fn price(
    name: &str,
    v: Option<Decimal>,
    needed: bool,
    ty: &OrderType,
) -> Result<Option<Decimal>, ApiErr> {
    match (v, needed) {
        (None, true) => Err(ApiErr::invalid(format!(
            "{name} is required for {ty} orders"
        ))),
        (Some(_), false) => Err(ApiErr::invalid(format!(
            "{name} is not allowed for {ty} orders"
        ))),
        (Some(p), true) if p <= Decimal::ZERO => {
            Err(ApiErr::invalid(format!("{name} must be > 0")))
        }
        (Some(p), true) if sub_penny(p) => Err(ApiErr::unprocessable(
            "sub-penny increment does not fulfill minimum pricing criteria",
        )),
        (v, _) => Ok(v),
    }
}

/// ET minutes since midnight.
fn et_minutes(t: UnixNanos) -> u32 {
    let (_, hm) = ny_date_time(t);
    let mut parts = hm.split(':').map(|x| x.parse::<u32>().unwrap_or(0));
    let h = parts.next().unwrap_or(0);
    let m = parts.next().unwrap_or(0);
    h * 60 + m
}

/// Checks the request against the order rules; the account checks follow in [`account_checks`].
pub(crate) fn validate(st: &State, req: &OrderRequest, now: UnixNanos) -> Result<NewOrder, ApiErr> {
    if req.notional.is_some() {
        return Err(if req.qty.is_some() {
            ApiErr::bad_request("qty and notional are mutually exclusive")
        } else {
            ApiErr::unprocessable("notional orders are not supported by the fake")
        });
    }
    let qty = req.qty.ok_or_else(|| ApiErr::invalid("qty is required"))?;
    if qty <= Decimal::ZERO {
        return Err(ApiErr::invalid("qty must be > 0"));
    }
    if qty.normalize().scale() > 9 {
        return Err(ApiErr::unprocessable("qty must have at most 9 decimals"));
    }
    let file_symbol = st
        .bars
        .resolve(&req.symbol)
        .ok_or_else(|| ApiErr::unprocessable(format!("asset \"{}\" not found", req.symbol)))?
        .to_string();
    let buy = match &req.side {
        OrderSide::Buy => true,
        OrderSide::Sell => false,
        OrderSide::Other(s) => return Err(ApiErr::invalid(format!("invalid side \"{s}\""))),
    };
    let ty = &req.order_type;
    let tif = &req.time_in_force;
    if let TimeInForce::Other(s) = tif {
        return Err(ApiErr::invalid(format!("invalid time_in_force \"{s}\"")));
    }
    let (needs_limit, needs_stop) = match ty {
        OrderType::Market => (false, false),
        OrderType::Limit => (true, false),
        OrderType::Stop => (false, true),
        OrderType::StopLimit => (true, true),
        OrderType::TrailingStop => {
            return Err(ApiErr::unprocessable(
                "trailing_stop orders are not supported by the fake",
            ))
        }
        OrderType::Other(s) => return Err(ApiErr::invalid(format!("invalid order type \"{s}\""))),
    };
    let stop_like = needs_stop;
    if stop_like && !matches!(tif, TimeInForce::Day | TimeInForce::Gtc) {
        return Err(ApiErr::unprocessable(format!(
            "time_in_force {tif} is not allowed for {ty} orders"
        )));
    }
    if !qty.fract().is_zero() && *tif != TimeInForce::Day {
        return Err(ApiErr::unprocessable(
            "fractional orders must be DAY orders",
        ));
    }
    let limit = price("limit_price", req.limit_price, needs_limit, ty)?;
    let stop = price("stop_price", req.stop_price, needs_stop, ty)?;
    let extended_hours = req.extended_hours.unwrap_or(false);
    if extended_hours && !(*ty == OrderType::Limit && *tif == TimeInForce::Day) {
        return Err(ApiErr::unprocessable(
            "extended hours order must be DAY limit orders",
        ));
    }
    let minutes = et_minutes(now);
    match tif {
        TimeInForce::Opg if (9 * 60 + 28..19 * 60).contains(&minutes) => {
            return Err(ApiErr::unprocessable(
                "opg orders are not accepted between 9:28am and 7:00pm ET",
            ))
        }
        TimeInForce::Cls if (15 * 60 + 50..19 * 60).contains(&minutes) => {
            return Err(ApiErr::unprocessable(
                "cls orders are not accepted between 3:50pm and 7:00pm ET",
            ))
        }
        _ => {}
    }
    if req
        .client_order_id
        .as_ref()
        .is_some_and(|c| c.chars().count() > 128)
    {
        return Err(ApiErr::invalid(
            "client_order_id must be no more than 128 characters",
        ));
    }
    let kind = match (limit, stop) {
        (Some(l), Some(s)) => Kind::StopLimit { stop: s, limit: l },
        (Some(l), None) => Kind::Limit(l),
        (None, Some(s)) => Kind::Stop(s),
        (None, None) => Kind::Market,
    };
    Ok(NewOrder {
        symbol: req.symbol.clone(),
        file_symbol,
        buy,
        kind,
        order_type: ty.clone(),
        tif: tif.clone(),
        qty,
        extended_hours,
        reserve: Decimal::ZERO,
    })
}

/// Trading gate, the flip rule (no long-to-short or short-to-long in one order:
/// 403 insufficient qty) and buying power for what the order opens (403).
pub(crate) fn account_checks(st: &State, o: &mut NewOrder, now: UnixNanos) -> Result<(), ApiErr> {
    if st.faults.trading_blocked {
        return Err(ApiErr::new(
            StatusCode::FORBIDDEN,
            40310000,
            "trading is blocked for this account",
        ));
    }
    let pos = st.position_qty(&o.file_symbol);
    let closing_side = if o.buy {
        pos < Decimal::ZERO
    } else {
        pos > Decimal::ZERO
    };
    let opening = if closing_side {
        let held = st.held(&o.file_symbol, o.buy);
        let available = pos.abs() - held;
        if o.qty > available {
            let mut e = ApiErr::new(
                StatusCode::FORBIDDEN,
                40310000,
                format!(
                    "insufficient qty available for order (requested: {}, available: {})",
                    codec::decimal_text(&o.qty),
                    codec::decimal_text(&available)
                ),
            );
            let related: Vec<serde_json::Value> = st
                .orders
                .iter()
                .filter(|r| r.is_open() && r.symbol == o.file_symbol && r.buy == o.buy)
                .map(|r| r.order.id.clone().into())
                .collect();
            e.extra.insert("symbol".into(), o.symbol.clone().into());
            e.extra.insert(
                "existing_qty".into(),
                codec::decimal_text(&pos.abs()).into(),
            );
            e.extra
                .insert("held_for_orders".into(), codec::decimal_text(&held).into());
            e.extra
                .insert("available".into(), codec::decimal_text(&available).into());
            e.extra.insert("related_orders".into(), related.into());
            return Err(e);
        }
        Decimal::ZERO
    } else {
        o.qty
    };
    let est = match o.kind {
        Kind::Limit(l) | Kind::StopLimit { limit: l, .. } => l,
        Kind::Stop(s) => s,
        Kind::Market => st.estimate(&o.file_symbol, now),
    };
    o.reserve = opening * est;
    if o.reserve > st.buying_power() {
        return Err(ApiErr::new(
            StatusCode::FORBIDDEN,
            40310000,
            "insufficient buying power",
        ));
    }
    Ok(())
}
