//! An external trading signal (a TradingView alert, a scanner hit): when it was received,
//! for which symbol, which way, on which timeframe. Signals are inputs of the one loop
//! (`EventClass::Signal`), live from a webhook or recorded in a file; both read through the
//! normalisations here, so the same text always means the same signal.

use crate::time::UnixNanos;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// Which way a signal points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    /// Buy / go long / bullish.
    Long,
    /// Sell / go short / bearish.
    Short,
}

impl Direction {
    /// Reads the words alerts use, in any case: `long`, `buy`, `bull`, `bullish`, `call`
    /// are [`Direction::Long`]; `short`, `sell`, `bear`, `bearish`, `put` are
    /// [`Direction::Short`]. Anything else is `None`.
    pub fn parse(text: &str) -> Option<Direction> {
        match text.trim().to_ascii_lowercase().as_str() {
            "long" | "buy" | "bull" | "bullish" | "call" => Some(Direction::Long),
            "short" | "sell" | "bear" | "bearish" | "put" => Some(Direction::Short),
            _ => None,
        }
    }

    /// `long` or `short`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Long => "long",
            Direction::Short => "short",
        }
    }
}

/// Normalises a timeframe to one spelling: a number of seconds `Ns`, minutes `Nm`, hours
/// `Nh`, days `Nd`, weeks `Nw` or months `Nmo`. TradingView's `{{interval}}` forms are
/// read as TradingView means them: bare digits are minutes (`"5"` → `5m`, `"60"` → `1h`),
/// `S` seconds, `D` days, `W` weeks and an upper-case `M` months (`"1M"` → `1mo`); the
/// lower-case `m`, `min`, `h`, `hr`, `d`, `w` and `mo` suffixes are read as written.
/// Whole hours of minutes are written in hours. `None` when it is none of these or zero.
pub fn normalize_timeframe(text: &str) -> Option<String> {
    let t = text.trim();
    let digits_end = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(digits_end);
    let n: u64 = if num.is_empty() { 1 } else { num.parse().ok()? };
    if n == 0 {
        return None;
    }
    let unit = match unit.trim() {
        "" if !num.is_empty() => "m",
        "S" | "s" | "sec" => "s",
        "m" | "min" | "Min" | "MIN" => "m",
        "h" | "H" | "hr" | "hour" => "h",
        "D" | "d" | "day" => "d",
        "W" | "w" | "week" => "w",
        "M" | "mo" | "month" => "mo",
        _ => return None,
    };
    Some(if unit == "m" && n.is_multiple_of(60) {
        format!("{}h", n / 60)
    } else {
        format!("{n}{unit}")
    })
}

/// One signal, as the loop consumes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signal {
    /// When it was received (UTC).
    pub ts: UnixNanos,
    /// Upper-case ticker or pair (`SPY`, `BTC/USD`).
    pub symbol: String,
    /// Which way.
    pub direction: Direction,
    /// Normalised timeframe ([`normalize_timeframe`]), if given.
    pub timeframe: Option<String>,
    /// The sender's id, if given (duplicates share it).
    pub id: Option<String>,
    /// The price the sender saw, if given.
    pub price: Option<Decimal>,
    /// Every other field, as its JSON text, by name (kept, not interpreted).
    pub extra: BTreeMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directions_read_the_words_alerts_use() {
        for (text, want) in [
            ("long", Some(Direction::Long)),
            (" BUY ", Some(Direction::Long)),
            ("Bullish", Some(Direction::Long)),
            ("sell", Some(Direction::Short)),
            ("PUT", Some(Direction::Short)),
            ("flat", None),
            ("", None),
        ] {
            assert_eq!(Direction::parse(text), want, "{text:?}");
        }
        assert_eq!(Direction::Short.as_str(), "short");
    }

    #[test]
    fn timeframes_have_one_spelling() {
        for (text, want) in [
            ("1", Some("1m")),
            ("5", Some("5m")),
            ("60", Some("1h")),
            ("240", Some("4h")),
            ("90", Some("90m")),
            ("5m", Some("5m")),
            ("15min", Some("15m")),
            ("1h", Some("1h")),
            ("30S", Some("30s")),
            ("D", Some("1d")),
            ("1D", Some("1d")),
            ("W", Some("1w")),
            ("1M", Some("1mo")),
            ("M", Some("1mo")),
            ("0", None),
            ("5x", None),
            ("", None),
            ("m5", None),
        ] {
            assert_eq!(normalize_timeframe(text).as_deref(), want, "{text:?}");
        }
    }
}
