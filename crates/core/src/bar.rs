//! OHLCV bars on the hot path, and the bid/ask sides a quote bar adds.

use crate::fixed::Scale;
use crate::side::Side;
use crate::symbol::SymbolId;
use crate::time::UnixNanos;
use rust_decimal::Decimal;

/// One side (bid or ask) of a quote bar: open, high, low and close mantissas at the bar's
/// scale. Guarantees (enforced by the data readers): prices > 0, `low <= open, close <= high`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuoteSide {
    /// First quote of the bar.
    pub open: i64,
    /// Highest quote.
    pub high: i64,
    /// Lowest quote.
    pub low: i64,
    /// Last quote (at the bar's close).
    pub close: i64,
}

/// The two sides of a quote bar. One-sided markets are common in options: a missing side
/// is `None`, never a made-up price. At least one side is present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quote {
    /// Best bid series: what a sell can get.
    pub bid: Option<QuoteSide>,
    /// Best ask series: what a buy must pay.
    pub ask: Option<QuoteSide>,
}

impl Quote {
    /// The side an order on `side` trades against: the ask for a buy, the bid for a sell.
    pub fn facing(&self, side: Side) -> Option<QuoteSide> {
        match side {
            Side::Buy => self.ask,
            Side::Sell => self.bid,
        }
    }
}

/// One validated bar. Prices are fixed-point mantissas at `scale`.
///
/// A trade bar carries traded OHLC and `quote: None`. A quote bar (option quotes) carries
/// both sides in `quote`; its OHLC is then the mark: the mid of bid and ask when both are
/// present (rounded half-even to the scale), else the one side there is. Marks value
/// positions and feed signals; fills use [`Bar::facing`].
///
/// Guarantees (enforced by the data readers): prices > 0, `low <= open, close <= high`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bar {
    /// Bar open time (UTC).
    pub ts: UnixNanos,
    /// Delivery time: the bar's close, the earliest moment anyone may see it.
    pub end: UnixNanos,
    /// Instrument.
    pub symbol: SymbolId,
    /// Price scale of the four prices.
    pub scale: Scale,
    /// Open price mantissa.
    pub open: i64,
    /// High price mantissa.
    pub high: i64,
    /// Low price mantissa.
    pub low: i64,
    /// Close price mantissa.
    pub close: i64,
    /// Traded volume (informational; never reaches the ledger; 0 for quote bars).
    pub volume: f64,
    /// Bid and ask series of a quote bar; `None` for trade bars.
    pub quote: Option<Quote>,
}

impl Bar {
    /// Exact open price.
    pub fn open_price(&self) -> Decimal {
        self.scale.to_decimal(self.open)
    }

    /// Exact close price.
    pub fn close_price(&self) -> Decimal {
        self.scale.to_decimal(self.close)
    }

    /// Exact high price.
    pub fn high_price(&self) -> Decimal {
        self.scale.to_decimal(self.high)
    }

    /// Exact low price.
    pub fn low_price(&self) -> Decimal {
        self.scale.to_decimal(self.low)
    }

    /// The prices an order on `side` can trade at, as a bar: the bar itself for a trade
    /// bar; for a quote bar the ask series (buys) or the bid series (sells). `None` when a
    /// quote bar has no quote on that side: such an order cannot fill on this bar.
    pub fn facing(&self, side: Side) -> Option<Bar> {
        let Some(q) = self.quote else {
            return Some(*self);
        };
        q.facing(side).map(|s| Bar {
            open: s.open,
            high: s.high,
            low: s.low,
            close: s.close,
            ..*self
        })
    }

    /// True for a quote bar with both sides present (a mid exists).
    pub fn two_sided(&self) -> bool {
        self.quote
            .is_some_and(|q| q.bid.is_some() && q.ask.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quoted(bid: Option<QuoteSide>, ask: Option<QuoteSide>) -> Bar {
        Bar {
            ts: UnixNanos(0),
            end: UnixNanos(60),
            symbol: SymbolId(0),
            scale: Scale::EQUITY,
            open: 1_0500,
            high: 1_0500,
            low: 1_0500,
            close: 1_0500,
            volume: 0.0,
            quote: Some(Quote { bid, ask }),
        }
    }

    #[test]
    fn buys_face_the_ask_sells_the_bid_and_a_missing_side_faces_nothing() {
        let bid = QuoteSide {
            open: 1_0000,
            high: 1_0200,
            low: 9900,
            close: 1_0100,
        };
        let ask = QuoteSide {
            open: 1_1000,
            high: 1_1200,
            low: 1_0900,
            close: 1_1100,
        };
        let b = quoted(Some(bid), Some(ask));
        assert_eq!(
            b.facing(Side::Buy).map(|f| f.open_price()),
            Some(Decimal::new(11, 1))
        );
        assert_eq!(
            b.facing(Side::Sell).map(|f| f.low_price()),
            Some(Decimal::new(99, 2))
        );
        assert!(b.two_sided());
        let no_ask = quoted(Some(bid), None);
        assert_eq!(no_ask.facing(Side::Buy), None);
        assert!(!no_ask.two_sided());
        let trade = Bar { quote: None, ..b };
        assert_eq!(trade.facing(Side::Buy), Some(trade));
    }
}
