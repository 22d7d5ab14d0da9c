//! 100,000 random request bodies through the webhook's screen and intake: none panics, and
//! every answer is one of the statuses the contract names (never a 5xx). Bodies are random
//! bytes, random JSON, and signal-shaped objects with random field values, authenticated
//! by a right or wrong signature, a right or wrong body secret, or nothing.

use lockstep_core::UnixNanos;
use lockstep_live::webhook::{sign, Intake, IntakeRules, Judgement, Screened};
use proptest::prelude::*;
use serde_json::{Map, Value};

const SECRET: &[u8] = b"fuzz-secret";

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "\\PC{0,12}".prop_map(Value::String),
        prop_oneof![
            Just("long"),
            Just("SHORT"),
            Just("buy"),
            Just("bear"),
            Just("5"),
            Just("1D"),
            Just("60"),
            Just("SPY"),
            Just("btc/usd"),
            Just("2024-01-03T15:00:00Z"),
            Just("1704294000000"),
            Just("fuzz-secret"),
            Just(""),
            Just(" "),
        ]
        .prop_map(|s| Value::String(s.to_string())),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A signal-shaped object: known field names with random values, plus random extras.
fn object() -> impl Strategy<Value = Map<String, Value>> {
    let names = prop_oneof![
        Just("symbol"),
        Just("ticker"),
        Just("direction"),
        Just("timeframe"),
        Just("id"),
        Just("price"),
        Just("time"),
        Just("ts"),
        Just("timestamp"),
        Just("sent_at"),
        Just("secret"),
        Just("passphrase"),
        Just("note"),
    ];
    prop::collection::vec((names, value()), 0..9)
        .prop_map(|kv| kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

/// A mostly valid signal: a known ticker and direction, random optional fields (sometimes
/// broken), the sender's time anywhere from now to 90 s ago, random extras.
fn signal() -> impl Strategy<Value = Map<String, Value>> {
    let ticker = prop_oneof![Just("SPY"), Just("qqq"), Just("BTC/USD"), Just(" AAPL ")];
    let direction = prop_oneof![
        Just("long"),
        Just("Sell"),
        Just("bullish"),
        Just("put"),
        Just("up")
    ];
    let tf = prop_oneof![
        Just(Value::Null),
        Just(Value::from(5)),
        Just(Value::from("1D")),
        Just(Value::from("7q"))
    ];
    let sent = 0i64..90_000;
    (
        ticker,
        direction,
        tf,
        prop::option::of(value()),
        sent,
        object(),
    )
        .prop_map(|(t, d, tf, id, sent_ms, mut extra)| {
            for k in [
                "symbol",
                "ticker",
                "direction",
                "timeframe",
                "id",
                "time",
                "ts",
                "timestamp",
                "sent_at",
            ] {
                extra.remove(k);
            }
            extra.insert("ticker".into(), Value::from(t));
            extra.insert("direction".into(), Value::from(d));
            extra.insert("timeframe".into(), tf);
            if let Some(id) = id {
                extra.insert("id".into(), id);
            }
            extra.insert("time".into(), Value::from(1_704_294_000_000 - sent_ms));
            extra
        })
}

#[derive(Debug, Clone)]
enum Auth {
    None,
    Signed,
    BadSignature(String),
    BodySecret(bool),
}

fn auth() -> impl Strategy<Value = Auth> {
    prop_oneof![
        1 => Just(Auth::None),
        3 => Just(Auth::Signed),
        1 => "\\PC{0,70}".prop_map(Auth::BadSignature),
        3 => any::<bool>().prop_map(Auth::BodySecret),
    ]
}

fn body() -> impl Strategy<Value = (Vec<u8>, Auth)> {
    let raw = prop::collection::vec(any::<u8>(), 0..256);
    let json = value().prop_map(|v| v.to_string().into_bytes());
    let shaped = (prop_oneof![object(), signal()], auth()).prop_map(|(mut o, a)| {
        if let Auth::BodySecret(right) = a {
            let s = if right { "fuzz-secret" } else { "fuzz-secreT" };
            o.insert("secret".into(), Value::String(s.into()));
        }
        (Value::Object(o).to_string().into_bytes(), a)
    });
    prop_oneof![1 => (raw, auth()), 1 => (json, auth()), 2 => shaped]
}

/// What one body came to: an HTTP status, or `accepted`/`refused` by the intake.
fn outcome(bytes: &[u8], a: &Auth, offset: i64) -> Result<String, TestCaseError> {
    let signature = match a {
        Auth::Signed => Some(sign(bytes, SECRET)),
        Auth::BadSignature(s) => Some(s.clone()),
        _ => None,
    };
    let now = UnixNanos(1_704_294_000_000_000_000 + offset);
    match lockstep_live::webhook::screen::screen(bytes, signature.as_deref(), SECRET) {
        Screened::Refused(r) => {
            prop_assert!([400, 401, 413].contains(&r.http), "{}", r.http);
            prop_assert!(!r.errors.is_empty());
            if let Some(kept) = r.body {
                prop_assert!(!kept.contains("\"secret\""), "{kept}");
            }
            Ok(r.http.to_string())
        }
        Screened::Candidate(c) => {
            prop_assert!(!c.signal.extra.contains_key("secret"));
            prop_assert!(!c.signal.extra.contains_key("passphrase"));
            let mut intake = Intake::new(IntakeRules::default());
            match intake.judge(*c, now) {
                Judgement::Accepted(s) => {
                    prop_assert!(s.id.is_some() && s.ts >= now);
                    Ok("accepted".into())
                }
                Judgement::Refused { errors, .. } => {
                    prop_assert!(!errors.is_empty());
                    Ok("refused".into())
                }
                Judgement::Duplicate { .. } => {
                    Err(TestCaseError::fail("a fresh intake has no duplicates"))
                }
            }
        }
    }
}

#[test]
fn no_body_panics_or_gets_a_5xx() {
    use proptest::test_runner::{Config, TestRunner};
    let mut runner = TestRunner::new(Config {
        cases: 100_000,
        failure_persistence: None,
        ..Config::default()
    });
    let counts = std::cell::RefCell::new(std::collections::BTreeMap::<String, u64>::new());
    let big = prop::collection::vec(any::<u8>(), 131_073..131_100);
    let cases = prop_oneof![99 => body(), 1 => (big, auth())];
    runner
        .run(&(cases, 0i64..30_000_000_000), |((bytes, a), offset)| {
            let o = outcome(&bytes, &a, offset)?;
            *counts.borrow_mut().entry(o).or_insert(0) += 1;
            Ok(())
        })
        .expect("no body fails");
    let counts = counts.into_inner();
    eprintln!("{counts:?}");
    // Every path was taken many times: the run covers what it claims to.
    for k in ["400", "401", "413", "accepted", "refused"] {
        assert!(
            counts.get(k).copied().unwrap_or(0) >= 100,
            "{k}: {counts:?}"
        );
    }
    assert_eq!(counts.values().sum::<u64>(), 100_000);
}
