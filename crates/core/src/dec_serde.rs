//! Exact decimals from config values: integers, strings, and floats through their shortest
//! round-trip text (so `0.001` in TOML is exactly 0.001, never 0.00100000000000000002).

use rust_decimal::Decimal;
use serde::de::{self, Deserializer, Visitor};
use std::fmt;
use std::str::FromStr;

struct DecVisitor;

impl Visitor<'_> for DecVisitor {
    type Value = Decimal;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a decimal number (integer, float or string)")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
        if !v.is_finite() {
            return Err(E::custom("expected a finite number"));
        }
        let text = format!("{v}");
        Decimal::from_str(&text)
            .or_else(|_| Decimal::from_scientific(&text))
            .map_err(|_| E::custom(format!("{v} does not fit a decimal")))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
        Decimal::from_str(v.trim()).map_err(|_| E::custom(format!("`{v}` is not a decimal number")))
    }
}

/// `#[serde(deserialize_with = "dec_serde::decimal")]`
pub fn decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    d.deserialize_any(DecVisitor)
}

/// `#[serde(default, deserialize_with = "dec_serde::opt_decimal")]`
pub fn opt_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    d.deserialize_any(DecVisitor).map(Some)
}
