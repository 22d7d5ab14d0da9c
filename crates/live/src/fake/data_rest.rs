//! Market-data REST bars (§4.1, §4.2): `GET /v2/stocks/bars`, `GET /v2/stocks/{symbol}/bars`
//! and `GET /v1beta3/crypto/us/bars`, with `next_page_token` paging. Only bars already
//! delivered (`end <= now`) are ever served. The fake serves the file's own timeframe only.

use super::et::ny_date_time;
use super::http::{json, ApiErr, App};
use crate::wire::{codec, BarData, BarsResponse, SymbolBarsResponse};
use axum::extract::{Path, Query, State as Ax};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use lockstep_core::time::{NANOS_PER_DAY, NANOS_PER_SEC};
use lockstep_core::UnixNanos;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::Arc;

type Params = Query<BTreeMap<String, String>>;

const DEFAULT_LIMIT: usize = 1000;
const MAX_LIMIT: usize = 10_000;

fn bad(msg: &str) -> ApiErr {
    ApiErr::data(StatusCode::BAD_REQUEST, msg)
}

/// The length of a timeframe such as `1Min`, `5T`, `1Hour`, `1Day`, `1Week`, `1Month`.
fn timeframe_nanos(tf: &str) -> Option<i64> {
    let split = tf.find(|c: char| !c.is_ascii_digit())?;
    let (num, unit) = tf.split_at(split);
    let n: i64 = num.parse().ok()?;
    let unit_nanos = match unit {
        "Min" | "T" if (1..=59).contains(&n) => 60 * NANOS_PER_SEC,
        "Hour" | "H" if (1..=23).contains(&n) => 3600 * NANOS_PER_SEC,
        "Day" | "D" if n == 1 => NANOS_PER_DAY,
        "Week" | "W" if n == 1 => 7 * NANOS_PER_DAY,
        "Month" | "M" if [1, 2, 3, 4, 6, 12].contains(&n) => 30 * NANOS_PER_DAY,
        _ => return None,
    };
    Some(n * unit_nanos)
}

/// RFC 3339, or a date (its start, or its end when `end_of_day`).
fn time_param(s: &str, end_of_day: bool) -> Option<UnixNanos> {
    codec::parse_time(s).or_else(|| {
        let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
        let t = d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_nanos_opt()?;
        Some(UnixNanos(if end_of_day {
            t + NANOS_PER_DAY - 1
        } else {
            t
        }))
    })
}

fn encode_token(symbol: &str, ts: UnixNanos) -> String {
    let mut out = String::new();
    for b in format!("{symbol}\n{}", ts.0).bytes() {
        let _ = write!(out, "{b:02x}");
    }
    out
}

fn decode_token(token: &str) -> Option<(String, UnixNanos)> {
    let bytes: Option<Vec<u8>> = token
        .as_bytes()
        .chunks(2)
        .map(|pair| {
            let hex = std::str::from_utf8(pair).ok().filter(|h| h.len() == 2)?;
            u8::from_str_radix(hex, 16).ok()
        })
        .collect();
    let text = String::from_utf8(bytes?).ok()?;
    let (sym, ts) = text.rsplit_once('\n')?;
    Some((sym.to_string(), UnixNanos(ts.parse().ok()?)))
}

/// One page of bars by requested symbol, and the token of the next page.
type Page = (BTreeMap<String, Vec<BarData>>, Option<String>);

fn page(
    app: &App,
    symbols: &[String],
    q: &BTreeMap<String, String>,
    crypto: bool,
) -> Result<Page, ApiErr> {
    let tf = q
        .get("timeframe")
        .ok_or_else(|| bad("timeframe is required"))?;
    let tf_nanos = timeframe_nanos(tf).ok_or_else(|| bad("invalid timeframe"))?;
    if app.bars.interval.is_some_and(|i| i != tf_nanos) {
        return Err(ApiErr::data(
            StatusCode::UNPROCESSABLE_ENTITY,
            "the fake serves only the timeframe of its bar file",
        ));
    }
    let now = app.now();
    let start = match q.get("start") {
        Some(s) => time_param(s, false).ok_or_else(|| bad("invalid start"))?,
        None => {
            let today = ny_date_time(now).0;
            let midnight = today
                .and_hms_opt(0, 0, 0)
                .map(|t| t.and_utc().timestamp() * NANOS_PER_SEC);
            UnixNanos(
                midnight.unwrap_or(0) - i64::from(super::et::ny_offset_secs(now)) * NANOS_PER_SEC,
            )
        }
    };
    let end = match q.get("end") {
        Some(s) => time_param(s, true).ok_or_else(|| bad("invalid end"))?,
        None => now,
    };
    let limit = match q.get("limit").map(|l| l.parse::<usize>()) {
        None => DEFAULT_LIMIT,
        Some(Ok(n)) if (1..=MAX_LIMIT).contains(&n) => n,
        Some(_) => return Err(bad("invalid limit")),
    };
    if !crypto {
        if let Some(f) = q.get("feed") {
            if !matches!(f.as_str(), "sip" | "iex" | "otc" | "boats" | "delayed_sip") {
                return Err(bad("invalid feed"));
            }
        }
    }
    let desc = match q.get("sort").map(String::as_str) {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(_) => return Err(bad("invalid sort")),
    };
    let resume = match q.get("page_token").filter(|t| !t.is_empty()) {
        Some(t) => Some(decode_token(t).ok_or_else(|| bad("invalid page token"))?),
        None => None,
    };
    let wanted: BTreeSet<&String> = symbols.iter().collect();
    let mut out: BTreeMap<String, Vec<BarData>> = BTreeMap::new();
    let mut taken = 0usize;
    for name in wanted {
        if resume.as_ref().is_some_and(|(s, _)| name < s) {
            continue;
        }
        let Some(file) = app.bars.resolve(name) else {
            continue;
        };
        let mut list: Vec<&super::bars::StoredBar> = app
            .bars
            .of(file)
            .iter()
            .map(|&i| &app.bars.bars[i])
            .filter(|b| b.end <= now && b.ts >= start && b.ts <= end)
            .collect();
        if desc {
            list.reverse();
        }
        for b in list {
            if let Some((s, ts)) = &resume {
                if s == name && (if desc { b.ts > *ts } else { b.ts < *ts }) {
                    continue;
                }
            }
            if taken == limit {
                return Ok((out, Some(encode_token(name, b.ts))));
            }
            taken += 1;
            out.entry(name.clone()).or_default().push(BarData {
                time: b.ts,
                open: b.open,
                high: b.high,
                low: b.low,
                close: b.close,
                volume: b.volume,
                trades: Some(0),
                vwap: Some(Default::default()),
            });
        }
    }
    Ok((out, None))
}

fn symbols_param(q: &BTreeMap<String, String>) -> Result<Vec<String>, ApiErr> {
    let list: Vec<String> = q
        .get("symbols")
        .map(|s| {
            s.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    if list.is_empty() {
        return Err(bad("symbols is required"));
    }
    Ok(list)
}

fn multi(app: &App, q: &BTreeMap<String, String>, crypto: bool) -> Response {
    let result = symbols_param(q).and_then(|s| page(app, &s, q, crypto));
    match result {
        Ok((bars, next_page_token)) => json(
            StatusCode::OK,
            BarsResponse {
                bars,
                next_page_token,
            }
            .to_json(),
        ),
        Err(e) => e.into_response(),
    }
}

/// `GET /v2/stocks/bars?symbols=A,B&timeframe=1Min&start=&end=&limit=&page_token=&feed=&sort=`.
pub(crate) async fn stock_bars(
    Ax(app): Ax<Arc<App>>,
    headers: HeaderMap,
    Query(q): Params,
) -> Response {
    if let Err(e) = app.auth(&headers) {
        return e.into_response();
    }
    multi(&app, &q, false)
}

/// `GET /v1beta3/crypto/us/bars?symbols=BTC/USD&timeframe=...`: no keys needed, but keys
/// that are sent must be right.
pub(crate) async fn crypto_bars(
    Ax(app): Ax<Arc<App>>,
    headers: HeaderMap,
    Query(q): Params,
) -> Response {
    if !App::no_auth_headers(&headers) {
        if let Err(e) = app.auth(&headers) {
            return e.into_response();
        }
    }
    multi(&app, &q, true)
}

/// `GET /v2/stocks/{symbol}/bars?timeframe=...`: the single-symbol shape.
pub(crate) async fn symbol_bars(
    Ax(app): Ax<Arc<App>>,
    headers: HeaderMap,
    Path(symbol): Path<String>,
    Query(q): Params,
) -> Response {
    if let Err(e) = app.auth(&headers) {
        return e.into_response();
    }
    match page(&app, std::slice::from_ref(&symbol), &q, false) {
        Ok((mut bars, next_page_token)) => {
            let body = SymbolBarsResponse {
                bars: bars.remove(&symbol).unwrap_or_default(),
                symbol,
                next_page_token,
                currency: Some("USD".into()),
            };
            json(StatusCode::OK, body.to_json())
        }
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeframes_and_tokens() {
        assert_eq!(timeframe_nanos("1Min"), Some(60 * NANOS_PER_SEC));
        assert_eq!(timeframe_nanos("15T"), Some(900 * NANOS_PER_SEC));
        assert_eq!(timeframe_nanos("1Day"), Some(NANOS_PER_DAY));
        assert_eq!(timeframe_nanos("60Min"), None);
        assert_eq!(timeframe_nanos("Min"), None);
        let t = encode_token("BTC/USD", UnixNanos(42));
        assert_eq!(
            decode_token(&t),
            Some(("BTC/USD".to_string(), UnixNanos(42)))
        );
        assert_eq!(decode_token("zz"), None);
        assert_eq!(
            time_param("2024-01-02", true)
                .map(|t| t.to_iso())
                .as_deref(),
            Some("2024-01-02T23:59:59.999999999Z")
        );
    }
}
