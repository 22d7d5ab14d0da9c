//! When a bar may be seen: its delivery time under a trading calendar.
//!
//! `24x7`: `ts + interval`. `nyse`: a daily bar (interval of a day or more, `ts` naming the
//! session date in New York) is delivered at that session's close; an intraday bar at
//! `min(ts + interval, session close)`. Intraday bars outside the regular session are kept
//! out of the stream (and counted) unless extended hours are asked for.

use lockstep_core::time::NANOS_PER_DAY;
use lockstep_core::{Calendar, Interval, Session, SessionLookup, UnixNanos};

/// The delivery decision for one bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivered {
    /// Deliver at this time.
    At(UnixNanos),
    /// Outside the regular session: not delivered, counted.
    OutsideSession,
}

/// Computes delivery times; caches the current session so the hot path does no time-zone work.
#[derive(Debug, Clone)]
pub struct Delivery {
    calendar: Calendar,
    interval: Interval,
    extended: bool,
    current: Option<Session>,
    /// With extended hours: the open times, from the first up to the second, of the
    /// stretch outside any session that was looked up last (delivered at `ts + interval`).
    outside: Option<(i64, i64)>,
    lookup: SessionLookup,
}

impl Delivery {
    /// Delivery of bars of `interval` under `calendar`; `extended` delivers bars outside the
    /// regular session too (at `ts + interval`).
    pub fn new(calendar: Calendar, interval: Interval, extended: bool) -> Self {
        Delivery {
            calendar,
            interval,
            extended,
            current: None,
            outside: None,
            lookup: SessionLookup::new(calendar),
        }
    }

    /// When the bar opening at `ts` may be seen; an error names why it has no session.
    #[inline]
    pub fn end(&mut self, ts: i64) -> Result<Delivered, String> {
        let plain = UnixNanos(ts).plus(self.interval.nanos());
        if self.calendar == Calendar::TwentyFourSeven {
            return Ok(Delivered::At(plain));
        }
        if let Some(s) = self.current {
            if s.open.0 <= ts && ts < s.close.0 {
                return Ok(Delivered::At(plain.min(s.close)));
            }
        }
        if self
            .outside
            .is_some_and(|(from, until)| from <= ts && ts < until)
        {
            return Ok(Delivered::At(plain));
        }
        self.end_in_new_session(ts, plain)
    }

    /// [`Delivery::end`] of a bar outside the session it last looked up: looks its day up.
    #[inline(never)]
    fn end_in_new_session(&mut self, ts: i64, plain: UnixNanos) -> Result<Delivered, String> {
        let (span, session) = self.lookup.day_span(UnixNanos(ts));
        if self.interval.nanos() >= NANOS_PER_DAY {
            return session.map(|s| Delivered::At(s.close)).ok_or_else(|| {
                let (date, _) = self.lookup.day_of(UnixNanos(ts));
                format!(
                    "daily bar for {date}, which is not a {} session",
                    self.calendar
                )
            });
        }
        match session {
            Some(s) if s.open.0 <= ts && ts < s.close.0 => {
                self.current = Some(s);
                Ok(Delivered::At(plain.min(s.close)))
            }
            _ if self.extended => {
                self.outside = span.map(|(start, end)| match session {
                    Some(s) if ts < s.open.0 => (start.0, s.open.0),
                    Some(s) => (s.close.0, end.0),
                    None => (start.0, end.0),
                });
                Ok(Delivered::At(plain))
            }
            _ => Ok(Delivered::OutsideSession),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(iso: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(iso)
            .unwrap()
            .timestamp_nanos_opt()
            .unwrap()
    }

    fn at(d: Delivered) -> String {
        match d {
            Delivered::At(t) => t.to_iso(),
            Delivered::OutsideSession => "outside".into(),
        }
    }

    /// One delivery asked about every minute (in time order, reversed, scrambled) answers as a
    /// new one asked about each minute alone, across an early close, a holiday and a weekend,
    /// with and without extended hours.
    #[test]
    fn remembered_stretches_answer_as_a_fresh_lookup() {
        let m5 = "5m".parse().unwrap();
        let start = ns("2015-12-22T00:00:00Z");
        let minutes: Vec<i64> = (0..8 * 1_440).map(|k| start + k * 60_000_000_000).collect();
        let mut scrambled = minutes.clone();
        let mut x: u64 = 3;
        for i in (1..scrambled.len()).rev() {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            scrambled.swap(i, (x >> 33) as usize % (i + 1));
        }
        let reversed: Vec<i64> = minutes.iter().rev().copied().collect();
        for extended in [true, false] {
            for order in [&minutes, &reversed, &scrambled] {
                let mut kept = Delivery::new(Calendar::Nyse, m5, extended);
                for ts in order {
                    let fresh = Delivery::new(Calendar::Nyse, m5, extended).end(*ts);
                    assert_eq!(kept.end(*ts), fresh, "{}", UnixNanos(*ts).to_iso());
                }
            }
        }
    }

    #[test]
    fn intraday_bars_end_at_the_session_close_and_outside_bars_are_held_back() {
        let m5 = "5m".parse().unwrap();
        let mut d = Delivery::new(Calendar::Nyse, m5, false);
        assert_eq!(at(d.end(ns("2015-12-23T14:29:00Z")).unwrap()), "outside");
        assert_eq!(
            at(d.end(ns("2015-12-23T14:30:00Z")).unwrap()),
            "2015-12-23T14:35:00Z"
        );
        assert_eq!(
            at(d.end(ns("2015-12-23T20:58:00Z")).unwrap()),
            "2015-12-23T21:00:00Z"
        );
        assert_eq!(at(d.end(ns("2015-12-23T21:00:00Z")).unwrap()), "outside");
        assert_eq!(
            at(d.end(ns("2015-12-24T17:58:00Z")).unwrap()),
            "2015-12-24T18:00:00Z",
            "early close"
        );
        assert_eq!(at(d.end(ns("2015-12-24T18:00:00Z")).unwrap()), "outside");
        let mut x = Delivery::new(Calendar::Nyse, m5, true);
        assert_eq!(
            at(x.end(ns("2015-12-23T21:00:00Z")).unwrap()),
            "2015-12-23T21:05:00Z"
        );
    }

    #[test]
    fn daily_bars_end_at_their_sessions_close() {
        let mut d = Delivery::new(Calendar::Nyse, "1d".parse().unwrap(), false);
        assert_eq!(
            at(d.end(ns("2004-12-21T05:00:00Z")).unwrap()),
            "2004-12-21T21:00:00Z"
        );
        assert_eq!(
            at(d.end(ns("2012-07-03T04:00:00Z")).unwrap()),
            "2012-07-03T17:00:00Z"
        );
        assert!(d.end(ns("2012-07-04T04:00:00Z")).is_err());
        let mut c = Delivery::new(Calendar::TwentyFourSeven, "1d".parse().unwrap(), false);
        assert_eq!(
            at(c.end(ns("2004-12-21T05:00:00Z")).unwrap()),
            "2004-12-22T05:00:00Z"
        );
    }
}
