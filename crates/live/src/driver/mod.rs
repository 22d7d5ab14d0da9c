//! The live driver: owns the clock and feeds the journaled session one input at a time:
//! bars from the feed as they arrive, and ticks so timers (EOD flatten, session close, day
//! expiry) fire on the clock even when no bar comes. Timers wait `grace` behind the clock
//! so a bar that closes at the same instant is handled first, as in replay.

mod control;
mod live;
mod stats;
mod watch;

use crate::health::Reconcile;
pub use control::{control_path, control_text, take_request, write_request, ControlError};
pub use live::{differences, BrokerSide, ExternalPositions};
pub use stats::{DriverStats, Notice, Stop};
pub use watch::Watch;

use crate::alpaca::{AlpacaVenue, BrokerEvent, Outgoing};
use crate::feed::FeedEvent;
use crate::health::Control;
use crate::journal::RecordKind;
use crate::session::{Session, SessionError};
use crate::time_source::SharedTime;
use crate::webhook::{Call, WebhookSide};
use crate::wire::BarMsg;
use lockstep_core::{Bar, Calendar, Scale, SessionLookup, UnixNanos};
use lockstep_engine::Command;
use lockstep_engine::{Input, Journal, Venue};
use rust_decimal::Decimal;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How the driver runs.
#[derive(Debug, Clone)]
pub struct DriverSettings {
    /// The clock everything follows.
    pub clock: SharedTime,
    /// How far (clock nanoseconds) timers wait behind the clock for late bars.
    pub grace: i64,
    /// How often (real time) the driver looks at the clock.
    pub poll: Duration,
    /// Stop once the clock reaches this time.
    pub until: Option<UnixNanos>,
    /// Stop after the first session's close.
    pub one_session: bool,
    /// Session calendar (bar delivery times, outside-session bars).
    pub calendar: Calendar,
    /// Deliver bars outside the regular session too.
    pub extended_hours: bool,
    /// Price scale of the bars.
    pub scale: Scale,
    /// Bar length in nanoseconds (one minute).
    pub interval: i64,
    /// Print a one-line status on stderr.
    pub status: bool,
    /// The control file `lockstep kill` writes (none: no file control).
    pub control: Option<std::path::PathBuf>,
    /// How often (clock nanoseconds) the broker's clock and book are read again.
    pub check_every: i64,
}

/// How often (real time) the control file is looked at.
const CONTROL_POLL: Duration = Duration::from_millis(200);

/// How long past the first session's close (clock time, behind the grace) a
/// `--one-session` run waits for the bar that closes at the close before it stops: the
/// feed may hand that bar over later than the grace, and it belongs to the session.
const CLOSING_BAR_WAIT: i64 = 60 * 1_000_000_000;

/// The loop command carrying out an operator's request.
fn command_of(c: Control) -> Command {
    match c {
        Control::Kill { flatten: false } => Command::Kill,
        Control::Kill { flatten: true } => Command::KillFlatten,
        Control::Lift => Command::Lift,
    }
}

async fn recv_control(c: &mut Option<mpsc::Receiver<Control>>) -> Option<Control> {
    match c {
        Some(rx) => match rx.recv().await {
            Some(x) => Some(x),
            None => {
                *c = None;
                None
            }
        },
        None => std::future::pending().await,
    }
}

async fn recv_call(w: &mut Option<&mut WebhookSide>) -> Option<Call> {
    match w {
        Some(w) => w.calls.recv().await,
        None => std::future::pending().await,
    }
}

async fn recv_broker(b: &mut Option<&mut BrokerSide>) -> Option<BrokerEvent> {
    match b {
        Some(b) => b.events.recv().await,
        None => std::future::pending().await,
    }
}

/// Turns a feed bar into an engine bar delivered at its close (`None` when it lies outside
/// the regular session and extended hours are off, or its prices do not fit the scale).
fn engine_bar<V: Venue, J: Journal>(
    msg: &BarMsg,
    s: &DriverSettings,
    lookup: &mut SessionLookup,
    session: &mut Session<V, J>,
) -> Result<Option<Bar>, String> {
    let ts = msg.bar.time;
    let mut end = ts.plus(s.interval);
    if s.calendar != Calendar::TwentyFourSeven {
        match lookup.day_of(ts).1 {
            Some(day) if ts >= day.open && ts < day.close => end = end.min(day.close),
            _ if s.extended_hours => {}
            _ => return Ok(None),
        }
    }
    let p = |d: Decimal| {
        s.scale
            .from_decimal(d)
            .map_err(|e| format!("price {d}: {e}"))
    };
    Ok(Some(Bar {
        ts,
        end,
        symbol: session.symbol(&msg.symbol),
        scale: s.scale,
        open: p(msg.bar.open)?,
        high: p(msg.bar.high)?,
        low: p(msg.bar.low)?,
        close: p(msg.bar.close)?,
        volume: msg.bar.volume.try_into().unwrap_or(0.0),
        quote: None,
    }))
}

/// Feeds `session` until a stop condition; then withdraws working entries. The caller
/// concludes the session (and so writes the last equity row and the final ledger).
pub async fn drive<V: Venue, J: Journal>(
    session: &mut Session<V, J>,
    feed: &mut mpsc::Receiver<FeedEvent>,
    mut broker: Option<&mut BrokerSide>,
    mut control: Option<mpsc::Receiver<Control>>,
    mut webhook: Option<&mut WebhookSide>,
    watch: &mut Watch,
    s: &DriverSettings,
) -> Result<(Stop, DriverStats), SessionError> {
    let mut stats = DriverStats::default();
    let mut market_open = false;
    let mut lookup = SessionLookup::new(s.calendar);
    let mut last_tick = session.last_input_at();
    let mut entered: Option<chrono::NaiveDate> = None;
    // A resumed session's first session is the one its journal was in.
    let resumed_at = Some(session.last_input_at()).filter(|t| t.0 > i64::MIN);
    let mut first_close: Option<UnixNanos> =
        resumed_at.and_then(|t| lookup.day_of(t).1.filter(|d| t >= d.open).map(|d| d.close));
    let mut last_bar_at = Instant::now();
    // The latest delivery time of a bar fed to the session.
    let mut last_bar_end: Option<UnixNanos> = None;
    let mut last_status = Instant::now();
    let mut poll = tokio::time::interval(s.poll);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    // The control file is read at the first poll (a request left while the session was
    // down is taken before anything else), then every CONTROL_POLL.
    let mut last_control = Instant::now()
        .checked_sub(CONTROL_POLL)
        .unwrap_or_else(Instant::now);
    let mut next_check = s.clock.now().plus(s.check_every.max(1));
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let stop = loop {
        let mut bar_arrived: Option<Instant> = None;
        // Until the broker's book is reconciled, bars wait in the feed's queue: a decision
        // made on them would only be refused, so they are decided once trading may start.
        let reconciling = broker
            .as_deref()
            .is_some_and(|b| b.reconcile == Reconcile::Pending);
        tokio::select! {
            event = feed.recv(), if !reconciling => {
                let now = s.clock.now();
                match event {
                    None => break Stop::FeedEnded,
                    Some(FeedEvent::Bar(msg)) => match engine_bar(&msg, s, &mut lookup, session) {
                        Ok(Some(bar)) => {
                            crate::crash::point("bar_received");
                            last_bar_at = Instant::now();
                            bar_arrived = Some(last_bar_at);
                            last_bar_end = last_bar_end.max(Some(bar.end));
                            stats.bars += 1;
                            watch.bar(&msg.symbol, now);
                            if let Some(b) = broker.as_deref() {
                                b.venue.name_symbol(bar.symbol, &msg.symbol);
                            }
                            let made = session.feed(Input::Bar(bar))?;
                            stats.count(&made);
                        }
                        Ok(None) => stats.outside_session += 1,
                        Err(reason) => {
                            stats.malformed += 1;
                            let body = serde_json::json!({"bar": msg.to_json("b"), "reason": reason});
                            session.note(now, RecordKind::Raw, body.to_string())?;
                        }
                    },
                    Some(FeedEvent::Correction(msg)) => {
                        stats.corrections += 1;
                        session.note(now, RecordKind::Correction, msg.to_json("u"))?;
                    }
                    Some(FeedEvent::Raw { text, reason }) => {
                        stats.malformed += 1;
                        let body = serde_json::json!({"text": text, "reason": reason});
                        session.note(now, RecordKind::Raw, body.to_string())?;
                    }
                    Some(FeedEvent::Connected) => watch.feed(true),
                    Some(FeedEvent::Disconnected(why)) => {
                        stats.disconnects += 1;
                        watch.feed(false);
                        let body = serde_json::json!({"feed": "disconnected", "reason": why});
                        session.note(now, RecordKind::Alert, body.to_string())?;
                    }
                }
            }
            _ = poll.tick() => {
                let now = s.clock.now();
                let t = now.plus(-s.grace);
                if t > last_tick {
                    let session_day = lookup.day_of(t).1.filter(|d| t >= d.open && t < d.close);
                    market_open = session_day.is_some();
                    let new_session = session_day.is_some_and(|d| entered != Some(d.date));
                    if let Some(d) = session_day {
                        entered = Some(d.date);
                        first_close.get_or_insert(d.close);
                    }
                    let due = session.next_due().is_some_and(|d| d <= t);
                    if due || new_session {
                        let made = session.feed(Input::Tick(t))?;
                        stats.count(&made);
                        last_tick = t;
                    }
                }
                if let Some(path) = s.control.as_deref().filter(|_| last_control.elapsed() >= CONTROL_POLL) {
                    last_control = Instant::now();
                    match take_request(path) {
                        Ok(Some(request)) => {
                            let at = now.plus(-s.grace).max(last_tick);
                            let made = session.feed(Input::Command(at, command_of(request)))?;
                            stats.count(&made);
                        }
                        Ok(None) => {}
                        Err(why) => {
                            let body = serde_json::json!({"control": why});
                            session.note(now, RecordKind::Alert, body.to_string())?;
                        }
                    }
                }
                if let Some(b) = broker.as_deref().filter(|_| now >= next_check) {
                    next_check = now.plus(s.check_every.max(1));
                    b.queue(Outgoing::CheckClock);
                    if !matches!(b.reconcile, Reconcile::Failed(_)) {
                        b.queue(Outgoing::CheckBook { attempt: 0 });
                    }
                }
                let closed = |c: UnixNanos| {
                    let closing_bar_in = last_bar_end.is_some_and(|e| e >= c);
                    t >= c && (closing_bar_in || t >= c.plus(CLOSING_BAR_WAIT))
                };
                if s.one_session && first_close.is_some_and(closed) {
                    break Stop::SessionClosed;
                }
                if s.until.is_some_and(|u| now >= u) {
                    break Stop::Until;
                }
                if s.status && last_status.elapsed() >= Duration::from_secs(1) {
                    last_status = Instant::now();
                    eprint!(
                        "\r{} | bars {} | orders {} | fills {} | realized {} | feed age {:.1}s   ",
                        now.to_iso(), stats.bars, stats.orders, stats.fills,
                        stats.realized.normalize(), last_bar_at.elapsed().as_secs_f64()
                    );
                }
            }
            event = recv_broker(&mut broker) => {
                let now = s.clock.now();
                let at = now.plus(-s.grace).max(last_tick);
                let (Some(event), Some(b)) = (event, broker.as_deref_mut()) else {
                    break Stop::FeedEnded;
                };
                if let Some(why) = b.handle(event, session, &mut stats, now, at)? {
                    break Stop::Unreconciled(why);
                }
            }
            request = recv_control(&mut control) => {
                let Some(request) = request else { continue };
                let at = s.clock.now().plus(-s.grace).max(last_tick);
                let made = session.feed(Input::Command(at, command_of(request)))?;
                stats.count(&made);
            }
            call = recv_call(&mut webhook) => {
                let (Some(call), Some(w)) = (call, webhook.as_deref_mut()) else {
                    webhook = None;
                    continue;
                };
                w.take(call, session, s.clock.now())?;
            }
            _ = &mut ctrl_c => break Stop::Interrupted,
        }
        if let Some(b) = broker.as_deref_mut() {
            let sent = b.flush().await;
            if let (Some(t0), true) = (bar_arrived, sent > 0) {
                stats.bar_to_request.push(t0.elapsed());
            }
        }
        let now = s.clock.now();
        watch.notices(now, std::mem::take(&mut stats.notices));
        watch.observe(now, market_open, session, broker.as_deref(), &stats);
    };
    if let Some(w) = webhook {
        stats.webhook = w.counts.clone();
    }
    watch.summary(s.clock.now(), &stats);
    if s.status {
        eprintln!();
    }
    let at = s.clock.now().plus(-s.grace).max(last_tick);
    let made = session.feed(Input::Command(at, Command::CancelEntries))?;
    stats.count(&made);
    if let Some(b) = broker {
        b.flush().await;
    }
    Ok((stop, stats))
}

/// What runs beside a session: the health endpoint (with run-time control when a token
/// is set) and the alert webhook.
#[derive(Debug, Clone, Default)]
pub struct Sidecars {
    /// The session's name in alerts and health.
    pub name: String,
    /// The symbols followed (fresh from the start).
    pub symbols: Vec<String>,
    /// Serve `/healthz`, `/readyz`, `/metrics` here.
    pub health: Option<std::net::SocketAddr>,
    /// With a token, `POST /kill` and `/lift` on the health endpoint (bearer token).
    pub control_token: Option<String>,
    /// Post alerts here.
    pub alerts: Option<crate::alerts::AlertConfig>,
    /// A feed is stale after this many clock nanoseconds without a bar (market open).
    pub stale_after: i64,
    /// Serve `POST /webhook` (signal intake) with this config.
    pub webhook: Option<crate::webhook::WebhookConfig>,
}

/// The sidecars started on the session's runtime.
struct Running {
    watch: Watch,
    control: Option<mpsc::Receiver<Control>>,
    server: Option<tokio::task::JoinHandle<()>>,
    alerts: Option<tokio::task::JoinHandle<crate::alerts::AlertStats>>,
    webhook: Option<(WebhookSide, tokio::task::JoinHandle<()>)>,
}

impl Sidecars {
    /// Starts them (inside the runtime); says where the health endpoint and the webhook
    /// listen. The webhook's intake knows `accepted` (a resumed session's signals).
    async fn start(
        &self,
        now: UnixNanos,
        status: bool,
        accepted: &[lockstep_core::Signal],
    ) -> Result<Running, SessionError> {
        let health = crate::health::Health::new(&self.name);
        let (alerter, alerts) = match &self.alerts {
            Some(cfg) => {
                let (a, task) = crate::alerts::Alerter::spawn(cfg.clone());
                (a, Some(task))
            }
            None => (crate::alerts::Alerter::disabled(), None),
        };
        let mut watch = Watch::new(health.clone(), alerter, &self.name, self.stale_after);
        watch.follow(&self.symbols, now);
        let (mut control, mut server) = (None, None);
        if let Some(addr) = self.health {
            let (tx, rx) = mpsc::channel(16);
            let token = self.control_token.clone().filter(|t| !t.is_empty());
            let ctl = token.map(|t| (t, tx));
            let (bound, task) = crate::health::serve(addr, health, ctl)
                .await
                .map_err(|e| SessionError::Runtime(format!("--health {addr}: {e}")))?;
            if status {
                eprintln!("health: http://{bound}/readyz");
            }
            control = Some(rx);
            server = Some(task);
        }
        let webhook = match &self.webhook {
            Some(cfg) => {
                let (tx, rx) = mpsc::channel(1024);
                let (bound, task) = crate::webhook::server::serve(cfg.addr, cfg.secret.clone(), tx)
                    .await
                    .map_err(|e| SessionError::Runtime(format!("--webhook {}: {e}", cfg.addr)))?;
                if status {
                    eprintln!("webhook: http://{bound}/webhook");
                }
                Some((WebhookSide::new(cfg.rules.clone(), rx, accepted), task))
            }
            None => None,
        };
        Ok(Running {
            watch,
            control,
            server,
            alerts,
            webhook,
        })
    }
}

impl Running {
    /// Stops the endpoint and gives queued alerts two seconds to go out.
    async fn stop(self) {
        if let Some(s) = self.server {
            s.abort();
        }
        if let Some((_, task)) = self.webhook {
            task.abort();
        }
        drop(self.watch);
        if let Some(a) = self.alerts {
            let _ = tokio::time::timeout(Duration::from_secs(2), a).await;
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, SessionError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| SessionError::Runtime(e.to_string()))
}

/// Runs the feed and the driver on a small runtime of their own until a stop (the caller
/// stays synchronous, as the engine is).
pub fn run_blocking<V: Venue, J: Journal>(
    session: &mut Session<V, J>,
    feed: crate::feed::FeedConfig,
    s: &DriverSettings,
    sidecars: &Sidecars,
) -> Result<(Stop, DriverStats), SessionError> {
    runtime()?.block_on(async {
        let mut side = sidecars
            .start(s.clock.now(), s.status, session.signals())
            .await?;
        let (tx, mut rx) = mpsc::channel(4096);
        let task = tokio::spawn(crate::feed::run_feed(feed, tx));
        let control = side.control.take();
        let webhook = side.webhook.as_mut().map(|(w, _)| w);
        let out = drive(session, &mut rx, None, control, webhook, &mut side.watch, s).await;
        task.abort();
        side.stop().await;
        out
    })
}

/// How a live session meets its broker.
pub struct LiveSettings {
    /// Where the broker is (and, after a restart, what the journal knows).
    pub broker: crate::alpaca::BrokerConfig,
    /// After the stop, how long (real time) the broker task may still deliver answers to
    /// the last requests (the entries withdrawn at the stop).
    pub settle: Duration,
    /// Policy for broker positions the journal cannot explain.
    pub external: ExternalPositions,
    /// Largest allowed clock skew against the broker (ms); above it entries wait.
    pub max_skew_ms: i64,
}

/// As [`run_blocking`], with the Alpaca venue: the broker task runs beside the feed. Entries
/// wait until the session is reconciled with the broker: the working orders the journal
/// knows are looked up (or sent again under their own ids), then the broker's positions
/// must equal the journal's.
pub fn run_blocking_live<J: Journal>(
    session: &mut Session<AlpacaVenue, J>,
    venue: AlpacaVenue,
    feed: crate::feed::FeedConfig,
    live: LiveSettings,
    s: &DriverSettings,
    sidecars: &Sidecars,
) -> Result<(Stop, DriverStats), SessionError> {
    runtime()?.block_on(async {
        let mut side = sidecars
            .start(s.clock.now(), s.status, session.signals())
            .await?;
        let (tx, mut rx) = mpsc::channel(4096);
        let (req_tx, req_rx) = mpsc::channel(4096);
        let (ev_tx, ev_rx) = mpsc::channel(4096);
        let feed_task = tokio::spawn(crate::feed::run_feed(feed, tx));
        let broker_task = tokio::spawn(crate::alpaca::run_broker(live.broker, req_rx, ev_tx));
        let mut broker = BrokerSide::new(venue, req_tx, ev_rx, live.external, live.max_skew_ms);
        broker.start_reconcile(&session.working_orders());
        let at = s.clock.now().plus(-s.grace).max(session.last_input_at());
        broker.pause_at_start(session, at)?;
        let control = side.control.take();
        let webhook = side.webhook.as_mut().map(|(w, _)| w);
        let out = drive(
            session,
            &mut rx,
            Some(&mut broker),
            control,
            webhook,
            &mut side.watch,
            s,
        )
        .await;
        feed_task.abort();
        // Nothing went out after a failed reconciliation: no answers to wait for.
        let settle = match &out {
            Ok((Stop::Unreconciled(_), _)) => Duration::ZERO,
            _ => live.settle,
        };
        let deadline = tokio::time::Instant::now() + settle;
        while let Ok(Some(event)) = tokio::time::timeout_at(deadline, broker.events.recv()).await {
            if let BrokerEvent::Report(_, report) = event {
                let at = s.clock.now().plus(-s.grace);
                session.feed(Input::Report(at, report))?;
            }
        }
        broker_task.abort();
        side.stop().await;
        out
    })
}
