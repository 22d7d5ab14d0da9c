//! `/metrics`: a [`HealthState`] in the Prometheus text exposition format, version 0.0.4.
//!
//! Every family has `# HELP` and `# TYPE` lines; every sample line is
//! `name{labels} value` (or `name value`). Event counters are one family,
//! `lockstep_counter_total{name="bars"}`, so counter names need no sanitizing. Gauges that
//! are yes/no read 1 or 0. Label values are escaped per the format (`\\`, `\"`, `\n`).
//!
//! | metric | type | value |
//! |---|---|---|
//! | `lockstep_info{session}` | gauge | always 1 |
//! | `lockstep_ready` | gauge | 1 when there is no not-ready reason |
//! | `lockstep_reconciled` | gauge | 1 when reconcile is done |
//! | `lockstep_stream_up` | gauge | broker trade_updates stream up |
//! | `lockstep_feed_up` | gauge | market-data websocket up |
//! | `lockstep_market_open` | gauge | regular session open |
//! | `lockstep_breaker_tripped` | gauge | venue breaker tripped |
//! | `lockstep_killed` | gauge | killed (entries or flatten) |
//! | `lockstep_unknown_orders` | gauge | orders at the broker the engine does not know |
//! | `lockstep_journal_lag` | gauge | inputs received but not yet journaled |
//! | `lockstep_clock_skew_ms` | gauge | ours minus the broker's; absent until measured |
//! | `lockstep_open_positions` | gauge | non-zero engine positions |
//! | `lockstep_clock_seconds` | gauge | the engine clock, Unix seconds |
//! | `lockstep_last_bar_age_seconds{symbol}` | gauge | engine-clock seconds since the last bar |
//! | `lockstep_counter_total{name}` | counter | each of [`HealthState::counters`] |

use super::{HealthState, Reconcile};
use std::fmt::Write as _;

/// The `Content-Type` of [`render`]'s output.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `s` escaped for a label value: backslash, double quote and newline become `\\`, `\"`
/// and `\n`; everything else is kept.
pub fn escape_label(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// A sample value as the format spells it: `NaN`, `+Inf`, `-Inf` or a decimal.
fn value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{v}")
    }
}

/// The exposition text under construction.
struct Out(String);

impl Out {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {help}");
        let _ = writeln!(self.0, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], v: f64) {
        self.0.push_str(name);
        if !labels.is_empty() {
            self.0.push('{');
            for (i, (k, val)) in labels.iter().enumerate() {
                if i > 0 {
                    self.0.push(',');
                }
                let _ = write!(self.0, "{k}=\"{}\"", escape_label(val));
            }
            self.0.push('}');
        }
        let _ = writeln!(self.0, " {}", value(v));
    }

    fn gauge(&mut self, name: &str, help: &str, v: f64) {
        self.family(name, "gauge", help);
        self.sample(name, &[], v);
    }
}

fn flag(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

/// The whole exposition of `state`, ready state included, in a fixed order (families as in
/// the module table, labelled samples by label value). Ends with a newline.
pub fn render(state: &HealthState) -> String {
    let mut o = Out(String::new());
    o.family("lockstep_info", "gauge", "Session identity; always 1.");
    o.sample("lockstep_info", &[("session", &state.session)], 1.0);
    let ready = state.not_ready_reasons().is_empty();
    o.gauge(
        "lockstep_ready",
        "1 when the session is ready (see /readyz).",
        flag(ready),
    );
    o.gauge(
        "lockstep_reconciled",
        "1 when start-up reconciliation with the broker is done.",
        flag(state.reconcile == Reconcile::Done),
    );
    o.gauge(
        "lockstep_stream_up",
        "1 while the broker trade_updates stream is up.",
        flag(state.stream_up),
    );
    o.gauge(
        "lockstep_feed_up",
        "1 while the market-data websocket is up.",
        flag(state.feed_up),
    );
    o.gauge(
        "lockstep_market_open",
        "1 while the regular session is open.",
        flag(state.market_open),
    );
    o.gauge(
        "lockstep_breaker_tripped",
        "1 while the venue circuit breaker is tripped.",
        flag(state.breaker.is_some()),
    );
    o.gauge(
        "lockstep_killed",
        "1 while the session is killed (entries or flatten).",
        flag(state.kill.is_some()),
    );
    o.gauge(
        "lockstep_unknown_orders",
        "Open orders at the broker the engine does not know.",
        state.unknown_orders as f64,
    );
    o.gauge(
        "lockstep_journal_lag",
        "Inputs received but not yet journaled.",
        state.journal_lag as f64,
    );
    o.family(
        "lockstep_clock_skew_ms",
        "gauge",
        "Our clock minus the broker's, in milliseconds (absent until measured).",
    );
    if let Some(skew) = state.clock_skew_ms {
        o.sample("lockstep_clock_skew_ms", &[], skew as f64);
    }
    o.gauge(
        "lockstep_open_positions",
        "Open (non-zero) engine positions.",
        state.open_positions() as f64,
    );
    o.gauge(
        "lockstep_clock_seconds",
        "The engine clock, Unix seconds.",
        state.clock as f64 / 1e9,
    );
    o.family(
        "lockstep_last_bar_age_seconds",
        "gauge",
        "Engine-clock seconds since the symbol's last bar.",
    );
    for (symbol, age) in state.last_bar_age_ns() {
        o.sample(
            "lockstep_last_bar_age_seconds",
            &[("symbol", &symbol)],
            age as f64 / 1e9,
        );
    }
    o.family(
        "lockstep_counter_total",
        "counter",
        "Session event counters (bars, orders, fills, malformed, disconnects, alerts, ...).",
    );
    for (name, n) in &state.counters {
        o.sample("lockstep_counter_total", &[("name", name)], *n as f64);
    }
    o.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(escape_label("plain SPY"), "plain SPY");
    }

    #[test]
    fn values_follow_the_format() {
        assert_eq!(value(1.0), "1");
        assert_eq!(value(95.5), "95.5");
        assert_eq!(value(f64::NAN), "NaN");
        assert_eq!(value(f64::INFINITY), "+Inf");
        assert_eq!(value(f64::NEG_INFINITY), "-Inf");
    }

    #[test]
    fn render_is_deterministic_and_complete() {
        let mut s = HealthState {
            session: "s\"1".into(),
            clock_skew_ms: Some(-12),
            ..HealthState::default()
        };
        s.counters.insert("fills".into(), 2);
        s.counters.insert("bars".into(), 7);
        let text = render(&s);
        assert_eq!(text, render(&s.clone()));
        assert!(text.contains("lockstep_info{session=\"s\\\"1\"} 1\n"));
        assert!(text.contains("\nlockstep_ready 0\n"));
        assert!(text.contains("\nlockstep_clock_skew_ms -12\n"));
        let bars = text.find("{name=\"bars\"} 7\n");
        let fills = text.find("{name=\"fills\"} 2\n");
        assert!(bars.is_some() && fills.is_some() && bars < fills, "{text}");
        s.clock_skew_ms = None;
        assert!(!render(&s).contains("\nlockstep_clock_skew_ms "));
    }
}
