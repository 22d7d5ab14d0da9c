//! What the driver counts and why it stopped.

use rust_decimal::Decimal;
use std::time::Duration;

/// Why the driver stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// Reconciliation found positions at the broker the journal cannot explain.
    Unreconciled(String),
    /// `--until` reached.
    Until,
    /// The first session closed (`--one-session`).
    SessionClosed,
    /// Ctrl-C.
    Interrupted,
    /// The feed task ended.
    FeedEnded,
}

/// What the driver counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DriverStats {
    /// Bars fed.
    pub bars: u64,
    /// Bars held back: outside the regular session.
    pub outside_session: u64,
    /// Frames that could not be read (journaled raw).
    pub malformed: u64,
    /// Bar corrections (journaled).
    pub corrections: u64,
    /// Orders submitted.
    pub orders: u64,
    /// Fills booked.
    pub fills: u64,
    /// Realized P&L so far.
    pub realized: Decimal,
    /// Feed disconnects.
    pub disconnects: u64,
    /// For each bar that led to orders: real time from the bar's arrival to the requests
    /// being handed to the broker task (journal writes included).
    pub bar_to_request: Vec<Duration>,
    /// Webhook requests answered, by status (`accepted`, `duplicate`, `rejected`).
    pub webhook: std::collections::BTreeMap<&'static str, u64>,
    /// EOD runs and engine alerts among the decisions, not yet told (the watch drains
    /// them).
    pub notices: Vec<Notice>,
}

/// A decision a person must hear about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The EOD flatten ran for this session date.
    Eod(String),
    /// The engine raised an alert (e.g. a position it could not flatten).
    Alert(String),
}

impl DriverStats {
    /// The `q` quantile (0..=1) of [`Self::bar_to_request`], if any.
    pub fn latency(&self, q: f64) -> Option<Duration> {
        let mut v = self.bar_to_request.clone();
        v.sort();
        let k = ((v.len() as f64 - 1.0) * q.clamp(0.0, 1.0)).round() as usize;
        v.get(k).copied()
    }
}

impl DriverStats {
    /// Counts the orders, fills and realized P&L among a step's decisions (canonical JSON
    /// objects: keys are sorted, so a decision is known by the key it carries).
    pub(crate) fn count(&mut self, decisions: &[(i64, String)]) {
        for (_, d) in decisions {
            let Ok(serde_json::Value::Object(v)) = serde_json::from_str(d) else {
                continue;
            };
            if v.contains_key("submitted") {
                self.orders += 1;
            } else if v.contains_key("fill") {
                self.fills += 1;
            } else if v.contains_key("lot") {
                let pnl = v
                    .get("net_pnl")
                    .and_then(|p| p.as_str()?.parse::<Decimal>().ok());
                self.realized += pnl.unwrap_or_default();
            } else if let Some(day) = v.get("eod").and_then(|x| x.as_str()) {
                self.notices.push(Notice::Eod(day.to_string()));
            } else if let Some(text) = v.get("alert").and_then(|x| x.as_str()) {
                self.notices.push(Notice::Alert(text.to_string()));
            }
        }
    }
}
