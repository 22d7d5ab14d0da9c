//! The risk engine: every intent passes here before the executor may act on it.
//!
//! [`ApprovedIntent`] can only be made by [`RiskEngine::check`], and the executor accepts
//! nothing else: an unchecked order is unrepresentable.

use crate::journal::Rejection;
use crate::ledger::Ledger;
use crate::market::MarketState;
use lockstep_core::{Money, OrderIntent, Qty, RejectCode, Side, UnixNanos};

/// Pre-trade limits (all optional; `None` = no limit).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RiskLimits {
    /// Largest allowed order notional at the latest close.
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
        if let Some(max) = self.limits.max_order_notional {
            let notional = intent.qty * mark;
            if notional > max {
                return Err(reject(
                    RejectCode::MaxOrderNotional,
                    format!("notional {notional} exceeds max_order_notional {max}"),
                ));
            }
        }
        if let Some(max) = self.limits.max_position_qty {
            let signed = match intent.side {
                Side::Buy => intent.qty,
                Side::Sell => -intent.qty,
            };
            let after = (ledger.position(intent.symbol) + signed).abs();
            let reduces = after < ledger.position(intent.symbol).abs();
            if after > max && !reduces {
                return Err(reject(
                    RejectCode::MaxPositionQty,
                    format!("position {after} would exceed max_position_qty {max}"),
                ));
            }
        }
        Ok(ApprovedIntent { intent })
    }
}
