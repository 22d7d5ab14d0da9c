//! What a running session shows and tells: it keeps the health endpoint's state current
//! and sends an alert on each change a person must hear about (breaker tripped or reset,
//! kill, reconcile difference, stale or recovered feed, update stream down or up, EOD ran
//! or could not flatten, clock skew, the day's summary). It only observes: nothing here
//! changes what the loop decides, and an alert never waits for the network.

use super::live::BrokerSide;
use super::{DriverStats, Notice};
use crate::alerts::{Alert, AlertKind, Alerter};
use crate::health::{Health, Reconcile};
use crate::session::Session;
use lockstep_core::UnixNanos;
use lockstep_engine::{Journal, Venue};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How often (real time) the health state is refreshed from the session.
const REFRESH: Duration = Duration::from_millis(100);

/// The observer of one session.
pub struct Watch {
    health: Health,
    alerts: Alerter,
    name: String,
    stale_after: i64,
    last_refresh: Option<Instant>,
    last_bar: BTreeMap<String, UnixNanos>,
    stale: bool,
    breaker: bool,
    killed: bool,
    stream_up: Option<bool>,
    skewed: bool,
    reconcile: Reconcile,
    summarized: bool,
}

impl Watch {
    /// An observer writing into `health` and sending to `alerts`; a feed is stale when no
    /// bar came for `stale_after` clock nanoseconds while the market is open.
    pub fn new(health: Health, alerts: Alerter, name: &str, stale_after: i64) -> Self {
        health.update(|h| {
            h.session = name.to_string();
            h.stale_after_ns = stale_after;
        });
        Watch {
            health,
            alerts,
            name: name.to_string(),
            stale_after,
            last_refresh: None,
            last_bar: BTreeMap::new(),
            stale: false,
            breaker: false,
            killed: false,
            stream_up: None,
            skewed: false,
            reconcile: Reconcile::Pending,
            summarized: false,
        }
    }

    fn alert(&self, kind: AlertKind, at: UnixNanos, text: String) {
        self.health.count("alerts", 1);
        self.alerts.send(Alert {
            kind,
            session: self.name.clone(),
            at: at.to_iso(),
            text,
        });
    }

    /// A bar of `symbol` arrived at `now`.
    pub fn bar(&mut self, symbol: &str, now: UnixNanos) {
        self.last_bar.insert(symbol.to_string(), now);
        self.health.update(|h| {
            h.last_bar.insert(symbol.to_string(), now.0);
        });
        self.health.count("bars", 1);
    }

    /// Subscribed symbols count as fresh from the start.
    pub fn follow(&mut self, symbols: &[String], now: UnixNanos) {
        for s in symbols {
            self.last_bar.entry(s.clone()).or_insert(now);
        }
        let bars = self.last_bar.clone();
        self.health.update(|h| {
            for (s, t) in bars {
                h.last_bar.entry(s).or_insert(t.0);
            }
        });
    }

    /// The market-data feed connected (`true`) or dropped.
    pub fn feed(&mut self, up: bool) {
        self.health.update(|h| h.feed_up = up);
        if !up {
            self.health.count("disconnects", 1);
        }
    }

    /// Tells what the decisions since the last call hold: EOD runs, engine alerts.
    pub fn notices(&mut self, now: UnixNanos, notices: Vec<Notice>) {
        for n in notices {
            match n {
                Notice::Eod(day) => {
                    let text = format!("{day}: the EOD flatten ran");
                    self.health.update(|h| h.last_eod = Some(text.clone()));
                    self.alert(AlertKind::EodRan, now, text);
                }
                Notice::Alert(text) => self.alert(AlertKind::EodCouldNotFlatten, now, text),
            }
        }
    }

    /// Refreshes the health state (at most every [`REFRESH`]) and alerts on changes.
    pub fn observe<V: Venue, J: Journal>(
        &mut self,
        now: UnixNanos,
        market_open: bool,
        session: &Session<V, J>,
        broker: Option<&BrokerSide>,
        stats: &DriverStats,
    ) {
        if self.last_refresh.is_some_and(|t| t.elapsed() < REFRESH) {
            return;
        }
        self.last_refresh = Some(Instant::now());
        let breaker = session.breaker_until();
        if breaker.is_some() != self.breaker {
            self.breaker = breaker.is_some();
            let (kind, text) = match breaker {
                Some(t) => (
                    AlertKind::BreakerTripped,
                    format!(
                        "venue errors tripped the breaker; entries blocked until {}",
                        t.to_iso()
                    ),
                ),
                None => (AlertKind::BreakerReset, "the venue breaker reset".into()),
            };
            self.alert(kind, now, text);
        }
        let killed = session.killed();
        if killed != self.killed {
            self.killed = killed;
            let text = if killed {
                "kill switch on: entries blocked"
            } else {
                "kill switch lifted"
            };
            self.alert(AlertKind::Kill, now, text.into());
        }
        let stalest = self
            .last_bar
            .iter()
            .map(|(s, t)| (s.clone(), now.0 - t.0))
            .max_by_key(|(_, age)| *age);
        let stale = market_open
            && self.stale_after > 0
            && stalest
                .as_ref()
                .is_some_and(|(_, age)| *age > self.stale_after);
        if stale != self.stale {
            self.stale = stale;
            let (s, age) = stalest.unwrap_or_default();
            let (kind, text) = if stale {
                (
                    AlertKind::StaleFeed,
                    format!("no bar of {s} for {} s", age / 1_000_000_000),
                )
            } else {
                (AlertKind::FeedRecovered, "bars arrive again".into())
            };
            self.alert(kind, now, text);
        }
        let positions: BTreeMap<String, String> = session
            .open_positions()
            .into_iter()
            .map(|(s, q)| (s, q.normalize().to_string()))
            .collect();
        let mut h = self.health.snapshot();
        h.clock = now.0;
        h.market_open = market_open;
        h.breaker = breaker.map(|t| format!("until {}", t.to_iso()));
        h.kill = killed.then(|| "entries".to_string());
        h.positions = positions;
        for (name, n) in [
            ("orders", stats.orders),
            ("fills", stats.fills),
            ("malformed", stats.malformed),
        ] {
            h.counters.insert(name.into(), n);
        }
        match broker {
            None => {
                h.reconcile = Reconcile::Done;
                h.stream_up = true;
            }
            Some(b) => self.broker(now, b, &mut h),
        }
        self.health.update(|x| *x = h);
    }

    fn broker(&mut self, now: UnixNanos, b: &BrokerSide, h: &mut crate::health::HealthState) {
        let up = b.ready && !b.down;
        if self.stream_up.is_some_and(|was| was != up) {
            let (kind, text) = if up {
                (
                    AlertKind::StreamUp,
                    "the broker's update stream is back".to_string(),
                )
            } else {
                (
                    AlertKind::StreamDown,
                    "the broker's update stream is down; entries wait".into(),
                )
            };
            self.alert(kind, now, text);
        }
        self.stream_up = Some(up);
        if b.skewed != self.skewed {
            self.skewed = b.skewed;
            let text = match (b.skewed, b.skew_ms) {
                (true, Some(ms)) => format!("our clock is {ms} ms off the broker's; entries wait"),
                _ => "our clock agrees with the broker's again".into(),
            };
            self.alert(AlertKind::ClockSkew, now, text);
        }
        if b.reconcile != self.reconcile {
            self.reconcile = b.reconcile.clone();
            if let Reconcile::Failed(why) = &b.reconcile {
                self.alert(AlertKind::ReconcileDifference, now, why.clone());
            }
        }
        h.stream_up = up;
        h.reconcile = b.reconcile.clone();
        h.clock_skew_ms = b.skew_ms;
        h.max_skew_ms = b.max_skew_ms;
        h.unknown_orders = b.foreign_orders.len() as u64;
        h.broker_positions = b.broker_positions.as_ref().map(|p| {
            p.iter()
                .map(|(s, q)| (s.clone(), q.normalize().to_string()))
                .collect()
        });
        h.counters.insert("broker_errors".into(), b.errors);
    }

    /// The session stopped: the day's summary, once.
    pub fn summary(&mut self, now: UnixNanos, stats: &DriverStats) {
        if self.summarized {
            return;
        }
        self.summarized = true;
        let text = format!(
            "{} bars, {} orders, {} fills, realized {}",
            stats.bars,
            stats.orders,
            stats.fills,
            stats.realized.normalize()
        );
        self.alert(AlertKind::DailySummary, now, text);
    }
}
