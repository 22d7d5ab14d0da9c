//! The fake's whole mutable state, behind one mutex: orders, cash, positions (from fills
//! only), the trade-stream listener, the data-socket slots, faults and counters.

use super::bars::BarStore;
use super::faults::FaultBook;
use super::ids;
use super::FakeStats;
use crate::wire::{Order, StreamMessage, TimeInForce, TradeEvent, TradeUpdate};
use lockstep_core::{Calendar, SessionLookup, UnixNanos};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use tokio::sync::mpsc;

/// What the state hands to the trade-stream socket task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outbound {
    /// Send these bytes as a binary frame.
    Binary(Vec<u8>),
    /// Close the socket.
    Close,
}

/// The one trade-updates connection.
#[derive(Debug)]
pub(crate) struct TradeConn {
    /// Connection number.
    pub id: u64,
    /// Frames to send.
    pub tx: mpsc::UnboundedSender<Outbound>,
    /// Authorized and listening to `trade_updates`.
    pub listening: bool,
}

/// How an order works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Fills at the open of the first bar opening at or after submission.
    Market,
    /// Fills when a bar trades through the limit.
    Limit(Decimal),
    /// Fills when a bar touches the stop.
    Stop(Decimal),
    /// Becomes a limit once a bar touches the stop.
    StopLimit {
        /// Trigger.
        stop: Decimal,
        /// Limit after the trigger.
        limit: Decimal,
    },
}

/// One order as the fake works it.
#[derive(Debug, Clone)]
pub(crate) struct OrderRec {
    /// The wire view, kept current.
    pub order: Order,
    /// The file's symbol.
    pub symbol: String,
    /// Buy (true) or sell.
    pub buy: bool,
    /// Type and prices.
    pub kind: Kind,
    /// Time in force.
    pub tif: TimeInForce,
    /// Ordered quantity.
    pub qty: Decimal,
    /// Submission time.
    pub submitted: UnixNanos,
    /// When it goes from `accepted` to `new` (submission, or the next session open).
    pub active_from: UnixNanos,
    /// Session close at which a day (or ioc/fok/opg/cls) order expires.
    pub expires: Option<UnixNanos>,
    /// Position in the symbol's bar list of the next bar to look at.
    pub cursor: usize,
    /// A stop-limit whose stop was touched.
    pub triggered: bool,
    /// Buying power held while open.
    pub reserve: Decimal,
}

impl OrderRec {
    /// Not yet terminal.
    pub fn is_open(&self) -> bool {
        !self.order.status.is_terminal()
    }

    /// Quantity still to fill.
    pub fn remaining(&self) -> Decimal {
        self.qty - self.order.filled_qty
    }
}

/// A position built from fills: signed quantity and average entry price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pos {
    /// Signed quantity (never zero: a flat position is removed).
    pub qty: Decimal,
    /// Average entry price.
    pub avg: Decimal,
}

/// Everything the fake knows.
#[derive(Debug)]
pub(crate) struct State {
    /// The market.
    pub bars: Arc<BarStore>,
    /// Every order, in submission order.
    pub orders: Vec<OrderRec>,
    /// Indices of the orders not yet terminal.
    pub open: BTreeSet<usize>,
    /// Order index by server id.
    pub by_id: BTreeMap<String, usize>,
    /// Order index by client order id (kept forever).
    pub by_client: BTreeMap<String, usize>,
    /// Cash.
    pub cash: Decimal,
    /// See [`super::FakeConfig::market_open_grace`].
    pub market_open_grace: i64,
    /// Open positions by symbol.
    pub positions: BTreeMap<String, Pos>,
    /// Last fill price and time by symbol.
    pub fill_marks: BTreeMap<String, (UnixNanos, Decimal)>,
    /// Equity at the last session close passed.
    pub last_equity: Decimal,
    /// The next session close at which `last_equity` is taken.
    pub next_snapshot: Option<UnixNanos>,
    /// Id counters: orders, executions, generated client ids, connections.
    pub counters: [u64; 4],
    /// The trade-updates connection.
    pub trade: Option<TradeConn>,
    /// Market-data socket slots by endpoint path.
    pub data_slots: BTreeMap<String, u64>,
    /// Every execution as a `FILL` account activity, oldest first.
    pub activities: Vec<crate::wire::FillActivity>,
    /// Counters for tests.
    pub stats: FakeStats,
    /// Pending faults.
    pub faults: FaultBook,
    /// The time everything has been advanced to.
    pub now: UnixNanos,
    /// Account id.
    pub account_id: String,
    /// Account creation time (the clock at start).
    pub created: UnixNanos,
}

/// Index into [`State::counters`].
pub(crate) const C_ORDER: usize = 0;
/// Execution ids.
pub(crate) const C_EXEC: usize = 1;
/// Generated client order ids.
pub(crate) const C_CLIENT: usize = 2;
/// Socket connections.
pub(crate) const C_CONN: usize = 3;

/// The first session close strictly after `t`.
pub(crate) fn next_close_after(t: UnixNanos) -> Option<UnixNanos> {
    let (date, session) = SessionLookup::new(Calendar::Nyse).day_of(t);
    match session {
        Some(s) if t < s.close => Some(s.close),
        _ => Calendar::Nyse.next_session(date).map(|s| s.close),
    }
}

impl State {
    /// A fresh account with `cash` at clock time `now`.
    pub fn new(bars: Arc<BarStore>, cash: Decimal, now: UnixNanos) -> State {
        State {
            bars,
            orders: Vec::new(),
            open: BTreeSet::new(),
            by_id: BTreeMap::new(),
            by_client: BTreeMap::new(),
            cash,
            market_open_grace: super::rest_orders::MARKET_OPEN_GRACE,
            positions: BTreeMap::new(),
            fill_marks: BTreeMap::new(),
            last_equity: cash,
            next_snapshot: next_close_after(now),
            counters: [0; 4],
            trade: None,
            data_slots: BTreeMap::new(),
            activities: Vec::new(),
            stats: FakeStats::default(),
            faults: FaultBook::default(),
            now,
            account_id: ids::uuid_like(ids::ACCOUNT, 1),
            created: now,
        }
    }

    /// The next number of counter `c` (starting at 1).
    pub fn next(&mut self, c: usize) -> u64 {
        self.counters[c] += 1;
        self.counters[c]
    }

    /// The price of `symbol` at `t`: the later of its last fill and its last delivered close.
    pub fn mark(&self, symbol: &str, t: UnixNanos) -> Option<Decimal> {
        let bar = self
            .bars
            .last_delivered(symbol, t)
            .map(|b| (b.end, b.close));
        let fill = self
            .fill_marks
            .get(symbol)
            .copied()
            .filter(|(ft, _)| *ft <= t);
        match (bar, fill) {
            (Some(b), Some(f)) => Some(if f.0 >= b.0 { f.1 } else { b.1 }),
            (Some(b), None) => Some(b.1),
            (None, Some(f)) => Some(f.1),
            (None, None) => None,
        }
    }

    /// A price to hold buying power against for a market order: the mark, else the first
    /// open of the symbol.
    pub fn estimate(&self, symbol: &str, t: UnixNanos) -> Decimal {
        self.mark(symbol, t)
            .or_else(|| {
                self.bars
                    .of(symbol)
                    .first()
                    .map(|&i| self.bars.bars[i].open)
            })
            .unwrap_or_default()
    }

    /// Long and short market values at `t` (short is negative).
    pub fn market_values(&self, t: UnixNanos) -> (Decimal, Decimal) {
        let mut long = Decimal::ZERO;
        let mut short = Decimal::ZERO;
        for (sym, p) in &self.positions {
            let v = p.qty * self.mark(sym, t).unwrap_or(p.avg);
            if v >= Decimal::ZERO {
                long += v;
            } else {
                short += v;
            }
        }
        (long, short)
    }

    /// cash + long + short market value at `t`.
    pub fn equity_at(&self, t: UnixNanos) -> Decimal {
        let (l, s) = self.market_values(t);
        self.cash + l + s
    }

    /// Buying power (1x): equity less gross exposure less what open orders hold.
    pub fn buying_power(&self) -> Decimal {
        let (l, s) = self.market_values(self.now);
        let held: Decimal = self
            .orders
            .iter()
            .filter(|o| o.is_open())
            .map(|o| o.reserve)
            .sum();
        let equity = self.cash + l + s;
        let gross = l - s;
        (equity - gross - held).max(Decimal::ZERO)
    }

    /// Signed position quantity of `symbol` (zero when flat).
    pub fn position_qty(&self, symbol: &str) -> Decimal {
        self.positions.get(symbol).map_or(Decimal::ZERO, |p| p.qty)
    }

    /// Remaining quantity of open orders on `symbol` on one side.
    pub fn held(&self, symbol: &str, buy: bool) -> Decimal {
        self.orders
            .iter()
            .filter(|o| o.is_open() && o.symbol == symbol && o.buy == buy)
            .map(OrderRec::remaining)
            .sum()
    }

    /// Books a fill of `qty` at `price` into cash and the position; returns the position after.
    pub fn book_fill(
        &mut self,
        symbol: &str,
        buy: bool,
        qty: Decimal,
        price: Decimal,
        t: UnixNanos,
    ) -> Decimal {
        let signed = if buy { qty } else { -qty };
        self.cash -= signed * price;
        let old = self.positions.get(symbol).copied();
        let new_qty = old.map_or(Decimal::ZERO, |p| p.qty) + signed;
        let avg = match old {
            None => price,
            Some(p) if p.qty.is_sign_positive() == signed.is_sign_positive() => {
                ((p.qty * p.avg + signed * price) / new_qty).round_dp(12)
            }
            Some(p)
                if new_qty.is_zero() || new_qty.is_sign_positive() == p.qty.is_sign_positive() =>
            {
                p.avg
            }
            Some(_) => price,
        };
        if new_qty.is_zero() {
            self.positions.remove(symbol);
        } else {
            self.positions.insert(
                symbol.to_string(),
                Pos {
                    qty: new_qty,
                    avg: avg.normalize(),
                },
            );
        }
        self.fill_marks.insert(symbol.to_string(), (t, price));
        new_qty
    }

    /// Sends an order event to the listening trade-updates socket (lost if none listens).
    pub fn emit(
        &mut self,
        idx: usize,
        event: TradeEvent,
        t: UnixNanos,
        fill: Option<(String, Decimal, Decimal, Decimal)>,
    ) {
        let is_fill = fill.is_some();
        let (execution_id, price, qty, position_qty) = match fill {
            Some((e, p, q, pos)) => (Some(e), Some(p), Some(q), Some(pos)),
            None => (None, None, None, None),
        };
        let Some(order) = self.orders.get(idx).map(|o| o.order.clone()) else {
            return;
        };
        let msg = StreamMessage::TradeUpdate(Box::new(TradeUpdate {
            event,
            execution_id,
            timestamp: Some(t),
            price,
            qty,
            position_qty,
            order,
        }));
        let bytes = crate::wire::stream_message_json(&msg);
        let copies = if is_fill && self.faults.duplicate_events {
            2
        } else {
            1
        };
        for _ in 0..copies {
            self.send_trade(Outbound::Binary(bytes.clone()));
        }
    }

    /// Sends to the listening trade socket, forgetting it if its task is gone.
    pub fn send_trade(&mut self, out: Outbound) -> bool {
        let Some(conn) = self.trade.as_ref().filter(|c| c.listening) else {
            return false;
        };
        if conn.tx.send(out).is_err() {
            self.trade = None;
            return false;
        }
        true
    }

    /// Serves pending socket faults: a one-shot drop of the trade socket and malformed
    /// frames for a listening trade socket.
    pub fn service_faults(&mut self) {
        let listening = self.trade.as_ref().is_some_and(|c| c.listening);
        if !listening {
            return;
        }
        while let Some(text) = self.faults.malformed_trade.pop_front() {
            if self.send_trade(Outbound::Binary(text.into_bytes())) {
                self.stats.malformed_frames_sent += 1;
            }
        }
        let due = self
            .faults
            .drop_trade_at
            .first()
            .is_some_and(|t| *t <= self.now);
        if due {
            self.faults.drop_trade_at.pop_first();
            self.faults.drop_trade_stream += 1;
        }
        if FaultBook::take(&mut self.faults.drop_trade_stream) {
            self.send_trade(Outbound::Close);
            self.trade = None;
            self.stats.trade_stream_drops += 1;
        }
    }
}
