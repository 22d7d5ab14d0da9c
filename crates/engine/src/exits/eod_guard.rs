//! The EOD guard: a clock timer per session, not a strategy and not a data event.
//!
//! When the first bar of a session is delivered the guard schedules two timers: at
//! `flatten_at` (a fixed offset before the session's close, so 12:55 on a 13:00 early close
//! when the regular flatten is 15:55) it cancels working entries and, under the `flatten`
//! policy, closes every position; at the close it fills what is still working at the last
//! price (marked stale) and a position still open is an engine error, never a quiet result.

use chrono::NaiveDate;
use lockstep_core::{Calendar, Session, SessionLookup, UnixNanos};

/// EOD settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EodSettings {
    /// The session calendar.
    pub calendar: Calendar,
    /// Nanoseconds before the close at which the guard runs.
    pub before_close: i64,
    /// Per strategy (by index): close its positions at `flatten_at` (policy `flatten`);
    /// otherwise (`hold`, or a strategy past the end) only cancel its working entries.
    pub flatten: Vec<bool>,
    /// Close options expiring in the session at `flatten_at` whatever their strategy's
    /// policy (default true); when false they are settled at the close instead.
    pub flatten_expiring: bool,
}

/// Timers the guard asks the loop to schedule for a new session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionTimers {
    /// The session.
    pub session: NaiveDate,
    /// When to flatten.
    pub flatten_at: UnixNanos,
    /// The session close.
    pub close: UnixNanos,
}

/// What the guard makes of a delivered bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardStep {
    /// Same session (or outside any session): nothing to schedule.
    Nothing,
    /// The first bar of a session: schedule its timers.
    Schedule(SessionTimers),
    /// A daily bar (labelled before its session opens): the guard cannot act on daily data.
    DailyBar,
}

/// Tracks the current session and hands out its timers once. Only intraday bars inside a
/// regular session start a session: a daily bar is only seen at its close, after the time
/// the guard would have run, so the guard leaves daily data alone.
#[derive(Debug, Clone)]
pub struct EodGuard {
    settings: EodSettings,
    current: Option<Session>,
    lookup: SessionLookup,
}

/// A bar labelled at least this long before its session's open is a daily bar.
const DAILY_LABEL_GAP: i64 = 9 * 3_600 * 1_000_000_000;

impl EodGuard {
    /// A guard with `settings`.
    pub fn new(settings: EodSettings) -> Self {
        EodGuard {
            lookup: SessionLookup::new(settings.calendar),
            settings,
            current: None,
        }
    }

    /// Whether the guard closes any strategy's positions.
    pub fn flattens(&self) -> bool {
        self.settings.flatten.iter().any(|f| *f)
    }

    /// Whether options expiring in the session are closed at `flatten_at`.
    pub fn flattens_expiring(&self) -> bool {
        self.settings.flatten_expiring
    }

    /// Whether the guard closes `strategy`'s positions.
    pub fn flattens_strategy(&self, strategy: lockstep_core::StrategyId) -> bool {
        self.settings
            .flatten
            .get(strategy.0 as usize)
            .copied()
            .unwrap_or(false)
    }

    /// The clock stands at `now` (paper and live, where time passes without bars): the
    /// timers of the session `now` falls in, the first time the clock is seen inside it.
    pub fn on_clock(&mut self, now: UnixNanos) -> GuardStep {
        let Some(session) = self.lookup.day_of(now).1 else {
            return GuardStep::Nothing;
        };
        let inside = now.0 >= session.open.0 && now.0 < session.close.0;
        if !inside || self.current.map(|c| c.date) == Some(session.date) {
            return GuardStep::Nothing;
        }
        self.current = Some(session);
        GuardStep::Schedule(self.timers(session))
    }

    fn timers(&self, session: Session) -> SessionTimers {
        SessionTimers {
            session: session.date,
            flatten_at: session.close.plus(-self.settings.before_close),
            close: session.close,
        }
    }

    /// Bar open times around `ts`, from the first up to (not at) the second, for which
    /// [`EodGuard::on_bar`] does nothing and changes nothing: the session the guard is in,
    /// from its open to its close; outside it, the rest of a local day without a session,
    /// the pre-market stretch before a session's open (bars there are prints, not daily
    /// bars) or the time after its close. `None` when a bar opening at `ts` starts a
    /// session or is taken for a daily bar.
    pub fn quiet_window(&mut self, ts: UnixNanos) -> Option<(UnixNanos, UnixNanos)> {
        if let Some(c) = self.current {
            if ts.0 >= c.open.0 && ts.0 < c.close.0 {
                return Some((c.open, c.close));
            }
        }
        let (span, session) = self.lookup.day_span(ts);
        let (start, end) = span?;
        let Some(s) = session else {
            return Some((start, end));
        };
        if ts.0 >= s.close.0 {
            return Some((s.close, end));
        }
        let prints_from = s.open.0 - DAILY_LABEL_GAP + 1;
        (ts.0 < s.open.0 && ts.0 >= prints_from)
            .then_some((UnixNanos(prints_from.max(start.0)), s.open))
    }

    /// For a bar opening at `ts`: the new session's timers when the bar starts one.
    pub fn on_bar(&mut self, ts: UnixNanos) -> GuardStep {
        if let Some(c) = self.current {
            if ts.0 >= c.open.0 && ts.0 < c.close.0 {
                return GuardStep::Nothing;
            }
        }
        let Some(session) = self.lookup.day_of(ts).1 else {
            return GuardStep::Nothing;
        };
        if ts.0 < session.open.0 {
            // 00:00 local labels a daily bar (9.5 h before the open); pre-market prints start
            // at 04:00 (5.5 h before).
            return if session.open.0 - ts.0 >= DAILY_LABEL_GAP {
                GuardStep::DailyBar
            } else {
                GuardStep::Nothing
            };
        }
        if ts.0 >= session.close.0 || self.current.map(|c| c.date) == Some(session.date) {
            return GuardStep::Nothing;
        }
        self.current = Some(session);
        GuardStep::Schedule(self.timers(session))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(iso: &str) -> UnixNanos {
        UnixNanos(
            chrono::DateTime::parse_from_rfc3339(iso)
                .unwrap()
                .timestamp_nanos_opt()
                .unwrap(),
        )
    }

    /// Across a week with an early close, a holiday and a weekend, at every 7th minute as
    /// the bars come: a quiet window holds the time asked about, and a bar opening
    /// anywhere in it (its first and last nanosecond included) leaves the guard doing
    /// nothing and in the same session.
    #[test]
    fn nothing_happens_inside_a_quiet_window() {
        let mut g = EodGuard::new(EodSettings {
            calendar: Calendar::Nyse,
            before_close: 5 * 60 * 1_000_000_000,
            flatten: vec![false],
            flatten_expiring: true,
        });
        let (mut ts, until) = (ns("2015-12-22T00:03:00Z"), ns("2015-12-30T00:00:00Z"));
        let (mut windows, mut refused) = (0, 0);
        while ts.0 < until.0 {
            match g.quiet_window(ts) {
                Some((from, to)) => {
                    windows += 1;
                    assert!(from.0 <= ts.0 && ts.0 < to.0, "{ts:?} outside its window");
                    for t in [from.0, (from.0 + to.0) / 2, to.0 - 1] {
                        let mut probe = g.clone();
                        let step = probe.on_bar(UnixNanos(t));
                        assert_eq!(step, GuardStep::Nothing, "at {}", UnixNanos(t).to_iso());
                        assert_eq!(probe.current, g.current, "at {}", UnixNanos(t).to_iso());
                    }
                }
                None => refused += 1,
            }
            g.on_bar(ts);
            ts = ts.plus(7 * 60 * 1_000_000_000);
        }
        assert!(
            windows > 1_000 && refused >= 5,
            "{windows} windows, {refused} refused"
        );
    }

    #[test]
    fn schedules_once_per_session_with_the_early_close_offset() {
        let mut g = EodGuard::new(EodSettings {
            calendar: Calendar::Nyse,
            before_close: 5 * 60 * 1_000_000_000,
            flatten: vec![true],
            flatten_expiring: true,
        });
        let timers = |s: GuardStep| match s {
            GuardStep::Schedule(t) => t,
            other => panic!("expected timers, got {other:?}"),
        };
        let t = timers(g.on_bar(ns("2015-12-23T14:30:00Z")));
        assert_eq!(
            (t.flatten_at.to_iso(), t.close.to_iso()),
            ("2015-12-23T20:55:00Z".into(), "2015-12-23T21:00:00Z".into())
        );
        assert_eq!(g.on_bar(ns("2015-12-23T20:59:00Z")), GuardStep::Nothing);
        assert_eq!(
            g.on_bar(ns("2015-12-24T13:00:00Z")),
            GuardStep::Nothing,
            "pre-market print"
        );
        let t = timers(g.on_bar(ns("2015-12-24T14:30:00Z")));
        assert_eq!(
            t.flatten_at.to_iso(),
            "2015-12-24T17:55:00Z",
            "12:55 ET on the 13:00 early close"
        );
        assert_eq!(
            g.on_bar(ns("2015-12-28T05:00:00Z")),
            GuardStep::DailyBar,
            "a daily bar labelled 00:00 ET"
        );
    }
}
