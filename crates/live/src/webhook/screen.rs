//! The stateless half of intake: what a request's bytes and signature header say, before
//! the loop sees anything. Authentication comes first, so an unauthenticated sender learns
//! nothing about the schema; then the body must be one signal object. The shared secret a
//! body may carry (TradingView cannot sign) is removed here, before anything is kept.

use hmac::{Hmac, Mac};
use lockstep_core::{Signal, UnixNanos};
use serde_json::{Map, Value};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Largest body accepted (bytes); a larger one is answered 413.
pub const BODY_LIMIT: usize = 128 * 1024;

/// The header carrying `HMAC-SHA256(secret, raw body)` as hex (optionally `sha256=`-prefixed).
pub const SIGNATURE_HEADER: &str = "x-webhook-signature";

/// Body fields that may carry the shared secret; all are removed from every kept body.
pub const SECRET_FIELDS: [&str; 2] = ["secret", "passphrase"];

/// Body fields that may carry when the sender made the signal (the first present counts);
/// removed, and kept as the signal's `sent_at` extra field.
pub const SENT_AT_FIELDS: [&str; 4] = ["sent_at", "time", "timestamp", "ts"];

/// How much of an authenticated but malformed body is kept for forensics (bytes).
const KEPT_BODY: usize = 2048;

/// A request the intake refuses before the loop sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The HTTP status: 401 (authentication), 400 (schema) or 413 (size).
    pub http: u16,
    /// What is wrong, one entry per problem (field-level for 400).
    pub errors: Vec<String>,
    /// The body's length in bytes.
    pub bytes: usize,
    /// The body with its secret removed, cut to 2 KB, when it was an authenticated JSON
    /// object (never for 401 or 413, nor for a body that is not a JSON object).
    pub body: Option<String>,
}

/// An authenticated, well-formed signal, not yet judged against the session's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The signal; its `ts` is set when the loop's side stamps it.
    pub signal: Signal,
    /// When the sender says it made the signal, if it says.
    pub sent_at: Option<UnixNanos>,
}

/// What the bytes of one request amount to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screened {
    /// Refused: answered with the refusal's status, journaled without the loop.
    Refused(Refusal),
    /// A signal for the intake to judge.
    Candidate(Box<Candidate>),
}

fn refuse(http: u16, error: String, bytes: usize, body: Option<String>) -> Screened {
    Screened::Refused(Refusal {
        http,
        errors: vec![error],
        bytes,
        body,
    })
}

/// The 413 refusal of a body over [`BODY_LIMIT`].
pub fn too_large(bytes: usize) -> Refusal {
    Refusal {
        http: 413,
        errors: vec![format!(
            "body: over the {BODY_LIMIT}-byte limit ({bytes} bytes or more)"
        )],
        bytes,
        body: None,
    }
}

/// Whether `signature` (hex, optionally `sha256=`-prefixed) is `HMAC-SHA256(secret, body)`,
/// compared in constant time.
pub fn signature_matches(body: &[u8], signature: &str, secret: &[u8]) -> bool {
    let text = signature.trim();
    let text = text.strip_prefix("sha256=").unwrap_or(text);
    let Ok(given) = hex::decode(text) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

/// The hex `HMAC-SHA256(secret, body)` a sender puts in [`SIGNATURE_HEADER`].
pub fn sign(body: &[u8], secret: &[u8]) -> String {
    match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mut mac) => {
            mac.update(body);
            hex::encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

/// Whether the body's secret field equals `secret` (constant time for equal lengths).
fn body_secret_matches(obj: &Map<String, Value>, secret: &[u8]) -> bool {
    SECRET_FIELDS.iter().any(|k| match obj.get(*k) {
        Some(Value::String(s)) => bool::from(s.as_bytes().ct_eq(secret)),
        _ => false,
    })
}

/// A sender's time: RFC 3339 / ISO-8601 text, or a Unix time in seconds, milliseconds or
/// nanoseconds (by magnitude).
fn sent_at(v: &Value) -> Result<UnixNanos, String> {
    match v {
        Value::String(s) => lockstep_data::timeparse::parse_ts_text(s, None)
            .map(UnixNanos)
            .map_err(|e| format!("{e} (e.g. 2024-01-02T14:31:00Z)")),
        Value::Number(n) => {
            let ns = match n.as_i64() {
                Some(x) if (0..100_000_000_000).contains(&x) => x.checked_mul(1_000_000_000),
                Some(x) if (0..100_000_000_000_000).contains(&x) => x.checked_mul(1_000_000),
                Some(x) if x >= 0 => Some(x),
                _ => None,
            };
            ns.map(UnixNanos)
                .ok_or_else(|| format!("{n} is not a Unix time"))
        }
        _ => Err("must be a time (text or a Unix time)".into()),
    }
}

/// The first 2 KB of an authenticated body (its secret already removed), for the journal.
fn kept(obj: &Map<String, Value>) -> Option<String> {
    let text = Value::Object(obj.clone()).to_string();
    let mut end = text.len().min(KEPT_BODY);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Some(text[..end].to_string())
}

/// Screens one request: `signature` is the [`SIGNATURE_HEADER`] value, if sent. With a
/// signature, it must match (401 otherwise); without one, the body must be a JSON object
/// whose `secret` (or `passphrase`) equals `secret` (401 otherwise). An authenticated body
/// must be a JSON object that [`lockstep_data::signals::parse_object`] reads as a signal
/// (400 naming the field otherwise). An empty `secret` authenticates nothing.
pub fn screen(body: &[u8], signature: Option<&str>, secret: &[u8]) -> Screened {
    let bytes = body.len();
    if bytes > BODY_LIMIT {
        return Screened::Refused(too_large(bytes));
    }
    if secret.is_empty() {
        return refuse(401, "no webhook secret is configured".into(), bytes, None);
    }
    let parsed: Option<Map<String, Value>> = match serde_json::from_slice(body) {
        Ok(Value::Object(obj)) => Some(obj),
        _ => None,
    };
    let authenticated = match signature {
        Some(sig) => signature_matches(body, sig, secret),
        None => parsed
            .as_ref()
            .is_some_and(|o| body_secret_matches(o, secret)),
    };
    if !authenticated {
        let why = if signature.is_some() {
            "X-Webhook-Signature: does not match the body (HMAC-SHA256 of the raw body, hex)"
        } else {
            "unauthenticated: send X-Webhook-Signature, or the shared secret in the body's `secret` field"
        };
        return refuse(401, why.into(), bytes, None);
    }
    let Some(mut obj) = parsed else {
        let why = match serde_json::from_slice::<Value>(body) {
            Ok(_) => "body: not a JSON object".to_string(),
            Err(e) => format!("body: not JSON ({e})"),
        };
        // Not kept: a body that is not an object could still hold the secret somewhere.
        return refuse(400, why, bytes, None);
    };
    for k in SECRET_FIELDS {
        obj.remove(k);
    }
    let mut sent = None;
    for k in SENT_AT_FIELDS {
        if let Some(v) = obj.remove(k) {
            if sent.is_none() && !v.is_null() {
                match sent_at(&v) {
                    Ok(t) => sent = Some(t),
                    Err(why) => {
                        return refuse(400, format!("field `{k}`: {why}"), bytes, kept(&obj))
                    }
                }
            }
        }
    }
    obj.insert("ts".into(), Value::String(UnixNanos(0).to_iso()));
    match lockstep_data::signals::parse_object(&obj) {
        Ok(mut signal) => {
            if let Some(t) = sent {
                signal
                    .extra
                    .insert("sent_at".into(), Value::String(t.to_iso()).to_string());
            }
            Screened::Candidate(Box::new(Candidate {
                signal,
                sent_at: sent,
            }))
        }
        Err((field, why)) => {
            obj.remove("ts");
            refuse(400, format!("{field}: {why}"), bytes, kept(&obj))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"s3cret-for-tests";

    fn errors(s: Screened) -> (u16, Vec<String>, Option<String>) {
        match s {
            Screened::Refused(r) => (r.http, r.errors, r.body),
            Screened::Candidate(c) => panic!("accepted {c:?}"),
        }
    }

    #[test]
    fn a_signed_body_is_read_and_a_wrong_signature_is_401() {
        let body = br#"{"ticker":"spy","direction":"buy","timeframe":"5","id":"a1"}"#;
        let sig = sign(body, SECRET);
        let Screened::Candidate(c) = screen(body, Some(&format!("sha256={sig}")), SECRET) else {
            panic!("refused");
        };
        assert_eq!(c.signal.symbol, "SPY");
        assert_eq!(c.signal.direction, lockstep_core::Direction::Long);
        assert_eq!(c.signal.timeframe.as_deref(), Some("5m"));
        assert_eq!(c.signal.id.as_deref(), Some("a1"));
        let mut bad = sig.clone().into_bytes();
        bad[0] = if bad[0] == b'0' { b'1' } else { b'0' };
        let bad = String::from_utf8(bad).expect("hex");
        let (http, errs, kept) = errors(screen(body, Some(&bad), SECRET));
        assert_eq!(http, 401);
        assert!(errs[0].contains("X-Webhook-Signature"), "{errs:?}");
        assert_eq!(kept, None, "an unauthenticated body is not kept");
        assert_eq!(errors(screen(body, Some("zz"), SECRET)).0, 401);
        assert_eq!(errors(screen(body, Some(&sig), b"other")).0, 401);
    }

    #[test]
    fn a_body_secret_authenticates_and_is_never_kept() {
        let body = br#"{"symbol":"QQQ","direction":"short","secret":"s3cret-for-tests","passphrase":"x","note":"hi"}"#;
        let Screened::Candidate(c) = screen(body, None, SECRET) else {
            panic!("refused");
        };
        assert!(!c.signal.extra.contains_key("secret"));
        assert!(!c.signal.extra.contains_key("passphrase"));
        assert_eq!(
            c.signal.extra.get("note").map(String::as_str),
            Some("\"hi\"")
        );
        let wrong = br#"{"symbol":"QQQ","direction":"short","secret":"s3cret-for-test"}"#;
        assert_eq!(errors(screen(wrong, None, SECRET)).0, 401);
        let none = br#"{"symbol":"QQQ","direction":"short"}"#;
        assert_eq!(errors(screen(none, None, SECRET)).0, 401);
        assert_eq!(
            errors(screen(body, None, b"")).0,
            401,
            "no secret, no entry"
        );
    }

    #[test]
    fn schema_errors_are_400_naming_the_field_without_the_secret() {
        let cases: [(&[u8], &str); 5] = [
            (br#"{"secret":"s3cret-for-tests","direction":"long"}"#, "field `symbol`: missing"),
            (br#"{"secret":"s3cret-for-tests","symbol":"SPY","direction":"up"}"#, "field `direction`"),
            (br#"{"secret":"s3cret-for-tests","symbol":"SPY","direction":"long","timeframe":"7x"}"#, "field `timeframe`"),
            (br#"{"secret":"s3cret-for-tests","symbol":"SPY","direction":"long","price":-1}"#, "field `price`"),
            (br#"{"secret":"s3cret-for-tests","symbol":"SPY","direction":"long","time":"yesterday"}"#, "field `time`"),
        ];
        for (body, want) in cases {
            let (http, errs, kept) = errors(screen(body, None, SECRET));
            assert_eq!(http, 400, "{want}");
            assert!(errs[0].contains(want), "{errs:?} should name {want}");
            let kept = kept.expect("an authenticated body is kept");
            assert!(!kept.contains("s3cret"), "{kept}");
        }
        let signed_garbage = b"{not json";
        let sig = sign(signed_garbage, SECRET);
        let (http, errs, _) = errors(screen(signed_garbage, Some(&sig), SECRET));
        assert_eq!(http, 400);
        assert!(errs[0].starts_with("body: not JSON"), "{errs:?}");
    }

    #[test]
    fn the_senders_time_is_read_in_any_usual_form_and_kept() {
        let want = UnixNanos(1_700_000_000_000_000_000);
        for t in [
            "\"2023-11-14T22:13:20Z\"",
            "1700000000",
            "1700000000000",
            "1700000000000000000",
        ] {
            let body = format!(
                r#"{{"secret":"s3cret-for-tests","symbol":"SPY","direction":"long","time":{t}}}"#
            );
            let Screened::Candidate(c) = screen(body.as_bytes(), None, SECRET) else {
                panic!("refused {t}");
            };
            assert_eq!(c.sent_at, Some(want), "{t}");
            assert_eq!(
                c.signal.extra.get("sent_at").map(String::as_str),
                Some("\"2023-11-14T22:13:20Z\"")
            );
            assert!(!c.signal.extra.contains_key("time"));
        }
    }

    #[test]
    fn an_oversized_body_is_413_before_anything_else() {
        let body = vec![b' '; BODY_LIMIT + 1];
        let (http, errs, kept) = errors(screen(&body, None, SECRET));
        assert_eq!(http, 413);
        assert!(errs[0].contains("131072"), "{errs:?}");
        assert_eq!(kept, None);
    }
}
