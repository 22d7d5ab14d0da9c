//! Tests of the market-data wire types, with the examples of §4.

use super::*;

#[test]
fn handshake_and_subscription_frames() {
    let m = parse_data_frame(r#"[{"T":"success","msg":"connected"}]"#).unwrap();
    assert_eq!(
        m,
        vec![DataMessage::Success {
            msg: "connected".into()
        }]
    );
    let e = parse_data_frame(r#"[{"T":"error","code":406,"msg":"connection limit exceeded"}]"#)
        .unwrap();
    assert_eq!(
        e,
        vec![DataMessage::Error {
            code: 406,
            msg: "connection limit exceeded".into()
        }]
    );
    let s = parse_data_frame(
        r#"[{"T":"subscription","trades":["AAPL"],"quotes":["AMD","CLDR"],"bars":["*"],"updatedBars":[],"dailyBars":["VOO"],"statuses":["*"],"lulds":[],"corrections":["AAPL"],"cancelErrors":["AAPL"]}]"#,
    )
    .unwrap();
    let DataMessage::Subscription(ch) = &s[0] else {
        panic!("not a subscription")
    };
    assert_eq!(ch.bars, vec!["*".to_string()]);
    assert_eq!(ch.daily_bars, vec!["VOO".to_string()]);
    let written = data_frame_json(&s);
    assert_eq!(parse_data_frame(&written).unwrap(), s);
}

#[test]
fn bars_parse_exactly_and_write_exactly() {
    let text = r#"[{"T":"b","S":"SPY","o":388.985,"h":389.13,"l":388.975,"c":389.12,"v":49378,"t":"2021-02-22T19:15:00Z","n":461,"vw":389.062639},
                   {"T":"u","S":"SPY","o":205.93,"h":206,"l":205.9,"c":205.95,"v":12.5,"t":"2021-02-22T19:16:00Z"},
                   {"T":"t","S":"AAPL","i":96921,"x":"D","p":126.55,"s":1,"t":"2021-02-22T15:51:44.208Z","c":["@","I"],"z":"C"}]"#;
    let m = parse_data_frame(text).unwrap();
    assert_eq!(m.len(), 3);
    let DataMessage::Bar(b) = &m[0] else {
        panic!("not a bar")
    };
    assert_eq!(b.symbol, "SPY");
    assert_eq!(b.bar.open, Decimal::new(388985, 3));
    assert_eq!(b.bar.volume, Decimal::from(49378));
    assert_eq!(b.bar.trades, Some(461));
    assert_eq!(b.bar.time.to_iso(), "2021-02-22T19:15:00Z");
    let DataMessage::UpdatedBar(u) = &m[1] else {
        panic!("not an updated bar")
    };
    assert_eq!(u.bar.open, Decimal::new(20593, 2));
    assert_eq!(u.bar.trades, None);
    assert!(matches!(&m[2], DataMessage::Other { kind, .. } if kind == "t"));
    let json = b.to_json("b");
    assert_eq!(
        json,
        r#"{"T":"b","S":"SPY","o":388.985,"h":389.13,"l":388.975,"c":389.12,"v":49378,"t":"2021-02-22T19:15:00Z","n":461,"vw":389.062639}"#
    );
}

#[test]
fn malformed_frames_are_errors_not_panics() {
    for bad in [
        "",
        "nope",
        "{}",
        r#"[{"msg":"no type"}]"#,
        r#"[{"T":5}]"#,
        r#"[{"T":"b","S":"SPY","o":"x","h":1,"l":1,"c":1,"v":1,"t":"2021-02-22T19:15:00Z"}]"#,
        r#"[{"T":"b","o":1,"h":1,"l":1,"c":1,"v":1,"t":"2021-02-22T19:15:00Z"}]"#,
        r#"[{"T":"b","S":"SPY","h":1,"l":1,"c":1,"v":1,"t":"2021-02-22T19:15:00Z"}]"#,
        r#"[{"T":"b","S":"SPY","o":1,"h":1,"l":1,"c":1,"v":1,"t":"tuesday"}]"#,
        r#"[{"T":"error","code":"x"}]"#,
    ] {
        let e = parse_data_frame(bad).unwrap_err();
        assert!(e.to_string().len() < 160, "short reason: {e}");
    }
}

#[test]
fn client_requests() {
    let a = parse_data_request(r#"{"action":"auth","key":"k","secret":"s"}"#).unwrap();
    assert_eq!(
        a,
        DataRequest::Auth {
            key: "k".into(),
            secret: "s".into()
        }
    );
    let s = parse_data_request(r#"{"action":"subscribe","bars":["SPY"]}"#).unwrap();
    let DataRequest::Subscribe(ch) = s else {
        panic!("not a subscribe")
    };
    assert_eq!(ch.bars, vec!["SPY".to_string()]);
    let text = serde_json::to_string(&DataRequest::Subscribe(Channels {
        bars: vec!["SPY".into()],
        ..Channels::default()
    }))
    .unwrap();
    assert!(text.starts_with(r#"{"action":"subscribe","trades":[],"quotes":[],"bars":["SPY"]"#));
    assert!(parse_data_request(r#"{"action":"listen"}"#).is_err());
}

#[test]
fn rest_bars_shapes() {
    let multi = r#"{"bars":{"AAPL":[{"t":"2021-02-22T19:15:00Z","o":388.985,"h":389.13,"l":388.975,"c":389.12,"v":49378,"n":461,"vw":389.062639}],"B":null},"next_page_token":"QUFQTHxNfDIwMjE="}"#;
    let r = parse_bars_response(multi).unwrap();
    assert_eq!(r.bars["AAPL"][0].close, Decimal::new(38912, 2));
    assert!(r.bars["B"].is_empty());
    assert_eq!(r.next_page_token.as_deref(), Some("QUFQTHxNfDIwMjE="));
    let crypto = r#"{"bars":{"BTC/USD":[{"c":69000.5,"h":69100,"l":68900,"n":12,"o":69010,"t":"2024-03-12T05:00:00Z","v":0.01234567,"vw":69001.1}]},"next_page_token":null}"#;
    let c = parse_bars_response(crypto).unwrap();
    assert_eq!(c.bars["BTC/USD"][0].volume, Decimal::new(1234567, 8));
    assert_eq!(c.next_page_token, None);
    assert_eq!(parse_bars_response(&c.to_json()).unwrap(), c);
    let single = r#"{"symbol":"AAPL","bars":[{"t":"2021-02-22T19:15:00Z","o":1,"h":2,"l":0.5,"c":1.5,"v":10}],"next_page_token":null,"currency":"USD"}"#;
    let s = parse_symbol_bars_response(single).unwrap();
    assert_eq!(s.bars[0].low, Decimal::new(5, 1));
    assert_eq!(parse_symbol_bars_response(&s.to_json()).unwrap(), s);
    let empty =
        parse_symbol_bars_response(r#"{"symbol":"X","bars":null,"next_page_token":null}"#).unwrap();
    assert!(empty.bars.is_empty());
}

#[test]
fn truncated_and_corrupted_frames_never_panic() {
    let base = r#"[{"T":"b","S":"SPY","o":388.985,"h":389.13,"l":388.975,"c":389.12,"v":49378,"t":"2021-02-22T19:15:00Z","n":461,"vw":389.062639},{"T":"subscription","bars":["SPY"]}]"#;
    for cut in 0..base.len() {
        if let Some(prefix) = base.get(..cut) {
            assert!(parse_data_frame(prefix).is_err());
        }
    }
    for i in 0..base.len() {
        let mut b = base.as_bytes().to_vec();
        b[i] ^= 0x5a;
        let _ = parse_data_frame(&String::from_utf8_lossy(&b));
    }
}
