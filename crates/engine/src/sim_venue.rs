//! The simulated venue: market orders with the `next_open` and `close` fill models.

use crate::commission::CommissionModel;
use crate::market::MarketState;
use crate::venue::{Venue, VenueReport};
use lockstep_core::{Bar, Liquidity, Order, OrderId, Qty, UnixNanos};

/// When a market order fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FillModel {
    /// At the open of the first bar of the instrument that opens at or after submission
    /// (default; realistic for orders decided on a bar's close).
    #[default]
    NextOpen,
    /// At the close of the latest bar of the instrument, immediately (optimistic: assumes
    /// the decision and the fill both happen exactly at the close).
    Close,
}

#[derive(Debug, Clone)]
struct Working {
    order_id: OrderId,
    qty: Qty,
    submitted: UnixNanos,
}

/// Simulated venue. Deterministic: working orders fill in submission order.
#[derive(Debug, Default)]
pub struct SimVenue {
    model: FillModel,
    commission: CommissionModel,
    working: Vec<Vec<Working>>,
}

impl SimVenue {
    /// A venue with the given fill and commission models.
    pub fn new(model: FillModel, commission: CommissionModel) -> Self {
        SimVenue {
            model,
            commission,
            working: Vec::new(),
        }
    }

    fn fill(
        &self,
        order_id: OrderId,
        qty: Qty,
        ts: UnixNanos,
        price: lockstep_core::Price,
        stale_price: bool,
    ) -> VenueReport {
        VenueReport::Fill {
            order_id,
            ts,
            qty,
            price,
            fee: self.commission.fee(qty, price),
            liquidity: Liquidity::Taker,
            stale_price,
        }
    }
}

impl Venue for SimVenue {
    fn submit(
        &mut self,
        order: &Order,
        now: UnixNanos,
        market: &MarketState,
        out: &mut Vec<VenueReport>,
    ) {
        out.push(VenueReport::Accepted {
            order_id: order.id,
            ts: now,
        });
        match self.model {
            FillModel::Close => match market.last_bar(order.symbol) {
                Some(bar) => {
                    out.push(self.fill(order.id, order.qty, now, bar.close_price(), false))
                }
                None => out.push(VenueReport::Rejected {
                    order_id: order.id,
                    ts: now,
                    reason: "no bar to fill at".into(),
                }),
            },
            FillModel::NextOpen => {
                let i = order.symbol.index();
                if self.working.len() <= i {
                    self.working.resize_with(i + 1, Vec::new);
                }
                self.working[i].push(Working {
                    order_id: order.id,
                    qty: order.qty,
                    submitted: now,
                });
            }
        }
    }

    fn on_bar(&mut self, bar: &Bar, out: &mut Vec<VenueReport>) {
        let Some(list) = self.working.get_mut(bar.symbol.index()) else {
            return;
        };
        let (ready, waiting): (Vec<Working>, Vec<Working>) =
            list.drain(..).partition(|w| bar.ts >= w.submitted);
        *list = waiting;
        for w in ready {
            out.push(self.fill(w.order_id, w.qty, bar.ts, bar.open_price(), false));
        }
    }

    fn cancel(&mut self, order: &Order) {
        if let Some(list) = self.working.get_mut(order.symbol.index()) {
            list.retain(|w| w.order_id != order.id);
        }
    }

    fn fill_at_close(
        &mut self,
        order: &Order,
        now: UnixNanos,
        market: &MarketState,
        out: &mut Vec<VenueReport>,
    ) {
        self.cancel(order);
        if let Some(bar) = market.last_bar(order.symbol) {
            let fill = self.fill(order.id, order.remaining(), now, bar.close_price(), true);
            out.push(fill);
        }
    }

    fn has_working(&self, bar: &Bar) -> bool {
        self.working
            .get(bar.symbol.index())
            .is_some_and(|l| !l.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockstep_core::{ClientOrderId, Scale, Side, StrategyId, SymbolId};

    fn bar(ts: i64, open: i64, close: i64) -> Bar {
        Bar {
            ts: UnixNanos(ts),
            end: UnixNanos(ts + 10),
            symbol: SymbolId(0),
            scale: Scale::EQUITY,
            open,
            high: open.max(close),
            low: open.min(close),
            close,
            volume: 0.0,
        }
    }

    fn order() -> Order {
        Order::new(
            OrderId(1),
            ClientOrderId("r-1".into()),
            StrategyId(0),
            SymbolId(0),
            Side::Buy,
            Qty::from(10),
            UnixNanos(10),
            None,
        )
    }

    #[test]
    fn next_open_waits_for_a_bar_opening_at_or_after_submission() {
        let mut v = SimVenue::new(FillModel::NextOpen, CommissionModel::Zero);
        let mut out = Vec::new();
        v.submit(&order(), UnixNanos(10), &MarketState::default(), &mut out);
        assert_eq!(out.len(), 1);
        v.on_bar(&bar(0, 1_0000, 2_0000), &mut out);
        assert_eq!(
            out.len(),
            1,
            "a bar that opened before submission must not fill"
        );
        v.on_bar(&bar(10, 3_0000, 4_0000), &mut out);
        match &out[1] {
            VenueReport::Fill { price, ts, .. } => {
                assert_eq!(price.to_string(), "3.0000");
                assert_eq!(*ts, UnixNanos(10));
            }
            other => panic!("expected a fill, got {other:?}"),
        }
    }

    #[test]
    fn close_model_fills_immediately_at_last_close() {
        let mut v = SimVenue::new(FillModel::Close, CommissionModel::Zero);
        let mut m = MarketState::default();
        m.update(&bar(0, 1_0000, 2_5000));
        let mut out = Vec::new();
        v.submit(&order(), UnixNanos(10), &m, &mut out);
        assert!(
            matches!(&out[1], VenueReport::Fill { price, .. } if price.to_string() == "2.5000")
        );
    }
}
