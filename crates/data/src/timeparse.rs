//! ISO-8601 timestamp text to UTC nanoseconds.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

/// Parses `2004-08-19T04:00:00Z`, `2004-08-19T00:00:00-04:00`, naive `2004-08-19 04:00:00[.fff]`
/// or `2004-08-19T04:00:00`, or a bare date `2004-08-19`. Naive values are in `tz`
/// (UTC when `None`). An ambiguous or skipped local time (DST change) is an error.
pub fn parse_ts_text(text: &str, tz: Option<Tz>) -> Result<i64, String> {
    let t = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return nanos(dt.timestamp_nanos_opt(), t);
    }
    let naive = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
    .or_else(|| {
        NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
    })
    .ok_or_else(|| format!("`{t}` is not an ISO-8601 timestamp"))?;
    match tz {
        None => nanos(naive.and_utc().timestamp_nanos_opt(), t),
        Some(zone) => match zone.from_local_datetime(&naive).single() {
            Some(dt) => nanos(dt.timestamp_nanos_opt(), t),
            None => Err(format!("`{t}` is ambiguous or does not exist in {zone}")),
        },
    }
}

fn nanos(v: Option<i64>, t: &str) -> Result<i64, String> {
    v.ok_or_else(|| format!("`{t}` is outside the representable range (1677..2262)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_forms() {
        let z = parse_ts_text("2004-08-19T04:00:00Z", None).unwrap();
        assert_eq!(parse_ts_text("2004-08-19 04:00:00", None).unwrap(), z);
        assert_eq!(parse_ts_text("2004-08-19T00:00:00-04:00", None).unwrap(), z);
        let ny: Tz = "America/New_York".parse().unwrap();
        assert_eq!(parse_ts_text("2004-08-19", Some(ny)).unwrap(), z);
        assert!(parse_ts_text("19/08/2004", None).is_err());
    }
}
