//! Time as integer nanoseconds since the Unix epoch (UTC) and bar intervals.

use chrono::{DateTime, Utc};
use std::fmt;
use std::str::FromStr;

/// Nanoseconds since 1970-01-01T00:00:00Z. Exchange-local time exists only at the edges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct UnixNanos(pub i64);

/// Nanoseconds in one second.
pub const NANOS_PER_SEC: i64 = 1_000_000_000;
/// Nanoseconds in one UTC day.
pub const NANOS_PER_DAY: i64 = 86_400 * NANOS_PER_SEC;

impl UnixNanos {
    /// The instant `self + nanos`, saturating at the ends of the i64 range.
    pub fn plus(self, nanos: i64) -> UnixNanos {
        UnixNanos(self.0.saturating_add(nanos))
    }

    /// Whole UTC days since the epoch (floor), used as the `24x7` session key.
    pub fn utc_day(self) -> i64 {
        self.0.div_euclid(NANOS_PER_DAY)
    }

    /// Converts to a chrono UTC timestamp (always representable for i64 nanos).
    pub fn to_datetime(self) -> DateTime<Utc> {
        DateTime::from_timestamp_nanos(self.0)
    }

    /// ISO-8601 UTC text, e.g. `2004-12-21T05:00:00Z`; fractional seconds appear only when
    /// present, as 3, 6 or 9 digits (`...:01.500Z`).
    pub fn to_iso(self) -> String {
        let mut out = String::with_capacity(30);
        self.push_iso(&mut out);
        out
    }

    /// Appends [`UnixNanos::to_iso`]'s text to `out`.
    pub fn push_iso(self, out: &mut String) {
        let (text, len) = self.iso_bytes();
        out.extend(text[..len].iter().map(|b| char::from(*b)));
    }

    /// [`UnixNanos::to_iso`]'s ASCII text in a fixed buffer, and its length. The i64 range
    /// spans years 1677..2262, so the year always has 4 digits.
    fn iso_bytes(self) -> ([u8; 30], usize) {
        let (day, sod, nanos) = self.day_parts();
        let mut b = [0u8; 30];
        b[..11].copy_from_slice(&date_text(day));
        let (time, len) = time_text(sod, nanos);
        b[11..].copy_from_slice(&time);
        (b, 11 + len)
    }

    /// Whole UTC days since the epoch, the second of that day and the nanosecond of that
    /// second.
    fn day_parts(self) -> (i64, u32, u32) {
        let secs = self.0.div_euclid(NANOS_PER_SEC);
        let nanos = self.0.rem_euclid(NANOS_PER_SEC) as u32;
        (
            secs.div_euclid(86_400),
            secs.rem_euclid(86_400) as u32,
            nanos,
        )
    }
}

/// `YYYY-MM-DDT` of a UTC day count since the epoch.
fn date_text(day: i64) -> [u8; 11] {
    let (y, m, d) = civil_from_days(day);
    let mut b = *b"0000-00-00T";
    let y = y as u32;
    put_pair(&mut b, 0, y / 100);
    put_pair(&mut b, 2, y % 100);
    put_pair(&mut b, 5, m);
    put_pair(&mut b, 8, d);
    b
}

/// `HH:MM:SS[.fff|.ffffff|.fffffffff]Z` of a second of the day and its nanoseconds, in a
/// fixed buffer, and its length.
fn time_text(sod: u32, nanos: u32) -> ([u8; 19], usize) {
    let mut b = *b"00:00:00.000000000Z";
    put_pair(&mut b, 0, sod / 3_600);
    put_pair(&mut b, 3, sod % 3_600 / 60);
    put_pair(&mut b, 6, sod % 60);
    let digits = match nanos {
        0 => return zulu(b, 8),
        n if n % 1_000_000 == 0 => 3,
        n if n % 1_000 == 0 => 6,
        _ => 9,
    };
    let mut rest = nanos / 10u32.pow(9 - digits);
    for at in (9..9 + digits as usize).rev() {
        b[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    zulu(b, 9 + digits as usize)
}

/// Writes instants as [`UnixNanos::to_iso`] does, keeping the date text of the last UTC day
/// written and the whole text of the last instant: the instants of a report row mostly
/// share a day (and an order's creation and last update often share the instant), and skip
/// the calendar arithmetic.
#[derive(Debug, Clone, Default)]
pub struct IsoWriter {
    day: Option<i64>,
    date: [u8; 11],
    last: Option<UnixNanos>,
    text: [u8; 30],
    len: usize,
}

impl IsoWriter {
    /// Appends `t`'s ISO-8601 text to `out`.
    pub fn push(&mut self, t: UnixNanos, out: &mut Vec<u8>) {
        if self.last != Some(t) {
            let (day, sod, nanos) = t.day_parts();
            if self.day != Some(day) {
                self.date = date_text(day);
                self.day = Some(day);
            }
            let (time, len) = time_text(sod, nanos);
            self.text[..11].copy_from_slice(&self.date);
            self.text[11..].copy_from_slice(&time);
            self.len = 11 + len;
            self.last = Some(t);
        }
        out.extend_from_slice(&self.text[..self.len]);
    }
}

/// The UTC day ([`UnixNanos::utc_day`]) of instants that mostly fall on the day of the one
/// before: the day's bounds are kept, so an instant inside them costs two comparisons
/// instead of a division.
#[derive(Debug, Clone, Copy)]
pub struct UtcDays {
    day: i64,
    /// The day's first nanosecond.
    from: i64,
    /// The next day's first nanosecond; `from > until` when no day is kept.
    until: i64,
}

impl Default for UtcDays {
    fn default() -> Self {
        UtcDays {
            day: 0,
            from: 1,
            until: 0,
        }
    }
}

impl UtcDays {
    /// `t.utc_day()`.
    #[inline]
    pub fn day(&mut self, t: UnixNanos) -> i64 {
        if t.0 >= self.from && t.0 < self.until {
            return self.day;
        }
        let day = t.utc_day();
        let bounds = day
            .checked_mul(NANOS_PER_DAY)
            .and_then(|from| Some((from, from.checked_add(NANOS_PER_DAY)?)));
        // A day cut by the ends of the i64 range is not kept: each of its instants divides.
        (self.from, self.until) = bounds.unwrap_or((1, 0));
        self.day = day;
        day
    }

    /// The bounds of the day last asked for ([`UtcDays::day`]), when that day is kept: its
    /// first instant, and the first instant of the next day.
    pub fn kept(&self) -> Option<(UnixNanos, UnixNanos)> {
        (self.from <= self.until).then_some((UnixNanos(self.from), UnixNanos(self.until)))
    }
}

/// `b` ended by `Z` at `at` (the fraction, if any, is already in place before it).
fn zulu<const N: usize>(mut b: [u8; N], at: usize) -> ([u8; N], usize) {
    b[at] = b'Z';
    (b, at + 1)
}

/// Writes `v` (below 100) as two digits at `b[at..at + 2]`.
fn put_pair<const N: usize>(b: &mut [u8; N], at: usize, v: u32) {
    b[at] = b'0' + (v / 10 % 10) as u8;
    b[at + 1] = b'0' + (v % 10) as u8;
}

/// Proleptic Gregorian (year, month, day) of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`), exact for the whole i64-nanosecond range.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

impl fmt::Display for UnixNanos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_iso())
    }
}

/// Errors from parsing time values.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TimeError {
    /// The interval text is not `<positive integer><unit>` with unit s, m, h, d.
    #[error("bad interval `{0}`: expected e.g. 30s, 1m, 5m, 1h, 1d")]
    BadInterval(String),
}

/// A bar interval, a positive whole number of nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Interval(i64);

impl Interval {
    /// One nanosecond: a placeholder for readers whose delivery time does not matter
    /// (inspection, import, interval inference).
    pub const NANOSECOND: Interval = Interval(1);

    /// An interval of `nanos` nanoseconds; `None` unless positive.
    pub fn from_nanos(nanos: i64) -> Option<Interval> {
        (nanos > 0).then_some(Interval(nanos))
    }

    /// Length in nanoseconds (always > 0).
    pub fn nanos(self) -> i64 {
        self.0
    }
}

impl FromStr for Interval {
    type Err = TimeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || TimeError::BadInterval(s.to_string());
        let t = s.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        let (num, unit) = t.split_at(split);
        let n: i64 = num.parse().map_err(|_| bad())?;
        let unit_nanos = match unit {
            "s" => NANOS_PER_SEC,
            "m" | "min" => 60 * NANOS_PER_SEC,
            "h" => 3_600 * NANOS_PER_SEC,
            "d" => NANOS_PER_DAY,
            _ => return Err(bad()),
        };
        n.checked_mul(unit_nanos)
            .and_then(Interval::from_nanos)
            .ok_or_else(bad)
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        for (unit, size) in [
            ("d", NANOS_PER_DAY),
            ("h", 3_600 * NANOS_PER_SEC),
            ("m", 60 * NANOS_PER_SEC),
            ("s", NANOS_PER_SEC),
        ] {
            if n % size == 0 {
                return write!(f, "{}{}", n / size, unit);
            }
        }
        write!(f, "{n}ns")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::SecondsFormat;

    #[test]
    fn parses_and_prints_intervals() {
        let i: Interval = "5m".parse().unwrap();
        assert_eq!(i.nanos(), 300 * NANOS_PER_SEC);
        assert_eq!(i.to_string(), "5m");
        assert_eq!("1d".parse::<Interval>().unwrap().to_string(), "1d");
        assert!("0m".parse::<Interval>().is_err());
        assert!("m".parse::<Interval>().is_err());
        assert!("5x".parse::<Interval>().is_err());
    }

    #[test]
    fn fast_iso_matches_chrono_everywhere() {
        let mut x: i64 = 0x1234_5678;
        for _ in 0..20_000 {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let round = [x, x - x % NANOS_PER_SEC, x - x % 1_000_000, x - x % 1_000];
            for t in round.into_iter().chain([i64::MIN, i64::MAX, -1]) {
                let chrono = UnixNanos(t)
                    .to_datetime()
                    .to_rfc3339_opts(SecondsFormat::AutoSi, true);
                assert_eq!(UnixNanos(t).to_iso(), chrono, "{t}");
                let mut bytes = b"row,".to_vec();
                IsoWriter::default().push(UnixNanos(t), &mut bytes);
                assert_eq!(bytes, format!("row,{chrono}").into_bytes(), "{t}");
            }
        }
    }

    /// An [`IsoWriter`] writes what `to_iso` writes along a walk that mostly stays within a
    /// day (its date kept), crosses midnights both ways, jumps to both ends of the range and
    /// now and then repeats an instant (its text kept).
    #[test]
    fn iso_writer_matches_to_iso() {
        let mut writer = IsoWriter::default();
        let mut x: i64 = 0x3141_5926;
        let mut t: i64 = -2 * NANOS_PER_DAY + 7;
        let mut out = Vec::new();
        for k in 0..50_000u32 {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            t = match k % 500 {
                0 => x,
                1 => i64::MIN + (x & 0xffff),
                2 => i64::MAX - (x & 0xffff),
                3 => t - t.rem_euclid(NANOS_PER_DAY) - 1,
                _ => {
                    t.saturating_add((x >> 34).rem_euclid(NANOS_PER_DAY / 20) - NANOS_PER_DAY / 200)
                }
            };
            let t = if k % 3 == 0 { t - t % NANOS_PER_SEC } else { t };
            // Now and then the same instant twice (an order created and filled at once).
            for _ in 0..1 + usize::from(k % 7 == 0) {
                out.clear();
                writer.push(UnixNanos(t), &mut out);
                assert_eq!(out, UnixNanos(t).to_iso().into_bytes(), "{t}");
            }
        }
    }

    /// The kept day equals a division for every instant of a random walk that stays within a
    /// day, jumps days and reaches both ends of the i64 range.
    #[test]
    fn kept_utc_days_equal_dividing() {
        let mut days = UtcDays::default();
        let mut x: i64 = 0x2545_f491;
        let mut t: i64 = -3 * NANOS_PER_DAY + 5;
        for k in 0..200_000u32 {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            t = match k % 1_000 {
                0 => x,
                1 => i64::MIN + (x & 0xff),
                2 => i64::MAX - (x & 0xff),
                3 => t - t.rem_euclid(NANOS_PER_DAY) - 1,
                4 => (t - t.rem_euclid(NANOS_PER_DAY)).saturating_add(NANOS_PER_DAY),
                _ => t.saturating_add((x >> 40).rem_euclid(NANOS_PER_DAY / 50)),
            };
            let day = UnixNanos(t).utc_day();
            assert_eq!(days.day(UnixNanos(t)), day, "{t}");
            if let Some((from, until)) = days.kept() {
                assert!(from.0 <= t && t < until.0, "{t}");
                assert_eq!(from.utc_day(), day, "{t}");
                assert_eq!(UnixNanos(until.0 - 1).utc_day(), day, "{t}");
                assert_eq!(until.utc_day(), day + 1, "{t}");
            } else {
                let edge = day.checked_mul(NANOS_PER_DAY);
                let next = edge.and_then(|from| from.checked_add(NANOS_PER_DAY));
                assert!(next.is_none(), "{t}: a day inside the range is kept");
            }
        }
    }

    #[test]
    fn iso_text_is_utc_with_z() {
        assert_eq!(UnixNanos(0).to_iso(), "1970-01-01T00:00:00Z");
        assert_eq!(
            UnixNanos(1_500_000_000).to_iso(),
            "1970-01-01T00:00:01.500Z"
        );
        assert_eq!(UnixNanos(-1).utc_day(), -1);
    }
}
