//! The health and control endpoint of a live session: a shared [`Health`] view the driver
//! updates and a small loopback HTTP server ([`serve`]) that reads it.
//!
//! Routes: `GET /healthz` (liveness), `GET /readyz` (readiness with reasons, 200 or 503),
//! `GET /metrics` (Prometheus text format 0.0.4, see [`metrics`]), and, when a bearer
//! token is configured, `POST /kill` and `POST /lift`, which pass a [`Control`] request to
//! the driver. Nothing here decides a trade: the server only reports and forwards.
//!
//! Readiness is a pure function of one [`HealthState`] snapshot
//! ([`HealthState::not_ready_reasons`]), so the reasons are deterministic: same state,
//! same reasons, same order.

pub mod metrics;
mod server;

pub use server::{serve, CONTROL_TOKEN_ENV};

use rust_decimal::Decimal;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, SocketAddr};
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// The documented default port of the health endpoint (the Prometheus exporter range).
pub const DEFAULT_PORT: u16 = 9464;

/// The clock skew against the broker tolerated before a session is not ready (ms).
pub const DEFAULT_MAX_SKEW_MS: i64 = 2_000;

/// `127.0.0.1:9464`: the default bind address. It is always loopback; a non-loopback
/// address is served only when a caller passes one to [`serve`] explicitly.
pub fn loopback_default() -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, DEFAULT_PORT))
}

/// Where the start-up reconciliation against the broker stands.
///
/// Serialized as an object tagged by `state`: `{"state":"pending"}`, `{"state":"done"}`
/// or `{"state":"failed","reason":"..."}`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Reconcile {
    /// Not finished yet (the state of a fresh session).
    #[default]
    Pending,
    /// The engine's and the broker's orders and positions agreed (or were adopted).
    Done,
    /// Reconciliation failed, with the reason.
    Failed(String),
}

impl Serialize for Reconcile {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (state, reason) = match self {
            Reconcile::Pending => ("pending", None),
            Reconcile::Done => ("done", None),
            Reconcile::Failed(r) => ("failed", Some(r)),
        };
        let mut m = s.serialize_map(Some(if reason.is_some() { 2 } else { 1 }))?;
        m.serialize_entry("state", state)?;
        if let Some(r) = reason {
            m.serialize_entry("reason", r)?;
        }
        m.end()
    }
}

/// Everything the health endpoint reports, as the driver last set it. Plain data: it
/// judges nothing by itself except through [`HealthState::not_ready_reasons`].
#[derive(Clone, Debug, Serialize)]
pub struct HealthState {
    /// The session's name (reported as is; escaped in metrics labels).
    pub session: String,
    /// The engine clock now (Unix nanoseconds).
    pub clock: i64,
    /// Start-up reconciliation against the broker.
    pub reconcile: Reconcile,
    /// Symbol -> engine clock (ns) when its last bar arrived. Symbols absent here are not
    /// checked for staleness, so a driver seeds each subscribed symbol with its start clock.
    pub last_bar: BTreeMap<String, i64>,
    /// A symbol's feed is stale when `clock - last_bar > stale_after_ns` (0 = never stale).
    pub stale_after_ns: i64,
    /// Whether the regular session is open now; a stale feed only matters while it is.
    pub market_open: bool,
    /// Whether the market-data websocket is connected and subscribed.
    pub feed_up: bool,
    /// Whether the broker's trade_updates stream is connected (and caught up).
    pub stream_up: bool,
    /// The last end-of-day summary, e.g. `2024-05-01 flattened 2 positions`.
    pub last_eod: Option<String>,
    /// `Some(reason)` while the venue circuit breaker is tripped.
    pub breaker: Option<String>,
    /// `Some("entries")` or `Some("flatten")` while the session is killed.
    pub kill: Option<String>,
    /// The engine's open positions, symbol -> signed quantity (decimal text).
    pub positions: BTreeMap<String, String>,
    /// The broker's positions when last read (`None` = not read yet).
    pub broker_positions: Option<BTreeMap<String, String>>,
    /// Orders open at the broker that the engine does not know.
    pub unknown_orders: u64,
    /// Inputs received but not yet journaled.
    pub journal_lag: u64,
    /// Our clock minus the broker's clock (ms), when last measured.
    pub clock_skew_ms: Option<i64>,
    /// The tolerated |clock_skew_ms| (default [`DEFAULT_MAX_SKEW_MS`]).
    pub max_skew_ms: i64,
    /// Event counters (bars, orders, fills, malformed, disconnects, alerts, ...), exported
    /// in `/metrics` as `lockstep_counter_total{name="..."}`.
    pub counters: BTreeMap<String, u64>,
}

impl Default for HealthState {
    /// A fresh session: reconcile pending, streams down, nothing tripped, skew limit
    /// [`DEFAULT_MAX_SKEW_MS`], staleness off.
    fn default() -> Self {
        HealthState {
            session: String::new(),
            clock: 0,
            reconcile: Reconcile::Pending,
            last_bar: BTreeMap::new(),
            stale_after_ns: 0,
            market_open: false,
            feed_up: false,
            stream_up: false,
            last_eod: None,
            breaker: None,
            kill: None,
            positions: BTreeMap::new(),
            broker_positions: None,
            unknown_orders: 0,
            journal_lag: 0,
            clock_skew_ms: None,
            max_skew_ms: DEFAULT_MAX_SKEW_MS,
            counters: BTreeMap::new(),
        }
    }
}

const NANOS_PER_SEC: i64 = 1_000_000_000;

impl HealthState {
    /// Clock nanoseconds since each symbol's last bar, never negative.
    pub fn last_bar_age_ns(&self) -> BTreeMap<String, i64> {
        self.last_bar
            .iter()
            .map(|(s, t)| (s.clone(), self.clock.saturating_sub(*t).max(0)))
            .collect()
    }

    /// Why the session is not ready; empty means ready. Always in this order: reconcile,
    /// trade stream, market-data feed, stale feeds (by symbol, only while `market_open`),
    /// breaker, kill, clock skew, position mismatch, unknown orders.
    pub fn not_ready_reasons(&self) -> Vec<String> {
        let mut out = Vec::new();
        match &self.reconcile {
            Reconcile::Done => {}
            Reconcile::Pending => out.push("reconcile pending".to_string()),
            Reconcile::Failed(r) => out.push(format!("reconcile failed: {r}")),
        }
        if !self.stream_up {
            out.push("trade_updates stream down".to_string());
        }
        if !self.feed_up {
            out.push("market-data feed down".to_string());
        }
        if self.market_open && self.stale_after_ns > 0 {
            for (symbol, age) in self.last_bar_age_ns() {
                if age > self.stale_after_ns {
                    out.push(format!("feed stale: {symbol} {} s", age / NANOS_PER_SEC));
                }
            }
        }
        if let Some(r) = &self.breaker {
            out.push(format!("breaker tripped: {r}"));
        }
        if let Some(k) = &self.kill {
            out.push(format!("killed: {k}"));
        }
        if let Some(skew) = self.clock_skew_ms {
            if skew.unsigned_abs() > self.max_skew_ms.unsigned_abs() {
                out.push(format!("clock skew {skew} ms against the broker"));
            }
        }
        if let Some(broker) = &self.broker_positions {
            let diffs = position_diffs(&self.positions, broker);
            if !diffs.is_empty() {
                out.push(format!(
                    "positions differ from the broker: {}",
                    diffs.join("; ")
                ));
            }
        }
        if self.unknown_orders > 0 {
            out.push(format!(
                "unknown orders at the broker: {}",
                self.unknown_orders
            ));
        }
        out
    }

    /// Open engine positions (non-zero quantities).
    pub fn open_positions(&self) -> usize {
        self.positions.values().filter(|q| !qty_is_zero(q)).count()
    }
}

/// A quantity's numeric value when it parses as a decimal.
fn qty_value(q: &str) -> Option<Decimal> {
    Decimal::from_str(q.trim()).ok()
}

fn qty_is_zero(q: &str) -> bool {
    qty_value(q).is_some_and(|d| d.is_zero())
}

/// `SYM engine X broker Y` for each symbol whose quantities differ, by symbol. Quantities
/// compare as decimals (`10` equals `10.0`; zero equals absent); text that does not parse
/// compares as text.
fn position_diffs(
    ours: &BTreeMap<String, String>,
    theirs: &BTreeMap<String, String>,
) -> Vec<String> {
    let symbols: BTreeSet<&String> = ours.keys().chain(theirs.keys()).collect();
    let mut out = Vec::new();
    for s in symbols {
        let a = ours.get(s).map(String::as_str).unwrap_or("0");
        let b = theirs.get(s).map(String::as_str).unwrap_or("0");
        let same = match (qty_value(a), qty_value(b)) {
            (Some(x), Some(y)) => x == y,
            _ => a.trim() == b.trim(),
        };
        if !same {
            out.push(format!("{s} engine {a} broker {b}"));
        }
    }
    out
}

/// A shared, cheap-to-clone view of a session's health: the driver writes it with
/// [`Health::update`], the server reads consistent snapshots. Clones share one state.
#[derive(Clone, Default, Debug)]
pub struct Health {
    inner: Arc<Mutex<HealthState>>,
}

impl Health {
    /// A fresh view for the named session ([`HealthState::default`] otherwise).
    pub fn new(session: &str) -> Self {
        let state = HealthState {
            session: session.to_string(),
            ..HealthState::default()
        };
        Health {
            inner: Arc::new(Mutex::new(state)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HealthState> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the state under the lock, so readers never see half an update. `f` must
    /// not call back into this `Health` (it would deadlock). A panic in `f` leaves the
    /// state usable (the lock is not poisoned for later callers).
    pub fn update(&self, f: impl FnOnce(&mut HealthState)) {
        f(&mut self.lock());
    }

    /// Adds `by` to the named counter (created at 0), saturating.
    pub fn count(&self, name: &str, by: u64) {
        self.update(|s| {
            let c = s.counters.entry(name.to_string()).or_insert(0);
            *c = c.saturating_add(by);
        });
    }

    /// A consistent copy of the whole state.
    pub fn snapshot(&self) -> HealthState {
        self.lock().clone()
    }

    /// [`HealthState::not_ready_reasons`] of the current state; empty = ready.
    pub fn reasons(&self) -> Vec<String> {
        self.lock().not_ready_reasons()
    }

    /// True when [`Health::reasons`] is empty.
    pub fn ready(&self) -> bool {
        self.reasons().is_empty()
    }
}

/// A request the control endpoint passes to the driver. The server only forwards it; the
/// driver decides how to carry it out (and reports the result through [`Health`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    /// Stop new entries; with `flatten`, also close every open position.
    Kill {
        /// Close open positions too.
        flatten: bool,
    },
    /// Lift a kill: entries may resume.
    Lift,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn healthy() -> HealthState {
        HealthState {
            reconcile: Reconcile::Done,
            stream_up: true,
            feed_up: true,
            ..HealthState::default()
        }
    }

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn fresh_state_waits_for_reconcile_and_streams() {
        let s = HealthState::default();
        assert_eq!(s.max_skew_ms, 2_000);
        assert_eq!(
            s.not_ready_reasons(),
            vec![
                "reconcile pending",
                "trade_updates stream down",
                "market-data feed down"
            ]
        );
        assert!(healthy().not_ready_reasons().is_empty());
    }

    #[test]
    fn every_fault_reports_in_fixed_order() {
        let mut s = HealthState {
            reconcile: Reconcile::Failed("broker 500".into()),
            clock: 1_000 * NANOS_PER_SEC,
            stale_after_ns: 60 * NANOS_PER_SEC,
            market_open: true,
            breaker: Some("3 rejects in 60 s".into()),
            kill: Some("flatten".into()),
            clock_skew_ms: Some(-2_500),
            positions: map(&[("SPY", "10"), ("AAPL", "1.0")]),
            broker_positions: Some(map(&[("SPY", "5"), ("AAPL", "1"), ("QQQ", "3")])),
            unknown_orders: 2,
            ..HealthState::default()
        };
        s.last_bar.insert("SPY".into(), 905 * NANOS_PER_SEC);
        s.last_bar.insert("AAPL".into(), 800 * NANOS_PER_SEC);
        s.last_bar.insert("QQQ".into(), 990 * NANOS_PER_SEC);
        let want = vec![
            "reconcile failed: broker 500".to_string(),
            "trade_updates stream down".into(),
            "market-data feed down".into(),
            "feed stale: AAPL 200 s".into(),
            "feed stale: SPY 95 s".into(),
            "breaker tripped: 3 rejects in 60 s".into(),
            "killed: flatten".into(),
            "clock skew -2500 ms against the broker".into(),
            "positions differ from the broker: QQQ engine 0 broker 3; SPY engine 10 broker 5"
                .into(),
            "unknown orders at the broker: 2".into(),
        ];
        assert_eq!(s.not_ready_reasons(), want);
        // Same state, same answer.
        assert_eq!(s.clone().not_ready_reasons(), want);
    }

    #[test]
    fn stale_only_while_open_and_only_past_the_limit() {
        let mut s = healthy();
        s.clock = 100 * NANOS_PER_SEC;
        s.stale_after_ns = 60 * NANOS_PER_SEC;
        s.last_bar.insert("SPY".into(), 40 * NANOS_PER_SEC);
        assert!(s.not_ready_reasons().is_empty(), "closed market: not stale");
        s.market_open = true;
        assert!(s.not_ready_reasons().is_empty(), "exactly at the limit");
        s.clock += 1;
        assert_eq!(s.not_ready_reasons(), vec!["feed stale: SPY 60 s"]);
        s.stale_after_ns = 0;
        assert!(s.not_ready_reasons().is_empty(), "0 turns staleness off");
    }

    #[test]
    fn skew_limit_is_inclusive_both_ways() {
        let mut s = healthy();
        for (skew, ok) in [
            (2_000, true),
            (-2_000, true),
            (2_001, false),
            (-2_001, false),
        ] {
            s.clock_skew_ms = Some(skew);
            assert_eq!(s.not_ready_reasons().is_empty(), ok, "{skew}");
        }
    }

    #[test]
    fn positions_compare_as_numbers() {
        let mut s = healthy();
        s.positions = map(&[("SPY", "10"), ("QQQ", "0")]);
        s.broker_positions = Some(map(&[("SPY", "10.00")]));
        assert!(s.not_ready_reasons().is_empty());
        assert_eq!(s.open_positions(), 1);
        s.broker_positions = Some(map(&[("SPY", "-10")]));
        assert_eq!(
            s.not_ready_reasons(),
            vec!["positions differ from the broker: SPY engine 10 broker -10"]
        );
        s.broker_positions = None;
        assert!(s.not_ready_reasons().is_empty(), "not read yet: no check");
    }

    #[test]
    fn reconcile_serializes_tagged() {
        let j = |r: Reconcile| serde_json::to_string(&r).unwrap_or_default();
        assert_eq!(j(Reconcile::Pending), r#"{"state":"pending"}"#);
        assert_eq!(j(Reconcile::Done), r#"{"state":"done"}"#);
        assert_eq!(
            j(Reconcile::Failed("x".into())),
            r#"{"state":"failed","reason":"x"}"#
        );
    }

    #[test]
    fn clones_share_state_and_counters_add() {
        let h = Health::new("s1");
        let h2 = h.clone();
        h2.count("bars", 2);
        h.count("bars", 3);
        h2.update(|s| s.reconcile = Reconcile::Done);
        let snap = h.snapshot();
        assert_eq!(snap.session, "s1");
        assert_eq!(snap.counters.get("bars"), Some(&5));
        assert_eq!(snap.reconcile, Reconcile::Done);
        assert!(!h.ready());
        assert_eq!(loopback_default().to_string(), "127.0.0.1:9464");
    }
}
