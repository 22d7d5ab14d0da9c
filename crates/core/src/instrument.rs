//! Instruments: equities, indexes (a price source, never traded), options and crypto pairs,
//! with OCC option symbology.
//!
//! An OCC symbol is 21 characters: the root padded with spaces to 6, the expiry as YYMMDD,
//! `C` or `P`, and the strike × 1000 in 8 digits: `SPY   230901C00470000` is the SPY call
//! expiring 2023-09-01 with strike 470.

use crate::Price;
use chrono::{Datelike, NaiveDate};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use std::fmt;

/// Call or put.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OptionRight {
    /// The right to buy.
    Call,
    /// The right to sell.
    Put,
}

impl OptionRight {
    /// `C` or `P`.
    pub fn letter(self) -> char {
        match self {
            OptionRight::Call => 'C',
            OptionRight::Put => 'P',
        }
    }
}

/// Why a text is not an OCC option symbol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{symbol}` is not an OCC option symbol: {reason}")]
pub struct OccError {
    /// The text.
    pub symbol: String,
    /// What is wrong.
    pub reason: String,
}

/// A parsed OCC option symbol. Formatting gives the canonical 21-character text back.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OccSymbol {
    /// Option root (`SPY`, `SPXW`), 1 to 6 characters.
    pub root: String,
    /// Expiry date (the last trading day).
    pub expiry: NaiveDate,
    /// Call or put.
    pub right: OptionRight,
    /// Strike price, exact, with at most 3 decimals.
    pub strike: Price,
}

impl OccSymbol {
    /// Parses the 21-character OCC form, or the same without the root's padding
    /// (`SPY230901C00470000`, as brokers such as Alpaca write it); anything else is an
    /// error saying what is wrong.
    pub fn parse(text: &str) -> Result<OccSymbol, OccError> {
        let bad = |reason: &str| OccError {
            symbol: text.to_string(),
            reason: reason.to_string(),
        };
        let compact = (16..21).contains(&text.len()) && !text.contains(' ');
        if !text.is_ascii() || (text.len() != 21 && !compact) {
            return Err(bad("expected 21 ASCII characters (root padded to 6, YYMMDD, C/P, 8-digit strike), or the same without padding"));
        }
        let (root, rest) = text.split_at(text.len() - 15);
        let root = root.trim_end();
        if root.is_empty() || !root.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(bad(
                "the root must be 1-6 letters or digits, padded with spaces",
            ));
        }
        let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        let (date, rest) = rest.split_at(6);
        let (right, strike) = rest.split_at(1);
        if !digits(date) || !digits(strike) {
            return Err(bad(
                "the expiry (YYMMDD) and the strike (8 digits) must be digits",
            ));
        }
        let num = |s: &str| s.parse::<u32>().map_err(|_| bad("not a number"));
        let expiry = NaiveDate::from_ymd_opt(
            2000 + num(&date[..2])? as i32,
            num(&date[2..4])?,
            num(&date[4..])?,
        )
        .ok_or_else(|| bad("the expiry is not a calendar date"))?;
        let right = match right {
            "C" => OptionRight::Call,
            "P" => OptionRight::Put,
            _ => return Err(bad("the right must be C or P")),
        };
        let strike = Decimal::new(i64::from(num(strike)?), 3).normalize();
        Ok(OccSymbol {
            root: root.to_string(),
            expiry,
            right,
            strike,
        })
    }
}

impl fmt::Display for OccSymbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let thousandths = (self.strike * Decimal::from(1000))
            .trunc()
            .to_u64()
            .unwrap_or(0);
        write!(
            f,
            "{:<6}{:02}{:02}{:02}{}{:08}",
            self.root,
            self.expiry.year() % 100,
            self.expiry.month(),
            self.expiry.day(),
            self.right.letter(),
            thousandths
        )
    }
}

impl OccSymbol {
    /// The symbol of the instrument that prices and settles this option: `SPX` for the
    /// weekly `SPXW` root, the root itself otherwise.
    pub fn underlying(&self) -> &str {
        match self.root.as_str() {
            "SPXW" => "SPX",
            root => root,
        }
    }
}

/// How an option is exercised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExerciseStyle {
    /// Any day up to expiry (equity options).
    American,
    /// At expiry only (SPX, SPXW).
    European,
}

/// How an option still open at its expiry close is settled in lockstep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Settlement {
    /// In cash at intrinsic value against the underlying's last price (index options; the
    /// documented default for equity options too: no share delivery is modelled).
    Cash,
}

/// An option contract.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OptionContract {
    /// OCC identity (root, expiry, right, strike).
    pub occ: OccSymbol,
    /// The instrument whose price settles it (`SPX` for `SPXW`).
    pub underlying: String,
    /// Exercise style.
    pub style: ExerciseStyle,
    /// Units of the underlying per contract (100 by default).
    pub multiplier: Decimal,
    /// Settlement at expiry.
    pub settlement: Settlement,
}

impl OptionContract {
    /// A contract with the defaults: multiplier 100, cash settlement; style European for
    /// the index roots SPX and SPXW, American otherwise.
    pub fn new(occ: OccSymbol, underlying: &str) -> Self {
        let style = if matches!(occ.root.as_str(), "SPX" | "SPXW") {
            ExerciseStyle::European
        } else {
            ExerciseStyle::American
        };
        OptionContract {
            occ,
            underlying: underlying.to_string(),
            style,
            multiplier: Decimal::from(100),
            settlement: Settlement::Cash,
        }
    }

    /// Value per unit of underlying at expiry when it settles at `underlying_price`:
    /// max(S − K, 0) for a call, max(K − S, 0) for a put.
    pub fn intrinsic(&self, underlying_price: Price) -> Price {
        let k = self.occ.strike;
        match self.occ.right {
            OptionRight::Call => (underlying_price - k).max(Decimal::ZERO),
            OptionRight::Put => (k - underlying_price).max(Decimal::ZERO),
        }
    }
}

/// A crypto pair such as BTC-USD: fractional quantities, fees as maker/taker rates.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CryptoPair {
    /// Asset bought and sold (`BTC`).
    pub base: String,
    /// Currency it is priced in (`USD`).
    pub quote: String,
    /// Quantity decimals (8 by default).
    pub qty_decimals: u32,
}

/// What a symbol is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Instrument {
    /// A share.
    Equity,
    /// An index: a price source only, never traded.
    Index,
    /// An option contract.
    Option(OptionContract),
    /// A crypto pair.
    Crypto(CryptoPair),
}

impl Instrument {
    /// Whether orders may be placed on it (everything but an index).
    pub fn tradable(&self) -> bool {
        !matches!(self, Instrument::Index)
    }

    /// Units of the underlying per unit traded: the option multiplier, else 1.
    pub fn multiplier(&self) -> Decimal {
        match self {
            Instrument::Option(c) => c.multiplier,
            _ => Decimal::ONE,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats_the_occ_form() {
        let s = OccSymbol::parse("SPY   230901C00470000").expect("valid");
        assert_eq!(s.root, "SPY");
        assert_eq!(s.expiry, NaiveDate::from_ymd_opt(2023, 9, 1).expect("date"));
        assert_eq!(s.right, OptionRight::Call);
        assert_eq!(s.strike, Decimal::from(470));
        assert_eq!(s.to_string(), "SPY   230901C00470000");
        let odd = OccSymbol::parse("SPXW  210104P03712500").expect("valid");
        assert_eq!(odd.strike.to_string(), "3712.5");
        assert_eq!(odd.to_string(), "SPXW  210104P03712500");
    }

    #[test]
    fn reads_the_unpadded_broker_form_too() {
        let s = OccSymbol::parse("SPY230901C00470000").expect("compact");
        assert_eq!(s.root, "SPY");
        assert_eq!(s.to_string(), "SPY   230901C00470000");
        assert!(OccSymbol::parse("SPY").is_err());
    }

    #[test]
    fn rejects_what_is_not_occ_and_says_why() {
        for (text, why) in [
            ("SPY2309", "21 ASCII"),
            ("SPY   230231C00470000", "calendar date"),
            ("SPY   230901X00470000", "C or P"),
            ("SPY   2309O1C00470000", "must be digits"),
            ("      230901C00470000", "root"),
        ] {
            let e = OccSymbol::parse(text).expect_err(text);
            assert!(e.to_string().contains(why), "{text}: {e}");
        }
    }

    #[test]
    fn intrinsic_value_and_defaults() {
        let call = OptionContract::new(
            OccSymbol::parse("SPXW  210104C03700000").expect("ok"),
            "SPX",
        );
        assert_eq!(call.style, ExerciseStyle::European);
        assert_eq!(call.multiplier, Decimal::from(100));
        assert_eq!(call.intrinsic(Decimal::new(37255, 1)), Decimal::new(255, 1));
        assert_eq!(call.intrinsic(Decimal::from(3600)), Decimal::ZERO);
        let put = OptionContract::new(
            OccSymbol::parse("SPY   230901P00470000").expect("ok"),
            "SPY",
        );
        assert_eq!(put.style, ExerciseStyle::American);
        assert_eq!(put.intrinsic(Decimal::new(46525, 2)), Decimal::new(475, 2));
        assert!(!Instrument::Index.tradable());
        assert_eq!(Instrument::Option(put).multiplier(), Decimal::from(100));
    }
}
