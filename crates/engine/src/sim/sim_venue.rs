//! The simulated venue: market, limit, stop and stop-limit orders against bars, with
//! slippage, a volume participation cap, day/gtc time in force and seeded faults.
//! The pricing rules themselves live in [`crate::sim::sim_matching`].

use crate::commission::CommissionModel;
use crate::market::MarketState;
use crate::sim::settings::{FillModel, QuoteFill, SimSettings};
use crate::sim::sim_faults::FaultInjector;
use crate::sim::sim_matching::{match_bar, VolumeBudget};
use crate::venue::{SimulatedVenue, Venue, VenueReport};
use lockstep_core::{
    Bar, Liquidity, Money, Order, OrderId, OrderKind, OrderStatus, Price, Qty, RejectCode, Side,
    SymbolId, TimeInForce, UnixNanos,
};

#[derive(Debug, Clone)]
struct Working {
    order_id: OrderId,
    side: Side,
    kind: OrderKind,
    tif: TimeInForce,
    remaining: Qty,
    submitted: UnixNanos,
    seen_bar: bool,
    armed: bool,
}

/// Simulated venue. Deterministic: working orders match in submission order.
#[derive(Debug)]
pub struct SimVenue {
    settings: SimSettings,
    faults: FaultInjector,
    working: Vec<Vec<Working>>,
    multipliers: Vec<Money>,
}

impl Default for SimVenue {
    fn default() -> Self {
        SimVenue::with_settings(SimSettings::default())
    }
}

impl SimVenue {
    /// A venue with the given fill and commission models and nothing else.
    pub fn new(model: FillModel, commission: CommissionModel) -> Self {
        SimVenue::with_settings(SimSettings {
            model,
            commission,
            ..SimSettings::default()
        })
    }

    /// A venue with every setting.
    pub fn with_settings(settings: SimSettings) -> Self {
        SimVenue {
            faults: FaultInjector::new(settings.faults.clone()),
            settings,
            working: Vec::new(),
            multipliers: Vec::new(),
        }
    }

    /// A fill report; the fee is on the notional `qty x price x multiplier`.
    #[allow(clippy::too_many_arguments)]
    fn fill(
        &self,
        order_id: OrderId,
        symbol: SymbolId,
        qty: Qty,
        ts: UnixNanos,
        price: Price,
        liquidity: Liquidity,
        stale_price: bool,
    ) -> VenueReport {
        let m = self
            .multipliers
            .get(symbol.index())
            .copied()
            .unwrap_or(Money::ONE);
        VenueReport::Fill {
            order_id,
            ts,
            qty,
            price,
            fee: self.settings.commission.fee(qty, price * m, liquidity),
            liquidity,
            stale_price,
        }
    }

    /// A taker fill moved by the slippage model. Quote-bar fills are already at the bid or
    /// ask (the spread is the cost), so they get none.
    fn slipped(&self, price: Price, liquidity: Liquidity, side: Side, bar: &Bar) -> Price {
        match liquidity {
            Liquidity::Taker if bar.quote.is_none() => {
                self.settings.slippage.apply(price, side, bar.scale.dp())
            }
            _ => price,
        }
    }

    /// The prices `kind` on `side` can trade at on `bar`: the bar itself for trade bars; on
    /// a quote bar the facing side (ask for buys, bid for sells), or the mid (the bar's
    /// mark) for market orders under [`QuoteFill::Mid`]. `None`: no quote to trade at.
    fn tradable_view(&self, bar: &Bar, side: Side, market_order: bool) -> Option<Bar> {
        if bar.quote.is_some() && market_order && self.settings.quote_fill == QuoteFill::Mid {
            return bar.two_sided().then_some(*bar);
        }
        bar.facing(side)
    }

    /// The `no_quote` withdrawal of an order that cannot trade on `bar`.
    fn no_quote(order_id: OrderId, side: Side, ts: UnixNanos, what: &str) -> VenueReport {
        let missing = match side {
            Side::Buy => "no ask to buy at",
            Side::Sell => "no bid to sell at",
        };
        VenueReport::Withdrawn {
            order_id,
            ts,
            code: RejectCode::NoQuote,
            detail: format!("{missing} in the {what} quote bar; not filled"),
        }
    }

    /// Draws the order's fault; a faulted order is reported refused (true).
    fn refuse_by_fault(
        &mut self,
        order: &Order,
        now: UnixNanos,
        out: &mut Vec<VenueReport>,
    ) -> bool {
        let Some(fault) = self.faults.next_order() else {
            return false;
        };
        out.push(VenueReport::Rejected {
            order_id: order.id,
            ts: now,
            reason: fault.reason().into(),
        });
        true
    }

    /// The bar's volume cap. Quote bars carry no traded volume, so no cap applies to them.
    fn budget(&self, bar: &Bar) -> VolumeBudget {
        let cap = match bar.quote {
            Some(_) => None,
            None => self.settings.max_participation,
        };
        VolumeBudget::new(bar, cap)
    }

    fn list(&mut self, order: &Order) -> &mut Vec<Working> {
        let i = order.symbol.index();
        if self.working.len() <= i {
            self.working.resize_with(i + 1, Vec::new);
        }
        &mut self.working[i]
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
        if self.refuse_by_fault(order, now, out) {
            return;
        }
        let mut w = Working {
            order_id: order.id,
            side: order.side,
            kind: order.kind,
            tif: order.tif,
            remaining: order.qty,
            submitted: now,
            seen_bar: false,
            armed: false,
        };
        if self.settings.model == FillModel::Close && order.kind == OrderKind::Market {
            let Some(bar) = market.last_bar(order.symbol) else {
                out.push(VenueReport::Rejected {
                    order_id: order.id,
                    ts: now,
                    reason: "no bar to fill at".into(),
                });
                return;
            };
            out.push(VenueReport::Accepted {
                order_id: order.id,
                ts: now,
            });
            let Some(view) = self.tradable_view(bar, order.side, true) else {
                out.push(Self::no_quote(order.id, order.side, now, "last"));
                return;
            };
            let qty = self.budget(bar).take(order.qty);
            if qty > Qty::ZERO {
                let price = self.slipped(view.close_price(), Liquidity::Taker, order.side, bar);
                out.push(self.fill(
                    order.id,
                    order.symbol,
                    qty,
                    now,
                    price,
                    Liquidity::Taker,
                    false,
                ));
            }
            w.remaining -= qty;
            w.seen_bar = true;
            if w.remaining > Qty::ZERO && w.tif == TimeInForce::Ioc {
                out.push(VenueReport::Expired {
                    order_id: order.id,
                    ts: now,
                });
            } else if w.remaining > Qty::ZERO {
                self.list(order).push(w);
            }
            return;
        }
        out.push(VenueReport::Accepted {
            order_id: order.id,
            ts: now,
        });
        self.list(order).push(w);
    }

    fn cancel(&mut self, order: &Order) {
        self.list(order).retain(|w| w.order_id != order.id);
    }

    fn simulator(&mut self) -> Option<&mut dyn SimulatedVenue> {
        Some(self)
    }
}

impl SimulatedVenue for SimVenue {
    fn on_bar(&mut self, bar: &Bar, out: &mut Vec<VenueReport>) {
        let Some(mut list) = self.working.get_mut(bar.symbol.index()).map(std::mem::take) else {
            return;
        };
        let mut budget = self.budget(bar);
        for w in list.iter_mut().filter(|w| bar.ts >= w.submitted) {
            w.seen_bar = true;
            let as_market = w.kind == OrderKind::Market
                || (w.armed && matches!(w.kind, OrderKind::Stop { .. }));
            let Some(view) = self.tradable_view(bar, w.side, as_market) else {
                // A market order (or a triggered stop) facing no quote is withdrawn, not
                // filled at a made-up price; a resting level simply cannot fill this bar.
                if as_market {
                    out.push(Self::no_quote(w.order_id, w.side, bar.end, "next"));
                    w.remaining = Qty::ZERO;
                }
                continue;
            };
            let m = match_bar(w.kind, w.side, w.armed, &view, self.settings.model);
            w.armed = m.armed;
            let Some((price, liquidity)) = m.fill else {
                continue;
            };
            let qty = budget.take(w.remaining);
            if qty > Qty::ZERO {
                // A fill at the open happened when the bar opened; one at a level inside
                // the bar (or at its close) is only known when the bar is delivered, so it
                // carries that time: nothing downstream may act on the bar's earlier prices.
                let ts = if price == view.open_price() {
                    bar.ts
                } else {
                    bar.end
                };
                // Slippage never takes a limit past its limit.
                let slipped = self.slipped(price, liquidity, w.side, bar);
                let price = match (w.kind.limit_price(), w.side) {
                    (Some(l), Side::Buy) => slipped.min(l.max(price)),
                    (Some(l), Side::Sell) => slipped.max(l.min(price)),
                    (None, _) => slipped,
                };
                out.push(self.fill(w.order_id, bar.symbol, qty, ts, price, liquidity, false));
                w.remaining -= qty;
            }
        }
        // What an immediate-or-cancel order's first bar left unfilled expires now.
        for w in list
            .iter_mut()
            .filter(|w| w.tif == TimeInForce::Ioc && w.seen_bar)
        {
            if w.remaining > Qty::ZERO {
                out.push(VenueReport::Expired {
                    order_id: w.order_id,
                    ts: bar.end,
                });
                w.remaining = Qty::ZERO;
            }
        }
        list.retain(|w| w.remaining > Qty::ZERO);
        self.working[bar.symbol.index()] = list;
    }

    fn end_session(&mut self, now: UnixNanos, out: &mut Vec<VenueReport>) {
        for list in &mut self.working {
            list.retain(|w| {
                // An ioc order never outlives the session it was sent in, even when no bar
                // of its instrument came after it.
                let expires =
                    (w.tif == TimeInForce::Day && w.seen_bar) || w.tif == TimeInForce::Ioc;
                if expires {
                    out.push(VenueReport::Expired {
                        order_id: w.order_id,
                        ts: now,
                    });
                }
                !expires
            });
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
        if order.status() == OrderStatus::New {
            out.push(VenueReport::Accepted {
                order_id: order.id,
                ts: now,
            });
        }
        if let Some(bar) = market.last_bar(order.symbol) {
            let Some(view) = self.tradable_view(bar, order.side, true) else {
                out.push(Self::no_quote(order.id, order.side, now, "last"));
                return;
            };
            let price = self.slipped(view.close_price(), Liquidity::Taker, order.side, bar);
            let fill = self.fill(
                order.id,
                order.symbol,
                order.remaining(),
                now,
                price,
                Liquidity::Taker,
                true,
            );
            out.push(fill);
        }
    }

    fn fill_triggered(
        &mut self,
        order: &Order,
        price: Price,
        liquidity: Liquidity,
        now: UnixNanos,
        market: &MarketState,
        out: &mut Vec<VenueReport>,
    ) {
        if self.refuse_by_fault(order, now, out) {
            return;
        }
        out.push(VenueReport::Accepted {
            order_id: order.id,
            ts: now,
        });
        // The level traded inside the bar just delivered; the fill is stamped when the
        // engine learns of it (the bar's close), so no record precedes its order.
        let price = match market.last_bar(order.symbol) {
            Some(bar) => self.slipped(price, liquidity, order.side, bar),
            None => price,
        };
        out.push(self.fill(
            order.id,
            order.symbol,
            order.qty,
            now,
            price,
            liquidity,
            false,
        ));
    }

    fn set_multiplier(&mut self, symbol: SymbolId, multiplier: Money) {
        let i = symbol.index();
        if self.multipliers.len() <= i {
            self.multipliers.resize(i + 1, Money::ONE);
        }
        self.multipliers[i] = multiplier;
    }

    fn settle(&mut self, order: &Order, price: Price, now: UnixNanos, out: &mut Vec<VenueReport>) {
        out.push(VenueReport::Accepted {
            order_id: order.id,
            ts: now,
        });
        out.push(VenueReport::Fill {
            order_id: order.id,
            ts: now,
            qty: order.qty,
            price,
            fee: Money::ZERO,
            liquidity: Liquidity::Taker,
            stale_price: false,
        });
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
    use lockstep_core::{ClientOrderId, OrderIntent, Scale, StrategyId, SymbolId};
    use rust_decimal::Decimal;

    fn bar(ts: i64, open: i64, close: i64, volume: f64) -> Bar {
        Bar {
            ts: UnixNanos(ts),
            end: UnixNanos(ts + 10),
            symbol: SymbolId(0),
            scale: Scale::EQUITY,
            open,
            high: open.max(close),
            low: open.min(close),
            close,
            volume,
            quote: None,
        }
    }

    fn order(kind: OrderKind, tif: TimeInForce) -> Order {
        let intent = OrderIntent {
            kind,
            tif,
            ..OrderIntent::market(StrategyId(0), SymbolId(0), Side::Buy, Qty::from(10), None)
        };
        Order::new(
            OrderId(1),
            ClientOrderId("r-1".into()),
            &intent,
            UnixNanos(10),
            None,
            lockstep_core::Origin::Strategy,
        )
    }

    fn fills(out: &[VenueReport]) -> Vec<(String, String)> {
        out.iter()
            .filter_map(|r| match r {
                VenueReport::Fill { qty, price, .. } => Some((qty.to_string(), price.to_string())),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn next_open_waits_for_a_bar_opening_at_or_after_submission() {
        let mut v = SimVenue::new(FillModel::NextOpen, CommissionModel::Zero);
        let mut out = Vec::new();
        let o = order(OrderKind::Market, TimeInForce::Day);
        v.submit(&o, UnixNanos(10), &MarketState::default(), &mut out);
        v.on_bar(&bar(0, 1_0000, 2_0000, 0.0), &mut out);
        assert!(
            fills(&out).is_empty(),
            "a bar that opened before submission must not fill"
        );
        v.on_bar(&bar(10, 3_0000, 4_0000, 0.0), &mut out);
        assert_eq!(fills(&out), vec![("10".into(), "3.0000".into())]);
    }

    #[test]
    fn close_model_fills_immediately_at_last_close() {
        let mut v = SimVenue::new(FillModel::Close, CommissionModel::Zero);
        let mut m = MarketState::default();
        m.update(&bar(0, 1_0000, 2_5000, 0.0));
        let mut out = Vec::new();
        v.submit(
            &order(OrderKind::Market, TimeInForce::Day),
            UnixNanos(10),
            &m,
            &mut out,
        );
        assert_eq!(fills(&out), vec![("10".into(), "2.5000".into())]);
    }

    #[test]
    fn participation_splits_a_fill_and_day_orders_expire_at_the_session_end() {
        let mut v = SimVenue::with_settings(SimSettings {
            max_participation: Some(Decimal::new(1, 1)),
            ..SimSettings::default()
        });
        let mut out = Vec::new();
        let day = order(OrderKind::Market, TimeInForce::Day);
        v.submit(&day, UnixNanos(10), &MarketState::default(), &mut out);
        v.on_bar(&bar(10, 1_0000, 1_0000, 40.0), &mut out);
        v.on_bar(&bar(20, 1_1000, 1_1000, 30.0), &mut out);
        assert_eq!(
            fills(&out),
            vec![("4".into(), "1.0000".into()), ("3".into(), "1.1000".into())]
        );
        out.clear();
        v.end_session(UnixNanos(30), &mut out);
        assert_eq!(
            out,
            vec![VenueReport::Expired {
                order_id: OrderId(1),
                ts: UnixNanos(30)
            }]
        );
        assert!(!v.has_working(&bar(40, 1, 1, 1.0)));
    }

    #[test]
    fn gtc_and_unseen_day_orders_survive_the_session_end() {
        let mut v = SimVenue::default();
        let mut out = Vec::new();
        let limit = OrderKind::Limit {
            limit: Decimal::new(5, 0),
        };
        v.submit(
            &order(limit, TimeInForce::Gtc),
            UnixNanos(10),
            &MarketState::default(),
            &mut out,
        );
        v.on_bar(&bar(10, 6_0000, 6_0000, 1.0), &mut out);
        v.end_session(UnixNanos(20), &mut out);
        assert!(v.has_working(&bar(30, 1, 1, 1.0)), "gtc keeps working");
        let mut v = SimVenue::default();
        v.submit(
            &order(limit, TimeInForce::Day),
            UnixNanos(10),
            &MarketState::default(),
            &mut out,
        );
        v.end_session(UnixNanos(20), &mut out);
        assert!(
            v.has_working(&bar(30, 1, 1, 1.0)),
            "a day order submitted after the last bar works in the next session"
        );
    }
}
