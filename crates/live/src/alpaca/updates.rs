//! From Alpaca's `trade_updates` events to venue reports, exactly once each: an order is
//! acknowledged once (before its first fill, even if `new` arrives late or never), fills
//! are deduplicated by execution id and sized from the order's cumulative filled quantity,
//! and nothing follows a terminal event.

use crate::wire::{FillActivity, OrderType, TradeEvent, TradeUpdate};
use lockstep_core::{Liquidity, OrderId, UnixNanos};
use lockstep_engine::VenueReport;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};

/// The engine order id inside our client order id `<run_id>-<n>`; `None` for an id that is
/// not this run's (an order someone else placed).
pub fn engine_order_id(client_order_id: &str, run_id: &str) -> Option<OrderId> {
    let n = client_order_id.strip_prefix(run_id)?.strip_prefix('-')?;
    n.parse::<u64>().ok().map(OrderId)
}

/// Per-order memory of what was already reported.
#[derive(Debug, Default, Clone)]
pub struct Translator {
    accepted: BTreeSet<OrderId>,
    done: BTreeSet<OrderId>,
    executions: BTreeSet<String>,
    filled: BTreeMap<OrderId, Decimal>,
    notional: BTreeMap<OrderId, Decimal>,
}

/// What the journal says of an order still working when a session restarts.
#[derive(Debug, Clone, PartialEq)]
pub struct KnownOrder {
    /// Engine order id.
    pub id: OrderId,
    /// Whether its acknowledgement was booked.
    pub accepted: bool,
    /// Quantity booked filled.
    pub filled: Decimal,
    /// Sum of price x qty booked.
    pub notional: Decimal,
}

impl Translator {
    /// A translator that knows what a restarted session already booked: orders `1..=last`
    /// not in `working` are finished (nothing more is reported for them), and each working
    /// order's acknowledgement and fills so far are not reported again.
    pub fn resumed(last: u64, working: &[KnownOrder]) -> Self {
        let mut t = Translator::default();
        let open: BTreeSet<OrderId> = working.iter().map(|k| k.id).collect();
        t.done = (1..=last)
            .map(OrderId)
            .filter(|id| !open.contains(id))
            .collect();
        for k in working {
            if k.accepted {
                t.accepted.insert(k.id);
            }
            if !k.filled.is_zero() {
                t.filled.insert(k.id, k.filled);
                t.notional.insert(k.id, k.notional);
            }
        }
        t
    }

    /// Whether `id` reached a terminal report.
    pub fn is_done(&self, id: OrderId) -> bool {
        self.done.contains(&id)
    }

    /// Quantity reported filled so far for `id`.
    pub fn filled(&self, id: OrderId) -> Decimal {
        self.filled.get(&id).copied().unwrap_or_default()
    }

    fn accept(&mut self, id: OrderId, ts: UnixNanos, out: &mut Vec<VenueReport>) {
        if self.accepted.insert(id) {
            out.push(VenueReport::Accepted { order_id: id, ts });
        }
    }

    /// The reports `u` (about engine order `id`, received at `now`) adds, in order.
    pub fn translate(&mut self, u: &TradeUpdate, id: OrderId, now: UnixNanos) -> Vec<VenueReport> {
        let mut out = Vec::new();
        if self.done.contains(&id) {
            return out;
        }
        let ts = u.timestamp.unwrap_or(now);
        match &u.event {
            TradeEvent::New | TradeEvent::PendingNew => self.accept(id, ts, &mut out),
            TradeEvent::Fill | TradeEvent::PartialFill => {
                let key = u
                    .execution_id
                    .clone()
                    .unwrap_or_else(|| format!("{}@{}", u.order.id, u.order.filled_qty));
                if !self.executions.insert(key) {
                    return out;
                }
                let before = self.filled(id);
                let qty = u.order.filled_qty - before;
                if qty <= Decimal::ZERO {
                    return out;
                }
                // In order, the execution's own price; when updates arrive out of order (the
                // quantity is not this execution's), the exact average of what is new.
                let price = match (u.price, u.qty) {
                    (Some(p), Some(q)) if q == qty => p,
                    _ => self.average_of_rest(id, &u.order, qty),
                };
                self.book(id, qty, price, ts, liquidity_of(&u.order), &mut out);
                if u.order.status.is_terminal() {
                    self.done.insert(id);
                }
            }
            TradeEvent::Canceled => {
                self.accept(id, ts, &mut out);
                out.push(VenueReport::Cancelled { order_id: id, ts });
                self.done.insert(id);
            }
            TradeEvent::Expired | TradeEvent::DoneForDay => {
                self.accept(id, ts, &mut out);
                out.push(VenueReport::Expired { order_id: id, ts });
                self.done.insert(id);
            }
            TradeEvent::Rejected if !self.accepted.contains(&id) => {
                out.push(VenueReport::Rejected {
                    order_id: id,
                    ts,
                    reason: "rejected by the broker".into(),
                });
                self.done.insert(id);
            }
            TradeEvent::Rejected => {
                out.push(VenueReport::Cancelled { order_id: id, ts });
                self.done.insert(id);
            }
            _ => {}
        }
        out
    }

    /// What the broker's current view of an order (read over REST after a stream gap) adds
    /// to what was reported: the fills missed while the stream was down, then its end if it
    /// ended. Each missed execution found in `execs` (the order's `FILL` activities) is
    /// booked at its own price, quantity and time, in order, as long as each continues where
    /// the booked quantity ends; what they do not cover is booked as one fill at the exact
    /// average price of the rest.
    pub fn catch_up(
        &mut self,
        o: &crate::wire::Order,
        id: OrderId,
        now: UnixNanos,
        execs: &[FillActivity],
    ) -> Vec<VenueReport> {
        let mut out = Vec::new();
        if self.done.contains(&id) {
            return out;
        }
        let liquidity = liquidity_of(o);
        let mut sorted: Vec<&FillActivity> = execs.iter().filter(|a| a.order_id == o.id).collect();
        sorted.sort_by_key(|a| a.cum_qty);
        for a in sorted {
            let before = self.filled(id);
            if a.cum_qty <= before {
                continue;
            }
            // Only an execution that continues exactly where the booked quantity ends (an
            // earlier one missing from the list leaves the rest to the average).
            if a.cum_qty - a.qty != before || a.cum_qty > o.filled_qty {
                break;
            }
            self.book(id, a.qty, a.price, a.transaction_time, liquidity, &mut out);
        }
        let before = self.filled(id);
        let missed = o.filled_qty - before;
        if missed > Decimal::ZERO {
            let price = self.average_of_rest(id, o, missed);
            let ts = o.filled_at.or(o.updated_at).unwrap_or(now);
            self.book(id, missed, price, ts, liquidity, &mut out);
        }
        let ts = o.updated_at.unwrap_or(now);
        match o.status {
            crate::wire::OrderStatus::Filled => {
                self.done.insert(id);
            }
            crate::wire::OrderStatus::Canceled => {
                self.accept(id, ts, &mut out);
                out.push(VenueReport::Cancelled { order_id: id, ts });
                self.done.insert(id);
            }
            crate::wire::OrderStatus::Expired | crate::wire::OrderStatus::DoneForDay => {
                self.accept(id, ts, &mut out);
                out.push(VenueReport::Expired { order_id: id, ts });
                self.done.insert(id);
            }
            crate::wire::OrderStatus::Rejected if !self.accepted.contains(&id) => {
                out.extend(self.refused(id, ts, "rejected by the broker".into()));
            }
            _ => {}
        }
        out
    }

    /// The exact average price of the `qty` of order `id` not yet booked: the broker's
    /// filled notional (average × filled quantity) less what was booked, over `qty`.
    fn average_of_rest(&self, id: OrderId, o: &crate::wire::Order, qty: Decimal) -> Decimal {
        let total = o.filled_avg_price.unwrap_or_default() * o.filled_qty;
        let done = self.notional.get(&id).copied().unwrap_or_default();
        ((total - done) / qty).round_dp(8)
    }

    /// Reports a fill of `qty` at `price` for order `id` and counts it as booked.
    fn book(
        &mut self,
        id: OrderId,
        qty: Decimal,
        price: Decimal,
        ts: UnixNanos,
        liquidity: Liquidity,
        out: &mut Vec<VenueReport>,
    ) {
        self.accept(id, ts, out);
        *self.filled.entry(id).or_default() += qty;
        *self.notional.entry(id).or_default() += qty * price;
        out.push(VenueReport::Fill {
            order_id: id,
            ts,
            qty,
            price,
            fee: Decimal::ZERO,
            liquidity,
            stale_price: false,
        });
    }

    /// A refusal of the submit itself (HTTP 403/422): the order never existed.
    pub fn refused(&mut self, id: OrderId, ts: UnixNanos, reason: String) -> Vec<VenueReport> {
        if self.accepted.contains(&id) || !self.done.insert(id) {
            return Vec::new();
        }
        vec![VenueReport::Rejected {
            order_id: id,
            ts,
            reason,
        }]
    }
}

/// A limit order's fills add liquidity; every other type takes it.
fn liquidity_of(o: &crate::wire::Order) -> Liquidity {
    match o.kind() {
        Some(OrderType::Limit) => Liquidity::Maker,
        _ => Liquidity::Taker,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::parse_trade_update;
    use crate::wire::StreamMessage;

    fn update(event: &str, exec: &str, filled: &str, qty: &str) -> TradeUpdate {
        let frame = format!(
            r#"{{"stream":"trade_updates","data":{{"event":"{event}","execution_id":"{exec}",
            "timestamp":"2024-01-02T14:31:00Z","price":"10.5","qty":"{qty}","position_qty":"0",
            "order":{{"id":"b-1","client_order_id":"run-7","symbol":"SPY","qty":"10",
            "filled_qty":"{filled}","filled_avg_price":"10.5","type":"market","side":"buy",
            "time_in_force":"day","status":"{status}"}}}}}}"#,
            status = if filled == "10" {
                "filled"
            } else {
                "partially_filled"
            }
        );
        match parse_trade_update(frame.as_bytes()) {
            Ok(StreamMessage::TradeUpdate(u)) => *u,
            other => panic!("{other:?}"),
        }
    }

    fn activity(n: u32, qty: u32, cum: u32, price: &str) -> FillActivity {
        serde_json::from_str(&format!(
            r#"{{"id":"2024010214310000{n}::e{n}","activity_type":"FILL",
            "transaction_time":"2024-01-02T14:31:0{n}Z","type":"partial_fill","price":"{price}",
            "qty":"{qty}","side":"buy","symbol":"SPY","leaves_qty":"0","cum_qty":"{cum}",
            "order_id":"b-1","order_status":"filled"}}"#
        ))
        .expect("activity")
    }

    #[test]
    fn missed_executions_are_booked_at_their_own_prices_and_the_rest_at_the_average() {
        // 4 @ 10.00 came on the stream; 3 @ 10.10 and 3 @ 10.20 were missed. The order
        // reads 10 filled at an average of 10.09.
        let mut t = Translator::default();
        let now = UnixNanos(0);
        let mut first = update("partial_fill", "e1", "4", "4");
        first.price = Some(Decimal::from(10));
        first.order.filled_avg_price = Some(Decimal::from(10));
        t.translate(&first, OrderId(7), now);
        let mut order = update("fill", "e3", "10", "3").order;
        order.filled_avg_price = Some(Decimal::new(1009, 2));
        let execs = [
            activity(3, 3, 10, "10.20"),
            activity(1, 4, 4, "10.00"),
            activity(2, 3, 7, "10.10"),
        ];
        let fills = |r: &[VenueReport]| -> Vec<(String, String)> {
            r.iter()
                .filter_map(|r| match r {
                    VenueReport::Fill { qty, price, .. } => {
                        Some((qty.to_string(), price.normalize().to_string()))
                    }
                    _ => None,
                })
                .collect()
        };
        let mut exact = t.clone();
        let got = exact.catch_up(&order, OrderId(7), now, &execs);
        assert_eq!(
            fills(&got),
            [("3".into(), "10.1".into()), ("3".into(), "10.2".into())],
            "each missed execution, none booked twice"
        );
        assert!(exact.is_done(OrderId(7)));
        assert!(exact.catch_up(&order, OrderId(7), now, &execs).is_empty());
        // Without the activities: one fill at the exact average of the missed 6.
        let got = t.catch_up(&order, OrderId(7), now, &[]);
        assert_eq!(fills(&got), [("6".into(), "10.15".into())]);
        // Only the last execution known: the middle one at the rest's average.
        let mut partial = Translator::default();
        partial.translate(&first, OrderId(7), now);
        let got = partial.catch_up(&order, OrderId(7), now, &execs[..1]);
        assert_eq!(
            fills(&got),
            [("6".into(), "10.15".into())],
            "the 10.20 execution starts at 7, not at the 4 booked: the 6 go at their average"
        );
    }

    #[test]
    fn fills_are_acknowledged_once_sized_by_cumulative_qty_and_deduplicated() {
        assert_eq!(engine_order_id("run-7", "run"), Some(OrderId(7)));
        assert_eq!(engine_order_id("other-7", "run"), None);
        let mut t = Translator::default();
        let now = UnixNanos(0);
        let first = t.translate(&update("partial_fill", "e1", "4", "4"), OrderId(7), now);
        assert_eq!(first.len(), 2, "accepted, then the fill: {first:?}");
        let again = t.translate(&update("partial_fill", "e1", "4", "4"), OrderId(7), now);
        assert!(again.is_empty(), "the same execution twice books once");
        let rest = t.translate(&update("fill", "e2", "10", "6"), OrderId(7), now);
        match rest.as_slice() {
            [VenueReport::Fill { qty, .. }] => assert_eq!(*qty, Decimal::from(6)),
            other => panic!("{other:?}"),
        }
        assert!(t.is_done(OrderId(7)));
        assert!(t
            .translate(&update("fill", "e3", "10", "6"), OrderId(7), now)
            .is_empty());
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use crate::wire::{parse_trade_update, StreamMessage};
    use proptest::prelude::*;

    /// The updates of one order filled in parts: (execution id, part qty, cumulative qty).
    fn updates(parts: &[(u32, u32)]) -> Vec<TradeUpdate> {
        let total: u32 = parts.iter().map(|p| p.0).sum();
        let mut cum = 0u32;
        let mut notional = Decimal::ZERO;
        parts
            .iter()
            .enumerate()
            .map(|(k, (q, cents))| {
                cum += q;
                let price = Decimal::new(10_000 + i64::from(*cents), 2);
                notional += price * Decimal::from(*q);
                let avg = notional / Decimal::from(cum);
                let (event, status) = if cum == total {
                    ("fill", "filled")
                } else {
                    ("partial_fill", "partially_filled")
                };
                let frame = format!(
                    r#"{{"stream":"trade_updates","data":{{"event":"{event}","execution_id":"e{k}",
                    "timestamp":"2024-01-02T14:31:00.000{k:03}Z","price":"{price}","qty":"{q}",
                    "order":{{"id":"b","client_order_id":"run-1","symbol":"SPY","qty":"{total}",
                    "filled_qty":"{cum}","filled_avg_price":"{avg}","type":"market","side":"buy",
                    "time_in_force":"day","status":"{status}"}}}}}}"#
                );
                match parse_trade_update(frame.as_bytes()) {
                    Ok(StreamMessage::TradeUpdate(u)) => *u,
                    other => panic!("{other:?}"),
                }
            })
            .collect()
    }

    fn booked(reports: &[VenueReport]) -> (Decimal, Vec<(Decimal, Decimal)>) {
        let fills: Vec<(Decimal, Decimal)> = reports
            .iter()
            .filter_map(|r| match r {
                VenueReport::Fill { qty, price, .. } => Some((*qty, *price)),
                _ => None,
            })
            .collect();
        (fills.iter().map(|f| f.0).sum(), fills)
    }

    proptest! {
        /// Each update delivered 1-3 times books exactly what one delivery books; shuffled
        /// deliveries book the broker's filled quantity, never more, acknowledged first.
        #[test]
        fn duplicates_book_once_and_reordering_never_overbooks(
            parts in proptest::collection::vec((1u32..50, 0u32..500), 1..6),
            copies in proptest::collection::vec(1usize..4, 6),
            swaps in proptest::collection::vec((0usize..6, 0usize..6), 0..8),
        ) {
            let ups = updates(&parts);
            let total: u32 = parts.iter().map(|p| p.0).sum();
            let once = {
                let mut t = Translator::default();
                ups.iter().flat_map(|u| t.translate(u, OrderId(1), UnixNanos(0))).collect::<Vec<_>>()
            };
            let mut dup = Translator::default();
            let repeated: Vec<VenueReport> = ups
                .iter()
                .enumerate()
                .flat_map(|(k, u)| std::iter::repeat_n(u, copies[k % copies.len()]))
                .flat_map(|u| dup.translate(u, OrderId(1), UnixNanos(0)))
                .collect();
            prop_assert_eq!(&repeated, &once);
            prop_assert_eq!(booked(&once).0, Decimal::from(total));

            let mut shuffled = ups.clone();
            for (a, b) in swaps {
                let n = shuffled.len();
                shuffled.swap(a % n, b % n);
            }
            let mut t = Translator::default();
            let out: Vec<VenueReport> = shuffled
                .iter()
                .flat_map(|u| t.translate(u, OrderId(1), UnixNanos(0)))
                .collect();
            let acknowledged_first = matches!(out.first(), Some(VenueReport::Accepted { .. }));
            prop_assert!(acknowledged_first, "the first report must acknowledge the order");
            let (qty, _) = booked(&out);
            prop_assert!(qty <= Decimal::from(total), "overbooked {qty} > {total}");
        }
    }
}
