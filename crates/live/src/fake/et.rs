//! New York wall time for the fake's clock answers (`2025-06-24T16:00:00-04:00`), from the
//! US daylight-saving rules (1987-2006: first Sunday of April to the last Sunday of October;
//! from 2007: second Sunday of March to the first Sunday of November; 02:00 local).

use chrono::{Datelike, FixedOffset, NaiveDate, Offset, Utc, Weekday};
use lockstep_core::UnixNanos;

const HOUR: i64 = 3_600;

fn nth_sunday(y: i32, m: u32, n: u8) -> Option<NaiveDate> {
    NaiveDate::from_weekday_of_month_opt(y, m, Weekday::Sun, n)
}

fn last_sunday(y: i32, m: u32) -> Option<NaiveDate> {
    (1..=5).rev().find_map(|n| nth_sunday(y, m, n))
}

/// UTC seconds of `d` at `hour`:00 UTC.
fn utc_secs(d: NaiveDate, hour: u32) -> Option<i64> {
    Some(d.and_hms_opt(hour, 0, 0)?.and_utc().timestamp())
}

/// New York's UTC offset in seconds at `ts` (-4 h in daylight time, -5 h otherwise).
pub(crate) fn ny_offset_secs(ts: UnixNanos) -> i32 {
    let secs = ts.0.div_euclid(1_000_000_000);
    let y = ts.to_datetime().year();
    let (start, end) = if y >= 2007 {
        (nth_sunday(y, 3, 2), nth_sunday(y, 11, 1))
    } else {
        (nth_sunday(y, 4, 1), last_sunday(y, 10))
    };
    // 02:00 EST = 07:00 UTC; 02:00 EDT = 06:00 UTC.
    let dst = match (
        start.and_then(|d| utc_secs(d, 7)),
        end.and_then(|d| utc_secs(d, 6)),
    ) {
        (Some(s), Some(e)) => secs >= s && secs < e,
        _ => false,
    };
    if dst {
        (-4 * HOUR) as i32
    } else {
        (-5 * HOUR) as i32
    }
}

/// `ts` as RFC 3339 with New York's offset; fractional seconds only when present.
pub(crate) fn ny_rfc3339(ts: UnixNanos) -> String {
    let off = FixedOffset::east_opt(ny_offset_secs(ts)).unwrap_or_else(|| Utc.fix());
    ts.to_datetime()
        .with_timezone(&off)
        .format("%Y-%m-%dT%H:%M:%S%.f%:z")
        .to_string()
}

/// New York local date and `HH:MM` of `ts`.
pub(crate) fn ny_date_time(ts: UnixNanos) -> (NaiveDate, String) {
    let local = ts
        .plus(i64::from(ny_offset_secs(ts)) * 1_000_000_000)
        .to_datetime();
    (local.date_naive(), local.format("%H:%M").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockstep_core::Calendar;

    #[test]
    fn offsets_agree_with_the_calendar_sessions() {
        let from = NaiveDate::from_ymd_opt(1995, 1, 1).unwrap();
        let to = NaiveDate::from_ymd_opt(2030, 12, 31).unwrap();
        for s in Calendar::Nyse.sessions(from, to) {
            let (date, hm) = ny_date_time(s.open);
            assert_eq!((date, hm.as_str()), (s.date, "09:30"), "{}", s.date);
        }
    }

    #[test]
    fn switch_instants_and_text() {
        // 2024-03-10 02:00 EST = 07:00 UTC.
        let before = UnixNanos(1_710_053_999 * 1_000_000_000);
        assert_eq!(ny_offset_secs(before), -5 * 3600);
        assert_eq!(ny_offset_secs(before.plus(1_000_000_000)), -4 * 3600);
        let t = UnixNanos(1_750_795_200 * 1_000_000_000); // 2025-06-24T20:00:00Z
        assert_eq!(ny_rfc3339(t), "2025-06-24T16:00:00-04:00");
        assert_eq!(
            ny_rfc3339(t.plus(5_000_000)),
            "2025-06-24T16:00:00.005-04:00"
        );
    }
}
