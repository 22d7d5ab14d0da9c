//! The one loop. Replay, paper and live differ only in what is plugged in: the source of
//! inputs, the clock and the venue. Nothing in here tests a mode.
//!
//! Every data event is one step, in this order: market state -> venue matching (when the
//! venue has a simulator) -> exits -> EOD guard -> strategies -> risk -> executor -> venue
//! -> ledger -> journal. Asynchronous inputs (venue reports, timers, signals) wait in the
//! [`EventQueue`] and run before any bar delivered later, after bars delivered at the same
//! time. Replay pulls bars from a [`BarSource`] ([`Engine::run`]); paper and live push each
//! input as it arrives ([`Engine::push`], in `push.rs`), with the driver owning the clock.

use crate::clock::Clock;
use crate::executor::{ExecError, Executor};
use crate::exits::calm::QuietMoves;
use crate::exits::eod_guard::{EodGuard, EodSettings, GuardStep, SessionTimers};
use crate::exits::exit_manager::{ExitManager, ExitOrder, ExitSettings};
use crate::journal::{Entry, Journal, JournalError, Names, RunOutcome};
use crate::ledger::Ledger;
use crate::market::MarketState;
use crate::options::instruments::Instruments;
use crate::queue::EventQueue;
use crate::risk::{EngineExit, RiskEngine, RiskLimits};
use crate::strategy::{NamedStrategy, Strategy};
use crate::venue::{Venue, VenueReport};
use lockstep_core::time::UtcDays;
use lockstep_core::{
    Bar, BarSource, EventClass, Liquidity, Money, OrderIntent, Price, SourceError, SymbolTable,
    UnixNanos,
};

mod eod_steps;
mod orders;
mod outcome;
mod push;
mod quiet_run;

pub use push::{Command, Input};

/// How often the equity curve gets a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EquityMode {
    /// One row per session (UTC day for the `24x7` calendar), at its last event.
    #[default]
    Session,
    /// One row per bar.
    Bar,
}

/// Settings of one engine run.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// Deterministic run id, prefix of client order ids.
    pub run_id: String,
    /// Starting cash.
    pub initial_cash: Money,
    /// Equity curve granularity.
    pub equity: EquityMode,
    /// Pre-trade limits.
    pub risk: RiskLimits,
    /// The EOD guard, when a session calendar applies.
    pub eod: Option<EodSettings>,
    /// The exit manager's rules.
    pub exits: ExitSettings,
    /// Symbols that are indexes: price sources (an option's underlying), never traded;
    /// orders on them are refused `not_tradable`.
    pub indexes: Vec<String>,
}

/// Why a run stopped early.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Bad input data (exit code 2).
    #[error(transparent)]
    Data(#[from] SourceError),
    /// An engine invariant broke (exit code 1): always a bug.
    #[error("engine error: {0}")]
    Exec(#[from] ExecError),
    /// The journal could not record (exit code 1).
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// `eod.policy = "flatten"` with daily bars: a session's bar arrives at its close, too
    /// late to flatten at `flatten_at` (exit code 2).
    #[error("eod.policy = \"flatten\" needs intraday bars: a daily bar is only seen at its session's close")]
    EodNeedsIntraday,
    /// Option bars need session closes to expire at: the `nyse` calendar and intraday bars
    /// (exit code 2).
    #[error("{0} is an option: options need data.calendar = \"nyse\" and intraday bars, so they can expire at a session close")]
    OptionsNeedSessions(String),
    /// An option expired with no price of its underlying to settle it against.
    #[error(
        "engine error: {option} expired on {session} but {underlying} has no price from that session to settle it"
    )]
    NoUnderlyingPrice {
        /// The option.
        option: String,
        /// Its underlying.
        underlying: String,
        /// Session date.
        session: chrono::NaiveDate,
    },
    /// A position the EOD policy must flatten was still open when its session closed.
    #[error("engine error: {symbol} still open at the close of session {session} although eod.policy is flatten")]
    OpenAcrossClose {
        /// Instrument.
        symbol: String,
        /// Session date.
        session: chrono::NaiveDate,
    },
}

/// What the venue does with a freshly created order.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Route {
    /// Works it (submit).
    Work,
    /// Fills it now at a level the current bar crossed.
    FillAt(Price, Liquidity),
    /// Settles it in cash at this price (option expiry).
    Settle(Price),
    /// Nothing yet: the caller fills it (the close's forced fills).
    Hold,
}

/// Asynchronous inputs that wait in the queue.
#[derive(Debug, Clone, PartialEq)]
pub enum QueuedEvent {
    /// A report from a venue that answers asynchronously.
    Venue(VenueReport),
    /// The EOD guard's flatten time for a session (date, session close).
    EodFlatten(chrono::NaiveDate, UnixNanos),
    /// A session's close.
    SessionClose(chrono::NaiveDate),
    /// An external signal, handed to every strategy's `on_signal`.
    Signal(Box<lockstep_core::Signal>),
}

/// An intent waiting for the risk engine, in the order it was asked for.
#[derive(Debug, Clone, PartialEq)]
enum Pending {
    /// A strategy's intent: always judged by [`RiskEngine::check`].
    Strategy(OrderIntent),
    /// The engine's own close (exit manager, EOD guard, settlement).
    Engine(EngineExit),
}

/// The engine: one executor, one risk engine, one ledger for all strategies; everything
/// that happens is written to the journal `J` as it happens.
pub struct Engine<V: Venue, C: Clock, J: Journal> {
    journal: J,
    settings: EngineSettings,
    venue: V,
    clock: C,
    names: Vec<String>,
    strategies: Vec<Box<dyn Strategy>>,
    risk: RiskEngine,
    executor: Executor,
    ledger: Ledger,
    market: MarketState,
    symbols: SymbolTable,
    queue: EventQueue<QueuedEvent>,
    eod: Option<EodGuard>,
    eod_closing: bool,
    eod_session: Option<chrono::NaiveDate>,
    instruments: Instruments,
    exits: ExitManager,
    exit_orders: Vec<ExitOrder>,
    /// How the quiet run being looked at moves watched positions (reused).
    quiet_moves: QuietMoves,
    reports: Vec<VenueReport>,
    /// What the strategy being called asks for (moved to `pending` after each callback).
    asked: Vec<OrderIntent>,
    pending: Vec<Pending>,
    allocations: Vec<crate::ledger::Allocation>,
    fills: u64,
    bars: u64,
    first_ts: Option<UnixNanos>,
    last_ts: Option<UnixNanos>,
    session: Option<i64>,
    /// The UTC day of the last bar, kept to spare a division per bar.
    days: UtcDays,
}

/// Progress callbacks happen every this many bars.
pub const PROGRESS_EVERY: u64 = 1 << 16;

/// Most bars a replay takes from its source at once ([`BarSource::next_bars`]).
const PULL_BARS: usize = 1024;

impl<V: Venue, C: Clock, J: Journal> Engine<V, C, J> {
    /// An engine running `strategies` (name, instance) against `venue`, reading time from
    /// `clock` and recording into `journal`.
    pub fn new(
        settings: EngineSettings,
        venue: V,
        clock: C,
        strategies: Vec<NamedStrategy>,
        journal: J,
    ) -> Self {
        let (names, strategies) = strategies.into_iter().unzip();
        let history = settings.risk.history_needed();
        Engine {
            journal,
            eod: settings.eod.clone().map(EodGuard::new),
            eod_closing: false,
            eod_session: None,
            instruments: Instruments::new(&settings.indexes),
            exits: ExitManager::new(settings.exits.clone()),
            exit_orders: Vec::new(),
            quiet_moves: QuietMoves::default(),
            risk: RiskEngine::new(settings.risk.clone()),
            executor: Executor::new(&settings.run_id),
            ledger: Ledger::new(settings.initial_cash),
            settings,
            venue,
            clock,
            names,
            strategies,
            market: MarketState::with_history(history),
            symbols: SymbolTable::new(),
            queue: EventQueue::new(),
            reports: Vec::new(),
            asked: Vec::new(),
            pending: Vec::new(),
            allocations: Vec::new(),
            fills: 0,
            bars: 0,
            first_ts: None,
            last_ts: None,
            session: None,
            days: UtcDays::default(),
        }
    }

    /// The same engine with per-strategy books ([`Ledger::per_strategy`]): a strategy's
    /// fill closes only lots that strategy opened. Call before the run starts.
    pub fn with_per_strategy_books(mut self) -> Self {
        self.ledger = self.ledger.per_strategy();
        self
    }

    /// Queues an asynchronous event at `ts` (live venue reports arrive this way).
    pub fn enqueue(&mut self, ts: UnixNanos, event: QueuedEvent) {
        self.queue.push(ts, EventClass::VenueReport, event);
    }

    /// Queues an external signal at its `ts`, in the `Signal` class: after bars, reports
    /// and timers of the same instant, before later ones. Replay queues a whole recorded
    /// file before `run`; every strategy sees each signal once, in time order.
    pub fn enqueue_signal(&mut self, signal: lockstep_core::Signal) {
        self.queue.push(
            signal.ts,
            EventClass::Signal,
            QueuedEvent::Signal(Box::new(signal)),
        );
    }

    /// Runs to the end of `source` (replay: the loop pulls bars); `progress` is called with
    /// the bar count now and then. Returns the run's totals and the journal.
    pub fn run(
        mut self,
        source: &mut dyn BarSource,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(RunOutcome, J), EngineError> {
        self.start()?;
        let mut batch = Vec::with_capacity(PULL_BARS);
        loop {
            batch.clear();
            let pulled = source.next_bars(&mut self.symbols, &mut batch, PULL_BARS);
            let mut at = 0;
            while let Some(bar) = batch.get(at) {
                if self.queue.peek_key().is_some_and(|k| k.ts < bar.end) {
                    self.fire_queued(Some(bar.end), false)?;
                }
                let before = self.bars;
                self.step(bar)?;
                at += 1;
                at += self.absorb_quiet_run(&batch[at..]);
                if self.bars / PROGRESS_EVERY != before / PROGRESS_EVERY {
                    progress(self.bars);
                }
            }
            pulled?;
            if batch.is_empty() {
                self.fire_queued(None, false)?;
                break;
            }
        }
        progress(self.bars);
        self.end()?;
        Ok(self.finish([
            source.skipped_rows(),
            source.outside_session_rows(),
            source.quoteless_rows(),
        ]))
    }

    /// Calls every strategy's `on_start` and routes what they ask for.
    pub(super) fn start(&mut self) -> Result<(), EngineError> {
        for k in 0..self.strategies.len() {
            self.call_strategy(k, |s, ctx| s.on_start(ctx));
        }
        self.process_intents()
    }

    /// Calls every strategy's `on_end`, expires what still works and writes the last
    /// equity row.
    pub(super) fn end(&mut self) -> Result<(), EngineError> {
        for k in 0..self.strategies.len() {
            self.call_strategy(k, |s, ctx| s.on_end(ctx));
        }
        self.process_intents()?;
        self.executor.expire_all(self.clock.now())?;
        self.flush_orders()?;
        if self.settings.equity == EquityMode::Session {
            // The last session has no following bar to close it; per-bar mode already
            // recorded its final row.
            self.record_equity()?;
        }
        Ok(())
    }

    /// Processes queued events in `(ts, class, seq)` order: those before `until` (a bar's
    /// delivery: events at the same time wait for the bar), or with `inclusive`, those at
    /// or before it; everything when `until` is `None`.
    pub(super) fn fire_queued(
        &mut self,
        until: Option<UnixNanos>,
        inclusive: bool,
    ) -> Result<(), EngineError> {
        while let Some(key) = self.queue.peek_key() {
            let due = match until {
                None => true,
                Some(t) if inclusive => key.ts <= t,
                Some(t) => key.ts < t,
            };
            if !due {
                break;
            }
            let Some((key, event)) = self.queue.pop() else {
                break;
            };
            self.clock.advance_to(key.ts);
            match event {
                QueuedEvent::Venue(r) => {
                    self.reports.push(r);
                    self.handle_reports()?;
                }
                QueuedEvent::EodFlatten(session, close) => self.eod_flatten(session, close)?,
                QueuedEvent::SessionClose(session) => self.session_close(session)?,
                QueuedEvent::Signal(signal) => {
                    let symbol = self.symbols.intern(&signal.symbol);
                    for k in 0..self.strategies.len() {
                        self.call_strategy(k, |s, ctx| s.on_signal(&signal, symbol, ctx));
                    }
                }
            }
            self.process_intents()?;
        }
        Ok(())
    }

    /// Queues a new session's EOD timers: its flatten time and its close.
    fn schedule(&mut self, t: SessionTimers) {
        self.queue.push(
            t.flatten_at,
            EventClass::Timer,
            QueuedEvent::EodFlatten(t.session, t.close),
        );
        self.queue.push(
            t.close,
            EventClass::Timer,
            QueuedEvent::SessionClose(t.session),
        );
    }

    fn record(&mut self, entry: Entry<'_>) -> Result<(), JournalError> {
        let names = Names {
            symbols: &self.symbols,
            strategies: &self.names,
        };
        self.journal.record(entry, &names)
    }

    fn flush_orders(&mut self) -> Result<(), JournalError> {
        let names = Names {
            symbols: &self.symbols,
            strategies: &self.names,
        };
        for o in self.executor.drain_finished() {
            self.journal.record(Entry::Order(&o), &names)?;
        }
        Ok(())
    }

    /// The first bar of a new UTC day: the day before (if any) ends first (the venue's
    /// session end and its reports, the session's equity row), then the risk engine's day
    /// starts at the current equity. Out of line: a day has many bars.
    #[inline(never)]
    fn begin_day(&mut self, day: i64) -> Result<(), EngineError> {
        if self.session.is_some() {
            let now = self.clock.now();
            if let Some(sim) = self.venue.simulator() {
                sim.end_session(now, &mut self.reports);
            }
            self.handle_reports()?;
            if self.settings.equity == EquityMode::Session {
                self.record_equity()?;
            }
        }
        let market = &self.market;
        let equity = self.ledger.equity(|s| market.mark(s));
        self.risk.start_session(day, equity);
        self.session = Some(day);
        Ok(())
    }

    /// The first bar of a symbol: classifies it (option, index, stock) and sets its risk
    /// group and multiplier; an option needs session-aware delivery. Out of line: once per
    /// symbol.
    #[inline(never)]
    fn classify(&mut self, bar: &Bar) -> Result<(), EngineError> {
        let Some(instrument) = self
            .instruments
            .classify(bar.symbol, self.symbols.name(bar.symbol))
        else {
            return Ok(());
        };
        let option = matches!(instrument, lockstep_core::Instrument::Option(_));
        let group = match instrument {
            lockstep_core::Instrument::Option(c) => {
                let expiry = crate::options::instruments::expiry_session(c.occ.expiry);
                self.exits.set_expiry(bar.symbol, expiry);
                c.underlying.clone()
            }
            _ => self.symbols.name(bar.symbol).to_string(),
        };
        self.risk.set_group(bar.symbol, &group);
        self.ledger
            .set_multiplier(bar.symbol, instrument.multiplier());
        if let Some(sim) = self.venue.simulator() {
            sim.set_multiplier(bar.symbol, instrument.multiplier());
        }
        if option && self.eod.is_none() {
            let name = self.symbols.name(bar.symbol).to_string();
            return Err(EngineError::OptionsNeedSessions(name));
        }
        Ok(())
    }

    fn step(&mut self, bar: &Bar) -> Result<(), EngineError> {
        let day = self.days.day(bar.end);
        if self.session != Some(day) {
            self.begin_day(day)?;
        }
        self.clock.advance_to(bar.end);
        self.bars += 1;
        self.first_ts.get_or_insert(bar.ts);
        self.last_ts = Some(bar.ts);
        self.market.update(bar);
        if !self.instruments.is_classified(bar.symbol) {
            self.classify(bar)?;
        }
        if let Some(guard) = self.eod.as_mut() {
            match guard.on_bar(bar.ts) {
                GuardStep::Nothing => {}
                GuardStep::Schedule(t) => self.schedule(t),
                GuardStep::DailyBar if guard.flattens() => {
                    return Err(EngineError::EodNeedsIntraday)
                }
                GuardStep::DailyBar if self.instruments.option(bar.symbol).is_some() => {
                    let name = self.symbols.name(bar.symbol).to_string();
                    return Err(EngineError::OptionsNeedSessions(name));
                }
                GuardStep::DailyBar => {}
            }
        }
        if let Some(sim) = self.venue.simulator() {
            if sim.has_working(bar) {
                sim.on_bar(bar, &mut self.reports);
                self.handle_reports()?;
            }
        }
        if self.exits.is_active() {
            self.exits
                .on_bar(bar, &self.executor, &mut self.exit_orders);
            let mut fired = std::mem::take(&mut self.exit_orders);
            for ExitOrder { exit, at } in fired.drain(..) {
                self.clear_for_exit(exit.intent().strategy, exit.intent().symbol)?;
                let how = at.map_or(Route::Work, |(p, l)| Route::FillAt(p, l));
                self.route(Pending::Engine(exit), how)?;
            }
            // The emptied buffer keeps its room for the next bar's exits.
            if self.exit_orders.is_empty() {
                self.exit_orders = fired;
            }
        }
        if self.eod_closing {
            // An EOD close the venue refused is asked again on every bar until the close.
            self.eod_close_positions()?;
            self.process_intents()?;
        }
        for k in 0..self.strategies.len() {
            self.call_strategy(k, |s, ctx| s.on_bar(bar, ctx));
        }
        if !self.pending.is_empty() {
            self.process_intents()?;
        }
        if self.settings.equity == EquityMode::Bar {
            self.record_equity()?;
        }
        Ok(())
    }
}
