//! The risk engine: every intent passes here before the executor may act on it.
//!
//! [`ApprovedIntent`] can only be made by [`RiskEngine::check`], and the executor accepts
//! nothing else: an unchecked order is unrepresentable.

use crate::journal::Rejection;
use crate::ledger::Ledger;
use crate::market::MarketState;
use lockstep_core::{Money, OrderIntent, Qty, RejectCode, Side, UnixNanos};

/// Pre-trade limits (all optional; `None` = no limit). They block entries only: an order
/// that only reduces or closes a position is always approved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RiskLimits {
    /// Largest allowed notional (at the latest close) of the part of an order that opens or
    /// adds to a position.
    pub max_order_notional: Option<Money>,
    /// Largest allowed absolute position per symbol after the order.
    pub max_position_qty: Option<Qty>,
}

/// An intent the risk engine approved. Only this module can construct it.
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovedIntent {
    intent: OrderIntent,
}

impl ApprovedIntent {
    /// The approved intent.
    pub fn intent(&self) -> &OrderIntent {
        &self.intent
    }
}

/// Applies [`RiskLimits`] to intents.
#[derive(Debug, Clone, Default)]
pub struct RiskEngine {
    limits: RiskLimits,
}

impl RiskEngine {
    /// A risk engine enforcing `limits`.
    pub fn new(limits: RiskLimits) -> Self {
        RiskEngine { limits }
    }

    /// Approves `intent` or says why not.
    pub fn check(
        &self,
        intent: OrderIntent,
        now: UnixNanos,
        market: &MarketState,
        ledger: &Ledger,
    ) -> Result<ApprovedIntent, Rejection> {
        let reject = |code: RejectCode, detail: String| Rejection {
            ts: now,
            strategy: intent.strategy,
            symbol: intent.symbol,
            side: intent.side,
            qty: intent.qty,
            code,
            detail,
        };
        if intent.qty <= Qty::ZERO {
            return Err(reject(
                RejectCode::InvalidQty,
                format!("quantity {} is not positive", intent.qty),
            ));
        }
        let Some(mark) = market.mark(intent.symbol) else {
            return Err(reject(
                RejectCode::NoMarketData,
                "no bar seen for this symbol yet".into(),
            ));
        };
        let before = ledger.position(intent.symbol);
        let after = match intent.side {
            Side::Buy => before + intent.qty,
            Side::Sell => before - intent.qty,
        };
        let flips = !before.is_zero()
            && !after.is_zero()
            && before.is_sign_negative() != after.is_sign_negative();
        let opening = if flips {
            after.abs()
        } else {
            (after.abs() - before.abs()).max(Qty::ZERO)
        };
        if opening.is_zero() {
            // Exits and reductions always go through: limits block entries only.
            return Ok(ApprovedIntent { intent });
        }
        if let Some(max) = self.limits.max_order_notional {
            let notional = opening * mark;
            if notional > max {
                return Err(reject(
                    RejectCode::MaxOrderNotional,
                    format!("entry notional {notional} exceeds max_order_notional {max}"),
                ));
            }
        }
        if let Some(max) = self.limits.max_position_qty {
            if after.abs() > max {
                return Err(reject(
                    RejectCode::MaxPositionQty,
                    format!(
                        "position {} would exceed max_position_qty {max}",
                        after.abs()
                    ),
                ));
            }
        }
        Ok(ApprovedIntent { intent })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockstep_core::{
        Bar, ClientOrderId, Fill, FillId, Liquidity, OrderId, Scale, StrategyId, SymbolId,
    };

    fn book(pos: i64) -> (MarketState, Ledger) {
        let mut m = MarketState::default();
        m.update(&Bar {
            ts: UnixNanos(0),
            end: UnixNanos(1),
            symbol: SymbolId(0),
            scale: Scale::EQUITY,
            open: 1_000_000,
            high: 1_000_000,
            low: 1_000_000,
            close: 1_000_000,
            volume: 0.0,
        });
        let mut l = Ledger::new(Money::ZERO);
        if pos != 0 {
            let fill = Fill {
                fill_id: FillId(1),
                order_id: OrderId(1),
                client_order_id: ClientOrderId("x".into()),
                strategy: StrategyId(0),
                ts: UnixNanos(0),
                symbol: SymbolId(0),
                side: if pos > 0 { Side::Buy } else { Side::Sell },
                qty: Qty::from(pos.abs()),
                price: Qty::from(100),
                fee: Money::ZERO,
                liquidity: Liquidity::Taker,
                exit_reason: None,
            };
            l.apply(&fill, &mut Vec::new());
        }
        (m, l)
    }

    fn intent(side: Side, qty: i64) -> OrderIntent {
        OrderIntent {
            strategy: StrategyId(0),
            symbol: SymbolId(0),
            side,
            qty: Qty::from(qty),
            exit_reason: None,
        }
    }

    #[test]
    fn limits_block_entries_but_never_exits() {
        let risk = RiskEngine::new(RiskLimits {
            max_order_notional: Some(Money::from(5_000)),
            max_position_qty: Some(Qty::from(60)),
        });
        let (m, flat) = book(0);
        let code = |r: Result<ApprovedIntent, Rejection>| r.err().map(|e| e.code);
        assert_eq!(
            code(risk.check(intent(Side::Buy, 60), UnixNanos(1), &m, &flat)),
            Some(RejectCode::MaxOrderNotional)
        );
        assert_eq!(
            code(risk.check(intent(Side::Buy, 50), UnixNanos(1), &m, &flat)),
            None
        );
        let (m, long) = book(100);
        assert_eq!(
            code(risk.check(intent(Side::Sell, 100), UnixNanos(1), &m, &long)),
            None,
            "a full exit passes"
        );
        assert_eq!(
            code(risk.check(intent(Side::Sell, 30), UnixNanos(1), &m, &long)),
            None,
            "a reduction passes"
        );
        assert_eq!(
            code(risk.check(intent(Side::Sell, 170), UnixNanos(1), &m, &long)),
            Some(RejectCode::MaxOrderNotional),
            "a reversal is an entry for its opening part (70 x 100)"
        );
        assert_eq!(
            code(risk.check(intent(Side::Sell, 140), UnixNanos(1), &m, &long)),
            None
        );
        assert_eq!(
            code(risk.check(intent(Side::Buy, 0), UnixNanos(1), &m, &long)),
            Some(RejectCode::InvalidQty)
        );
    }
}
