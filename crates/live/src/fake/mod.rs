//! A loopback Alpaca fake for tests and demos: one server on `127.0.0.1:<ephemeral>` serving
//! the trading REST API, the trade-updates stream (`/stream`), market-data REST bars and the
//! market-data WebSockets, all driven by one injectable clock and one bar file.
//!
//! Everything a client can observe follows the clock: an order submitted at `t` fills at the
//! open of the first bar opening at or after `t` (market) or when a served bar trades through
//! it (limit/stop, at the bar's end); day orders expire at the close; bars reach the data
//! socket when the clock passes their delivery time; REST never serves a bar not yet
//! delivered. All state sits behind one mutex and every request first applies what is due
//! by now, so a run stepped by a [`crate::time_source::ManualClock`] is deterministic.
//!
//! Routes: `GET /v2/account`, `GET /v2/clock`, `GET /v2/calendar`, `GET /v2/positions`,
//! `GET /v2/positions/{symbol}`, `POST|GET|DELETE /v2/orders`, `GET|DELETE /v2/orders/{id}`,
//! `GET /v2/orders:by_client_order_id`, WS `/stream`, WS `/v2/{iex,sip,delayed_sip,test}`,
//! WS `/v1beta3/crypto/us`, `GET /v2/stocks/bars`, `GET /v2/stocks/{symbol}/bars`,
//! `GET /v1beta3/crypto/us/bars`.

mod activities;
mod bars;
mod data_rest;
mod data_stream;
mod et;
mod faults;
mod http;
mod ids;
mod matching;
mod orders_validate;
mod rest_account;
mod rest_orders;
mod state;
mod thread;
mod trade_stream;

pub use thread::{FakeEnd, FakeThread};

pub use faults::{Fault, FaultScript};

use crate::time_source::SharedTime;
use crate::wire::{Account, Order, Position};
use bars::BarStore;
use http::App;
use rust_decimal::Decimal;
use state::State;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How to run a fake.
#[derive(Debug, Clone)]
pub struct FakeConfig {
    /// The `APCA-API-KEY-ID` every request must carry.
    pub key_id: String,
    /// The `APCA-API-SECRET-KEY` every request must carry.
    pub secret_key: String,
    /// The bar file (Parquet or CSV) the market is made of, read with the NYSE calendar.
    pub bars: PathBuf,
    /// The clock everything follows.
    pub clock: SharedTime,
    /// Starting cash.
    pub initial_cash: Decimal,
    /// How often the fake looks at the clock (default 2 ms; zero means the default).
    pub tick: Duration,
    /// Faults active from the start.
    pub faults: FaultScript,
    /// A market order sent within this many clock nanoseconds of a bar's open fills at that
    /// open (default 5 s); later ones wait for the next bar. Tests on a fast clock widen it.
    pub market_open_grace: i64,
}

impl FakeConfig {
    /// A config with $100,000, a 2 ms tick and no faults.
    pub fn new(
        key_id: impl Into<String>,
        secret_key: impl Into<String>,
        bars: impl Into<PathBuf>,
        clock: SharedTime,
    ) -> Self {
        FakeConfig {
            key_id: key_id.into(),
            secret_key: secret_key.into(),
            bars: bars.into(),
            clock,
            initial_cash: Decimal::from(100_000),
            tick: Duration::from_millis(2),
            faults: Vec::new(),
            market_open_grace: rest_orders::MARKET_OPEN_GRACE,
        }
    }
}

/// What the fake has seen and done, for tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FakeStats {
    /// Every `POST /v2/orders` that passed auth (faulted, refused and accepted).
    pub order_posts: u64,
    /// Orders created (including those rejected later or whose response was lost).
    pub orders_accepted: u64,
    /// Submits refused for reusing a client order id.
    pub duplicate_client_order_ids: u64,
    /// Fills executed (a duplicated fill event counts once).
    pub fills: u64,
    /// `POST /v2/orders` count per client order id.
    pub submits_by_client_id: BTreeMap<String, u64>,
    /// Malformed frames sent (trade and data streams together).
    pub malformed_frames_sent: u64,
    /// Client order ids in the order first seen on `POST /v2/orders`.
    pub client_order_ids: Vec<String>,
    /// Orders rejected asynchronously by [`Fault::RejectNextOrders`].
    pub rejected_orders: u64,
    /// Posts answered by [`Fault::Http`].
    pub http_faults: u64,
    /// Orders whose response [`Fault::LoseSubmitResponse`] or
    /// [`Fault::LoseSubmitResponseRate`] replaced by a 504.
    pub lost_responses: u64,
    /// `GET /v2/orders:by_client_order_id` count per client order id asked for.
    pub lookups_by_client_id: BTreeMap<String, u64>,
    /// Trade-updates connections accepted.
    pub trade_stream_connections: u64,
    /// Trade-updates connections refused (one at a time, or 503 during
    /// [`Fault::TradeStreamDownFor`]).
    pub trade_stream_refused: u64,
    /// Trading requests refused 429 by the [`Fault::RateLimit`] budget.
    pub rate_limited: u64,
    /// Trade-updates sockets closed by [`Fault::DropTradeStream`].
    pub trade_stream_drops: u64,
    /// Market-data connections accepted (after auth).
    pub data_stream_connections: u64,
    /// Market-data connections refused with 406.
    pub data_stream_refused: u64,
}

/// Why a fake could not start.
#[derive(Debug, thiserror::Error)]
pub enum FakeError {
    /// The bar file could not be read.
    #[error("fake alpaca: cannot read bars {path}: {reason}")]
    Bars {
        /// The file.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// The loopback socket could not be bound.
    #[error("fake alpaca: cannot bind 127.0.0.1: {0}")]
    Bind(#[from] std::io::Error),
    /// The bar-loading task failed.
    #[error("fake alpaca: bar loader failed: {0}")]
    Task(String),
}

/// A running fake. Dropping it stops the server (`shutdown` also waits for it).
#[derive(Debug)]
pub struct FakeHandle {
    /// The bound loopback address.
    pub addr: SocketAddr,
    app: Arc<App>,
    stop: watch::Sender<bool>,
    server: Option<JoinHandle<()>>,
    ticker: Option<JoinHandle<()>>,
}

impl FakeHandle {
    /// `http://127.0.0.1:<port>`: the trading and the market-data base URL.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `ws://127.0.0.1:<port>/stream`: trade updates.
    pub fn trade_stream_url(&self) -> String {
        format!("ws://{}/stream", self.addr)
    }

    /// `ws://127.0.0.1:<port>/v2/iex`: stock market data.
    pub fn data_stream_url(&self) -> String {
        format!("ws://{}/v2/iex", self.addr)
    }

    /// `ws://127.0.0.1:<port>/v1beta3/crypto/us`: crypto market data.
    pub fn crypto_stream_url(&self) -> String {
        format!("ws://{}/v1beta3/crypto/us", self.addr)
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> FakeStats {
        self.app.lock().stats.clone()
    }

    /// Every order as the fake sees it now, in submission order.
    pub fn orders(&self) -> Vec<Order> {
        self.app
            .current()
            .orders
            .iter()
            .map(|o| o.order.clone())
            .collect()
    }

    /// Every execution as a `FILL` activity, oldest first.
    pub fn activities(&self) -> Vec<crate::wire::FillActivity> {
        self.app.current().activities.clone()
    }

    /// The open positions now.
    pub fn positions(&self) -> Vec<Position> {
        let st = self.app.current();
        st.positions
            .iter()
            .map(|(s, p)| rest_account::position_view(&st, s, p))
            .collect()
    }

    /// The account now.
    pub fn account(&self) -> Account {
        rest_account::account_view(&self.app.current())
    }

    /// Adds a fault at runtime.
    pub fn inject(&self, fault: Fault) {
        self.app.lock().faults.add(fault);
    }

    /// Stops the server, closes every socket and waits (at most 2 s) for the tasks.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(t) = self.ticker.take() {
            let _ = t.await;
        }
        if let Some(mut s) = self.server.take() {
            if tokio::time::timeout(Duration::from_secs(2), &mut s)
                .await
                .is_err()
            {
                s.abort();
            }
        }
    }
}

impl Drop for FakeHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        for t in [self.ticker.take(), self.server.take()]
            .into_iter()
            .flatten()
        {
            t.abort();
        }
    }
}

async fn tick_loop(app: Arc<App>) {
    let mut ticker = tokio::time::interval(app.tick);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut shutdown = app.shutdown.clone();
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                let now = app.now();
                let mut st = app.lock();
                st.advance(now);
                st.service_faults();
            }
            _ = shutdown.changed() => break,
        }
    }
}

/// Loads the bars, binds `127.0.0.1:0` and starts serving.
pub async fn spawn(cfg: FakeConfig) -> Result<FakeHandle, FakeError> {
    let path = cfg.bars.clone();
    let store = tokio::task::spawn_blocking(move || BarStore::load(&path))
        .await
        .map_err(|e| FakeError::Task(e.to_string()))?
        .map_err(|reason| FakeError::Bars {
            path: cfg.bars.display().to_string(),
            reason,
        })?;
    let bars = Arc::new(store);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = watch::channel(false);
    let mut state = State::new(Arc::clone(&bars), cfg.initial_cash, cfg.clock.now());
    state.market_open_grace = cfg.market_open_grace;
    for f in cfg.faults {
        state.faults.add(f);
    }
    let app = Arc::new(App {
        state: Mutex::new(state),
        clock: cfg.clock,
        bars,
        tick: if cfg.tick.is_zero() {
            Duration::from_millis(2)
        } else {
            cfg.tick
        },
        shutdown: stopped.clone(),
        key_id: cfg.key_id,
        secret_key: cfg.secret_key,
    });
    let router = http::router(Arc::clone(&app));
    let mut server_stop = stopped;
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = server_stop.changed().await;
            })
            .await;
    });
    let ticker = tokio::spawn(tick_loop(Arc::clone(&app)));
    Ok(FakeHandle {
        addr,
        app,
        stop,
        server: Some(server),
        ticker: Some(ticker),
    })
}
