//! The loopback Alpaca fake, driven by a manual clock over real HTTP and WebSockets on
//! 127.0.0.1. Every network step is bounded by a timeout.

#[path = "fake_alpaca/support.rs"]
mod support;

use futures_util::StreamExt;
use lockstep_live::fake::Fault;
use lockstep_live::wire::{
    parse_bars_response, parse_data_frame, parse_symbol_bars_response, parse_trade_update,
    DataMessage, Order, OrderStatus, Position, StreamMessage, TradeEvent,
};
use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::time::Duration;
use support::*;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn rest_requires_both_keys() {
    let (h, _clock) = start(et("10:00:00"), vec![]).await;
    let url = format!("{}/v2/account", h.base_url());
    let (s, _, v) = send(reqwest::Client::new().get(&url)).await;
    assert_eq!((s, code(&v)), (StatusCode::UNAUTHORIZED, 40110000));
    let wrong = reqwest::Client::new()
        .get(&url)
        .header("APCA-API-KEY-ID", KEY)
        .header("APCA-API-SECRET-KEY", "nope");
    let (s, _, v) = send(wrong).await;
    assert_eq!((s, code(&v)), (StatusCode::UNAUTHORIZED, 40110000));
    let (s, v) = get(&h, "/v2/account").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (v["status"].as_str(), v["cash"].as_str()),
        (Some("ACTIVE"), Some("100000"))
    );
    assert!(
        v.get("pattern_day_trader").is_none(),
        "post-2026-07-06 shape"
    );
    let (s, v) = get(&h, "/v2/clock").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["timestamp"], "2013-10-04T10:00:00-04:00");
    assert_eq!(
        (v["is_open"].as_bool(), v["next_close"].as_str()),
        (Some(true), Some("2013-10-04T16:00:00-04:00"))
    );
    assert_eq!(v["next_open"], "2013-10-07T09:30:00-04:00");
    h.shutdown().await;
}

#[tokio::test]
async fn client_order_id_is_single_use_even_after_cancel() {
    let (h, _clock) = start(et("10:00:00"), vec![]).await;
    let (s, _, first) = post_order(&h, limit_buy("dup-1", "1.00", "day")).await;
    assert_eq!(
        (s, first["status"].as_str()),
        (StatusCode::OK, Some("accepted"))
    );
    let (s, _, v) = post_order(&h, limit_buy("dup-1", "1.00", "day")).await;
    assert_eq!((s, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, 40010001));
    assert_eq!(v["message"], "client_order_id must be unique");
    let id = first["id"].as_str().unwrap().to_string();
    assert_eq!(
        delete(&h, &format!("/v2/orders/{id}")).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        delete(&h, &format!("/v2/orders/{id}")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "already terminal"
    );
    let (_, o) = get(&h, &format!("/v2/orders/{id}")).await;
    assert_eq!(o["status"], "canceled");
    let (s, _, v) = post_order(&h, limit_buy("dup-1", "1.00", "day")).await;
    assert_eq!((s, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, 40010001));
    let stats = h.stats();
    assert_eq!(
        (
            stats.order_posts,
            stats.orders_accepted,
            stats.duplicate_client_order_ids
        ),
        (3, 1, 2)
    );
    assert_eq!(stats.submits_by_client_id["dup-1"], 3);
    assert_eq!(stats.client_order_ids, ["dup-1"]);
    // Other refusals: sub-penny, buying power, bad ids.
    let (s, _, v) = post_order(&h, limit_buy("sub", "1.001", "day")).await;
    assert_eq!((s, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, 42210000));
    let big =
        json!({"symbol":"SPY","qty":"100000","side":"buy","type":"market","time_in_force":"day"});
    let (s, _, v) = post_order(&h, big).await;
    assert_eq!((s, code(&v)), (StatusCode::FORBIDDEN, 40310000));
    let (s, _, v) = post_order(
        &h,
        limit_buy("stop-ioc", "1.00", "ioc")
            .as_object()
            .map(|o| {
                let mut o = o.clone();
                o.insert("type".into(), "stop".into());
                o.insert("stop_price".into(), "2".into());
                o.remove("limit_price");
                Value::Object(o)
            })
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, 42210000),
        "stop orders are day/gtc only"
    );
    assert_eq!(
        get(&h, "/v2/orders/not-a-uuid").await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let unknown = "00000000-0000-4000-8000-000000000000";
    assert_eq!(
        get(&h, &format!("/v2/orders/{unknown}")).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        delete(&h, &format!("/v2/orders/{unknown}")).await,
        StatusCode::NOT_FOUND
    );
    h.shutdown().await;
}

#[tokio::test]
async fn by_client_order_id_is_404_then_200() {
    let (h, _clock) = start(et("10:00:00"), vec![]).await;
    let path = "/v2/orders:by_client_order_id?client_order_id=look-me-up";
    let (s, v) = get(&h, path).await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, 40410000));
    let (s, _, posted) = post_order(&h, limit_buy("look-me-up", "1.00", "gtc")).await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = get(&h, path).await;
    assert_eq!((s, &v["id"]), (StatusCode::OK, &posted["id"]));
    let o: Order = serde_json::from_value(v).unwrap();
    assert_eq!(
        (o.client_order_id.as_str(), o.status),
        ("look-me-up", OrderStatus::New)
    );
    h.shutdown().await;
}

#[tokio::test]
async fn market_buy_fills_at_the_open_of_the_0935_bar() {
    let bars = spy_bars();
    let (h, clock) = start(et("09:35:00"), vec![]).await;
    let mut ws = listen(&h).await;
    let buy = json!({"symbol":"SPY","qty":"10","side":"buy","type":"market","time_in_force":"day","client_order_id":"m-1"});
    let (s, _, v) = post_order(&h, buy).await;
    assert_eq!(
        (s, v["status"].as_str(), v["filled_qty"].as_str()),
        (StatusCode::OK, Some("accepted"), Some("0"))
    );
    assert_eq!(recv_update(&mut ws).await.event, TradeEvent::New);
    let fill = recv_update(&mut ws).await;
    let bar = bar_at(&bars, et("09:35:00"));
    assert_eq!(fill.event, TradeEvent::Fill);
    assert_eq!(
        fill.price,
        Some(bar.open_price()),
        "the open of the 09:35 bar"
    );
    assert_eq!(
        (fill.qty, fill.position_qty),
        (Some(Decimal::from(10)), Some(Decimal::from(10)))
    );
    assert_eq!(fill.timestamp, Some(bar.ts));
    assert!(fill.execution_id.is_some());
    assert_eq!(fill.order.filled_avg_price, Some(bar.open_price()));
    assert_eq!(
        (fill.order.status, fill.order.filled_at),
        (OrderStatus::Filled, Some(bar.ts))
    );
    let (_, v) = get(&h, "/v2/positions").await;
    let pos: Vec<Position> = serde_json::from_value(v).unwrap();
    assert_eq!(pos.len(), 1);
    assert_eq!(
        (pos[0].qty, pos[0].avg_entry_price),
        (Decimal::from(10), bar.open_price())
    );
    let (_, acct) = get(&h, "/v2/account").await;
    let cash: Decimal = acct["cash"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        cash,
        Decimal::from(100_000) - Decimal::from(10) * bar.open_price()
    );

    // Submitted mid-bar: waits for the next bar's open, and only once the clock gets there.
    clock.advance_to(et("09:35:30"));
    let sell =
        json!({"symbol":"SPY","qty":"4","side":"sell","type":"market","time_in_force":"day"});
    assert_eq!(post_order(&h, sell).await.0, StatusCode::OK);
    assert_eq!(recv_update(&mut ws).await.event, TradeEvent::New);
    tokio::time::sleep(Duration::from_millis(30)).await;
    assert_eq!(h.stats().fills, 1, "no fill before the clock reaches 09:36");
    clock.advance_to(et("09:36:00"));
    let fill = recv_update(&mut ws).await;
    let next = bar_at(&bars, et("09:36:00"));
    assert_eq!(
        (fill.price, fill.position_qty),
        (Some(next.open_price()), Some(Decimal::from(6)))
    );
    let (_, v) = get(&h, "/v2/positions/SPY").await;
    assert_eq!(v["qty"], "6");
    let too_many =
        json!({"symbol":"SPY","qty":"7","side":"sell","type":"market","time_in_force":"day"});
    let (s, _, v) = post_order(&h, too_many).await;
    assert_eq!(
        (s, v["available"].as_str()),
        (StatusCode::FORBIDDEN, Some("6")),
        "no long-to-short flip"
    );
    h.shutdown().await;
}

#[tokio::test]
async fn trade_stream_handshake_and_one_connection() {
    let (h, _clock) = start(et("10:00:00"), vec![]).await;
    let mut ws = connect(h.trade_stream_url()).await;
    send_text(
        &mut ws,
        json!({"action":"listen","data":{"streams":["trade_updates"]}}),
    )
    .await;
    assert!(
        matches!(recv_trade(&mut ws).await, StreamMessage::Authorization(a) if !a.is_authorized() && a.action == "listen")
    );
    send_text(
        &mut ws,
        json!({"action":"authenticate","data":{"key_id":KEY,"secret_key":"wrong"}}),
    )
    .await;
    assert!(
        matches!(recv_trade(&mut ws).await, StreamMessage::Authorization(a) if !a.is_authorized())
    );
    // A clean close frees the one slot for the next connection.
    timeout(T, ws.close(None)).await.unwrap().unwrap();
    while let Ok(Some(Ok(_))) = timeout(T, ws.next()).await {}
    tokio::time::sleep(Duration::from_millis(20)).await;
    let mut ws = listen(&h).await;
    let mut second = connect(h.trade_stream_url()).await;
    assert!(
        matches!(recv(&mut second).await, Message::Close(Some(f)) if f.reason == "connection limit exceeded")
    );
    assert_eq!(
        post_order(&h, limit_buy("s-1", "1.00", "day")).await.0,
        StatusCode::OK
    );
    let u = recv_update(&mut ws).await;
    assert_eq!(
        (u.event, u.order.client_order_id.as_str()),
        (TradeEvent::New, "s-1")
    );
    assert_eq!(h.stats().trade_stream_refused, 1);
    h.shutdown().await;
}

#[tokio::test]
async fn data_stream_sends_bars_after_their_end_in_order() {
    let bars = spy_bars();
    let (h, clock) = start(et("09:30:00"), vec![]).await;
    let mut ws = subscribe(h.data_stream_url()).await;
    let mut second = connect(h.data_stream_url()).await;
    assert_eq!(
        recv_data(&mut second).await.1,
        [DataMessage::Success {
            msg: "connected".into()
        }]
    );
    send_text(
        &mut second,
        json!({"action":"auth","key":KEY,"secret":SECRET}),
    )
    .await;
    assert_eq!(
        recv_data(&mut second).await.1,
        [DataMessage::Error {
            code: 406,
            msg: "connection limit exceeded".into()
        }]
    );
    let mut bad = connect(format!("ws://{}/v2/sip", h.addr)).await;
    recv_data(&mut bad).await;
    send_text(
        &mut bad,
        json!({"action":"auth","key":KEY,"secret":"wrong"}),
    )
    .await;
    assert!(matches!(
        &recv_data(&mut bad).await.1[..],
        [DataMessage::Error { code: 402, .. }]
    ));

    clock.advance_to(et("09:30:59"));
    assert!(
        timeout(Duration::from_millis(50), ws.next()).await.is_err(),
        "the 09:30 bar ends at 09:31"
    );
    clock.advance_to(et("09:33:00"));
    let mut got = Vec::new();
    while got.len() < 3 {
        let (text, msgs) = recv_data(&mut ws).await;
        for m in msgs {
            let DataMessage::Bar(b) = m else {
                panic!("not a bar: {text}")
            };
            let want = bar_at(&bars, b.bar.time);
            assert!(want.end <= et("09:33:00"));
            assert_eq!(
                (b.bar.open, b.bar.high, b.bar.low, b.bar.close),
                (
                    want.open_price(),
                    want.high_price(),
                    want.low_price(),
                    want.close_price()
                )
            );
            assert!(
                text.contains(&format!("\"o\":{}", want.open_price().normalize())),
                "exact number text: {text}"
            );
            got.push(b.bar.time);
        }
    }
    assert_eq!(got, [et("09:30:00"), et("09:31:00"), et("09:32:00")]);
    h.shutdown().await;
}

#[tokio::test]
async fn rest_bars_never_serve_the_future_and_page() {
    let bars = spy_bars();
    let (h, _clock) = start(et("10:00:30"), vec![]).await;
    let mut token: Option<String> = None;
    let mut got = Vec::new();
    let mut pages = 0;
    loop {
        let mut path = "/v2/stocks/bars?symbols=SPY&timeframe=1Min&start=2013-10-04T13:30:00Z&limit=7&feed=iex".to_string();
        if let Some(t) = &token {
            path.push_str(&format!("&page_token={t}"));
        }
        let resp = timeout(
            T,
            authed(reqwest::Client::new().get(format!("{}{path}", h.base_url()))).send(),
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let page = parse_bars_response(&resp.text().await.unwrap()).unwrap();
        pages += 1;
        got.extend(page.bars.get("SPY").cloned().unwrap_or_default());
        token = page.next_page_token;
        if token.is_none() {
            break;
        }
    }
    assert_eq!(
        (got.len(), pages),
        (30, 5),
        "09:30..09:59: the 10:00 bar ends at 10:01"
    );
    for (b, want) in got.iter().zip(bars.iter()) {
        assert_eq!(
            (b.time, b.open, b.close),
            (want.ts, want.open_price(), want.close_price())
        );
        assert!(want.end <= et("10:00:30"));
    }
    let resp = authed(reqwest::Client::new().get(format!(
        "{}/v2/stocks/SPY/bars?timeframe=1Min&start=2013-10-04&end=2013-10-05",
        h.base_url()
    )));
    let one = parse_symbol_bars_response(
        &timeout(T, resp.send())
            .await
            .unwrap()
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        (one.symbol.as_str(), one.bars.len(), one.next_page_token),
        ("SPY", 30, None)
    );
    let (s, _) = get(&h, "/v2/stocks/bars?symbols=SPY&timeframe=5Min").await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "only the file's own timeframe"
    );
    h.shutdown().await;
}

#[tokio::test]
async fn malformed_frame_fault_reaches_both_streams() {
    let (h, clock) = start(et("09:30:00"), vec![]).await;
    let mut trade = listen(&h).await;
    let mut data = subscribe(h.data_stream_url()).await;
    h.inject(Fault::MalformedFrame("{\"stream\":".into()));
    let m = recv(&mut trade).await;
    assert!(m.is_binary());
    assert!(parse_trade_update(&m.into_data()).is_err());
    let m = recv(&mut data).await.into_text().unwrap();
    assert_eq!(m.as_str(), "{\"stream\":");
    assert!(parse_data_frame(m.as_str()).is_err());
    assert_eq!(h.stats().malformed_frames_sent, 2);
    // A stale feed: nothing delivered at or after 09:32.
    h.inject(Fault::StopBarsAt(et("09:32:00")));
    clock.advance_to(et("09:34:00"));
    let (_, msgs) = recv_data(&mut data).await;
    assert!(matches!(&msgs[..], [DataMessage::Bar(b)] if b.bar.time == et("09:30:00")));
    assert!(timeout(Duration::from_millis(50), data.next())
        .await
        .is_err());
    h.shutdown().await;
}

#[tokio::test]
async fn day_limit_that_never_fills_expires_at_the_close() {
    let (h, clock) = start(et("10:00:00"), vec![]).await;
    let mut ws = listen(&h).await;
    let (_, _, day) = post_order(&h, limit_buy("d-1", "1.00", "day")).await;
    let (_, _, gtc) = post_order(&h, limit_buy("g-1", "1.00", "gtc")).await;
    assert_eq!(day["expires_at"], "2013-10-04T20:00:00Z");
    for _ in 0..2 {
        assert_eq!(recv_update(&mut ws).await.event, TradeEvent::New);
    }
    clock.advance_to(et("15:59:59"));
    tokio::time::sleep(Duration::from_millis(30)).await;
    assert_eq!(h.orders()[0].status, OrderStatus::New);
    clock.advance_to(et("16:00:00"));
    let u = recv_update(&mut ws).await;
    assert_eq!(
        (u.event, u.order.id.as_str()),
        (TradeEvent::Expired, day["id"].as_str().unwrap())
    );
    assert_eq!(
        (u.timestamp, u.order.expired_at),
        (Some(et("16:00:00")), Some(et("16:00:00")))
    );
    let (_, open) = get(&h, "/v2/orders?status=open").await;
    assert_eq!(open.as_array().map(|a| a.len()), Some(1));
    assert_eq!(open[0]["id"], gtc["id"]);
    let (_, closed) = get(&h, "/v2/orders?status=closed").await;
    assert_eq!(closed[0]["status"], "expired");
    h.shutdown().await;
}

#[tokio::test]
async fn submit_faults_rate_limit_lost_response_and_async_reject() {
    let (h, _clock) = start(et("10:00:00"), vec![Fault::Http(429, 1)]).await;
    let mut ws = listen(&h).await;
    let (s, headers, v) = post_order(&h, limit_buy("f-1", "1.00", "day")).await;
    assert_eq!((s, code(&v)), (StatusCode::TOO_MANY_REQUESTS, 42910000));
    assert_eq!(headers["x-ratelimit-remaining"], "0");
    assert!(headers.contains_key("x-ratelimit-reset"));
    h.inject(Fault::LoseSubmitResponse(1));
    let (s, _, _) = post_order(&h, limit_buy("f-1", "1.00", "day")).await;
    assert_eq!(s, StatusCode::GATEWAY_TIMEOUT);
    let (s, v) = get(&h, "/v2/orders:by_client_order_id?client_order_id=f-1").await;
    assert_eq!(
        (s, v["client_order_id"].as_str()),
        (StatusCode::OK, Some("f-1")),
        "accepted despite the 504"
    );
    assert_eq!(recv_update(&mut ws).await.event, TradeEvent::New);
    h.inject(Fault::RejectNextOrders(1));
    let (s, _, v) = post_order(&h, limit_buy("f-2", "1.00", "day")).await;
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::OK, Some("accepted"))
    );
    let u = recv_update(&mut ws).await;
    assert_eq!(
        (u.event, u.order.status),
        (TradeEvent::Rejected, OrderStatus::Rejected)
    );
    let stats = h.stats();
    assert_eq!(
        (
            stats.http_faults,
            stats.lost_responses,
            stats.rejected_orders
        ),
        (1, 1, 1)
    );
    assert_eq!(stats.submits_by_client_id["f-1"], 2);
    h.shutdown().await;
}

#[tokio::test]
async fn duplicate_fill_events_and_a_dropped_stream() {
    let (h, clock) = start(et("09:34:30"), vec![Fault::DuplicateEvents]).await;
    let mut ws = listen(&h).await;
    let buy = json!({"symbol":"SPY","qty":"1","side":"buy","type":"market","time_in_force":"day"});
    assert_eq!(post_order(&h, buy.clone()).await.0, StatusCode::OK);
    assert_eq!(recv_update(&mut ws).await.event, TradeEvent::New);
    clock.advance_to(et("09:35:00"));
    let (a, b) = (recv_update(&mut ws).await, recv_update(&mut ws).await);
    assert_eq!(
        (a.event, &a.execution_id),
        (TradeEvent::Fill, &b.execution_id)
    );
    assert_eq!(h.stats().fills, 1);
    h.inject(Fault::DropTradeStream);
    assert!(matches!(recv(&mut ws).await, Message::Close(_)));
    clock.advance_to(et("09:35:30"));
    assert_eq!(
        post_order(&h, buy).await.0,
        StatusCode::OK,
        "its `new` event is lost: nobody listens"
    );
    tokio::time::sleep(Duration::from_millis(30)).await;
    let mut again = listen(&h).await;
    let (s, v) = get(&h, "/v2/orders?status=all&direction=asc").await;
    assert_eq!(
        (s, v.as_array().map(|a| a.len())),
        (StatusCode::OK, Some(2)),
        "reconcile over REST"
    );
    assert_eq!(
        (v[0]["status"].as_str(), v[1]["status"].as_str()),
        (Some("filled"), Some("new"))
    );
    assert_eq!(h.stats().trade_stream_drops, 1);
    clock.advance_to(et("09:36:00"));
    let u = recv_update(&mut again).await;
    assert_eq!(
        (u.event, u.position_qty),
        (TradeEvent::Fill, Some(Decimal::from(2)))
    );
    h.shutdown().await;
}

#[tokio::test]
async fn pre_open_orders_wait_for_the_open_and_limits_fill_at_the_bar_end() {
    let bars = spy_bars();
    let (h, clock) = start(et("09:00:00"), vec![]).await;
    let mut ws = listen(&h).await;
    // A sell limit at the running high's cent ceiling that a later bar trades through.
    let day: Vec<_> = bars
        .iter()
        .filter(|b| b.ts >= et("09:30:00") && b.ts < et("16:00:00"))
        .collect();
    let cent = |d: Decimal| (d * Decimal::from(100)).ceil() / Decimal::from(100);
    let (hit, limit) = (5..day.len())
        .find_map(|k| {
            let prior = day[..k].iter().map(|b| b.high_price()).max()?;
            (day[k].high_price() > cent(prior)).then(|| (day[k], cent(prior)))
        })
        .expect("a bar trades through the running high");
    let market =
        json!({"symbol":"SPY","qty":"1","side":"buy","type":"market","time_in_force":"day"});
    let (s, _, v) = post_order(&h, market).await;
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::OK, Some("accepted"))
    );
    let sell = json!({"symbol":"SPY","qty":"1","side":"sell","type":"limit","time_in_force":"day",
        "limit_price":limit.to_string(),"client_order_id":"lim"});
    let (s, _, _) = post_order(&h, sell).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        timeout(Duration::from_millis(50), ws.next()).await.is_err(),
        "no `new` before the open"
    );
    assert_eq!(h.orders()[0].status, OrderStatus::Accepted);
    clock.advance_to(et("09:30:00"));
    for _ in 0..2 {
        let u = recv_update(&mut ws).await;
        assert_eq!(
            (u.event, u.timestamp),
            (TradeEvent::New, Some(et("09:30:00")))
        );
    }
    let u = recv_update(&mut ws).await;
    let open_bar = bar_at(&bars, et("09:30:00"));
    assert_eq!(
        (u.event, u.price),
        (TradeEvent::Fill, Some(open_bar.open_price()))
    );
    clock.advance_to(hit.end);
    let u = recv_update(&mut ws).await;
    assert_eq!(u.order.client_order_id, "lim");
    assert_eq!((u.event, u.timestamp), (TradeEvent::Fill, Some(hit.end)));
    assert_eq!(u.price, Some(hit.open_price().max(limit)));
    assert_eq!(u.position_qty, Some(Decimal::ZERO));
    assert_eq!(
        get(&h, "/v2/positions/SPY").await.0,
        StatusCode::NOT_FOUND,
        "flat: no row"
    );
    let (s, cal) = get(&h, "/v2/calendar?start=2013-10-04&end=2013-10-11").await;
    assert_eq!(
        (s, cal.as_array().map(|a| a.len())),
        (StatusCode::OK, Some(6))
    );
    assert_eq!(
        (&cal[0]["open"], &cal[0]["close"]),
        (&json!("09:30"), &json!("16:00"))
    );
    h.shutdown().await;
}
