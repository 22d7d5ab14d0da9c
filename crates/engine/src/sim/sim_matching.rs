//! How the simulated venue prices an order against one bar: trigger and fill rules for
//! market, limit, stop and stop-limit orders, slippage and the volume participation cap.
//!
//! The rules (DESIGN "Orders, executor, fills"), for a bar that opened at or after the
//! order was submitted:
//! - market: the bar's open (`next_open`) or close (`close` fill model);
//! - limit buy at L: open < L fills at the open (gapped through), else low < L fills at L
//!   (the bar must trade *through* the level; a touch, or an open at L, is not enough).
//!   Sell mirrors;
//! - stop buy at S: open >= S fills at the open (gap), else high >= S fills at S (a touch
//!   triggers). Sell mirrors. A triggered stop the volume cap left partly unfilled stays
//!   triggered and fills like a market order on the next bars;
//! - stop-limit: triggers like a stop; on the trigger bar it fills at the trigger price if
//!   that is within the limit, otherwise it rests as a limit order from the next bar on.
//!
//! Slippage moves taker fills (market and stop) against the order; limit fills are maker
//! fills at the level or better and get none.

use crate::sim::settings::FillModel;
use lockstep_core::{Bar, Liquidity, OrderKind, Price, Qty, Side};
use rust_decimal::{Decimal, RoundingStrategy};

/// Slippage applied to taker fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Slippage {
    /// None (default).
    #[default]
    None,
    /// Basis points of the price, rounded against the order to the bar's price scale.
    Bps(Decimal),
    /// A number of ticks of `tick` size.
    Ticks {
        /// How many ticks.
        ticks: Decimal,
        /// Size of one tick.
        tick: Decimal,
    },
}

impl Slippage {
    /// `price` moved against an order on `side`; `dp` is the bar's price scale. A sell is
    /// never pushed below the smallest positive price at that scale.
    pub fn apply(self, price: Price, side: Side, dp: u32) -> Price {
        let adverse = match self {
            Slippage::None => return price,
            Slippage::Bps(bps) => price * bps / Decimal::from(10_000),
            Slippage::Ticks { ticks, tick } => ticks * tick,
        };
        match side {
            Side::Buy => {
                (price + adverse).round_dp_with_strategy(dp, RoundingStrategy::ToPositiveInfinity)
            }
            Side::Sell => (price - adverse)
                .round_dp_with_strategy(dp, RoundingStrategy::ToNegativeInfinity)
                .max(Decimal::new(1, dp)),
        }
    }
}

/// The outcome of matching one order against one bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BarMatch {
    /// Fill price and liquidity, when the order fills on this bar.
    pub fill: Option<(Price, Liquidity)>,
    /// A stop or stop-limit whose stop has been touched (now or earlier): from then on it
    /// works as a market order (stop) or a limit order (stop-limit).
    pub armed: bool,
}

/// A limit's fill: at the open when the order was marketable there (it takes liquidity),
/// at the level when the bar traded through a resting order (it made liquidity). On a quote
/// bar (`quoted`: the facing side's series) a touch is enough: a quoted ask at or below a
/// buy's limit is an offer it can take.
fn limit_fill(side: Side, limit: Price, bar: &Bar, quoted: bool) -> Option<(Price, Liquidity)> {
    let (open, high, low) = (bar.open_price(), bar.high_price(), bar.low_price());
    let beyond = |a: Price, b: Price| a < b || (quoted && a == b);
    match side {
        Side::Buy if beyond(open, limit) => Some((open, Liquidity::Taker)),
        Side::Buy if beyond(low, limit) => Some((limit, Liquidity::Maker)),
        Side::Sell if beyond(limit, open) => Some((open, Liquidity::Taker)),
        Side::Sell if beyond(limit, high) => Some((limit, Liquidity::Maker)),
        _ => None,
    }
}

fn stop_trigger(side: Side, stop: Price, open: Price, high: Price, low: Price) -> Option<Price> {
    match side {
        Side::Buy if open >= stop => Some(open),
        Side::Buy if high >= stop => Some(stop),
        Side::Sell if open <= stop => Some(open),
        Side::Sell if low <= stop => Some(stop),
        _ => None,
    }
}

/// Matches an order of `kind` on `side` against `bar`. `armed` says whether a stop-limit
/// was triggered on an earlier bar. Slippage is not applied here.
pub fn match_bar(
    kind: OrderKind,
    side: Side,
    armed: bool,
    bar: &Bar,
    model: FillModel,
) -> BarMatch {
    let (open, high, low) = (bar.open_price(), bar.high_price(), bar.low_price());
    let taker = |p| Some((p, Liquidity::Taker));
    match kind {
        OrderKind::Market => BarMatch {
            fill: match model {
                FillModel::NextOpen => taker(open),
                FillModel::Close => taker(bar.close_price()),
            },
            armed,
        },
        OrderKind::Limit { limit } => BarMatch {
            fill: limit_fill(side, limit, bar, bar.quote.is_some()),
            armed,
        },
        OrderKind::Stop { .. } if armed => match_bar(OrderKind::Market, side, armed, bar, model),
        OrderKind::Stop { stop } => {
            let fill = stop_trigger(side, stop, open, high, low).and_then(taker);
            BarMatch {
                armed: fill.is_some(),
                fill,
            }
        }
        OrderKind::StopLimit { limit, .. } if armed => BarMatch {
            fill: limit_fill(side, limit, bar, bar.quote.is_some()),
            armed,
        },
        OrderKind::StopLimit { stop, limit } => match stop_trigger(side, stop, open, high, low) {
            None => BarMatch {
                fill: None,
                armed: false,
            },
            Some(at) => {
                let within = match side {
                    Side::Buy => at <= limit,
                    Side::Sell => at >= limit,
                };
                BarMatch {
                    fill: if within { taker(at) } else { None },
                    armed: true,
                }
            }
        },
    }
}

/// What is left of a bar's volume for participation-capped orders: each fill takes from it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VolumeBudget {
    left: Option<Decimal>,
}

impl VolumeBudget {
    /// The budget of `bar` under `max_participation` (a fraction of its volume); `None`
    /// means no cap.
    pub fn new(bar: &Bar, max_participation: Option<Decimal>) -> VolumeBudget {
        VolumeBudget {
            left: max_participation.map(|f| {
                Decimal::from_f64_retain(bar.volume)
                    .unwrap_or(Decimal::ZERO)
                    .max(Decimal::ZERO)
                    * f
            }),
        }
    }

    /// Takes up to `want` (truncated to `want`'s decimal places) and returns what it took.
    pub fn take(&mut self, want: Qty) -> Qty {
        match self.left.as_mut() {
            None => want,
            Some(left) => {
                let got = want.min(left.trunc_with_scale(want.scale()));
                *left -= got;
                got.max(Qty::ZERO)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockstep_core::{Scale, SymbolId, UnixNanos};

    fn bar(o: i64, h: i64, l: i64, c: i64) -> Bar {
        Bar {
            ts: UnixNanos(0),
            end: UnixNanos(60),
            symbol: SymbolId(0),
            scale: Scale::new(2).expect("scale"),
            open: o,
            high: h,
            low: l,
            close: c,
            volume: 1_000.0,
            quote: None,
        }
    }

    fn fill(kind: OrderKind, side: Side, b: &Bar) -> Option<String> {
        match_bar(kind, side, false, b, FillModel::NextOpen)
            .fill
            .map(|(p, _)| p.to_string())
    }

    fn d(s: &str) -> Decimal {
        s.parse().expect("decimal")
    }

    #[test]
    fn limit_needs_trade_through_and_gaps_fill_at_the_open() {
        let b = bar(10_00, 10_50, 9_80, 10_20);
        let buy = |l: &str| fill(OrderKind::Limit { limit: d(l) }, Side::Buy, &b);
        assert_eq!(buy("9.90").as_deref(), Some("9.90"));
        assert_eq!(
            buy("9.80"),
            None,
            "a touch of the low is not a trade through"
        );
        assert_eq!(
            buy("10.10").as_deref(),
            Some("10.00"),
            "open below the limit"
        );
        let flat = bar(10_00, 10_20, 10_00, 10_10);
        assert_eq!(
            fill(OrderKind::Limit { limit: d("10.00") }, Side::Buy, &flat),
            None,
            "an open at the limit that never trades below it is a touch"
        );
        let sell = |l: &str| fill(OrderKind::Limit { limit: d(l) }, Side::Sell, &b);
        assert_eq!(sell("10.40").as_deref(), Some("10.40"));
        assert_eq!(sell("10.50"), None);
        assert_eq!(sell("9.50").as_deref(), Some("10.00"));
    }

    #[test]
    fn stops_trigger_on_touch_and_gaps_fill_at_the_open() {
        let b = bar(10_00, 10_50, 9_80, 10_20);
        let sell = |s: &str| fill(OrderKind::Stop { stop: d(s) }, Side::Sell, &b);
        assert_eq!(sell("9.80").as_deref(), Some("9.80"));
        assert_eq!(sell("9.79"), None);
        assert_eq!(sell("10.30").as_deref(), Some("10.00"), "gapped through");
        let buy = |s: &str| fill(OrderKind::Stop { stop: d(s) }, Side::Buy, &b);
        assert_eq!(buy("10.50").as_deref(), Some("10.50"));
        assert_eq!(buy("9.00").as_deref(), Some("10.00"));
    }

    #[test]
    fn a_triggered_stop_stays_triggered() {
        let b = bar(10_00, 10_50, 9_80, 10_20);
        let kind = OrderKind::Stop { stop: d("9.90") };
        let m = match_bar(kind, Side::Sell, false, &b, FillModel::NextOpen);
        assert_eq!(m.fill, Some((d("9.90"), Liquidity::Taker)));
        assert!(m.armed);
        let above = bar(10_30, 10_40, 10_20, 10_30);
        let m = match_bar(kind, Side::Sell, true, &above, FillModel::NextOpen);
        assert_eq!(
            m.fill,
            Some((d("10.30"), Liquidity::Taker)),
            "the rest of a triggered stop fills at the next open even above the stop"
        );
    }

    #[test]
    fn stop_limit_arms_and_fills_only_within_its_limit() {
        let gap_up = bar(11_00, 11_20, 10_90, 11_10);
        let kind = OrderKind::StopLimit {
            stop: d("10.50"),
            limit: d("10.80"),
        };
        let m = match_bar(kind, Side::Buy, false, &gap_up, FillModel::NextOpen);
        assert_eq!(m.fill, None, "gapped above the limit: armed, not filled");
        assert!(m.armed);
        let back = bar(10_85, 10_90, 10_70, 10_75);
        let m = match_bar(kind, Side::Buy, true, &back, FillModel::NextOpen);
        assert_eq!(m.fill, Some((d("10.80"), Liquidity::Maker)));
        let touch = bar(10_40, 10_60, 10_30, 10_55);
        let m = match_bar(kind, Side::Buy, false, &touch, FillModel::NextOpen);
        assert_eq!(
            m.fill,
            Some((d("10.50"), Liquidity::Taker)),
            "filled as it triggered: it took liquidity"
        );
    }

    #[test]
    fn slippage_moves_against_the_order_and_rounds_outward() {
        let bps = Slippage::Bps(d("5"));
        assert_eq!(bps.apply(d("100.00"), Side::Buy, 2), d("100.05"));
        assert_eq!(bps.apply(d("10.01"), Side::Buy, 2), d("10.02"));
        assert_eq!(bps.apply(d("10.01"), Side::Sell, 2), d("10.00"));
        let ticks = Slippage::Ticks {
            ticks: d("2"),
            tick: d("0.01"),
        };
        assert_eq!(ticks.apply(d("50.00"), Side::Sell, 2), d("49.98"));
        assert_eq!(
            ticks.apply(d("0.01"), Side::Sell, 2),
            d("0.01"),
            "never at or below zero"
        );
    }

    #[test]
    fn participation_budget_is_shared_and_truncated() {
        let b = bar(10_00, 10_00, 10_00, 10_00);
        let mut budget = VolumeBudget::new(&b, Some(d("0.15")));
        assert_eq!(budget.take(d("100")), d("100"));
        assert_eq!(budget.take(d("100")), d("50"));
        assert_eq!(budget.take(d("100")), d("0"));
        let mut open = VolumeBudget::new(&b, None);
        assert_eq!(open.take(d("5000")), d("5000"));
    }
}
