//! The executor (OMS): turns approved intents into orders, drives the order state machine
//! from venue reports and produces fills. It is the only component that creates orders.

use crate::qty_book::{PairQty, SymbolQty};
use crate::risk::ApprovedIntent;
use crate::venue::VenueReport;
use lockstep_core::order::IllegalTransition;
use lockstep_core::{
    ClientOrderId, ExitReason, Fill, FillId, Order, OrderId, OrderStatus, Origin, Qty, Side,
    StrategyId, SymbolId, UnixNanos,
};
use std::collections::{btree_map, BTreeMap};

/// A report the executor could not apply: a bug in the engine or the venue adapter.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ExecError {
    /// The state machine refused a move.
    #[error(transparent)]
    Illegal(#[from] IllegalTransition),
    /// A report for an order the executor never created.
    #[error("venue report for unknown order {0}")]
    UnknownOrder(u64),
    /// A fill larger than what is left of the order.
    #[error("order {order}: fill of {qty} exceeds remaining {remaining}")]
    Overfill {
        /// Order.
        order: u64,
        /// Filled quantity reported.
        qty: Qty,
        /// What was left.
        remaining: Qty,
    },
}

/// An illegal order transition is a bug: it panics in debug builds (tests catch it at the
/// source) and stops the run with an error in release builds.
fn illegal(e: IllegalTransition) -> ExecError {
    if cfg!(debug_assertions) {
        panic!("{e}");
    }
    ExecError::Illegal(e)
}

/// What applying one venue report produced.
#[derive(Debug, Clone, PartialEq)]
pub enum ReportEffect {
    /// Only a state change.
    None,
    /// A fill to book.
    Fill(Fill),
    /// The venue refused the order.
    Rejected(Order, String),
    /// The venue took the working order off its book unfilled, for the given code.
    Withdrawn(Order, lockstep_core::RejectCode, String),
    /// The venue confirmed the order off its book unfilled; `asked` when the engine had
    /// asked for the cancel (otherwise the venue cancelled it by itself).
    Cancelled {
        /// The order, now cancelled.
        order: Order,
        /// Whether the engine asked for it.
        asked: bool,
    },
}

/// Owns every live order of the run. Orders that reach a terminal state move to a
/// `finished` buffer the loop drains into the journal, so memory holds live orders only.
#[derive(Debug, Clone)]
pub struct Executor {
    run_id: String,
    live: BTreeMap<OrderId, Order>,
    finished: Vec<Order>,
    created: u64,
    next_fill: u64,
    positions: PairQty,
    working: PairQty,
    /// `working` summed over strategies, per symbol: a risk check reads it for every entry,
    /// and summing `working` there cost a walk over every (strategy, symbol) pair.
    book_working: SymbolQty,
}

fn signed(side: Side, q: Qty) -> Qty {
    match side {
        Side::Buy => q,
        Side::Sell => -q,
    }
}

impl Executor {
    /// An executor whose client order ids are `<run_id>-<n>`.
    pub fn new(run_id: &str) -> Self {
        Executor {
            run_id: run_id.to_string(),
            live: BTreeMap::new(),
            finished: Vec::new(),
            created: 0,
            next_fill: 1,
            positions: PairQty::default(),
            working: PairQty::default(),
            book_working: SymbolQty::default(),
        }
    }

    /// Creates an order (state `New`) from a risk-approved intent. An order that reduces its
    /// strategy's position (filled plus working) carries the intent's exit reason, or
    /// `signal` when it gave none.
    pub fn create(&mut self, approved: ApprovedIntent, now: UnixNanos) -> &Order {
        let it = approved.intent();
        self.created += 1;
        let id = OrderId(self.created);
        // Judged like the risk engine judges it: the strategy's position as it will be once
        // its working orders fill, so a sell queued behind a pending exit is labelled by
        // what it does.
        let pos = self.strategy_position(it.strategy, it.symbol)
            + self.working_qty(it.strategy, it.symbol);
        let reduces =
            (it.side == Side::Sell && pos > Qty::ZERO) || (it.side == Side::Buy && pos < Qty::ZERO);
        // An exit reason labels a close; an order that opens or adds carries none, whatever
        // a strategy wrote on it.
        let exit_reason = match it.exit_reason {
            Some(r) if reduces || approved.origin() == Origin::Engine => Some(r),
            None if reduces => Some(ExitReason::Signal),
            _ => None,
        };
        // `<run id>-<order id>`, without the formatting machinery (one per order).
        let mut client = String::with_capacity(self.run_id.len() + 21);
        client.push_str(&self.run_id);
        client.push('-');
        client.push_str(itoa::Buffer::new().format(id.0));
        let order = Order::new(
            id,
            ClientOrderId(client),
            it,
            now,
            exit_reason,
            approved.origin(),
        );
        self.add_working((it.strategy, it.symbol), signed(it.side, it.qty));
        self.live.entry(id).or_insert(order)
    }

    fn order_mut(&mut self, id: OrderId) -> Result<&mut Order, ExecError> {
        self.live.get_mut(&id).ok_or(ExecError::UnknownOrder(id.0))
    }

    fn retire_if_done(&mut self, id: OrderId) {
        if let btree_map::Entry::Occupied(o) = self.live.entry(id) {
            if o.get().status().is_terminal() {
                self.finished.push(o.remove());
            }
        }
    }

    /// Applies a venue report to its order and returns what it produced.
    pub fn on_report(&mut self, report: &VenueReport) -> Result<ReportEffect, ExecError> {
        match report {
            VenueReport::Accepted { order_id, ts } => {
                let o = self.order_mut(*order_id)?;
                // An acknowledgement that crossed our cancel changes nothing.
                if o.status() != OrderStatus::PendingCancel {
                    o.transition(OrderStatus::Accepted, *ts).map_err(illegal)?;
                }
                Ok(ReportEffect::None)
            }
            VenueReport::Cancelled { order_id, ts } => {
                let o = self.order_mut(*order_id)?;
                let asked = o.status() == OrderStatus::PendingCancel;
                if o.status() == OrderStatus::New {
                    o.transition(OrderStatus::Accepted, *ts).map_err(illegal)?;
                }
                o.transition(OrderStatus::Cancelled, *ts).map_err(illegal)?;
                let o = o.clone();
                self.add_working((o.strategy, o.symbol), -signed(o.side, o.remaining()));
                self.retire_if_done(*order_id);
                Ok(ReportEffect::Cancelled { order: o, asked })
            }
            VenueReport::Expired { order_id, ts } => {
                let o = self.order_mut(*order_id)?;
                o.transition(OrderStatus::Expired, *ts).map_err(illegal)?;
                let (key, left) = ((o.strategy, o.symbol), signed(o.side, o.remaining()));
                self.add_working(key, -left);
                self.retire_if_done(*order_id);
                Ok(ReportEffect::None)
            }
            VenueReport::Withdrawn {
                order_id,
                ts,
                code,
                detail,
            } => {
                let o = self.order_mut(*order_id)?;
                o.transition(OrderStatus::Cancelled, *ts).map_err(illegal)?;
                let o = o.clone();
                self.add_working((o.strategy, o.symbol), -signed(o.side, o.remaining()));
                self.retire_if_done(*order_id);
                Ok(ReportEffect::Withdrawn(o, *code, detail.clone()))
            }
            VenueReport::Rejected {
                order_id,
                ts,
                reason,
            } => {
                let o = self.order_mut(*order_id)?;
                o.transition(OrderStatus::Rejected, *ts).map_err(illegal)?;
                let o = o.clone();
                self.add_working((o.strategy, o.symbol), -signed(o.side, o.qty));
                self.retire_if_done(*order_id);
                Ok(ReportEffect::Rejected(o, reason.clone()))
            }
            VenueReport::Fill {
                order_id,
                ts,
                qty,
                price,
                fee,
                liquidity,
                stale_price,
            } => {
                let fill_id = FillId(self.next_fill);
                let o = self.order_mut(*order_id)?;
                if *qty > o.remaining() || *qty <= Qty::ZERO {
                    return Err(ExecError::Overfill {
                        order: order_id.0,
                        qty: *qty,
                        remaining: o.remaining(),
                    });
                }
                let next = if *qty == o.remaining() {
                    OrderStatus::Filled
                } else if o.status() == OrderStatus::PendingCancel {
                    OrderStatus::PendingCancel
                } else {
                    OrderStatus::PartiallyFilled
                };
                o.transition(next, *ts).map_err(illegal)?;
                o.filled_qty += *qty;
                o.filled_notional += *qty * *price;
                let fill = Fill {
                    fill_id,
                    order_id: o.id,
                    client_order_id: o.client_order_id.clone(),
                    strategy: o.strategy,
                    ts: *ts,
                    symbol: o.symbol,
                    side: o.side,
                    qty: *qty,
                    price: *price,
                    fee: *fee,
                    liquidity: *liquidity,
                    exit_reason: o.exit_reason,
                    stale_price: *stale_price,
                };
                self.next_fill += 1;
                let key = (fill.strategy, fill.symbol);
                let s = signed(fill.side, fill.qty);
                self.add_working(key, -s);
                self.positions.add(key.0, key.1, s);
                self.retire_if_done(*order_id);
                Ok(ReportEffect::Fill(fill))
            }
        }
    }

    /// Expires every working order (end of data). Returns how many.
    pub fn expire_all(&mut self, now: UnixNanos) -> Result<usize, ExecError> {
        let live = std::mem::take(&mut self.live);
        let n = live.len();
        for (_, mut o) in live {
            if o.status() == OrderStatus::New {
                o.transition(OrderStatus::Accepted, now).map_err(illegal)?;
            }
            o.transition(OrderStatus::Expired, now).map_err(illegal)?;
            self.add_working((o.strategy, o.symbol), -signed(o.side, o.remaining()));
            self.finished.push(o);
        }
        Ok(n)
    }

    /// Net filled position of `strategy` in `symbol`.
    pub fn strategy_position(&self, strategy: StrategyId, symbol: SymbolId) -> Qty {
        self.positions.get(strategy, symbol)
    }

    /// Signed quantity of `strategy`'s working orders in `symbol`.
    pub fn working_qty(&self, strategy: StrategyId, symbol: SymbolId) -> Qty {
        self.working.get(strategy, symbol)
    }

    /// Orders that reached a terminal state since the last call, in the order they did. The
    /// buffer keeps its room for the next ones: an order ending costs no allocation.
    pub fn drain_finished(&mut self) -> std::vec::Drain<'_, Order> {
        self.finished.drain(..)
    }

    /// Cancels every live order for which `which` is true and returns them, so the venue
    /// can withdraw them too. With `at_once` (a simulator) they are cancelled now; otherwise
    /// they become `PendingCancel` and stay live (still counted as working, since they may
    /// fill) until the venue confirms. Orders already pending cancel are left alone.
    pub fn cancel_where(
        &mut self,
        now: UnixNanos,
        at_once: bool,
        which: impl Fn(&Order) -> bool,
    ) -> Result<Vec<Order>, ExecError> {
        let ids: Vec<OrderId> = self
            .live
            .values()
            .filter(|o| o.status() != OrderStatus::PendingCancel && which(o))
            .map(|o| o.id)
            .collect();
        let mut cancelled = Vec::with_capacity(ids.len());
        for id in &ids {
            if !at_once {
                let o = self.order_mut(*id)?;
                o.transition(OrderStatus::PendingCancel, now)
                    .map_err(illegal)?;
                cancelled.push(o.clone());
                continue;
            }
            if let Some(mut o) = self.live.remove(id) {
                if o.status() == OrderStatus::New {
                    o.transition(OrderStatus::Accepted, now).map_err(illegal)?;
                }
                o.transition(OrderStatus::Cancelled, now).map_err(illegal)?;
                self.add_working((o.strategy, o.symbol), -signed(o.side, o.remaining()));
                cancelled.push(o.clone());
                self.finished.push(o);
            }
        }
        Ok(cancelled)
    }

    /// Live orders for which `which` is true, in id order.
    pub fn live_where(&self, which: impl Fn(&Order) -> bool) -> Vec<Order> {
        self.live.values().filter(|o| which(o)).cloned().collect()
    }

    /// Whether `strategy` has a live order in `symbol` that the engine's exit machinery
    /// sent (origin `Engine`): such a position is already being closed.
    pub fn closing(&self, strategy: StrategyId, symbol: SymbolId) -> bool {
        self.live
            .values()
            .any(|o| o.strategy == strategy && o.symbol == symbol && o.is_engine_exit())
    }

    /// Every strategy's non-zero filled position, in (strategy, symbol) order.
    pub fn strategy_positions(&self) -> Vec<(StrategyId, SymbolId, Qty)> {
        self.positions.non_zero().collect()
    }

    /// Signed quantity of every strategy's working orders in `symbol`.
    pub fn book_working_qty(&self, symbol: SymbolId) -> Qty {
        self.book_working.get(symbol)
    }

    /// Changes the signed working quantity of `key` (and of its symbol's book) by `delta`.
    fn add_working(&mut self, key: (StrategyId, SymbolId), delta: Qty) {
        self.working.add(key.0, key.1, delta);
        self.book_working.add(key.1, delta);
    }

    /// Symbols with working orders that would change a position.
    pub fn working_symbols(&self) -> std::collections::BTreeSet<SymbolId> {
        self.working.non_zero().map(|(_, s, _)| s).collect()
    }

    /// Orders created so far.
    pub fn created(&self) -> u64 {
        self.created
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::Ledger;
    use crate::market::MarketState;
    use crate::risk::RiskEngine;
    use lockstep_core::{Bar, Liquidity, OrderIntent, Scale};

    fn setup() -> (Executor, Ledger, OrderId) {
        let market = two_symbols();
        let ledger = Ledger::new(Qty::ZERO);
        let intent =
            OrderIntent::market(StrategyId(0), SymbolId(0), Side::Buy, Qty::from(10), None);
        let approved = RiskEngine::default()
            .check(intent, UnixNanos(1), &market, &ledger, &Executor::new("t"))
            .expect("approved");
        let mut ex = Executor::new("t");
        let id = ex.create(approved, UnixNanos(1)).id;
        (ex, ledger, id)
    }

    /// A market with a bar for symbols 0 and 1.
    fn two_symbols() -> MarketState {
        let mut market = MarketState::default();
        for s in 0..2 {
            market.update(&Bar {
                ts: UnixNanos(0),
                end: UnixNanos(1),
                symbol: SymbolId(s),
                scale: Scale::EQUITY,
                open: 10_000,
                high: 10_000,
                low: 10_000,
                close: 10_000,
                volume: 0.0,
                quote: None,
            });
        }
        market
    }

    /// The book's working quantity per symbol sums every strategy's, and follows fills and
    /// the end of data.
    #[test]
    fn book_working_quantity_sums_strategies_per_symbol() {
        let market = two_symbols();
        let ledger = Ledger::new(Qty::ZERO);
        let mut ex = Executor::new("t");
        let mut ids = Vec::new();
        for (strategy, symbol, side, qty) in [
            (0, 0, Side::Buy, 10),
            (1, 0, Side::Sell, 4),
            (1, 1, Side::Buy, 7),
        ] {
            let intent = OrderIntent::market(
                StrategyId(strategy),
                SymbolId(symbol),
                side,
                Qty::from(qty),
                None,
            );
            let approved = RiskEngine::default()
                .check(intent, UnixNanos(1), &market, &ledger, &Executor::new("t"))
                .expect("approved");
            ids.push(ex.create(approved, UnixNanos(1)).id);
        }
        let book = |ex: &Executor, s: u32| ex.book_working_qty(SymbolId(s));
        assert_eq!((book(&ex, 0), book(&ex, 1)), (Qty::from(6), Qty::from(7)));
        let accepted = VenueReport::Accepted {
            order_id: ids[1],
            ts: UnixNanos(1),
        };
        ex.on_report(&accepted).expect("accepted");
        ex.on_report(&fill(ids[1], 4)).expect("fill");
        assert_eq!(book(&ex, 0), Qty::from(10), "the sell filled");
        assert_eq!(ex.expire_all(UnixNanos(3)).expect("expire"), 2);
        assert_eq!((book(&ex, 0), book(&ex, 1)), (Qty::ZERO, Qty::ZERO));
    }

    fn fill(order_id: OrderId, qty: i64) -> VenueReport {
        VenueReport::Fill {
            order_id,
            ts: UnixNanos(2),
            qty: Qty::from(qty),
            price: Qty::ONE,
            fee: Qty::ZERO,
            liquidity: Liquidity::Taker,
            stale_price: false,
        }
    }

    #[test]
    fn partial_fills_then_retires_and_refuses_bad_reports() {
        let (mut ex, _ledger, id) = setup();
        assert_eq!(ex.working_qty(StrategyId(0), SymbolId(0)), Qty::from(10));
        ex.on_report(&VenueReport::Accepted {
            order_id: id,
            ts: UnixNanos(1),
        })
        .unwrap();
        assert!(matches!(
            ex.on_report(&fill(id, 11)),
            Err(ExecError::Overfill { .. })
        ));
        assert!(matches!(
            ex.on_report(&fill(id, 4)),
            Ok(ReportEffect::Fill(_))
        ));
        assert!(
            ex.drain_finished().as_slice().is_empty(),
            "a partially filled order stays live"
        );
        assert!(
            matches!(ex.on_report(&fill(id, 6)), Ok(ReportEffect::Fill(f)) if f.fill_id == FillId(2))
        );
        let done = ex.drain_finished().collect::<Vec<_>>();
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].status(), OrderStatus::Filled);
        assert_eq!(done[0].client_order_id.0, "t-1");
        assert_eq!(
            ex.strategy_position(StrategyId(0), SymbolId(0)),
            Qty::from(10)
        );
        assert_eq!(ex.working_qty(StrategyId(0), SymbolId(0)), Qty::ZERO);
        assert!(matches!(
            ex.on_report(&fill(id, 1)),
            Err(ExecError::UnknownOrder(1))
        ));
    }

    #[test]
    fn end_of_data_expires_working_orders() {
        let (mut ex, _ledger, id) = setup();
        ex.on_report(&VenueReport::Accepted {
            order_id: id,
            ts: UnixNanos(1),
        })
        .unwrap();
        assert_eq!(ex.expire_all(UnixNanos(9)).unwrap(), 1);
        let done = ex.drain_finished().collect::<Vec<_>>();
        assert_eq!(done[0].status(), OrderStatus::Expired);
        assert_eq!(ex.working_qty(StrategyId(0), SymbolId(0)), Qty::ZERO);
    }
}
