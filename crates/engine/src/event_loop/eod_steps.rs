//! The loop's EOD steps, driven by the guard's timers (see [`crate::eod_guard`]).
//!
//! At `flatten_at`: record `eod_ran_at`; withdraw the working entries of every strategy
//! (for `hold` strategies only their `day` entries: a `gtc` entry was asked to outlive the
//! session) and every working order of `flatten` strategies except the engine's own exits;
//! refuse entries until the close; close each `flatten` position with reason `eod`. Until
//! the close, a refused close is asked again on every bar. At the close: whatever a
//! `flatten` strategy still holds is filled at the last price (`stale_price`); a position
//! left after that is an engine error. Day orders expire.

use super::{Engine, EngineError};
use crate::clock::Clock;
use crate::eod_guard::EodGuard;
use crate::journal::{Entry, Journal};
use crate::venue::Venue;
use lockstep_core::UnixNanos;
use lockstep_core::{ExitReason, Order, OrderIntent, Side, StrategyId, SymbolId, TimeInForce};

impl<V: Venue, C: Clock, J: Journal> Engine<V, C, J> {
    fn flattens(&self, strategy: StrategyId) -> bool {
        self.eod
            .as_ref()
            .is_some_and(|g: &EodGuard| g.flattens_strategy(strategy))
    }

    /// Withdraws the orders `which` selects, at the executor and at the venue.
    pub(super) fn cancel_orders(
        &mut self,
        which: impl Fn(&Order) -> bool,
    ) -> Result<(), EngineError> {
        let now = self.clock.now();
        for order in self.executor.cancel_where(now, which)? {
            self.venue.cancel(&order);
        }
        self.flush_orders()?;
        Ok(())
    }

    /// Withdraws every working order of `strategy` in `symbol` except the engine's own
    /// exits, before an engine exit closes the position.
    pub(super) fn clear_for_exit(
        &mut self,
        strategy: StrategyId,
        symbol: SymbolId,
    ) -> Result<(), EngineError> {
        self.cancel_orders(|o| {
            o.strategy == strategy
                && o.symbol == symbol
                && !o.exit_reason.is_some_and(ExitReason::is_managed)
        })
    }

    /// The guard's flatten step for `session`, whose close is `close`.
    pub(super) fn eod_flatten(
        &mut self,
        session: chrono::NaiveDate,
        close: UnixNanos,
    ) -> Result<(), EngineError> {
        let now = self.clock.now();
        self.record(Entry::Eod(session, now))?;
        let flatten: Vec<bool> = (0..self.strategies.len())
            .map(|k| self.flattens(StrategyId(k as u32)))
            .collect();
        self.cancel_orders(|o| {
            let flattened = flatten.get(o.strategy.0 as usize).copied().unwrap_or(false);
            if flattened {
                !o.exit_reason.is_some_and(ExitReason::is_managed)
            } else {
                o.exit_reason.is_none() && o.tif == TimeInForce::Day
            }
        })?;
        self.risk.close_entries_until(close);
        self.eod_closing = true;
        self.eod_close_positions()
    }

    /// Asks to close (reason `eod`, sized by the filled position) every position of a
    /// `flatten` strategy that no engine exit is closing yet.
    pub(super) fn eod_close_positions(&mut self) -> Result<(), EngineError> {
        for (strategy, symbol, qty) in self.executor.strategy_positions() {
            if !self.flattens(strategy) || self.executor.closing(strategy, symbol) {
                continue;
            }
            self.clear_for_exit(strategy, symbol)?;
            let side = if qty.is_sign_positive() {
                Side::Sell
            } else {
                Side::Buy
            };
            self.intents.push(OrderIntent::market(
                strategy,
                symbol,
                side,
                qty.abs(),
                Some(ExitReason::Eod),
            ));
        }
        Ok(())
    }

    /// The session's close: force the `flatten` closes, expire day orders, and fail the run
    /// if a `flatten` position is still open.
    pub(super) fn session_close(&mut self, session: chrono::NaiveDate) -> Result<(), EngineError> {
        let now = self.clock.now();
        self.eod_closing = false;
        self.eod_close_positions()?;
        for intent in std::mem::take(&mut self.intents) {
            match self
                .risk
                .check(intent, now, &self.market, &self.ledger, &self.executor)
            {
                Err(rej) => self.record(Entry::Rejection(&rej))?,
                Ok(approved) => {
                    self.executor.create(approved, now);
                }
            }
        }
        let forced = self.executor.live_where(|o| {
            o.exit_reason.is_some_and(ExitReason::is_managed) && self.flattens(o.strategy)
        });
        for order in forced {
            self.venue
                .fill_at_close(&order, now, &self.market, &mut self.reports);
        }
        self.venue.end_session(now, &mut self.reports);
        self.handle_reports()?;
        let left = self
            .executor
            .strategy_positions()
            .into_iter()
            .find(|(strategy, _, _)| self.flattens(*strategy));
        if let Some((_, symbol, _)) = left {
            return Err(EngineError::OpenAcrossClose {
                symbol: self.symbols.name(symbol).to_string(),
                session,
            });
        }
        Ok(())
    }
}
