//! Shared by the broker-level campaigns: a loopback fake over the bundled SPY minutes, a
//! broker task driven by hand, order requests.

#![allow(dead_code, unused_imports)]

pub use lockstep_core::{OrderId, OrderKind, Side, TimeInForce, UnixNanos};
pub use lockstep_engine::VenueReport;
pub use lockstep_live::alpaca::updates::engine_order_id;
pub use lockstep_live::alpaca::{run_broker, BrokerConfig, BrokerEvent, Outgoing};
pub use lockstep_live::fake::{spawn, FakeConfig, FakeHandle, Fault};
pub use lockstep_live::time_source::{ManualClock, SharedTime, WarpClock};
pub use lockstep_live::wire::OrderStatus;
pub use rust_decimal::Decimal;
pub use std::collections::{BTreeMap, BTreeSet};
pub use std::future::Future;
pub use std::path::PathBuf;
pub use std::sync::Arc;
pub use std::time::{Duration, Instant};
pub use tokio::sync::mpsc;
pub use tokio::task::JoinHandle;
pub use tokio::time::timeout;

pub const KEY: &str = "campaign-key";
pub const SECRET: &str = "campaign-secret";
/// Bound of one wait for the broker or the fake.
pub const STEP: Duration = Duration::from_secs(10);
/// Seed of campaign 1's lost replies.
pub const LOST_SEED: u64 = 0x5eed_0504;
/// Campaign 1: orders sent.
pub const SUBMITS: u64 = 500;
/// Campaign 2: sessions (seeds 1..=SESSIONS).
pub const SESSIONS: u64 = 50;
pub const SEC: i64 = 1_000_000_000;

/// The bundled SPY one-minute file.
pub fn data_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/lean_spy_1m_7days.parquet")
}

/// A New York wall time on 2013-10-04 (EDT).
pub fn et(hms: &str) -> UnixNanos {
    let t = chrono::DateTime::parse_from_rfc3339(&format!("2013-10-04T{hms}-04:00")).unwrap();
    UnixNanos(t.timestamp_nanos_opt().unwrap())
}

/// Runs `test` within `limit`, failing (not hanging) past it.
pub async fn bounded<F: Future<Output = ()>>(limit: Duration, test: F) {
    timeout(limit, test)
        .await
        .unwrap_or_else(|_| panic!("campaign took longer than {limit:?}"));
}

pub async fn start_fake(clock: SharedTime, faults: Vec<Fault>) -> FakeHandle {
    let mut cfg = FakeConfig::new(KEY, SECRET, data_file(), clock);
    cfg.faults = faults;
    let h = timeout(STEP, spawn(cfg)).await.unwrap().unwrap();
    assert!(h.addr.ip().is_loopback());
    h
}

/// A broker task talking to the fake, with its request and event channels.
pub struct Broker {
    pub requests: mpsc::Sender<Outgoing>,
    pub events: mpsc::Receiver<BrokerEvent>,
    pub task: JoinHandle<()>,
}

impl Broker {
    /// Starts the task and waits until its update stream listens.
    pub async fn start(
        h: &FakeHandle,
        run_id: &str,
        clock: SharedTime,
        budget_per_minute: Option<std::num::NonZeroU32>,
    ) -> Broker {
        let (requests, rx) = mpsc::channel(1024);
        let (tx, mut events) = mpsc::channel(1024);
        let cfg = BrokerConfig {
            trading_url: h.base_url(),
            key_id: KEY.into(),
            secret_key: SECRET.into(),
            run_id: run_id.into(),
            clock,
            resumed: None,
            budget_per_minute,
        };
        let task = tokio::spawn(run_broker(cfg, rx, tx));
        loop {
            match timeout(STEP, events.recv()).await {
                Ok(Some(BrokerEvent::Ready)) => break,
                Ok(Some(BrokerEvent::Alert(a))) => panic!("broker alert at start: {a}"),
                Ok(Some(_)) => {}
                other => panic!("the broker never got ready: {other:?}"),
            }
        }
        Broker {
            requests,
            events,
            task,
        }
    }

    pub async fn send(&self, o: Outgoing) {
        timeout(STEP, self.requests.send(o))
            .await
            .expect("request queue full")
            .expect("broker task gone");
    }

    pub async fn stop(self) {
        drop(self.requests);
        drop(self.events);
        self.task.abort();
        let _ = self.task.await;
    }
}

pub fn buy(run_id: &str, n: u64, qty: u64, kind: OrderKind) -> Outgoing {
    Outgoing::Submit {
        order_id: OrderId(n),
        client_order_id: format!("{run_id}-{n}"),
        symbol: "SPY".into(),
        side: Side::Buy,
        qty: Decimal::from(qty),
        kind,
        tif: TimeInForce::Day,
        after_restart: false,
        closes: false,
    }
}
