//! The loop's EOD steps, driven by the guard's timers (see [`crate::exits::eod_guard`]).
//!
//! At `flatten_at`: record `eod_ran_at`; withdraw the working entries of every strategy
//! (for `hold` strategies only their `day` entries: a `gtc` entry was asked to outlive the
//! session) and every working order of `flatten` strategies except the engine's own exits;
//! refuse entries until the close; close each `flatten` position with reason `eod`. Until
//! the close, a refused close is asked again on every bar. Options expiring in the session
//! are closed like `flatten` positions whoever holds them (unless `flatten_expiring` is
//! off). At the close: whatever must be flat is filled at the last price (`stale_price`);
//! options expiring that day (or earlier) that are still open settle in cash at intrinsic
//! value against their underlying's last price, reason `expiry`; a `flatten` position left
//! after that is an engine error. Day orders expire.

use super::{Engine, EngineError, Pending, Route};
use crate::clock::Clock;
use crate::exits::eod_guard::EodGuard;
use crate::journal::{Alert, Entry, Journal};
use crate::risk::EngineExit;
use crate::venue::Venue;
use lockstep_core::{ExitReason, Order, OrderIntent, Side, StrategyId, SymbolId, TimeInForce};
use lockstep_core::{Qty, UnixNanos};

impl<V: Venue, C: Clock, J: Journal> Engine<V, C, J> {
    fn flattens(&self, strategy: StrategyId) -> bool {
        self.eod
            .as_ref()
            .is_some_and(|g: &EodGuard| g.flattens_strategy(strategy))
    }

    /// Whether `strategy`'s position in `symbol` must be flat at this session's close: its
    /// policy is `flatten`, or the symbol is an option expiring this session.
    fn must_flatten(&self, strategy: StrategyId, symbol: SymbolId) -> bool {
        let expiring = self.eod.as_ref().is_some_and(EodGuard::flattens_expiring)
            && self
                .eod_session
                .is_some_and(|d| self.instruments.expires_on(symbol, d));
        expiring || self.flattens(strategy)
    }

    /// Withdraws the orders `which` selects, at the executor and at the venue.
    pub(super) fn cancel_orders(
        &mut self,
        which: impl Fn(&Order) -> bool,
    ) -> Result<(), EngineError> {
        let now = self.clock.now();
        let at_once = self.venue.cancels_at_once();
        for order in self.executor.cancel_where(now, at_once, which)? {
            self.venue.cancel(&order);
            if at_once {
                self.risk.on_unfilled(order.id);
            }
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
        self.cancel_orders(|o| o.strategy == strategy && o.symbol == symbol && !o.is_engine_exit())
    }

    /// The guard's flatten step for `session`, whose close is `close`.
    pub(super) fn eod_flatten(
        &mut self,
        session: chrono::NaiveDate,
        close: UnixNanos,
    ) -> Result<(), EngineError> {
        let now = self.clock.now();
        self.eod_session = Some(session);
        self.record(Entry::Eod(session, now))?;
        let flatten: Vec<bool> = (0..self.strategies.len())
            .map(|k| self.flattens(StrategyId(k as u32)))
            .collect();
        self.cancel_orders(|o| {
            let flattened = flatten.get(o.strategy.0 as usize).copied().unwrap_or(false);
            if flattened {
                !o.is_engine_exit()
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
        self.close_positions(ExitReason::Eod, Self::must_flatten)
    }

    /// Asks to close every open position of every strategy at market with `reason` (the
    /// operator's flatten).
    pub(super) fn close_all(&mut self, reason: ExitReason) -> Result<(), EngineError> {
        self.close_positions(reason, |_, _, _| true)
    }

    /// Asks to close at market with `reason` each position `which` selects that no engine
    /// exit is closing yet, after withdrawing its other working orders.
    fn close_positions(
        &mut self,
        reason: ExitReason,
        which: impl Fn(&Self, StrategyId, SymbolId) -> bool,
    ) -> Result<(), EngineError> {
        for (strategy, symbol, qty) in self.executor.strategy_positions() {
            if !which(self, strategy, symbol) || self.executor.closing(strategy, symbol) {
                continue;
            }
            self.clear_for_exit(strategy, symbol)?;
            let side = if qty.is_sign_positive() {
                Side::Sell
            } else {
                Side::Buy
            };
            self.pending
                .push(Pending::Engine(EngineExit::new(OrderIntent::market(
                    strategy,
                    symbol,
                    side,
                    qty.abs(),
                    Some(reason),
                ))));
        }
        Ok(())
    }

    /// The session's close: force the `flatten` closes, expire day orders, and fail the run
    /// if a `flatten` position is still open. A venue with no simulator cannot be forced:
    /// the closes go to it at market and each position still open is an alert.
    pub(super) fn session_close(&mut self, session: chrono::NaiveDate) -> Result<(), EngineError> {
        let now = self.clock.now();
        self.eod_closing = false;
        self.eod_session = Some(session);
        self.eod_close_positions()?;
        if self.venue.simulator().is_none() {
            return self.escalate_close(session);
        }
        for pending in std::mem::take(&mut self.pending) {
            self.route(pending, Route::Hold)?;
        }
        let forced = self
            .executor
            .live_where(|o| o.is_engine_exit() && self.must_flatten(o.strategy, o.symbol));
        if let Some(sim) = self.venue.simulator() {
            for order in forced {
                sim.fill_at_close(&order, now, &self.market, &mut self.reports);
            }
        }
        self.handle_reports()?;
        self.settle_expired(session)?;
        if let Some(sim) = self.venue.simulator() {
            sim.end_session(now, &mut self.reports);
        }
        self.handle_reports()?;
        let left = self
            .executor
            .strategy_positions()
            .into_iter()
            .find(|(strategy, symbol, _)| self.must_flatten(*strategy, *symbol));
        if let Some((_, symbol, _)) = left {
            return Err(EngineError::OpenAcrossClose {
                symbol: self.symbols.name(symbol).to_string(),
                session,
            });
        }
        Ok(())
    }

    /// The close on a venue with no simulator (live): the EOD closes still pending go at
    /// market, and every position that must be flat but is not yet raises an alert; there
    /// is no made-up price. Expiring options are left to the broker's settlement.
    fn escalate_close(&mut self, session: chrono::NaiveDate) -> Result<(), EngineError> {
        self.process_intents()?;
        let now = self.clock.now();
        for (strategy, symbol, qty) in self.executor.strategy_positions() {
            if !self.must_flatten(strategy, symbol) {
                continue;
            }
            let expiring = self.instruments.expired_by(symbol, session);
            let detail = if expiring {
                format!("{qty} still open at its expiry close; left to the broker's settlement")
            } else {
                format!("{qty} still open at the session close; its EOD close works at market")
            };
            let alert = Alert {
                ts: now,
                symbol: Some(symbol),
                detail,
            };
            self.record(Entry::Alert(&alert))?;
        }
        Ok(())
    }

    /// Settles every open option expiring on `session` or earlier: cash at intrinsic value
    /// against the underlying's last price (worthless out of the money), reason `expiry`.
    fn settle_expired(&mut self, session: chrono::NaiveDate) -> Result<(), EngineError> {
        for (strategy, symbol, qty) in self.executor.strategy_positions() {
            let Some(contract) = self.instruments.option(symbol) else {
                continue;
            };
            if !self.instruments.expired_by(symbol, session) {
                continue;
            }
            let underlying = contract.underlying.clone();
            // The underlying's price must come from this session, never an older close.
            let opened = lockstep_core::Calendar::Nyse
                .session(session)
                .map_or(UnixNanos(i64::MAX), |s| s.open);
            let Some(spot) = self
                .symbols
                .get(&underlying)
                .and_then(|u| self.market.last_bar(u))
                .filter(|b| b.end > opened)
                .map(|b| b.close_price())
            else {
                return Err(EngineError::NoUnderlyingPrice {
                    option: self.symbols.name(symbol).to_string(),
                    underlying,
                    session,
                });
            };
            let price = contract.intrinsic(spot);
            self.clear_for_exit(strategy, symbol)?;
            let side = if qty > Qty::ZERO {
                Side::Sell
            } else {
                Side::Buy
            };
            let intent =
                OrderIntent::market(strategy, symbol, side, qty.abs(), Some(ExitReason::Expiry));
            self.route(
                Pending::Engine(EngineExit::new(intent)),
                Route::Settle(price),
            )?;
        }
        // Orders left on expired contracts (a holder's gtc entry) die with them.
        let instruments = &self.instruments;
        let dead: Vec<SymbolId> = self
            .executor
            .live_where(|o| instruments.expired_by(o.symbol, session))
            .iter()
            .map(|o| o.symbol)
            .collect();
        self.cancel_orders(|o| dead.contains(&o.symbol))?;
        Ok(())
    }
}
