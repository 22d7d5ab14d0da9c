//! The live driver: owns the clock and feeds the journaled session one input at a time:
//! bars from the feed as they arrive, and ticks so timers (EOD flatten, session close, day
//! expiry) fire on the clock even when no bar comes. Timers wait `grace` behind the clock
//! so a bar that closes at the same instant is handled first, as in replay.

use crate::alpaca::{AlpacaVenue, BrokerEvent, Outgoing};
use crate::feed::FeedEvent;
use crate::journal::RecordKind;
use crate::session::{Session, SessionError};
use crate::time_source::SharedTime;
use crate::wire::BarMsg;
use lockstep_core::{Bar, Calendar, Scale, SessionLookup, UnixNanos};
use lockstep_engine::{Command, Input, Journal, Venue};
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
}

/// Why the driver stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
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
    fn count(&mut self, decisions: &[(i64, String)]) {
        for (_, d) in decisions {
            if d.starts_with("{\"submitted\"") {
                self.orders += 1;
            } else if d.starts_with("{\"fill\"") {
                self.fills += 1;
            } else if d.starts_with("{\"lot\"") {
                let pnl = serde_json::from_str::<serde_json::Value>(d)
                    .ok()
                    .and_then(|v| v.get("net_pnl")?.as_str()?.parse::<Decimal>().ok());
                self.realized += pnl.unwrap_or_default();
            }
        }
    }
}

/// The live venue's side of the driver: the venue handle (for its outbox and symbol
/// names), requests to the broker task and its events back.
pub struct BrokerSide {
    /// The engine's venue (shares its outbox and names).
    pub venue: AlpacaVenue,
    /// Requests to the broker task.
    pub requests: mpsc::Sender<Outgoing>,
    /// Reports and alerts from it.
    pub events: mpsc::Receiver<BrokerEvent>,
    /// Whether the update stream has listened yet (requests queue until then).
    pub ready: bool,
    /// Whether the update stream is down now (entries paused).
    pub down: bool,
}

impl BrokerSide {
    /// Sends what the last step queued, in order (it is journaled by now); returns how
    /// many requests went.
    async fn flush(&mut self) -> usize {
        let queued: Vec<Outgoing> = self.venue.outbox().borrow_mut().drain(..).collect();
        let n = queued.len();
        for q in queued {
            if self.requests.send(q).await.is_err() {
                return 0;
            }
        }
        n
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
    s: &DriverSettings,
) -> Result<(Stop, DriverStats), SessionError> {
    let mut stats = DriverStats::default();
    let mut lookup = SessionLookup::new(s.calendar);
    let mut last_tick = UnixNanos(i64::MIN);
    let mut entered: Option<chrono::NaiveDate> = None;
    let mut first_close: Option<UnixNanos> = None;
    let mut last_bar_at = Instant::now();
    let mut last_status = Instant::now();
    let mut poll = tokio::time::interval(s.poll);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let stop = loop {
        let mut bar_arrived: Option<Instant> = None;
        tokio::select! {
            event = feed.recv() => {
                let now = s.clock.now();
                match event {
                    None => break Stop::FeedEnded,
                    Some(FeedEvent::Bar(msg)) => match engine_bar(&msg, s, &mut lookup, session) {
                        Ok(Some(bar)) => {
                            last_bar_at = Instant::now();
                            bar_arrived = Some(last_bar_at);
                            stats.bars += 1;
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
                    Some(FeedEvent::Connected) => {}
                    Some(FeedEvent::Disconnected(why)) => {
                        stats.disconnects += 1;
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
                if s.one_session && first_close.is_some_and(|c| t >= c) {
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
                match event {
                    None => break Stop::FeedEnded,
                    Some(BrokerEvent::Ready) => {
                        let was_down = broker.as_deref().is_some_and(|b| b.down);
                        if let Some(b) = broker.as_deref_mut() {
                            b.ready = true;
                            b.down = false;
                        }
                        if was_down {
                            let at = now.plus(-s.grace).max(last_tick);
                            session.feed(Input::Command(at, Command::ResumeEntries))?;
                        }
                    }
                    Some(BrokerEvent::Down(why)) => {
                        stats.disconnects += 1;
                        let body = serde_json::json!({"broker": why});
                        session.note(now, RecordKind::Alert, body.to_string())?;
                        let first = broker.as_deref().is_some_and(|b| !b.down);
                        if let Some(b) = broker.as_deref_mut() {
                            b.down = true;
                        }
                        if first {
                            let at = now.plus(-s.grace).max(last_tick);
                            session.feed(Input::Command(at, Command::PauseEntries))?;
                        }
                    }
                    Some(BrokerEvent::Report(_, report)) => {
                        let at = now.plus(-s.grace).max(last_tick);
                        let made = session.feed(Input::Report(at, report))?;
                        stats.count(&made);
                    }
                    Some(BrokerEvent::Raw { text, reason }) => {
                        stats.malformed += 1;
                        let body = serde_json::json!({"text": text, "reason": reason});
                        session.note(now, RecordKind::Raw, body.to_string())?;
                    }
                    Some(BrokerEvent::Alert(text)) => {
                        let body = serde_json::json!({"broker": text});
                        session.note(now, RecordKind::Alert, body.to_string())?;
                    }
                }
            }
            _ = &mut ctrl_c => break Stop::Interrupted,
        }
        if let Some(b) = broker.as_deref_mut() {
            let sent = b.flush().await;
            if let (Some(t0), true) = (bar_arrived, sent > 0) {
                stats.bar_to_request.push(t0.elapsed());
            }
        }
    };
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

/// Runs the feed and the driver on a small runtime of their own until a stop (the caller
/// stays synchronous, as the engine is).
pub fn run_blocking<V: Venue, J: Journal>(
    session: &mut Session<V, J>,
    feed: crate::feed::FeedConfig,
    s: &DriverSettings,
) -> Result<(Stop, DriverStats), SessionError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| SessionError::Runtime(e.to_string()))?;
    rt.block_on(async {
        let (tx, mut rx) = mpsc::channel(4096);
        let task = tokio::spawn(crate::feed::run_feed(feed, tx));
        let out = drive(session, &mut rx, None, s).await;
        task.abort();
        out
    })
}

/// As [`run_blocking`], with the Alpaca venue: the broker task runs beside the feed, and
/// after the stop it is given a moment (`settle`, real time) to deliver the answers to the
/// last requests (the entries withdrawn at the stop).
pub fn run_blocking_live<J: Journal>(
    session: &mut Session<AlpacaVenue, J>,
    venue: AlpacaVenue,
    feed: crate::feed::FeedConfig,
    broker: crate::alpaca::BrokerConfig,
    s: &DriverSettings,
    settle: Duration,
) -> Result<(Stop, DriverStats), SessionError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| SessionError::Runtime(e.to_string()))?;
    rt.block_on(async {
        let (tx, mut rx) = mpsc::channel(4096);
        let (req_tx, req_rx) = mpsc::channel(4096);
        let (ev_tx, ev_rx) = mpsc::channel(4096);
        let feed_task = tokio::spawn(crate::feed::run_feed(feed, tx));
        let broker_task = tokio::spawn(crate::alpaca::run_broker(broker, req_rx, ev_tx));
        let mut side = BrokerSide {
            venue,
            requests: req_tx,
            events: ev_rx,
            ready: false,
            down: false,
        };
        let out = drive(session, &mut rx, Some(&mut side), s).await;
        feed_task.abort();
        let deadline = tokio::time::Instant::now() + settle;
        while let Ok(Some(event)) = tokio::time::timeout_at(deadline, side.events.recv()).await {
            if let BrokerEvent::Report(_, report) = event {
                let at = s.clock.now().plus(-s.grace);
                session.feed(Input::Report(at, report))?;
            }
        }
        broker_task.abort();
        out
    })
}
