//! The one loop. Replay, paper and live differ only in the source, clock and venue plugged in.
//!
//! Every data event is one step, in this order: market state -> venue matching -> exits ->
//! EOD guard -> strategies -> risk -> executor -> venue -> ledger -> journal. Exits and the
//! EOD guard arrive with their issues; they plug in between matching and strategies.
//! Asynchronous inputs (live venue reports, timers, signals) wait in the [`EventQueue`] and
//! run before any bar delivered later, after bars delivered at the same time.

use crate::clock::Clock;
use crate::eod_guard::{EodGuard, EodSettings, GuardStep};
use crate::executor::{ExecError, Executor, ReportEffect};
use crate::exit_manager::{ExitManager, ExitOrder, ExitSettings};
use crate::instruments::Instruments;
use crate::journal::{
    Entry, EquityPoint, Journal, JournalError, Names, OpenPosition, Rejection, RunOutcome,
};
use crate::ledger::Ledger;
use crate::market::MarketState;
use crate::queue::EventQueue;
use crate::risk::{RiskEngine, RiskLimits};
use crate::strategy::{Context, NamedStrategy, Strategy};
use crate::venue::{Venue, VenueReport};

mod eod_steps;
use lockstep_core::{
    Bar, BarSource, EventClass, Liquidity, Money, OrderIntent, Price, RejectCode, SourceError,
    StrategyId, SymbolTable, UnixNanos,
};

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
    reports: Vec<VenueReport>,
    intents: Vec<OrderIntent>,
    allocations: Vec<crate::ledger::Allocation>,
    fills: u64,
    bars: u64,
    first_ts: Option<UnixNanos>,
    last_ts: Option<UnixNanos>,
    session: Option<i64>,
}

/// Progress callbacks happen every this many bars.
pub const PROGRESS_EVERY: u64 = 1 << 16;

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
            intents: Vec::new(),
            allocations: Vec::new(),
            fills: 0,
            bars: 0,
            first_ts: None,
            last_ts: None,
            session: None,
        }
    }

    /// Queues an asynchronous event at `ts` (live venue reports arrive this way).
    pub fn enqueue(&mut self, ts: UnixNanos, event: QueuedEvent) {
        self.queue.push(ts, EventClass::VenueReport, event);
    }

    /// Runs to the end of `source`; `progress` is called with the bar count now and then.
    /// Returns the run's totals and the journal.
    pub fn run(
        mut self,
        source: &mut dyn BarSource,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(RunOutcome, J), EngineError> {
        for k in 0..self.strategies.len() {
            self.call_strategy(k, |s, ctx| s.on_start(ctx));
        }
        self.process_intents()?;
        loop {
            let bar = source.next_bar(&mut self.symbols)?;
            while let Some(key) = self.queue.peek_key() {
                if bar.as_ref().is_some_and(|b| key.ts >= b.end) {
                    break;
                }
                if let Some((key, event)) = self.queue.pop() {
                    self.clock.advance_to(key.ts);
                    match event {
                        QueuedEvent::Venue(r) => {
                            self.reports.push(r);
                            self.handle_reports()?;
                        }
                        QueuedEvent::EodFlatten(session, close) => {
                            self.eod_flatten(session, close)?
                        }
                        QueuedEvent::SessionClose(session) => self.session_close(session)?,
                    }
                    self.process_intents()?;
                }
            }
            let Some(bar) = bar else { break };
            self.step(&bar)?;
            if self.bars.is_multiple_of(PROGRESS_EVERY) {
                progress(self.bars);
            }
        }
        progress(self.bars);
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
        Ok(self.finish([
            source.skipped_rows(),
            source.outside_session_rows(),
            source.quoteless_rows(),
        ]))
    }

    fn record(&mut self, entry: Entry<'_>) -> Result<(), JournalError> {
        let names = Names {
            symbols: &self.symbols,
            strategies: &self.names,
        };
        self.journal.record(entry, &names)
    }

    fn flush_orders(&mut self) -> Result<(), JournalError> {
        for o in self.executor.take_finished() {
            self.record(Entry::Order(&o))?;
        }
        Ok(())
    }

    fn step(&mut self, bar: &Bar) -> Result<(), EngineError> {
        let day = bar.end.utc_day();
        if self.session.is_some_and(|d| d != day) {
            self.venue.end_session(self.clock.now(), &mut self.reports);
            self.handle_reports()?;
            if self.settings.equity == EquityMode::Session {
                self.record_equity()?;
            }
        }
        if self.session != Some(day) {
            let market = &self.market;
            let equity = self.ledger.equity(|s| market.mark(s));
            self.risk.start_session(day, equity);
        }
        self.session = Some(day);
        self.clock.advance_to(bar.end);
        self.bars += 1;
        self.first_ts.get_or_insert(bar.ts);
        self.last_ts = Some(bar.ts);
        self.market.update(bar);
        if let Some(instrument) = self
            .instruments
            .classify(bar.symbol, self.symbols.name(bar.symbol))
        {
            let option = matches!(instrument, lockstep_core::Instrument::Option(_));
            self.ledger
                .set_multiplier(bar.symbol, instrument.multiplier());
            self.venue
                .set_multiplier(bar.symbol, instrument.multiplier());
            if option && self.eod.is_none() {
                let name = self.symbols.name(bar.symbol).to_string();
                return Err(EngineError::OptionsNeedSessions(name));
            }
        }
        if let Some(guard) = self.eod.as_mut() {
            match guard.on_bar(bar.ts) {
                GuardStep::Nothing => {}
                GuardStep::Schedule(t) => {
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
        if self.venue.has_working(bar) {
            self.venue.on_bar(bar, &mut self.reports);
            self.handle_reports()?;
        }
        if self.exits.is_active() {
            self.exits
                .on_bar(bar, &self.executor, &mut self.exit_orders);
            for exit in std::mem::take(&mut self.exit_orders) {
                self.clear_for_exit(exit.intent.strategy, exit.intent.symbol)?;
                let how = exit.at.map_or(Route::Work, |(p, l)| Route::FillAt(p, l));
                self.route(exit.intent, how)?;
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
        self.process_intents()?;
        if self.settings.equity == EquityMode::Bar {
            self.record_equity()?;
        }
        Ok(())
    }

    fn call_strategy(&mut self, k: usize, f: impl FnOnce(&mut dyn Strategy, &mut Context<'_>)) {
        let mut ctx = Context {
            now: self.clock.now(),
            id: StrategyId(k as u32),
            ledger: &self.ledger,
            market: &self.market,
            executor: &self.executor,
            symbols: &self.symbols,
            instruments: &self.instruments,
            intents: &mut self.intents,
        };
        f(self.strategies[k].as_mut(), &mut ctx);
    }

    fn process_intents(&mut self) -> Result<(), EngineError> {
        while !self.intents.is_empty() {
            for intent in std::mem::take(&mut self.intents) {
                if !self.instruments.tradable(intent.symbol) {
                    let detail = format!(
                        "{} is an index: a price source, not tradable",
                        self.symbols.name(intent.symbol)
                    );
                    let rej =
                        Rejection::of(&intent, self.clock.now(), RejectCode::NotTradable, detail);
                    self.record(Entry::Rejection(&rej))?;
                    continue;
                }
                if let Some(detail) = self.exits.held_signal_exit(&intent, &self.market) {
                    let rej = Rejection::of(
                        &intent,
                        self.clock.now(),
                        RejectCode::ExitNotInProfit,
                        detail,
                    );
                    self.record(Entry::Rejection(&rej))?;
                    continue;
                }
                self.route(intent, Route::Work)?;
            }
        }
        Ok(())
    }

    /// Risk check, then an order, then what `how` says the venue does with it.
    fn route(&mut self, intent: OrderIntent, how: Route) -> Result<(), EngineError> {
        let now = self.clock.now();
        match self
            .risk
            .check(intent, now, &self.market, &self.ledger, &self.executor)
        {
            Err(rej) => self.record(Entry::Rejection(&rej))?,
            Ok(approved) => {
                let reserved = approved.reserved();
                let order = self.executor.create(approved, now);
                if let Some(r) = reserved {
                    self.risk.track(order.id, r);
                }
                let out = &mut self.reports;
                match how {
                    Route::Work => self.venue.submit(order, now, &self.market, out),
                    Route::FillAt(price, liquidity) => {
                        self.venue
                            .fill_triggered(order, price, liquidity, now, &self.market, out)
                    }
                    Route::Settle(price) => self.venue.settle(order, price, now, out),
                    Route::Hold => {}
                }
                self.handle_reports()?;
            }
        }
        Ok(())
    }

    fn handle_reports(&mut self) -> Result<(), EngineError> {
        let reports = std::mem::take(&mut self.reports);
        for r in &reports {
            match self.executor.on_report(r)? {
                ReportEffect::None => match r {
                    VenueReport::Accepted { .. } => self.risk.on_venue_ok(),
                    VenueReport::Expired { order_id, .. } => self.risk.on_unfilled(*order_id),
                    _ => {}
                },
                ReportEffect::Rejected(o, reason) => {
                    let now = self.clock.now();
                    self.risk.on_unfilled(o.id);
                    self.risk.on_venue_error(now);
                    self.exits.on_rejected(&o);
                    let rej = Rejection {
                        ts: now,
                        strategy: o.strategy,
                        symbol: o.symbol,
                        side: o.side,
                        qty: o.qty,
                        code: RejectCode::VenueRejected,
                        detail: reason,
                    };
                    self.record(Entry::Rejection(&rej))?;
                }
                ReportEffect::Withdrawn(o, code, detail) => {
                    self.risk.on_unfilled(o.id);
                    // Not a venue error (the breaker does not count it); an engine exit
                    // is asked again on the next bar.
                    self.exits.on_rejected(&o);
                    let rej = Rejection {
                        ts: self.clock.now(),
                        strategy: o.strategy,
                        symbol: o.symbol,
                        side: o.side,
                        qty: o.remaining(),
                        code,
                        detail,
                    };
                    self.record(Entry::Rejection(&rej))?;
                }
                ReportEffect::Fill(fill) => {
                    let mut allocations = std::mem::take(&mut self.allocations);
                    let m = self.ledger.multiplier(fill.symbol);
                    self.risk.on_fill(fill.order_id, fill.qty, fill.price, m);
                    self.ledger.apply(&fill, &mut allocations);
                    self.fills += 1;
                    self.record(Entry::Fill(&fill))?;
                    let position = self.executor.strategy_position(fill.strategy, fill.symbol);
                    self.exits.on_fill(&fill, position);
                    for a in allocations.drain(..) {
                        self.risk.on_round_trip(a.net_pnl, fill.ts);
                        self.record(Entry::Allocation(&a))?;
                    }
                    self.allocations = allocations;
                    let k = fill.strategy.0 as usize;
                    self.call_strategy(k, |s, ctx| s.on_fill(&fill, ctx));
                }
            }
        }
        self.flush_orders()?;
        Ok(())
    }

    fn record_equity(&mut self) -> Result<(), JournalError> {
        if self.bars == 0 {
            return Ok(());
        }
        let market = &self.market;
        let equity = self.ledger.equity(|s| market.mark(s));
        let cash = self.ledger.cash();
        let point = EquityPoint {
            ts: self.clock.now(),
            cash,
            positions_value: equity - cash,
            equity,
            realized_pnl: self.ledger.realized(),
        };
        self.record(Entry::Equity(&point))
    }

    /// `[skipped rows, rows outside the session, quoteless rows]` come from the source.
    fn finish(self, counts: [u64; 3]) -> (RunOutcome, J) {
        let [skipped_rows, bars_outside_session, quoteless_rows] = counts;
        let market = &self.market;
        let final_equity = self.ledger.equity(|s| market.mark(s));
        let open_positions = self
            .ledger
            .open_symbols()
            .filter_map(|s| {
                let mark = self.market.mark(s)?;
                Some(OpenPosition {
                    symbol: s,
                    qty: self.ledger.position(s),
                    avg_price: self.ledger.avg_price(s)?,
                    mark,
                    unrealized_pnl: self.ledger.unrealized(s, mark),
                })
            })
            .collect();
        let outcome = RunOutcome {
            run_id: self.settings.run_id.clone(),
            strategies: self.names,
            bars: self.bars,
            first_ts: self.first_ts,
            last_ts: self.last_ts,
            skipped_rows,
            bars_outside_session,
            quoteless_rows,
            orders: self.executor.created(),
            fills: self.fills,
            open_positions,
            initial_cash: self.ledger.initial_cash(),
            final_cash: self.ledger.cash(),
            final_equity,
            fees: self.ledger.fees(),
            realized_pnl: self.ledger.realized(),
            open_lot_fees: self.ledger.open_fees(),
            symbols: self.symbols,
        };
        (outcome, self.journal)
    }
}
