//! Push-style driving: a driver that owns the clock (paper and live, or a journal replay)
//! feeds the loop one input at a time. Inputs are handled in the same `(ts, class, seq)`
//! order the replay loop uses: queued timers and reports due before an input run first.

use super::{Engine, EngineError};
use crate::clock::Clock;
use crate::exits::eod_guard::GuardStep;
use crate::journal::{Journal, RunOutcome};
use crate::venue::{Venue, VenueReport};
use lockstep_core::{Bar, UnixNanos};

/// What an operator may ask of a running loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Withdraw every working entry (orders that are not closes); positions and their
    /// exits stay as they are. Sent when a session is stopped by hand.
    CancelEntries,
    /// The broker cannot confirm orders yet (its update stream is down, or a session is
    /// not reconciled with it): refuse entries (`venue_down`) until it can.
    PauseEntries,
    /// The broker can confirm orders again: entries may go out.
    ResumeEntries,
    /// The operator's kill switch: withdraw every working entry and refuse entries
    /// (`kill_switch`) until [`Command::Lift`]; positions and their exits stay.
    Kill,
    /// As [`Command::Kill`], and close every open position at market, reason `manual`.
    KillFlatten,
    /// Lift the operator's kill switch: entries may go out again.
    Lift,
    /// The broker answered a request with an error (5xx, timeout, refusal): counts toward
    /// `risk.venue_breaker`.
    BrokerError,
    /// Our clock is more than the allowed skew away from the broker's: refuse entries
    /// (`clock_skew`) until [`Command::ClockAgrees`].
    ClockSkewed,
    /// Our clock agrees with the broker's again.
    ClockAgrees,
}

/// One input, stamped with the time it happens on the driver's clock.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// A bar, delivered at or after its close (`bar.end`); it is handled at its close.
    Bar(Bar),
    /// A report from a venue that answers asynchronously (a broker's order update).
    Report(UnixNanos, VenueReport),
    /// The clock reached this time: timers due by then fire.
    Tick(UnixNanos),
    /// An operator command at this time.
    Command(UnixNanos, Command),
    /// An external signal (a webhook), stamped with when it was received (or, when it
    /// waited for the session to open, the open). It is queued in the `Signal` class and
    /// handled once the clock passes its time, as a recorded signal is in replay.
    Signal(Box<lockstep_core::Signal>),
}

impl Input {
    /// When the input happens.
    pub fn ts(&self) -> UnixNanos {
        match self {
            Input::Bar(b) => b.end,
            Input::Report(t, _) | Input::Tick(t) | Input::Command(t, _) => *t,
            Input::Signal(s) => s.ts,
        }
    }
}

impl<V: Venue, C: Clock, J: Journal> Engine<V, C, J> {
    /// Starts a pushed run: strategies' `on_start`. Call once before the first [`Self::push`].
    pub fn begin(&mut self) -> Result<(), EngineError> {
        self.start()
    }

    /// Handles one input: first whatever was queued before it (timers, reports), then the
    /// input itself, then what it made due. The EOD guard schedules the session the clock
    /// stands in from the calendar, so its timers fire even if no bar ever arrives.
    pub fn push(&mut self, input: Input) -> Result<(), EngineError> {
        match input {
            Input::Bar(bar) => {
                self.fire_queued(Some(bar.end), false)?;
                self.step(&bar)
            }
            Input::Report(at, report) => {
                self.arrive(at)?;
                self.reports.push(report);
                self.handle_reports()?;
                self.process_intents()
            }
            Input::Tick(at) => {
                self.arrive(at)?;
                self.fire_queued(Some(at), true)
            }
            Input::Signal(signal) => {
                self.enqueue_signal(*signal);
                Ok(())
            }
            Input::Command(at, Command::CancelEntries) => {
                self.arrive(at)?;
                self.cancel_orders(|o| o.exit_reason.is_none() && !o.is_engine_exit())?;
                self.process_intents()
            }
            Input::Command(at, Command::PauseEntries) => {
                self.arrive(at)?;
                let why = "the broker cannot confirm orders (update stream down or not reconciled); entries wait";
                self.risk.set_venue_down(Some(why.into()));
                Ok(())
            }
            Input::Command(at, Command::ResumeEntries) => {
                self.arrive(at)?;
                self.risk.set_venue_down(None);
                Ok(())
            }
            Input::Command(at, c @ (Command::Kill | Command::KillFlatten)) => {
                self.arrive(at)?;
                self.risk
                    .set_killed(Some("the operator's kill switch is on".into()));
                self.cancel_orders(|o| o.exit_reason.is_none() && !o.is_engine_exit())?;
                if c == Command::KillFlatten {
                    self.close_all(lockstep_core::ExitReason::Manual)?;
                }
                self.process_intents()
            }
            Input::Command(at, Command::Lift) => {
                self.arrive(at)?;
                self.risk.set_killed(None);
                Ok(())
            }
            Input::Command(at, Command::BrokerError) => {
                self.arrive(at)?;
                self.risk.on_venue_error(at);
                Ok(())
            }
            Input::Command(at, Command::ClockSkewed) => {
                self.arrive(at)?;
                let why = "our clock and the broker's disagree by more than the allowed skew";
                self.risk.set_clock_skew(Some(why.into()));
                Ok(())
            }
            Input::Command(at, Command::ClockAgrees) => {
                self.arrive(at)?;
                self.risk.set_clock_skew(None);
                Ok(())
            }
        }
    }

    /// How many orders the executor has created (the last order number).
    pub fn orders_created(&self) -> u64 {
        self.executor.created()
    }

    /// The orders still working (not filled, cancelled, expired or rejected), in id order.
    pub fn working_orders(&self) -> Vec<lockstep_core::Order> {
        self.executor.live_where(|_| true)
    }

    /// The book's open positions (symbol name, signed quantity), in symbol-name order.
    pub fn open_positions(&self) -> std::collections::BTreeMap<String, lockstep_core::Qty> {
        self.ledger
            .open_symbols()
            .map(|s| (self.symbols.name(s).to_string(), self.ledger.position(s)))
            .filter(|(_, q)| !q.is_zero())
            .collect()
    }

    /// Whether the operator's kill switch is on.
    pub fn killed(&self) -> bool {
        self.risk.killed()
    }

    /// Until when the venue breaker blocks entries, if it is tripped now.
    pub fn breaker_until(&self) -> Option<UnixNanos> {
        self.risk.breaker_until(self.clock.now())
    }

    /// The id of the instrument `name` (interned on first use), for a driver building bars.
    pub fn symbol(&mut self, name: &str) -> lockstep_core::SymbolId {
        self.symbols.intern(name)
    }

    /// The engine's symbol table.
    pub fn symbols(&self) -> &lockstep_core::SymbolTable {
        &self.symbols
    }

    /// The earliest queued timer or report, if any: when the driver must tick next.
    pub fn next_due(&self) -> Option<UnixNanos> {
        self.queue.peek_key().map(|k| k.ts)
    }

    /// Ends a pushed run: strategies' `on_end`, working orders expire, the last equity row.
    pub fn conclude(mut self, skipped_rows: u64) -> Result<(RunOutcome, J), EngineError> {
        self.end()?;
        Ok(self.finish([skipped_rows, 0, 0]))
    }

    /// Moves the clock to `at` after firing what was due before it, and schedules the
    /// session `at` falls in.
    fn arrive(&mut self, at: UnixNanos) -> Result<(), EngineError> {
        self.fire_queued(Some(at), false)?;
        self.clock.advance_to(at);
        if let Some(guard) = self.eod.as_mut() {
            if let GuardStep::Schedule(t) = guard.on_clock(at) {
                self.schedule(t);
            }
        }
        Ok(())
    }
}
