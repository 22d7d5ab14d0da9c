//! ISO-8601 UTC text <-> nanoseconds, as the report tables write it.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer};

/// Nanoseconds of an RFC 3339 timestamp.
pub fn parse_ts(s: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(s)
        .ok()?
        .with_timezone(&Utc)
        .timestamp_nanos_opt()
}

/// A timestamp cell of a report table.
pub fn de_ts<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let s = <&str>::deserialize(d)?;
    parse_ts(s).ok_or_else(|| serde::de::Error::custom(format!("`{s}` is not an ISO-8601 time")))
}

/// The ISO-8601 UTC text of nanoseconds (seconds precision, as the tables write it).
pub fn iso(ns: i64) -> String {
    DateTime::<Utc>::from_timestamp_nanos(ns).to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// The UTC date of nanoseconds (`YYYY-MM-DD`).
pub fn date(ns: i64) -> String {
    DateTime::<Utc>::from_timestamp_nanos(ns)
        .format("%Y-%m-%d")
        .to_string()
}
