//! Order types and time in force.

use crate::side::Side;
use crate::Price;

/// What kind of order, with its price levels. Levels are exact decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OrderKind {
    /// Fills at the venue's next price (see the fill model).
    #[default]
    Market,
    /// Fills at `limit` or better once the market trades through it.
    Limit {
        /// Worst acceptable price.
        limit: Price,
    },
    /// Becomes a market order once the market touches `stop`.
    Stop {
        /// Trigger level.
        stop: Price,
    },
    /// Becomes a limit order at `limit` once the market touches `stop`.
    StopLimit {
        /// Trigger level.
        stop: Price,
        /// Worst acceptable price after the trigger.
        limit: Price,
    },
}

impl OrderKind {
    /// `market`, `limit`, `stop` or `stop_limit` (the `orders` table's `type`).
    pub fn as_str(self) -> &'static str {
        match self {
            OrderKind::Market => "market",
            OrderKind::Limit { .. } => "limit",
            OrderKind::Stop { .. } => "stop",
            OrderKind::StopLimit { .. } => "stop_limit",
        }
    }

    /// The limit price, for limit and stop-limit orders.
    pub fn limit_price(self) -> Option<Price> {
        match self {
            OrderKind::Limit { limit } | OrderKind::StopLimit { limit, .. } => Some(limit),
            _ => None,
        }
    }

    /// The trigger price, for stop and stop-limit orders.
    pub fn stop_price(self) -> Option<Price> {
        match self {
            OrderKind::Stop { stop } | OrderKind::StopLimit { stop, .. } => Some(stop),
            _ => None,
        }
    }

    /// Whether the levels make sense: positive, and for a stop-limit a limit that is not
    /// tighter than the stop would need (`side` decides which way). Returns why not.
    pub fn check(self, side: Side) -> Result<(), String> {
        let positive = |p: Price, what: &str| {
            if p > Price::ZERO {
                Ok(())
            } else {
                Err(format!("{what} price {p} is not positive"))
            }
        };
        if let Some(l) = self.limit_price() {
            positive(l, "limit")?;
        }
        if let Some(s) = self.stop_price() {
            positive(s, "stop")?;
        }
        if let OrderKind::StopLimit { stop, limit } = self {
            let unfillable = match side {
                Side::Buy => limit < stop,
                Side::Sell => limit > stop,
            };
            if unfillable {
                return Err(format!(
                    "stop-limit {side}: limit {limit} is on the wrong side of stop {stop}"
                ));
            }
        }
        Ok(())
    }
}

/// How long an order works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeInForce {
    /// Until the close of the first session in which it could work (default).
    #[default]
    Day,
    /// Until filled or cancelled.
    Gtc,
    /// Immediate or cancel: works on the first bar of its instrument after it is sent (on a
    /// quote bar with no quote on its side it cannot fill); what that bar leaves unfilled
    /// expires, and so does an ioc order the session ends before any bar.
    Ioc,
}

impl TimeInForce {
    /// `day`, `gtc` or `ioc`.
    pub fn as_str(self) -> &'static str {
        match self {
            TimeInForce::Day => "day",
            TimeInForce::Gtc => "gtc",
            TimeInForce::Ioc => "ioc",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_limit_levels_are_checked_by_side() {
        let sl = OrderKind::StopLimit {
            stop: Price::from(10),
            limit: Price::from(9),
        };
        assert!(sl.check(Side::Sell).is_ok());
        assert!(sl.check(Side::Buy).unwrap_err().contains("wrong side"));
        let bad = OrderKind::Limit { limit: Price::ZERO };
        assert!(bad.check(Side::Buy).unwrap_err().contains("not positive"));
        assert_eq!(sl.as_str(), "stop_limit");
        assert_eq!(sl.limit_price(), Some(Price::from(9)));
        assert_eq!(sl.stop_price(), Some(Price::from(10)));
    }
}
