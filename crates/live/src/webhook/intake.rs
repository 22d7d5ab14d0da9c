//! The stateful half of intake, owned by the driver (the loop's side): duplicates, stale
//! signals and signals outside the session. Its state is rebuilt from the signals a resumed
//! session's journal holds, so a resent signal is a duplicate across a restart too.

use super::screen::Candidate;
use lockstep_core::{Calendar, Direction, SessionLookup, Signal, UnixNanos};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// What happens to a signal received while the market is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutsideSession {
    /// It waits for the next session's open: its `ts` becomes the open, and the time it was
    /// received is kept as its `received_at` field.
    Queue,
    /// It is refused (422).
    Refuse,
}

impl OutsideSession {
    /// `queue` or `refuse`.
    pub fn from_name(name: &str) -> Option<OutsideSession> {
        match name {
            "queue" => Some(OutsideSession::Queue),
            "refuse" => Some(OutsideSession::Refuse),
            _ => None,
        }
    }
}

/// The intake's rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeRules {
    /// A signal with the same symbol, direction and timeframe as one accepted less than
    /// this long ago (clock nanoseconds) is a duplicate.
    pub dedup_window: i64,
    /// A signal the sender made more than this long before it was received is refused as
    /// stale (none: no age limit; a signal without a sender's time is never stale).
    pub max_age: Option<i64>,
    /// Signals received while the market is closed.
    pub outside_session: OutsideSession,
    /// The session calendar (`24x7`: always open).
    pub calendar: Calendar,
}

impl Default for IntakeRules {
    /// 60 s dedup window, 60 s max age, queue outside the session, NYSE hours.
    fn default() -> Self {
        IntakeRules {
            dedup_window: 60_000_000_000,
            max_age: Some(60_000_000_000),
            outside_session: OutsideSession::Queue,
            calendar: Calendar::Nyse,
        }
    }
}

/// The intake's verdict on a candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judgement {
    /// For the loop: its `ts` is when it is handled, and it has an id.
    Accepted(Box<Signal>),
    /// Already accepted (same id, or same symbol/direction/timeframe within the window):
    /// answered 200 `duplicate`, never handed to the loop.
    Duplicate {
        /// The signal's id (the sender's, or the one it was accepted under).
        id: Option<String>,
        /// Which rule found it.
        why: String,
    },
    /// Refused (422): stale, or outside the session with `refuse`.
    Refused {
        /// The signal's id, if the sender gave one.
        id: Option<String>,
        /// Why.
        errors: Vec<String>,
    },
}

type Key = (String, Direction, Option<String>);

/// Duplicate and session state of a session's webhook.
#[derive(Debug)]
pub struct Intake {
    rules: IntakeRules,
    lookup: SessionLookup,
    /// Last acceptance (receive time) of each symbol/direction/timeframe.
    recent: BTreeMap<Key, UnixNanos>,
    /// Every id accepted in the session.
    ids: BTreeSet<String>,
    accepted: u64,
}

fn key(s: &Signal) -> Key {
    (s.symbol.clone(), s.direction, s.timeframe.clone())
}

/// When a signal was received: its `received_at` field when it waited for the open,
/// otherwise its `ts`.
fn received_at(s: &Signal) -> UnixNanos {
    s.extra
        .get("received_at")
        .and_then(|v| serde_json::from_str::<Value>(v).ok())
        .and_then(|v| v.as_str().map(str::to_string))
        .and_then(|t| lockstep_data::timeparse::parse_ts_text(&t, None).ok())
        .map_or(s.ts, UnixNanos)
}

fn seconds(ns: i64) -> String {
    rust_decimal::Decimal::new(ns, 9)
        .round_dp(3)
        .normalize()
        .to_string()
}

impl Intake {
    /// An intake with nothing accepted yet.
    pub fn new(rules: IntakeRules) -> Self {
        Intake {
            lookup: SessionLookup::new(rules.calendar),
            rules,
            recent: BTreeMap::new(),
            ids: BTreeSet::new(),
            accepted: 0,
        }
    }

    /// Remembers signals accepted earlier in this session (a resumed session's journal).
    pub fn seed(&mut self, signals: &[Signal]) {
        for s in signals {
            self.remember(s, received_at(s));
        }
    }

    /// Signals accepted so far (seeded ones included).
    pub fn accepted(&self) -> u64 {
        self.accepted
    }

    fn remember(&mut self, s: &Signal, at: UnixNanos) {
        let last = self.recent.entry(key(s)).or_insert(at);
        *last = (*last).max(at);
        if let Some(id) = &s.id {
            self.ids.insert(id.clone());
        }
        self.accepted += 1;
    }

    /// When a signal received at `now` is handled: `now` in the session (or on a 24x7
    /// calendar), else the next open (`None` when no session follows).
    fn handled_at(&mut self, now: UnixNanos) -> Option<UnixNanos> {
        if self.rules.calendar == Calendar::TwentyFourSeven {
            return Some(now);
        }
        match self.lookup.day_of(now) {
            (_, Some(day)) if now >= day.open && now < day.close => Some(now),
            (_, Some(day)) if now < day.open => Some(day.open),
            (date, _) => self.rules.calendar.next_session(date).map(|d| d.open),
        }
    }

    /// Judges `c`, received at `now`: duplicates first (a resend is a duplicate even once
    /// stale), then age, then the session. An accepted signal without an id gets
    /// `wh-<n>` (n counts the session's accepted signals), so every accepted signal can be
    /// named and deduplicated by id.
    pub fn judge(&mut self, c: Candidate, now: UnixNanos) -> Judgement {
        let Candidate {
            mut signal,
            sent_at,
        } = c;
        let window = self.rules.dedup_window;
        self.recent
            .retain(|_, t| now.0.saturating_sub(t.0) < window);
        if let Some(id) = signal.id.as_ref().filter(|id| self.ids.contains(*id)) {
            return Judgement::Duplicate {
                id: Some(id.clone()),
                why: format!("id `{id}` was already accepted"),
            };
        }
        if let Some(t) = self.recent.get(&key(&signal)) {
            let tf = signal.timeframe.as_deref().unwrap_or("-");
            return Judgement::Duplicate {
                id: signal.id.clone(),
                why: format!(
                    "{} {} {tf} was accepted {} s ago (window {} s)",
                    signal.symbol,
                    signal.direction.as_str(),
                    seconds(now.0 - t.0),
                    seconds(window)
                ),
            };
        }
        if let (Some(max), Some(sent)) = (self.rules.max_age, sent_at) {
            let age = now.0.saturating_sub(sent.0);
            if age > max {
                return Judgement::Refused {
                    id: signal.id.clone(),
                    errors: vec![format!(
                        "stale: sent {} s before it was received (max age {} s)",
                        seconds(age),
                        seconds(max)
                    )],
                };
            }
        }
        let Some(at) = self.handled_at(now) else {
            return Judgement::Refused {
                id: signal.id.clone(),
                errors: vec!["outside the session, and the calendar has no next session".into()],
            };
        };
        if at != now {
            if self.rules.outside_session == OutsideSession::Refuse {
                return Judgement::Refused {
                    id: signal.id.clone(),
                    errors: vec![format!(
                        "outside the session (the market opens at {}); webhook.outside_session = \"refuse\"",
                        at.to_iso()
                    )],
                };
            }
            signal.extra.insert(
                "received_at".into(),
                Value::String(now.to_iso()).to_string(),
            );
        }
        signal.ts = at;
        if signal.id.is_none() {
            signal.id = Some(format!("wh-{}", self.accepted + 1));
        }
        self.remember(&signal, now);
        Judgement::Accepted(Box::new(signal))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2024-01-03 (a Wednesday) at `h:m` UTC.
    fn at(h: i64, m: i64) -> UnixNanos {
        UnixNanos(1_704_240_000_000_000_000 + (h * 3600 + m * 60) * 1_000_000_000)
    }

    fn candidate(
        symbol: &str,
        dir: Direction,
        id: Option<&str>,
        sent: Option<UnixNanos>,
    ) -> Candidate {
        Candidate {
            signal: Signal {
                ts: UnixNanos(0),
                symbol: symbol.into(),
                direction: dir,
                timeframe: Some("5m".into()),
                id: id.map(str::to_string),
                price: None,
                extra: BTreeMap::new(),
            },
            sent_at: sent,
        }
    }

    fn accepted(j: Judgement) -> Signal {
        match j {
            Judgement::Accepted(s) => *s,
            other => panic!("not accepted: {other:?}"),
        }
    }

    #[test]
    fn same_symbol_direction_timeframe_within_60s_or_same_id_is_a_duplicate() {
        let mut i = Intake::new(IntakeRules::default());
        let t = at(15, 0);
        let s = accepted(i.judge(candidate("SPY", Direction::Long, None, None), t));
        assert_eq!((s.ts, s.id.as_deref()), (t, Some("wh-1")));
        let dup = i.judge(
            candidate("SPY", Direction::Long, None, None),
            t.plus(59_999_999_999),
        );
        assert!(
            matches!(&dup, Judgement::Duplicate { why, .. } if why.contains("60 s")),
            "{dup:?}"
        );
        accepted(i.judge(candidate("SPY", Direction::Short, None, None), t.plus(1)));
        accepted(i.judge(
            candidate("SPY", Direction::Long, None, None),
            t.plus(60_000_000_000),
        ));
        accepted(i.judge(
            candidate("QQQ", Direction::Long, Some("x9"), None),
            t.plus(2),
        ));
        let again = i.judge(
            candidate("IWM", Direction::Short, Some("x9"), None),
            at(15, 30),
        );
        assert!(matches!(again, Judgement::Duplicate { id: Some(ref id), .. } if id == "x9"));
        assert_eq!(i.accepted(), 4);
    }

    #[test]
    fn a_seeded_intake_knows_what_a_resumed_session_accepted() {
        let mut first = Intake::new(IntakeRules::default());
        let t = at(15, 0);
        let a = accepted(first.judge(candidate("SPY", Direction::Long, Some("k1"), None), t));
        let b = accepted(first.judge(candidate("SPY", Direction::Short, None, None), at(3, 0)));
        let mut again = Intake::new(IntakeRules::default());
        again.seed(&[a, b]);
        assert!(matches!(
            again.judge(
                candidate("AAA", Direction::Long, Some("k1"), None),
                at(16, 0)
            ),
            Judgement::Duplicate { .. }
        ));
        // The queued one was received at 03:00, so its window is long over at 15:00.
        accepted(again.judge(candidate("SPY", Direction::Short, None, None), t));
        let next = accepted(again.judge(candidate("TLT", Direction::Long, None, None), t));
        assert_eq!(
            next.id.as_deref(),
            Some("wh-4"),
            "ids continue after a restart"
        );
    }

    #[test]
    fn stale_signals_are_refused_and_unsent_times_are_never_stale() {
        let mut i = Intake::new(IntakeRules::default());
        let t = at(15, 0);
        let old = i.judge(
            candidate("SPY", Direction::Long, None, Some(t.plus(-60_000_000_001))),
            t,
        );
        assert!(
            matches!(&old, Judgement::Refused { errors, .. } if errors[0].starts_with("stale: sent 60 s")),
            "{old:?}"
        );
        accepted(i.judge(
            candidate("SPY", Direction::Long, None, Some(t.plus(-60_000_000_000))),
            t,
        ));
        let mut no_limit = Intake::new(IntakeRules {
            max_age: None,
            ..IntakeRules::default()
        });
        accepted(no_limit.judge(
            candidate("SPY", Direction::Long, None, Some(UnixNanos(0))),
            t,
        ));
    }

    #[test]
    fn outside_the_session_a_signal_waits_for_the_open_or_is_refused() {
        let mut q = Intake::new(IntakeRules::default());
        // 13:00 UTC is 08:00 ET: before the 09:30 ET open (14:30 UTC).
        let s = accepted(q.judge(candidate("SPY", Direction::Long, None, None), at(13, 0)));
        assert_eq!(s.ts, at(14, 30));
        assert_eq!(
            s.extra.get("received_at").map(String::as_str),
            Some("\"2024-01-03T13:00:00Z\"")
        );
        // After the close (21:00 UTC = 16:00 ET), the next day's open.
        let s = accepted(q.judge(candidate("QQQ", Direction::Long, None, None), at(21, 0)));
        assert_eq!(s.ts, at(24 + 14, 30));
        let mut r = Intake::new(IntakeRules {
            outside_session: OutsideSession::Refuse,
            ..IntakeRules::default()
        });
        let no = r.judge(candidate("SPY", Direction::Long, None, None), at(13, 0));
        assert!(
            matches!(&no, Judgement::Refused { errors, .. } if errors[0].contains("outside the session")),
            "{no:?}"
        );
        let mut crypto = Intake::new(IntakeRules {
            calendar: Calendar::TwentyFourSeven,
            ..IntakeRules::default()
        });
        assert_eq!(
            accepted(crypto.judge(candidate("BTC/USD", Direction::Long, None, None), at(3, 0))).ts,
            at(3, 0)
        );
    }
}
