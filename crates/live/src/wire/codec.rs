//! Lenient field codecs shared by the wire types (§0 of the Alpaca notes): decimals from
//! strings or numbers, `""` as none, RFC 3339 timestamps with any offset as [`UnixNanos`].
//!
//! Use them with `#[serde(default, deserialize_with = "...", serialize_with = "...")]`.

use lockstep_core::UnixNanos;
use rust_decimal::Decimal;
use serde::de::{self, Deserializer, Visitor};
use serde::Serializer;
use std::fmt;
use std::str::FromStr;

/// Parses decimal text, plain (`"205.93"`) or scientific (`"1e-7"`).
pub fn decimal_from_text(text: &str) -> Option<Decimal> {
    let t = text.trim();
    Decimal::from_str(t)
        .ok()
        .or_else(|| Decimal::from_scientific(t).ok())
}

/// The exact decimal of a JSON number that serde handed over as an `f64`: the shortest text
/// that round-trips (`205.93`, never `205.930000000001`).
pub fn decimal_from_f64(v: f64) -> Option<Decimal> {
    if !v.is_finite() {
        return None;
    }
    decimal_from_text(&format!("{v}"))
}

/// Parses RFC 3339 text with any offset (`Z`, `-04:00`) and up to 9 fractional digits.
pub fn parse_time(text: &str) -> Option<UnixNanos> {
    chrono::DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .and_then(|t| t.timestamp_nanos_opt())
        .map(UnixNanos)
}

/// Decimal text without trailing zeros (`205.9300` → `205.93`, `2.0` → `2`).
pub fn decimal_text(d: &Decimal) -> String {
    d.normalize().to_string()
}

struct OptDecimalVisitor;

impl<'de> Visitor<'de> for OptDecimalVisitor {
    type Value = Option<Decimal>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a decimal as a string or number, or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(OptDecimalVisitor)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        if v.trim().is_empty() {
            return Ok(None);
        }
        decimal_from_text(v)
            .map(Some)
            .ok_or_else(|| E::custom(format!("`{v}` is not a decimal")))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(Decimal::from(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(Decimal::from(v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        decimal_from_f64(v)
            .map(Some)
            .ok_or_else(|| E::custom(format!("{v} is not a finite decimal")))
    }
}

/// An optional decimal: a string, a number, `null`, `""` or absent (with `default`).
pub fn opt_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    d.deserialize_any(OptDecimalVisitor)
}

/// A required decimal: a string or a number.
pub fn decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    opt_decimal(d)?.ok_or_else(|| de::Error::custom("a decimal is required"))
}

/// A decimal that defaults to zero when `null`, `""` or absent (with `default`).
pub fn decimal_or_zero<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    Ok(opt_decimal(d)?.unwrap_or_default())
}

/// Writes a decimal as a JSON string (the Trading API's convention).
pub fn ser_decimal<S: Serializer>(v: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&decimal_text(v))
}

/// Writes an optional decimal as a JSON string or `null`.
pub fn ser_opt_decimal<S: Serializer>(v: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(d) => s.serialize_str(&decimal_text(d)),
        None => s.serialize_none(),
    }
}

struct OptTimeVisitor;

impl<'de> Visitor<'de> for OptTimeVisitor {
    type Value = Option<UnixNanos>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an RFC 3339 timestamp or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(OptTimeVisitor)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        if v.trim().is_empty() {
            return Ok(None);
        }
        parse_time(v)
            .map(Some)
            .ok_or_else(|| E::custom(format!("`{v}` is not an RFC 3339 timestamp")))
    }
}

/// An optional RFC 3339 timestamp (any offset); `null`, `""` or absent is `None`.
pub fn opt_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<UnixNanos>, D::Error> {
    d.deserialize_any(OptTimeVisitor)
}

/// A required RFC 3339 timestamp (any offset).
pub fn time<'de, D: Deserializer<'de>>(d: D) -> Result<UnixNanos, D::Error> {
    opt_time(d)?.ok_or_else(|| de::Error::custom("a timestamp is required"))
}

/// Writes a timestamp as RFC 3339 UTC (`2023-12-12T22:31:24.668464435Z`).
pub fn ser_time<S: Serializer>(v: &UnixNanos, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&v.to_iso())
}

/// Writes an optional timestamp as RFC 3339 UTC or `null`.
pub fn ser_opt_time<S: Serializer>(v: &Option<UnixNanos>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(t) => s.serialize_str(&t.to_iso()),
        None => s.serialize_none(),
    }
}

/// An optional string where `""` means none.
pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v: Option<String> = serde::Deserialize::deserialize(d)?;
    Ok(v.filter(|s| !s.is_empty()))
}

/// Writes an optional string as itself or `""` (Alpaca's "none" for e.g. `order_class`).
pub fn ser_empty_if_none<S: Serializer>(v: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v.as_deref().unwrap_or(""))
}

/// A list that may be `null`: `null` or absent (with `default`) is empty.
pub fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    let v: Option<Vec<T>> = serde::Deserialize::deserialize(d)?;
    Ok(v.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_from_text_and_floats_are_exact() {
        assert_eq!(decimal_from_text("205.93"), Some(Decimal::new(20593, 2)));
        assert_eq!(decimal_from_text("1e-7"), Some(Decimal::new(1, 7)));
        assert_eq!(decimal_from_f64(205.93), Some(Decimal::new(20593, 2)));
        assert_eq!(
            decimal_from_f64(0.1 + 0.2)
                .map(|d| d.to_string())
                .as_deref(),
            Some("0.30000000000000004")
        );
        assert_eq!(decimal_from_f64(f64::NAN), None);
        assert_eq!(decimal_text(&Decimal::new(2059300, 4)), "205.93");
    }

    #[test]
    fn times_with_any_offset() {
        let a = parse_time("2025-06-24T16:00:00-04:00");
        let b = parse_time("2025-06-24T20:00:00Z");
        assert_eq!(a, b);
        let c = parse_time("2022-04-19T17:45:05.024916716Z").map(|t| t.0 % 1_000_000_000);
        assert_eq!(c, Some(24_916_716));
        assert_eq!(parse_time("yesterday"), None);
    }
}
