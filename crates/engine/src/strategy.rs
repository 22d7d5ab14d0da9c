//! The strategy API: callbacks plus a read-only view of the book and a way to ask for orders.

use crate::executor::Executor;
use crate::ledger::Ledger;
use crate::market::MarketState;
use crate::options::chain::{select_atm, select_by_delta, AtmRequest, DeltaRequest};
use crate::options::instruments::Instruments;
use lockstep_core::{
    Bar, ExitReason, Fill, OrderIntent, OrderKind, Price, Qty, Side, Signal, StrategyId, SymbolId,
    SymbolTable, TimeInForce, UnixNanos,
};

/// A trading strategy. It never touches the ledger or the venue: it reads through
/// [`Context`] and submits intents, which the risk engine checks before anything happens.
pub trait Strategy {
    /// Called once before the first event.
    fn on_start(&mut self, _ctx: &mut Context<'_>) {}
    /// Called for every delivered bar (at its close time), after venue matching.
    fn on_bar(&mut self, bar: &Bar, ctx: &mut Context<'_>);
    /// The replay fast path ([`crate::Engine::run`]'s quiet runs): `bars` come one after
    /// another with nothing else able to happen between them (no order working for their
    /// symbols, no exit rule, no timer, the same session). Returns how many leading bars
    /// `k` it absorbed, leaving the strategy exactly as `k` calls of [`Strategy::on_bar`]
    /// would have, where none of those calls would have asked for anything or read its
    /// context; bar `k` (if any) then goes to `on_bar`. The default absorbs none.
    fn absorb_quiet_bars(&mut self, _bars: &[Bar]) -> usize {
        0
    }
    /// Called for each external signal at its time; `symbol` is its ticker's id.
    fn on_signal(&mut self, _signal: &Signal, _symbol: SymbolId, _ctx: &mut Context<'_>) {}
    /// Called for each fill of this strategy's orders.
    fn on_fill(&mut self, _fill: &Fill, _ctx: &mut Context<'_>) {}
    /// Called once after the last event.
    fn on_end(&mut self, _ctx: &mut Context<'_>) {}
}

/// A strategy with the name it reports under.
pub type NamedStrategy = (String, Box<dyn Strategy>);

/// What a strategy may see and do during a callback.
pub struct Context<'a> {
    pub(crate) now: UnixNanos,
    pub(crate) id: StrategyId,
    pub(crate) ledger: &'a Ledger,
    pub(crate) market: &'a MarketState,
    pub(crate) executor: &'a Executor,
    pub(crate) symbols: &'a SymbolTable,
    pub(crate) instruments: &'a Instruments,
    pub(crate) intents: &'a mut Vec<OrderIntent>,
}

impl Context<'_> {
    /// Current engine time.
    pub fn now(&self) -> UnixNanos {
        self.now
    }

    /// This strategy's id.
    pub fn strategy_id(&self) -> StrategyId {
        self.id
    }

    /// This strategy's filled position in `symbol`.
    pub fn position(&self, symbol: SymbolId) -> Qty {
        self.executor.strategy_position(self.id, symbol)
    }

    /// This strategy's working (unfilled) signed quantity in `symbol`.
    pub fn working(&self, symbol: SymbolId) -> Qty {
        self.executor.working_qty(self.id, symbol)
    }

    /// The whole book's position in `symbol` (all strategies).
    pub fn book_position(&self, symbol: SymbolId) -> Qty {
        self.ledger.position(symbol)
    }

    /// Latest close of `symbol`.
    pub fn mark(&self, symbol: SymbolId) -> Option<Price> {
        self.market.mark(symbol)
    }

    /// The latest bar of `symbol` (a quote bar carries bid and ask).
    pub fn last_bar(&self, symbol: SymbolId) -> Option<&Bar> {
        self.market.last_bar(symbol)
    }

    /// Cash in the book.
    pub fn cash(&self) -> Price {
        self.ledger.cash()
    }

    /// The option contract `req` describes (ATM, by expiry rule, among recently traded or
    /// quoted contracts), so a strategy never builds OCC strings itself.
    pub fn select_atm(&self, req: &AtmRequest<'_>) -> Option<SymbolId> {
        select_atm(req, self.now, self.instruments, self.market, self.symbols)
    }

    /// The option contract `req` describes by delta (volatility implied from each quoted
    /// contract's mid), so a strategy never builds OCC strings itself.
    pub fn select_by_delta(&self, req: &DeltaRequest<'_>) -> Option<SymbolId> {
        select_by_delta(req, self.now, self.instruments, self.market, self.symbols)
    }

    /// The text of `symbol`.
    pub fn symbol_name(&self, symbol: SymbolId) -> &str {
        self.symbols.name(symbol)
    }

    /// Asks for a market day order. It goes to the risk engine after the callback returns.
    pub fn submit(
        &mut self,
        symbol: SymbolId,
        side: Side,
        qty: Qty,
        exit_reason: Option<ExitReason>,
    ) {
        self.intents
            .push(OrderIntent::market(self.id, symbol, side, qty, exit_reason));
    }

    /// Asks for an order of any kind and time in force (limit, stop, stop-limit; day or
    /// gtc). The risk engine refuses levels that make no sense (`invalid_price`).
    pub fn submit_order(
        &mut self,
        symbol: SymbolId,
        side: Side,
        qty: Qty,
        kind: OrderKind,
        tif: TimeInForce,
    ) {
        self.intents.push(OrderIntent {
            kind,
            tif,
            ..OrderIntent::market(self.id, symbol, side, qty, None)
        });
    }

    /// Asks for whatever order moves this strategy's position (filled + working) to `target`.
    pub fn target_position(
        &mut self,
        symbol: SymbolId,
        target: Qty,
        exit_reason: Option<ExitReason>,
    ) {
        let have = self.position(symbol) + self.working(symbol);
        let delta = target - have;
        if delta > Qty::ZERO {
            self.submit(symbol, Side::Buy, delta, exit_reason);
        } else if delta < Qty::ZERO {
            self.submit(symbol, Side::Sell, -delta, exit_reason);
        }
    }
}
