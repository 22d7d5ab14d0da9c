//! Intents to orders: strategy callbacks, the risk engine's verdict, the executor's order,
//! the venue's answer, and what each venue report does to the book.

use super::{Engine, EngineError, Pending, Route};
use crate::clock::Clock;
use crate::executor::ReportEffect;
use crate::journal::{Entry, Journal, Names, Rejection};
use crate::strategy::{Context, Strategy};
use crate::venue::{Venue, VenueReport};
use lockstep_core::{RejectCode, StrategyId};

impl<V: Venue, C: Clock, J: Journal> Engine<V, C, J> {
    pub(super) fn call_strategy(
        &mut self,
        k: usize,
        f: impl FnOnce(&mut dyn Strategy, &mut Context<'_>),
    ) {
        let mut ctx = Context {
            now: self.clock.now(),
            id: StrategyId(k as u32),
            ledger: &self.ledger,
            market: &self.market,
            executor: &self.executor,
            symbols: &self.symbols,
            instruments: &self.instruments,
            intents: &mut self.asked,
        };
        f(self.strategies[k].as_mut(), &mut ctx);
        if !self.asked.is_empty() {
            self.pending
                .extend(self.asked.drain(..).map(Pending::Strategy));
        }
    }

    /// Judges and routes everything pending, in the order it was asked for, until nothing
    /// is left (a fill's callback may ask for more).
    pub(super) fn process_intents(&mut self) -> Result<(), EngineError> {
        while !self.pending.is_empty() {
            let mut batch = std::mem::take(&mut self.pending);
            for pending in batch.drain(..) {
                let intent = match pending {
                    Pending::Engine(exit) => {
                        self.route(Pending::Engine(exit), Route::Work)?;
                        continue;
                    }
                    Pending::Strategy(intent) => intent,
                };
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
                if let Some((code, detail)) = self.exits.held_signal_exit(&intent, &self.market) {
                    let rej = Rejection::of(&intent, self.clock.now(), code, detail);
                    self.record(Entry::Rejection(&rej))?;
                    continue;
                }
                self.route(Pending::Strategy(intent), Route::Work)?;
            }
            // Nothing new asked: the emptied buffer keeps its room for the next intents.
            if self.pending.is_empty() {
                self.pending = batch;
            }
        }
        Ok(())
    }

    /// Risk check (a strategy's intent is judged; an engine exit is approved as a close),
    /// then an order, then what `how` says the venue does with it. A venue with no
    /// simulator gets a crossed level as a market order, and settlements and held closes
    /// are left to it.
    pub(super) fn route(&mut self, pending: Pending, how: Route) -> Result<(), EngineError> {
        let now = self.clock.now();
        let simulated = self.venue.simulator().is_some();
        let (pending, how) = match (pending, how) {
            (Pending::Engine(exit), Route::FillAt(..)) if !simulated => {
                (Pending::Engine(exit.at_market()), Route::Work)
            }
            other => other,
        };
        let verdict = match pending {
            Pending::Strategy(intent) => {
                self.risk
                    .check(intent, now, &self.market, &self.ledger, &self.executor)
            }
            Pending::Engine(exit) => self.risk.approve_exit(exit, now, &self.market),
        };
        let approved = match verdict {
            Err(rej) => return Ok(self.record(Entry::Rejection(&rej))?),
            Ok(approved) => approved,
        };
        let reserved = approved.reserved();
        // Borrowed field by field: the order stays in the executor (no copy per order).
        let order = self.executor.create(approved, now);
        if let Some(r) = reserved {
            self.risk.track(order.id, r);
        }
        if how != Route::Hold {
            let names = Names {
                symbols: &self.symbols,
                strategies: &self.names,
            };
            self.journal.record(Entry::Submitted(order), &names)?;
        }
        let out = &mut self.reports;
        match (how, self.venue.simulator()) {
            (Route::Hold, _) => {}
            (Route::FillAt(price, liquidity), Some(sim)) => {
                sim.fill_triggered(order, price, liquidity, now, &self.market, out)
            }
            (Route::Settle(price), Some(sim)) => sim.settle(order, price, now, out),
            (Route::Work | Route::FillAt(..) | Route::Settle(_), _) => {
                self.venue.submit(order, now, &self.market, out)
            }
        }
        self.handle_reports()?;
        Ok(())
    }

    pub(super) fn handle_reports(&mut self) -> Result<(), EngineError> {
        let mut reports = std::mem::take(&mut self.reports);
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
                ReportEffect::Cancelled { order, asked } => {
                    self.risk.on_unfilled(order.id);
                    if !asked {
                        // The venue dropped an engine exit by itself: ask again next bar.
                        self.exits.on_rejected(&order);
                    }
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
                    if !allocations.is_empty() {
                        self.risk.on_exit_fill(fill.symbol, fill.ts);
                    }
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
        // The emptied buffer keeps its room for the next reports, unless new ones came.
        reports.clear();
        if self.reports.is_empty() {
            self.reports = reports;
        }
        self.flush_orders()?;
        Ok(())
    }
}
