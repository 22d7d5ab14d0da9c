//! Time moves the fake: `advance(now)` applies, in time order, everything due by `now`:
//! routing accepted orders at the open, fills against served bars, IOC/OPG/CLS remainders,
//! day expiries at the close, and the session-close equity snapshot.
//!
//! Fill rules (bar by bar, full quantity; partials only with `Fault::SplitFills`):
//! - market: the open of the bar in progress if it opened at most 5 s before submission, else
//!   of the first bar opening at or after submission, stamped with that bar's open time;
//! - limit: a bar that trades through the limit (buy: low < limit) fills at the limit, or at
//!   the open if the bar opened beyond it; at the bar's end;
//! - stop: a bar that touches the stop (buy: high >= stop) fills at the stop, or the open on a
//!   gap; at the bar's end. A stop-limit fills at that price if it is within the limit, else
//!   rests as a limit from the next bar on;
//! - opg: the open of the first bar; cls: the close of the session's last bar; a limit that
//!   is not marketable there is canceled, as is an ioc/fok limit its first bar does not fill.

use super::bars::StoredBar;
use super::ids;
use super::state::{next_close_after, Kind, State, C_EXEC};
use crate::wire::{FillActivity, OrderSide, OrderStatus, TimeInForce, TradeEvent};
use lockstep_core::UnixNanos;
use rust_decimal::Decimal;
use std::sync::Arc;

/// What happens to an order (or the account) at a due time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Route,
    Fill(Decimal),
    Cancel,
    Expire,
    Snapshot,
}

/// Priority among events at the same instant: route, fill/cancel, expire, snapshot.
const P_ROUTE: u8 = 0;
const P_FILL: u8 = 1;
const P_EXPIRE: u8 = 2;
const P_SNAPSHOT: u8 = 3;

fn limit_fill(buy: bool, limit: Decimal, b: &StoredBar) -> Option<Decimal> {
    if buy {
        (b.low < limit).then(|| b.open.min(limit))
    } else {
        (b.high > limit).then(|| b.open.max(limit))
    }
}

fn stop_fill(buy: bool, stop: Decimal, b: &StoredBar) -> Option<Decimal> {
    if buy {
        (b.high >= stop).then(|| b.open.max(stop))
    } else {
        (b.low <= stop).then(|| b.open.min(stop))
    }
}

fn within(buy: bool, price: Decimal, limit: Decimal) -> bool {
    if buy {
        price <= limit
    } else {
        price >= limit
    }
}

/// The fill on bar `b` (if any) and whether a stop-limit is triggered after it.
fn evaluate(kind: Kind, buy: bool, triggered: bool, b: &StoredBar) -> (bool, Option<Decimal>) {
    match kind {
        Kind::Market => (triggered, Some(b.open)),
        Kind::Limit(l) => (triggered, limit_fill(buy, l, b)),
        Kind::Stop(s) => (triggered, stop_fill(buy, s, b)),
        Kind::StopLimit { stop, limit } => {
            if triggered {
                return (true, limit_fill(buy, limit, b));
            }
            match stop_fill(buy, stop, b) {
                None => (false, None),
                Some(p) => (true, within(buy, p, limit).then_some(p)),
            }
        }
    }
}

fn auction_limit(kind: Kind) -> Option<Decimal> {
    match kind {
        Kind::Limit(l) => Some(l),
        _ => None,
    }
}

impl State {
    /// Applies everything due at or before `now`, in time order.
    pub fn advance(&mut self, now: UnixNanos) {
        let now = now.max(self.now);
        self.now = now;
        loop {
            let mut best: Option<(UnixNanos, u8, usize, Action)> = None;
            let open: Vec<usize> = self.open.iter().copied().collect();
            for idx in open {
                if let Some((t, p, a)) = self.due(idx, now) {
                    if best.is_none_or(|b| (t, p, idx) < (b.0, b.1, b.2)) {
                        best = Some((t, p, idx, a));
                    }
                }
            }
            if let Some(c) = self.next_snapshot.filter(|c| *c <= now) {
                if best.is_none_or(|b| (c, P_SNAPSHOT) < (b.0, b.1)) {
                    best = Some((c, P_SNAPSHOT, usize::MAX, Action::Snapshot));
                }
            }
            let Some((t, _, idx, action)) = best else {
                break;
            };
            self.apply(idx, action, t);
        }
    }

    /// The earliest thing due for order `idx` by `now`.
    fn due(&mut self, idx: usize, now: UnixNanos) -> Option<(UnixNanos, u8, Action)> {
        let o = self.orders.get(idx)?;
        if o.order.status == OrderStatus::Accepted {
            return (o.active_from <= now).then_some((o.active_from, P_ROUTE, Action::Route));
        }
        let expiry = o
            .expires
            .filter(|e| *e <= now)
            .map(|e| (e, P_EXPIRE, Action::Expire));
        let fill = self.match_due(idx, now);
        match (fill, expiry) {
            (Some(f), Some(e)) => Some(if (f.0, f.1) <= (e.0, e.1) { f } else { e }),
            (f, e) => f.or(e),
        }
    }

    /// The next fill or cancel of order `idx` from served bars, moving its cursor past bars
    /// that cannot fill it.
    fn match_due(&mut self, idx: usize, now: UnixNanos) -> Option<(UnixNanos, u8, Action)> {
        let bars = Arc::clone(&self.bars);
        let o = self.orders.get_mut(idx)?;
        let list = bars.of(&o.symbol);
        let past = |t: UnixNanos, e: Option<UnixNanos>| e.is_some_and(|e| t > e);
        loop {
            let b = &bars.bars[*list.get(o.cursor)?];
            match (&o.tif, o.kind) {
                (TimeInForce::Opg, kind) => {
                    if b.ts > now || past(b.ts, o.expires) {
                        return None;
                    }
                    let ok = auction_limit(kind).is_none_or(|l| within(o.buy, b.open, l));
                    let a = if ok {
                        Action::Fill(b.open)
                    } else {
                        Action::Cancel
                    };
                    return Some((b.ts, P_FILL, a));
                }
                (TimeInForce::Cls, kind) => {
                    if b.end > now || past(b.end, o.expires) {
                        return None;
                    }
                    if !b.last_of_session {
                        o.cursor += 1;
                        continue;
                    }
                    let ok = auction_limit(kind).is_none_or(|l| within(o.buy, b.close, l));
                    let a = if ok {
                        Action::Fill(b.close)
                    } else {
                        Action::Cancel
                    };
                    return Some((b.end, P_FILL, a));
                }
                (_, Kind::Market) => {
                    let late = o.expires.is_some_and(|e| b.ts >= e);
                    return (b.ts <= now && !late).then_some((b.ts, P_FILL, Action::Fill(b.open)));
                }
                (tif, kind) => {
                    if b.end > now || past(b.end, o.expires) {
                        return None;
                    }
                    let (triggered, fill) = evaluate(kind, o.buy, o.triggered, b);
                    if let Some(p) = fill {
                        return Some((b.end, P_FILL, Action::Fill(p)));
                    }
                    if matches!(tif, TimeInForce::Ioc | TimeInForce::Fok) {
                        return Some((b.end, P_FILL, Action::Cancel));
                    }
                    o.triggered = triggered;
                    o.cursor += 1;
                }
            }
        }
    }

    fn apply(&mut self, idx: usize, action: Action, t: UnixNanos) {
        match action {
            Action::Snapshot => {
                self.last_equity = self.equity_at(t);
                self.next_snapshot = next_close_after(t);
            }
            Action::Route => {
                if let Some(o) = self.orders.get_mut(idx) {
                    o.order.status = OrderStatus::New;
                    o.order.updated_at = Some(t);
                }
                self.emit(idx, TradeEvent::New, t, None);
            }
            Action::Fill(price) => self.fill(idx, price, t),
            Action::Cancel => self.finish(idx, OrderStatus::Canceled, t),
            Action::Expire => self.finish(idx, OrderStatus::Expired, t),
        }
    }

    /// Fills the whole remainder of order `idx` at `price`. With [`super::Fault::SplitFills`]
    /// a remainder of more than one share executes in two parts at `t`: half (rounded
    /// down) at `price`, then the rest one cent worse (higher for a buy).
    fn fill(&mut self, idx: usize, price: Decimal, t: UnixNanos) {
        let Some((q, buy)) = self.orders.get(idx).map(|o| (o.remaining(), o.buy)) else {
            return;
        };
        if self.faults.split_fills && q > Decimal::ONE {
            let first = (q / Decimal::TWO).floor();
            let cent = Decimal::new(1, 2);
            self.execute(idx, first, price, t);
            self.execute(
                idx,
                q - first,
                if buy { price + cent } else { price - cent },
                t,
            );
        } else {
            self.execute(idx, q, price, t);
        }
    }

    /// Executes `q` of order `idx` at `price`: its event (`partial_fill` or `fill`), the
    /// position, the cash and a `FILL` activity.
    fn execute(&mut self, idx: usize, q: Decimal, price: Decimal, t: UnixNanos) {
        let Some(o) = self.orders.get_mut(idx) else {
            return;
        };
        let before = o.order.filled_qty;
        let total = before + q;
        let avg = match o.order.filled_avg_price {
            Some(a) if !before.is_zero() => ((a * before + price * q) / total).round_dp(12),
            _ => price,
        };
        let done = total >= o.qty;
        o.order.filled_qty = total;
        o.order.filled_avg_price = Some(avg.normalize());
        o.order.updated_at = Some(t);
        if done {
            o.order.filled_at = Some(t);
            o.order.status = OrderStatus::Filled;
        } else {
            o.order.status = OrderStatus::PartiallyFilled;
        }
        let (symbol, buy, leaves) = (o.symbol.clone(), o.buy, o.qty - total);
        let (order_id, status) = (o.order.id.clone(), o.order.status.clone());
        if done {
            self.open.remove(&idx);
        }
        let pos = self.book_fill(&symbol, buy, q, price, t);
        self.stats.fills += 1;
        let n = self.next(C_EXEC);
        let exec = ids::uuid_like(ids::EXECUTION, n);
        self.activities.push(FillActivity {
            id: format!("{}::{exec}", t.to_datetime().format("%Y%m%d%H%M%S%3f")),
            activity_type: "FILL".into(),
            transaction_time: t,
            fill_type: if done { "fill" } else { "partial_fill" }.into(),
            price,
            qty: q,
            side: if buy { OrderSide::Buy } else { OrderSide::Sell },
            symbol: symbol.clone(),
            leaves_qty: leaves,
            cum_qty: total,
            order_id,
            order_status: status.as_str().to_string(),
        });
        let event = if done {
            TradeEvent::Fill
        } else {
            TradeEvent::PartialFill
        };
        self.emit(idx, event, t, Some((exec, price, q, pos)));
    }

    /// Ends order `idx` as canceled, expired or rejected at `t`, with its event.
    pub fn finish(&mut self, idx: usize, status: OrderStatus, t: UnixNanos) {
        let Some(o) = self.orders.get_mut(idx) else {
            return;
        };
        let event = match status {
            OrderStatus::Canceled => {
                o.order.canceled_at = Some(t);
                TradeEvent::Canceled
            }
            OrderStatus::Expired => {
                o.order.expired_at = Some(t);
                TradeEvent::Expired
            }
            _ => {
                o.order.failed_at = Some(t);
                TradeEvent::Rejected
            }
        };
        o.order.status = status;
        o.order.updated_at = Some(t);
        self.open.remove(&idx);
        self.emit(idx, event, t, None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(o: i64, h: i64, l: i64, c: i64) -> StoredBar {
        StoredBar {
            symbol: "X".into(),
            ts: UnixNanos(0),
            end: UnixNanos(60),
            open: Decimal::from(o),
            high: Decimal::from(h),
            low: Decimal::from(l),
            close: Decimal::from(c),
            volume: Decimal::ZERO,
            last_of_session: false,
        }
    }

    #[test]
    fn limits_trade_through_and_stops_touch() {
        let b = bar(100, 105, 95, 101);
        let d = Decimal::from;
        assert_eq!(limit_fill(true, d(96), &b), Some(d(96)));
        assert_eq!(
            limit_fill(true, d(95), &b),
            None,
            "touching is not trading through"
        );
        assert_eq!(limit_fill(true, d(102), &b), Some(d(100)), "gap: the open");
        assert_eq!(limit_fill(false, d(104), &b), Some(d(104)));
        assert_eq!(stop_fill(true, d(105), &b), Some(d(105)));
        assert_eq!(stop_fill(true, d(99), &b), Some(d(100)), "gap: the open");
        assert_eq!(stop_fill(false, d(95), &b), Some(d(95)));
        let sl = Kind::StopLimit {
            stop: d(104),
            limit: d(103),
        };
        assert_eq!(
            evaluate(sl, true, false, &b),
            (true, None),
            "triggered beyond the limit"
        );
        assert_eq!(evaluate(sl, true, true, &b), (true, Some(d(100))));
    }
}
