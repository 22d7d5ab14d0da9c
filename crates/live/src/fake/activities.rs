//! `GET /v2/account/activities/{type}`: the account's executions as `FILL` activities
//! (the fake records no other kind: any other type is an empty list).
//!
//! Query: `after` (RFC 3339; only activities strictly later), `direction` (`asc`, or
//! `desc`, the default), `page_size` (1..=100, default 100) and `page_token` (the id of the
//! last activity of the previous page: the page starts after it).

use super::http::{ok_json, ApiErr, App};
use crate::wire::{codec, FillActivity};
use axum::extract::{Path, Query, State as Ax};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The largest (and default) page.
const MAX_PAGE: usize = 100;

/// The handler.
pub(crate) async fn activities(
    Ax(app): Ax<Arc<App>>,
    headers: HeaderMap,
    Path(kind): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    if let Err(e) = app.auth(&headers) {
        return e.into_response();
    }
    match page(&app.current().activities, &kind, &q) {
        Ok(p) => ok_json(&p),
        Err(e) => e.into_response(),
    }
}

/// The page `q` asks for, out of `all` (oldest first).
fn page(
    all: &[FillActivity],
    kind: &str,
    q: &BTreeMap<String, String>,
) -> Result<Vec<FillActivity>, ApiErr> {
    if !kind.eq_ignore_ascii_case("FILL") {
        return Ok(Vec::new());
    }
    let after = match q.get("after") {
        Some(t) => Some(
            codec::parse_time(t).ok_or_else(|| ApiErr::invalid(format!("invalid after: {t}")))?,
        ),
        None => None,
    };
    let asc = match q.get("direction").map(String::as_str) {
        None | Some("desc") => false,
        Some("asc") => true,
        Some(d) => return Err(ApiErr::invalid(format!("invalid direction: {d}"))),
    };
    let size = match q.get("page_size") {
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| ApiErr::invalid(format!("invalid page_size: {s}")))?,
        None => MAX_PAGE,
    };
    let mut chosen: Vec<&FillActivity> = all
        .iter()
        .filter(|a| after.is_none_or(|t| a.transaction_time > t))
        .collect();
    if !asc {
        chosen.reverse();
    }
    if let Some(token) = q.get("page_token") {
        let at = chosen
            .iter()
            .position(|a| a.id == *token)
            .ok_or_else(|| ApiErr::invalid(format!("invalid page_token: {token}")))?;
        chosen.drain(..=at);
    }
    Ok(chosen.into_iter().take(size).cloned().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockstep_core::UnixNanos;
    use rust_decimal::Decimal;

    fn fill(n: i64) -> FillActivity {
        FillActivity {
            id: format!("t{n}::e{n}"),
            activity_type: "FILL".into(),
            transaction_time: UnixNanos(n * 1_000_000_000),
            fill_type: "fill".into(),
            price: Decimal::from(n),
            qty: Decimal::ONE,
            side: crate::wire::OrderSide::Buy,
            symbol: "SPY".into(),
            leaves_qty: Decimal::ZERO,
            cum_qty: Decimal::ONE,
            order_id: format!("o{n}"),
            order_status: "filled".into(),
        }
    }

    fn ids(p: &[FillActivity]) -> Vec<String> {
        p.iter().map(|a| a.order_id.clone()).collect()
    }

    #[test]
    fn pages_follow_after_direction_size_and_token() {
        let all: Vec<FillActivity> = (1..=5).map(fill).collect();
        let q = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let asc = q(&[("direction", "asc"), ("page_size", "2")]);
        assert_eq!(ids(&page(&all, "FILL", &asc).unwrap()), ["o1", "o2"]);
        let next = q(&[
            ("direction", "asc"),
            ("page_size", "2"),
            ("page_token", "t2::e2"),
        ]);
        assert_eq!(ids(&page(&all, "FILL", &next).unwrap()), ["o3", "o4"]);
        let after = q(&[("after", "1970-01-01T00:00:03Z")]);
        assert_eq!(ids(&page(&all, "fill", &after).unwrap()), ["o5", "o4"]);
        assert!(page(&all, "DIV", &after).unwrap().is_empty());
        for bad in [("page_size", "0"), ("direction", "up"), ("after", "soon")] {
            assert!(page(&all, "FILL", &q(&[bad])).is_err(), "{bad:?}");
        }
    }
}
