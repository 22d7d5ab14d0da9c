//! OHLCV bars on the hot path.

use crate::fixed::Scale;
use crate::symbol::SymbolId;
use crate::time::UnixNanos;
use rust_decimal::Decimal;

/// One validated OHLCV bar. Prices are fixed-point mantissas at `scale`.
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
    /// Traded volume (informational; never reaches the ledger).
    pub volume: f64,
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
}
