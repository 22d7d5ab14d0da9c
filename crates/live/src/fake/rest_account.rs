//! Account, positions, clock and calendar endpoints.

use super::et::{ny_date_time, ny_rfc3339};
use super::http::{json, ok_json, ApiErr, App};
use super::ids;
use super::state::{Pos, State};
use crate::wire::{Account, Position, PositionSide};
use axum::extract::{Path, Query, State as Ax};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use lockstep_core::{Calendar, SessionLookup, UnixNanos};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The account as `GET /v2/account` shows it (1x buying power, shorting enabled, no PDT
/// fields).
pub(crate) fn account_view(st: &State) -> Account {
    let now = st.now;
    let (long, short) = st.market_values(now);
    let equity = st.cash + long + short;
    let bp = st.buying_power();
    let gross = long - short;
    let asof = SessionLookup::new(Calendar::Nyse).day_of(now).0;
    let number: String = st
        .account_id
        .chars()
        .filter(|c| *c != '-')
        .take(10)
        .collect();
    Account {
        id: st.account_id.clone(),
        account_number: format!("PA{}", number.to_uppercase()),
        status: "ACTIVE".into(),
        crypto_status: Some("ACTIVE".into()),
        currency: "USD".into(),
        cash: st.cash,
        equity,
        last_equity: Some(st.last_equity),
        portfolio_value: Some(equity),
        long_market_value: Some(long),
        short_market_value: Some(short),
        buying_power: bp,
        regt_buying_power: Some(bp),
        non_marginable_buying_power: Some(bp),
        options_buying_power: Some(bp),
        initial_margin: Some(gross),
        maintenance_margin: Some(gross),
        last_maintenance_margin: Some(Decimal::ZERO),
        sma: Some(Decimal::ZERO),
        multiplier: Some(Decimal::ONE),
        shorting_enabled: true,
        trading_blocked: st.faults.trading_blocked,
        transfers_blocked: false,
        account_blocked: false,
        trade_suspended_by_user: false,
        options_approved_level: Some(0),
        options_trading_level: Some(0),
        accrued_fees: Some(Decimal::ZERO),
        pending_transfer_in: Some(Decimal::ZERO),
        pending_transfer_out: Some(Decimal::ZERO),
        balance_asof: Some(asof.format("%Y-%m-%d").to_string()),
        created_at: Some(st.created),
        pattern_day_trader: None,
        daytrade_count: None,
        daytrading_buying_power: None,
    }
}

fn ratio(a: Decimal, b: Decimal) -> Option<Decimal> {
    (!b.is_zero()).then(|| (a / b).round_dp(10).normalize())
}

/// One position as `GET /v2/positions` shows it.
pub(crate) fn position_view(st: &State, symbol: &str, p: &Pos) -> Position {
    let now = st.now;
    let current = st.mark(symbol, now).unwrap_or(p.avg);
    let (date, _) = SessionLookup::new(Calendar::Nyse).day_of(now);
    let lastday = Calendar::Nyse
        .previous_session(date)
        .and_then(|s| st.bars.last_delivered(symbol, s.close))
        .map(|b| b.close);
    let market_value = p.qty * current;
    let cost_basis = p.qty * p.avg;
    let upl = market_value - cost_basis;
    let held = st.held(symbol, p.qty < Decimal::ZERO);
    let available = if p.qty > Decimal::ZERO {
        p.qty - held
    } else {
        p.qty + held
    };
    Position {
        asset_id: ids::asset_id(symbol),
        symbol: symbol.to_string(),
        exchange: String::new(),
        asset_class: if symbol.contains('/') {
            "crypto"
        } else {
            "us_equity"
        }
        .into(),
        asset_marginable: Some(true),
        qty: p.qty,
        qty_available: Some(available),
        side: if p.qty > Decimal::ZERO {
            PositionSide::Long
        } else {
            PositionSide::Short
        },
        avg_entry_price: p.avg,
        market_value: Some(market_value),
        cost_basis: Some(cost_basis),
        unrealized_pl: Some(upl),
        unrealized_plpc: ratio(upl, cost_basis.abs()),
        unrealized_intraday_pl: Some(upl),
        unrealized_intraday_plpc: ratio(upl, cost_basis.abs()),
        current_price: Some(current),
        lastday_price: lastday,
        change_today: lastday.and_then(|l| ratio(current - l, l)),
    }
}

/// `GET /v2/account`.
pub(crate) async fn account(Ax(app): Ax<Arc<App>>, headers: HeaderMap) -> Response {
    if let Err(e) = app.auth(&headers) {
        return e.into_response();
    }
    let st = app.current();
    ok_json(&account_view(&st))
}

/// `GET /v2/positions`.
pub(crate) async fn positions(Ax(app): Ax<Arc<App>>, headers: HeaderMap) -> Response {
    if let Err(e) = app.auth(&headers) {
        return e.into_response();
    }
    let st = app.current();
    let out: Vec<Position> = st
        .positions
        .iter()
        .map(|(s, p)| position_view(&st, s, p))
        .collect();
    ok_json(&out)
}

/// `GET /v2/positions/{symbol}`: 404 when flat.
pub(crate) async fn position(
    Ax(app): Ax<Arc<App>>,
    headers: HeaderMap,
    Path(symbol): Path<String>,
) -> Response {
    if let Err(e) = app.auth(&headers) {
        return e.into_response();
    }
    let st = app.current();
    let file = st.bars.resolve(&symbol).unwrap_or(&symbol).to_string();
    match st.positions.get(&file) {
        Some(p) => ok_json(&position_view(&st, &file, p)),
        None => ApiErr::not_found("position does not exist").into_response(),
    }
}

/// `(is_open, next_open, next_close)` at `now` on the NYSE calendar.
pub(crate) fn market_clock(now: UnixNanos) -> (bool, Option<UnixNanos>, Option<UnixNanos>) {
    let (date, session) = SessionLookup::new(Calendar::Nyse).day_of(now);
    let next = Calendar::Nyse.next_session(date);
    match session {
        Some(s) if now < s.open => (false, Some(s.open), Some(s.close)),
        Some(s) if now < s.close => (true, next.map(|n| n.open), Some(s.close)),
        _ => (false, next.map(|n| n.open), next.map(|n| n.close)),
    }
}

/// `GET /v2/clock`: times with the New York offset.
pub(crate) async fn clock(Ax(app): Ax<Arc<App>>, headers: HeaderMap) -> Response {
    if let Err(e) = app.auth(&headers) {
        return e.into_response();
    }
    let now = app.now();
    let offset_ms = app.lock().faults.clock_offset_ms(now);
    let (is_open, next_open, next_close) = market_clock(now);
    let t = |x: Option<UnixNanos>| x.map_or(serde_json::Value::Null, |x| ny_rfc3339(x).into());
    let body = serde_json::json!({
        "timestamp": ny_rfc3339(now.plus(offset_ms.saturating_mul(1_000_000))),
        "is_open": is_open,
        "next_open": t(next_open),
        "next_close": t(next_close),
    });
    json(StatusCode::OK, body.to_string())
}

/// `GET /v2/calendar?start=YYYY-MM-DD&end=YYYY-MM-DD` (default: the next 30 days).
pub(crate) async fn calendar(
    Ax(app): Ax<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    if let Err(e) = app.auth(&headers) {
        return e.into_response();
    }
    let today = ny_date_time(app.now()).0;
    let day = |k: &str| q.get(k).map(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d"));
    let start = match day("start") {
        None => today,
        Some(Ok(d)) => d,
        Some(Err(_)) => return ApiErr::bad_request("invalid start").into_response(),
    };
    let end = match day("end") {
        None => start + chrono::Duration::days(30),
        Some(Ok(d)) => d,
        Some(Err(_)) => return ApiErr::bad_request("invalid end").into_response(),
    };
    let out: Vec<serde_json::Value> = Calendar::Nyse
        .sessions(start, end.min(start + chrono::Duration::days(3660)))
        .into_iter()
        .map(|s| {
            let settle = Calendar::Nyse
                .next_session(s.date)
                .map(|n| n.date.to_string());
            serde_json::json!({
                "date": s.date.to_string(),
                "open": ny_date_time(s.open).1,
                "close": ny_date_time(s.close).1,
                "session_open": "0400",
                "session_close": "2000",
                "settlement_date": settle,
            })
        })
        .collect();
    json(StatusCode::OK, serde_json::Value::Array(out).to_string())
}
