//! The order in which the broker task sends the loop's requests. Under a rate limit a
//! queue of new entries can take minutes to drain; what protects money must not wait
//! behind it. Two first-in-first-out lanes:
//!
//! - **urgent**: closing orders (exits, the EOD flatten, a manual flatten), cancels, and
//!   everything reconciliation sends (lookups, orders sent again after a restart, book
//!   reads), so their relative order is kept;
//! - **normal**: new entries and clock reads.
//!
//! A cancel of an order whose submit still waits in the normal lane waits behind it (it
//! must not reach the broker before the order does).

use super::venue::Outgoing;
use std::collections::VecDeque;

/// The two lanes.
#[derive(Debug, Default)]
pub struct Lanes {
    urgent: VecDeque<Outgoing>,
    normal: VecDeque<Outgoing>,
}

impl Lanes {
    /// Queues `req` in its lane.
    pub fn push(&mut self, req: Outgoing) {
        let urgent = match &req {
            Outgoing::Submit {
                after_restart,
                closes,
                ..
            } => *after_restart || *closes,
            Outgoing::Cancel { order_id, .. } => !self
                .normal
                .iter()
                .any(|r| matches!(r, Outgoing::Submit { order_id: o, .. } if o == order_id)),
            Outgoing::Reconcile { .. } | Outgoing::CheckBook { .. } => true,
            Outgoing::CheckClock => false,
        };
        if urgent {
            self.urgent.push_back(req);
        } else {
            self.normal.push_back(req);
        }
    }

    /// The next request to send: the urgent lane first.
    pub fn pop(&mut self) -> Option<Outgoing> {
        self.urgent.pop_front().or_else(|| self.normal.pop_front())
    }

    /// Requests waiting in both lanes.
    pub fn len(&self) -> usize {
        self.urgent.len() + self.normal.len()
    }

    /// True when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockstep_core::{OrderId, OrderKind, Side, TimeInForce};
    use rust_decimal::Decimal;

    fn submit(n: u64, closes: bool, after_restart: bool) -> Outgoing {
        Outgoing::Submit {
            order_id: OrderId(n),
            client_order_id: format!("r-{n}"),
            symbol: "SPY".into(),
            side: if closes { Side::Sell } else { Side::Buy },
            qty: Decimal::ONE,
            kind: OrderKind::Market,
            tif: TimeInForce::Day,
            after_restart,
            closes,
        }
    }

    fn cancel(n: u64) -> Outgoing {
        Outgoing::Cancel {
            order_id: OrderId(n),
            client_order_id: format!("r-{n}"),
        }
    }

    fn drain(l: &mut Lanes) -> Vec<Outgoing> {
        std::iter::from_fn(|| l.pop()).collect()
    }

    #[test]
    fn closes_cancels_and_reconciliation_pass_waiting_entries_in_their_own_order() {
        let mut l = Lanes::default();
        for r in [
            submit(1, false, false),
            Outgoing::CheckClock,
            submit(2, false, false),
            submit(3, true, false),
            cancel(9),
            Outgoing::Reconcile {
                order_id: OrderId(7),
                client_order_id: "r-7".into(),
            },
            submit(8, false, true),
            Outgoing::CheckBook { attempt: 0 },
            submit(4, true, false),
        ] {
            l.push(r);
        }
        assert_eq!(l.len(), 9);
        let order: Vec<String> = drain(&mut l)
            .iter()
            .map(|r| match r {
                Outgoing::Submit { order_id, .. } => format!("submit {}", order_id.0),
                Outgoing::Cancel { order_id, .. } => format!("cancel {}", order_id.0),
                Outgoing::Reconcile { order_id, .. } => format!("reconcile {}", order_id.0),
                Outgoing::CheckBook { .. } => "book".into(),
                Outgoing::CheckClock => "clock".into(),
            })
            .collect();
        assert_eq!(
            order,
            [
                "submit 3",
                "cancel 9",
                "reconcile 7",
                "submit 8",
                "book",
                "submit 4",
                "submit 1",
                "clock",
                "submit 2"
            ]
        );
        assert!(l.is_empty());
    }

    #[test]
    fn a_cancel_never_overtakes_the_submit_of_its_own_order() {
        let mut l = Lanes::default();
        l.push(submit(1, false, false));
        l.push(submit(2, false, false));
        l.push(cancel(2));
        l.push(submit(3, true, false));
        let ids: Vec<(bool, u64)> = drain(&mut l)
            .iter()
            .map(|r| match r {
                Outgoing::Submit { order_id, .. } => (true, order_id.0),
                Outgoing::Cancel { order_id, .. } => (false, order_id.0),
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(ids, [(true, 3), (true, 1), (true, 2), (false, 2)]);
    }
}
