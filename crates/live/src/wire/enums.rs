//! Alpaca's string enums. Every one parses any string: values it does not know land in
//! `Other(String)`, so a new server-side value never turns a whole message into an error.

use serde::de::Deserializer;
use serde::{Deserialize, Serialize, Serializer};

macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident => $text:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version does not know, kept verbatim.
            Other(String),
        }

        impl $name {
            /// The wire text of this value.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $text, )+
                    $name::Other(s) => s.as_str(),
                }
            }

            /// Parses wire text; unknown text becomes `Other`.
            pub fn parse(text: &str) -> Self {
                match text {
                    $( $text => $name::$variant, )+
                    other => $name::Other(other.to_string()),
                }
            }

            /// True unless this is an `Other` value.
            pub fn is_known(&self) -> bool {
                !matches!(self, $name::Other(_))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Ok($name::parse(&s))
            }
        }
    };
}

wire_enum! {
    /// `side` of an order.
    OrderSide {
        /// Buy.
        Buy => "buy",
        /// Sell (a sell while flat is a short sale).
        Sell => "sell",
    }
}

wire_enum! {
    /// `type` (and the deprecated `order_type`) of an order.
    OrderType {
        /// Market order.
        Market => "market",
        /// Limit order.
        Limit => "limit",
        /// Stop (stop-market) order.
        Stop => "stop",
        /// Stop-limit order.
        StopLimit => "stop_limit",
        /// Trailing stop.
        TrailingStop => "trailing_stop",
    }
}

wire_enum! {
    /// `time_in_force` of an order.
    TimeInForce {
        /// Good for the day (expires at the close).
        Day => "day",
        /// Good till canceled.
        Gtc => "gtc",
        /// Opening auction.
        Opg => "opg",
        /// Closing auction.
        Cls => "cls",
        /// Immediate or cancel.
        Ioc => "ioc",
        /// Fill or kill.
        Fok => "fok",
    }
}

wire_enum! {
    /// `status` of an order (§1.5).
    OrderStatus {
        /// Routed and working.
        New => "new",
        /// Partly filled, still working.
        PartiallyFilled => "partially_filled",
        /// Completely filled (terminal).
        Filled => "filled",
        /// Done for the day; resumes the next day.
        DoneForDay => "done_for_day",
        /// Canceled (terminal).
        Canceled => "canceled",
        /// Expired (terminal).
        Expired => "expired",
        /// Replaced by another order (terminal).
        Replaced => "replaced",
        /// Cancel requested.
        PendingCancel => "pending_cancel",
        /// Replace requested.
        PendingReplace => "pending_replace",
        /// Accepted, not yet routed (common off-hours).
        Accepted => "accepted",
        /// Being routed.
        PendingNew => "pending_new",
        /// Accepted for bidding.
        AcceptedForBidding => "accepted_for_bidding",
        /// Stopped.
        Stopped => "stopped",
        /// Rejected (terminal).
        Rejected => "rejected",
        /// Suspended.
        Suspended => "suspended",
        /// Calculated (done for the day).
        Calculated => "calculated",
        /// Held (believed to be an inactive bracket leg).
        Held => "held",
        /// Pending review (alpaca-py).
        PendingReview => "pending_review",
    }
}

impl OrderStatus {
    /// True for the statuses after which this order id never changes again: filled,
    /// canceled, expired, rejected, replaced.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            OrderStatus::Filled
                | OrderStatus::Canceled
                | OrderStatus::Expired
                | OrderStatus::Rejected
                | OrderStatus::Replaced
        )
    }
}

wire_enum! {
    /// `event` of a trade update (§5). Unknown events are `Other`, not errors.
    TradeEvent {
        /// Routed.
        New => "new",
        /// Completely filled.
        Fill => "fill",
        /// Partly filled.
        PartialFill => "partial_fill",
        /// Canceled.
        Canceled => "canceled",
        /// Expired.
        Expired => "expired",
        /// Done for the day.
        DoneForDay => "done_for_day",
        /// Replaced.
        Replaced => "replaced",
        /// Rejected.
        Rejected => "rejected",
        /// Pending new.
        PendingNew => "pending_new",
        /// Stopped.
        Stopped => "stopped",
        /// Cancel requested.
        PendingCancel => "pending_cancel",
        /// Replace requested.
        PendingReplace => "pending_replace",
        /// Calculated.
        Calculated => "calculated",
        /// Suspended.
        Suspended => "suspended",
        /// A replace request was refused.
        OrderReplaceRejected => "order_replace_rejected",
        /// A cancel request was refused.
        OrderCancelRejected => "order_cancel_rejected",
        /// Accepted (alpaca-py enum).
        Accepted => "accepted",
        /// Restated (alpaca-py enum).
        Restated => "restated",
    }
}

wire_enum! {
    /// `side` of a position.
    PositionSide {
        /// Long (qty > 0).
        Long => "long",
        /// Short (qty < 0).
        Short => "short",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_values_are_kept() {
        let e: TradeEvent = serde_json::from_str("\"trade_bust\"").unwrap();
        assert_eq!(e, TradeEvent::Other("trade_bust".into()));
        assert!(!e.is_known());
        assert_eq!(serde_json::to_string(&e).unwrap(), "\"trade_bust\"");
        let s: OrderStatus = serde_json::from_str("\"partially_filled\"").unwrap();
        assert_eq!(s, OrderStatus::PartiallyFilled);
        assert!(!s.is_terminal());
        assert!(OrderStatus::Expired.is_terminal());
        assert_eq!(OrderType::parse("stop_limit"), OrderType::StopLimit);
        assert_eq!(TimeInForce::Gtc.to_string(), "gtc");
    }
}
