//! Signal intake for paper and live sessions: `POST /webhook`.
//!
//! A request passes three stages. [`screen`] (on the server's task, stateless): size (413),
//! authentication by HMAC-SHA256 signature or a shared secret in the body (401; the secret
//! is stripped there), schema (400 naming the field). [`intake`] (on the driver, stateful):
//! duplicates (200 `duplicate`), stale and outside-session signals (422, or queued until
//! the open). Then the driver journals the outcome and, for an accepted signal, feeds it to
//! the loop as a `Signal` input; only then is the request answered. The loop consumes the
//! signal when its clock passes the signal's time, exactly as a backtest of the exported
//! `signals.jsonl` does.

pub mod intake;
pub mod screen;
pub mod server;

pub use intake::{Intake, IntakeRules, Judgement, OutsideSession};
pub use screen::{sign, Candidate, Refusal, Screened, BODY_LIMIT, SIGNATURE_HEADER};

use crate::journal::RecordKind;
use crate::session::{Session, SessionError};
use lockstep_core::{Signal, UnixNanos};
use lockstep_engine::{Input, Journal, Venue};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use tokio::sync::{mpsc, oneshot};

/// The environment variable holding the webhook's shared secret.
pub const SECRET_ENV: &str = "LOCKSTEP_WEBHOOK_SECRET";

/// The webhook's shared secret from [`SECRET_ENV`]; an error naming it when unset or empty.
pub fn secret_from_env() -> Result<String, String> {
    std::env::var(SECRET_ENV)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            format!("--webhook: {SECRET_ENV} is not set: the webhook's shared secret comes only from the environment")
        })
}

/// One request, screened, waiting for the driver's judgement.
#[derive(Debug)]
pub struct Call {
    /// What the request's bytes amount to.
    pub screened: Screened,
    /// Where the answer goes.
    pub reply: oneshot::Sender<Reply>,
}

/// The answer to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// HTTP status.
    pub http: u16,
    /// `accepted`, `duplicate` or `rejected`.
    pub status: &'static str,
    /// The signal's id (the sender's, or the one it was accepted under).
    pub id: Option<String>,
    /// Why it was not accepted.
    pub errors: Vec<String>,
    /// For an accepted signal, when the loop handles it (the open, when it was queued).
    pub handled_at: Option<UnixNanos>,
}

impl Reply {
    /// The JSON body: `{"status", "id", "errors"}` (and `handled_at` when accepted).
    pub fn body(&self) -> Value {
        let mut v = json!({"status": self.status, "id": self.id, "errors": self.errors});
        if let Some(t) = self.handled_at {
            v["handled_at"] = Value::String(t.to_iso());
        }
        v
    }

    /// 503: the session is stopping and takes no more signals.
    pub fn stopping() -> Reply {
        Reply {
            http: 503,
            status: "rejected",
            id: None,
            errors: vec!["the session is stopping; nothing was recorded".into()],
            handled_at: None,
        }
    }
}

/// The driver's side of a session's webhook: the intake state, the calls from the server,
/// and a count of outcomes by status.
#[derive(Debug)]
pub struct WebhookSide {
    /// Duplicate, age and session rules with their state.
    pub intake: Intake,
    /// Screened requests from the server.
    pub calls: mpsc::Receiver<Call>,
    /// Outcomes so far, by `accepted` / `duplicate` / `rejected`.
    pub counts: BTreeMap<&'static str, u64>,
}

impl WebhookSide {
    /// A side whose intake already knows `accepted` (a resumed session's signals).
    pub fn new(rules: IntakeRules, calls: mpsc::Receiver<Call>, accepted: &[Signal]) -> Self {
        let mut intake = Intake::new(rules);
        intake.seed(accepted);
        WebhookSide {
            intake,
            calls,
            counts: BTreeMap::new(),
        }
    }

    /// Judges `call` at `now` (not before the session's last input), journals its outcome
    /// durably (an accepted signal as the loop's `Signal` input, anything else as a
    /// `webhook` record without the secret), then answers it.
    pub fn take<V: Venue, J: Journal>(
        &mut self,
        call: Call,
        session: &mut Session<V, J>,
        now: UnixNanos,
    ) -> Result<(), SessionError> {
        let now = now.max(session.last_input_at());
        let reply = match call.screened {
            Screened::Refused(r) => {
                let body = json!({
                    "webhook": "rejected", "http": r.http, "errors": r.errors,
                    "bytes": r.bytes, "body": r.body,
                });
                session.note(now, RecordKind::Raw, body.to_string())?;
                Reply {
                    http: r.http,
                    status: "rejected",
                    id: None,
                    errors: r.errors,
                    handled_at: None,
                }
            }
            Screened::Candidate(c) => self.judge(*c, session, now)?,
        };
        *self.counts.entry(reply.status).or_insert(0) += 1;
        // The sender may have gone; the outcome is journaled either way.
        let _ = call.reply.send(reply);
        Ok(())
    }

    fn judge<V: Venue, J: Journal>(
        &mut self,
        c: Candidate,
        session: &mut Session<V, J>,
        now: UnixNanos,
    ) -> Result<Reply, SessionError> {
        let line = || lockstep_data::signals::signal_line(&c.signal);
        let noted = |status: &str, http: u16, id: &Option<String>, errors: &[String]| {
            json!({
                "webhook": status, "http": http, "id": id, "errors": errors,
                "signal": serde_json::from_str::<Value>(&line()).unwrap_or(Value::Null),
            })
            .to_string()
        };
        match self.intake.judge(c.clone(), now) {
            Judgement::Accepted(signal) => {
                let (id, at) = (signal.id.clone(), signal.ts);
                session.feed(Input::Signal(signal))?;
                Ok(Reply {
                    http: 200,
                    status: "accepted",
                    id,
                    errors: Vec::new(),
                    handled_at: Some(at),
                })
            }
            Judgement::Duplicate { id, why } => {
                let errors = vec![why];
                session.note(now, RecordKind::Raw, noted("duplicate", 200, &id, &errors))?;
                Ok(Reply {
                    http: 200,
                    status: "duplicate",
                    id,
                    errors,
                    handled_at: None,
                })
            }
            Judgement::Refused { id, errors } => {
                session.note(now, RecordKind::Raw, noted("rejected", 422, &id, &errors))?;
                Ok(Reply {
                    http: 422,
                    status: "rejected",
                    id,
                    errors,
                    handled_at: None,
                })
            }
        }
    }
}

/// What a session's webhook needs: where to listen, the secret, the intake's rules.
#[derive(Clone)]
pub struct WebhookConfig {
    /// Listen here (`127.0.0.1:8787`; port 0 picks one).
    pub addr: std::net::SocketAddr,
    /// The shared secret (from [`SECRET_ENV`]).
    pub secret: String,
    /// Duplicate, age and session rules.
    pub rules: IntakeRules,
}

impl std::fmt::Debug for WebhookConfig {
    /// Never prints the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("addr", &self.addr)
            .field("secret", &"<redacted>")
            .field("rules", &self.rules)
            .finish()
    }
}
