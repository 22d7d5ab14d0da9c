//! Order endpoints: submit, list, get (by id and by client order id), cancel, cancel all.

use super::faults::FaultBook;
use super::http::{json, ok_json, ApiErr, App};
use super::ids;
use super::orders_validate::{account_checks, parse_body, validate, NewOrder};
use super::state::{next_close_after, Kind, OrderRec, State, C_CLIENT, C_ORDER};
use crate::wire::{codec, Order, OrderSide, OrderStatus, TimeInForce};
use axum::body::Bytes;

/// A market order sent within this many nanoseconds of a bar's open fills at that open
/// (five seconds: the open is still the price; later orders wait for the next bar).
pub const MARKET_OPEN_GRACE: i64 = 5_000_000_000;
use axum::extract::{Path, Query, State as Ax};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use lockstep_core::{Calendar, SessionLookup, UnixNanos};
use std::collections::BTreeMap;
use std::sync::Arc;

type Params = Query<BTreeMap<String, String>>;

/// When an order submitted at `t` goes live: now inside a session, else the next open.
fn active_from(t: UnixNanos) -> UnixNanos {
    let (date, session) = SessionLookup::new(Calendar::Nyse).day_of(t);
    match session {
        Some(s) if t < s.open => s.open,
        Some(s) if t < s.close => t,
        _ => Calendar::Nyse.next_session(date).map_or(t, |s| s.open),
    }
}

fn create(st: &mut State, v: NewOrder, cid: String, now: UnixNanos) -> usize {
    let n = st.next(C_ORDER);
    let id = ids::uuid_like(ids::ORDER, n);
    let expires = (v.tif != TimeInForce::Gtc)
        .then(|| next_close_after(now))
        .flatten();
    let (limit, stop) = match v.kind {
        super::state::Kind::Market => (None, None),
        super::state::Kind::Limit(l) => (Some(l), None),
        super::state::Kind::Stop(s) => (None, Some(s)),
        super::state::Kind::StopLimit { stop, limit } => (Some(limit), Some(stop)),
    };
    let order = Order {
        id: id.clone(),
        client_order_id: cid.clone(),
        created_at: Some(now),
        updated_at: Some(now),
        submitted_at: Some(now),
        filled_at: None,
        expired_at: None,
        expires_at: expires,
        canceled_at: None,
        failed_at: None,
        replaced_at: None,
        replaced_by: None,
        replaces: None,
        asset_id: Some(ids::asset_id(&v.file_symbol)),
        symbol: Some(v.symbol.clone()),
        asset_class: Some(
            if v.symbol.contains('/') {
                "crypto"
            } else {
                "us_equity"
            }
            .into(),
        ),
        notional: None,
        qty: Some(v.qty),
        filled_qty: Default::default(),
        filled_avg_price: None,
        order_class: None,
        legacy_order_type: Some(v.order_type.clone()),
        order_type: Some(v.order_type.clone()),
        side: Some(if v.buy {
            OrderSide::Buy
        } else {
            OrderSide::Sell
        }),
        position_intent: None,
        time_in_force: Some(v.tif.clone()),
        limit_price: limit,
        stop_price: stop,
        status: OrderStatus::Accepted,
        extended_hours: v.extended_hours,
        legs: None,
        trail_percent: None,
        trail_price: None,
        hwm: None,
        ratio_qty: None,
        source: None,
        subtag: None,
    };
    let cursor = match v.kind {
        Kind::Market => st
            .bars
            .first_for_market(&v.file_symbol, now, st.market_open_grace),
        _ => st.bars.first_from(&v.file_symbol, now),
    };
    let idx = st.orders.len();
    st.orders.push(OrderRec {
        order,
        symbol: v.file_symbol,
        buy: v.buy,
        kind: v.kind,
        tif: v.tif,
        qty: v.qty,
        submitted: now,
        active_from: active_from(now),
        expires,
        cursor,
        triggered: false,
        reserve: v.reserve,
    });
    st.open.insert(idx);
    st.by_id.insert(id, idx);
    st.by_client.insert(cid, idx);
    idx
}

fn fault_response(status: u16) -> Response {
    if status == 429 {
        return super::http::scripted_429();
    }
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let e = ApiErr::new(
        code,
        i64::from(status) * 100_000 + 10_000,
        match status {
            504 => "gateway timeout",
            _ => "internal server error",
        },
    );
    e.into_response()
}

/// `POST /v2/orders`.
pub(crate) async fn post_order(Ax(app): Ax<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(e) = app.auth(&headers) {
        return e.into_response();
    }
    let now = app.now();
    let mut st = app.current();
    st.stats.order_posts += 1;
    let hint = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("client_order_id")?.as_str().map(str::to_string))
        .filter(|c| !c.is_empty());
    if let Some(c) = &hint {
        *st.stats.submits_by_client_id.entry(c.clone()).or_default() += 1;
        if !st.stats.client_order_ids.contains(c) {
            st.stats.client_order_ids.push(c.clone());
        }
    }
    if let Some(status) = st.faults.take_http() {
        st.stats.http_faults += 1;
        return fault_response(status);
    }
    let req = match parse_body(&body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    if req
        .client_order_id
        .as_ref()
        .is_some_and(|c| st.by_client.contains_key(c))
    {
        st.stats.duplicate_client_order_ids += 1;
        return ApiErr::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            40010001,
            "client_order_id must be unique",
        )
        .into_response();
    }
    let mut v = match validate(&st, &req, now) {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    if let Err(e) = account_checks(&st, &mut v, now) {
        return e.into_response();
    }
    let cid = match req.client_order_id {
        Some(c) => c,
        None => {
            let n = st.next(C_CLIENT);
            ids::uuid_like(ids::CLIENT, n)
        }
    };
    let idx = create(&mut st, v, cid, now);
    st.stats.orders_accepted += 1;
    let answer = st.orders[idx].order.clone();
    if FaultBook::take(&mut st.faults.reject_next) {
        st.stats.rejected_orders += 1;
        st.finish(idx, OrderStatus::Rejected, now);
    }
    st.advance(now);
    let n = st.stats.orders_accepted;
    if st.faults.lose_response(n) {
        st.stats.lost_responses += 1;
        return fault_response(504);
    }
    ok_json(&answer)
}

fn parse_time_param(s: &str) -> Option<UnixNanos> {
    codec::parse_time(s).or_else(|| {
        let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
        d.and_hms_opt(0, 0, 0)?
            .and_utc()
            .timestamp_nanos_opt()
            .map(UnixNanos)
    })
}

/// `GET /v2/orders?status=&limit=&after=&until=&direction=&symbols=&side=`.
pub(crate) async fn list_orders(
    Ax(app): Ax<Arc<App>>,
    headers: HeaderMap,
    Query(q): Params,
) -> Response {
    if let Err(e) = app.auth(&headers) {
        return e.into_response();
    }
    let status = q.get("status").map_or("open", String::as_str);
    if !matches!(status, "open" | "closed" | "all") {
        return ApiErr::invalid(format!("invalid status \"{status}\"")).into_response();
    }
    let limit = match q.get("limit").map(|l| l.parse::<usize>()) {
        None => 50,
        Some(Ok(n)) if n > 0 => n.min(500),
        Some(_) => return ApiErr::invalid("invalid limit").into_response(),
    };
    let bound = |name: &str| -> Result<Option<UnixNanos>, ApiErr> {
        q.get(name)
            .map(|s| parse_time_param(s).ok_or_else(|| ApiErr::invalid(format!("invalid {name}"))))
            .transpose()
    };
    let (after, until) = match (bound("after"), bound("until")) {
        (Ok(a), Ok(u)) => (a, u),
        (Err(e), _) | (_, Err(e)) => return e.into_response(),
    };
    let asc = q.get("direction").is_some_and(|d| d == "asc");
    let symbols: Option<Vec<&str>> = q
        .get("symbols")
        .map(|s| s.split(',').map(str::trim).collect());
    let side = q.get("side").map(String::as_str);
    let st = app.current();
    let mut picked: Vec<&OrderRec> = st
        .orders
        .iter()
        .filter(|o| match status {
            "open" => o.is_open(),
            "closed" => !o.is_open(),
            _ => true,
        })
        .filter(|o| after.is_none_or(|a| o.submitted > a))
        .filter(|o| until.is_none_or(|u| o.submitted < u))
        .filter(|o| {
            symbols
                .as_ref()
                .is_none_or(|s| s.iter().any(|x| Some(*x) == o.order.symbol.as_deref()))
        })
        .filter(|o| side.is_none_or(|s| (s == "buy") == o.buy))
        .collect();
    if !asc {
        picked.reverse();
    }
    let out: Vec<&Order> = picked.into_iter().take(limit).map(|o| &o.order).collect();
    ok_json(&out)
}

fn find<'a>(st: &'a State, id: &str) -> Result<&'a OrderRec, ApiErr> {
    if !ids::is_uuid(id) {
        return Err(ApiErr::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            40010001,
            "invalid order id",
        ));
    }
    st.by_id
        .get(id)
        .and_then(|&i| st.orders.get(i))
        .ok_or_else(|| ApiErr::not_found("order not found"))
}

/// `GET /v2/orders/{id}`.
pub(crate) async fn get_order(
    Ax(app): Ax<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(e) = app.auth(&headers) {
        return e.into_response();
    }
    let st = app.current();
    match find(&st, &id) {
        Ok(o) => ok_json(&o.order),
        Err(e) => e.into_response(),
    }
}

/// `GET /v2/orders:by_client_order_id?client_order_id=X`.
pub(crate) async fn get_by_client_id(
    Ax(app): Ax<Arc<App>>,
    headers: HeaderMap,
    Query(q): Params,
) -> Response {
    if let Err(e) = app.auth(&headers) {
        return e.into_response();
    }
    let Some(cid) = q.get("client_order_id") else {
        return ApiErr::invalid("client_order_id is required").into_response();
    };
    let mut st = app.current();
    *st.stats
        .lookups_by_client_id
        .entry(cid.clone())
        .or_default() += 1;
    match st.by_client.get(cid).and_then(|&i| st.orders.get(i)) {
        Some(o) => ok_json(&o.order),
        None => ApiErr::not_found("order not found").into_response(),
    }
}

/// `DELETE /v2/orders/{id}`: 204, then a `canceled` event.
pub(crate) async fn cancel_order(
    Ax(app): Ax<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(e) = app.auth(&headers) {
        return e.into_response();
    }
    let now = app.now();
    let mut st = app.current();
    let (idx, status) = match find(&st, &id) {
        Ok(o) => (st.by_id.get(&id).copied(), o.order.status.clone()),
        Err(e) => return e.into_response(),
    };
    if status.is_terminal() {
        return ApiErr::unprocessable(format!("order is already in \"{status}\" state"))
            .into_response();
    }
    if let Some(i) = idx {
        let t = now.max(st.now);
        st.finish(i, OrderStatus::Canceled, t);
    }
    StatusCode::NO_CONTENT.into_response()
}

/// `DELETE /v2/orders`: cancels every open order; 207 with `[{id, status, body}]`.
pub(crate) async fn cancel_all(Ax(app): Ax<Arc<App>>, headers: HeaderMap) -> Response {
    if let Err(e) = app.auth(&headers) {
        return e.into_response();
    }
    let mut st = app.current();
    let t = st.now;
    let open: Vec<usize> = st.open.iter().copied().collect();
    let mut out = Vec::new();
    for i in open {
        st.finish(i, OrderStatus::Canceled, t);
        if let Some(o) = st.orders.get(i) {
            out.push(serde_json::json!({"id": o.order.id, "status": 200, "body": o.order}));
        }
    }
    json(
        StatusCode::MULTI_STATUS,
        serde_json::Value::Array(out).to_string(),
    )
}
