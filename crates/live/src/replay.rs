//! Journal replay: feeds a session's recorded inputs through a fresh engine and compares
//! every decision it makes with the recorded ones, in order. The first difference names
//! its sequence number and both sides.

use crate::journal::{Record, RecordKind};
use crate::records::{decode_input, DecodeError};
use crate::session::{Session, SessionError};
use lockstep_core::UnixNanos;
use lockstep_engine::{Journal, RunOutcome, Venue};
use std::collections::VecDeque;

/// Where a replay first disagreed with the recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Divergence {
    /// The journal sequence number of the first differing record.
    pub seq: u64,
    /// What the journal holds there (`None`: the journal has no more decisions).
    pub recorded: Option<String>,
    /// What the replay decided (`None`: the replay decided nothing more).
    pub replayed: Option<String>,
}

impl std::fmt::Display for Divergence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = |s: &Option<String>| s.clone().unwrap_or_else(|| "(nothing)".into());
        write!(
            f,
            "first difference at seq {}\n  recorded: {}\n  replayed: {}",
            self.seq,
            show(&self.recorded),
            show(&self.replayed)
        )
    }
}

/// What a replay found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReplayReport {
    /// Inputs fed.
    pub inputs: u64,
    /// Decisions compared.
    pub decisions: u64,
    /// The first difference, if any.
    pub divergence: Option<Divergence>,
}

/// Why a replay could not run.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// A record could not be read back as an input.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The engine stopped.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// The journal never recorded the session's start.
    #[error("the journal has no session start record")]
    NoBegin,
}

/// How feeding a journal's records through a session ended.
pub(crate) enum Fed {
    /// A decision differed (the report says where).
    Diverged,
    /// The session's end record was reached at this time.
    Ended(i64),
    /// The records ran out before an end record; the replay's decisions not in the
    /// journal (those of the last input, if its decisions never became durable).
    Open(VecDeque<String>),
}

/// Feeds `records` through `session` in order, comparing every decision with the recorded
/// one; `on_symbol` hears each bar's symbol (a live venue needs the tickers).
pub(crate) fn feed_records<V: Venue, J: Journal>(
    records: &[Record],
    session: &mut Session<V, J>,
    report: &mut ReplayReport,
    on_symbol: &mut dyn FnMut(lockstep_core::SymbolId, &str),
) -> Result<Fed, ReplayError> {
    let mut made: VecDeque<String> = VecDeque::new();
    let mut begun = false;
    let mut symbols = lockstep_core::SymbolTable::new();
    for r in records {
        match r.kind {
            RecordKind::Decision => match made.pop_front() {
                Some(m) if m == r.body => report.decisions += 1,
                other => {
                    report.divergence = Some(Divergence {
                        seq: r.seq,
                        recorded: Some(r.body.clone()),
                        replayed: other,
                    });
                    return Ok(Fed::Diverged);
                }
            },
            _ if !made.is_empty() => {
                report.divergence = Some(Divergence {
                    seq: r.seq,
                    recorded: None,
                    replayed: made.pop_front(),
                });
                return Ok(Fed::Diverged);
            }
            RecordKind::Session if r.body.contains("\"begin\"") => {
                made.extend(session.begin(UnixNanos(r.ts))?.into_iter().map(|d| d.1));
                begun = true;
            }
            RecordKind::Session if r.body.contains("\"end\"") => {
                if !begun {
                    return Err(ReplayError::NoBegin);
                }
                return Ok(Fed::Ended(r.ts));
            }
            kind => {
                if let Some(input) = decode_input(r.seq, kind, &r.body, &mut symbols)? {
                    if !begun {
                        return Err(ReplayError::NoBegin);
                    }
                    let input = rebind(input, &symbols, session);
                    if let lockstep_engine::Input::Bar(b) = &input {
                        on_symbol(b.symbol, symbols.name(b.symbol));
                    }
                    made.extend(session.feed(input)?.into_iter().map(|d| d.1));
                    report.inputs += 1;
                }
            }
        }
    }
    Ok(Fed::Open(made))
}

/// Replays `records` through `session` (built like the recorded one, with no store).
/// Returns the comparison and, when the recording reached its end, the replay's totals
/// and report writer.
pub fn replay<V: Venue, J: Journal>(
    records: &[Record],
    mut session: Session<V, J>,
) -> Result<(ReplayReport, Option<(RunOutcome, J)>), ReplayError> {
    let mut report = ReplayReport::default();
    let at = match feed_records(records, &mut session, &mut report, &mut |_, _| {})? {
        Fed::Diverged => return Ok((report, None)),
        Fed::Open(mut made) => {
            if let Some(m) = made.pop_front() {
                report.divergence = Some(Divergence {
                    seq: records.last().map_or(0, |r| r.seq),
                    recorded: None,
                    replayed: Some(m),
                });
            }
            return Ok((report, None));
        }
        Fed::Ended(at) => at,
    };
    let tail = records
        .iter()
        .skip_while(|r| !(r.kind == RecordKind::Session && r.body.contains("\"end\"")))
        .filter(|r| r.kind == RecordKind::Decision);
    let done = session.conclude(UnixNanos(at))?;
    let mut last: VecDeque<String> = done.last.into();
    for r in tail {
        match last.pop_front() {
            Some(m) if m == r.body => report.decisions += 1,
            other => {
                report.divergence = Some(Divergence {
                    seq: r.seq,
                    recorded: Some(r.body.clone()),
                    replayed: other,
                });
                return Ok((report, None));
            }
        }
    }
    if let Some(m) = last.pop_front() {
        report.divergence = Some(Divergence {
            seq: records.last().map_or(0, |r| r.seq),
            recorded: None,
            replayed: Some(m),
        });
        return Ok((report, None));
    }
    Ok((report, Some((done.outcome, done.journal))))
}

/// Bars decoded against a scratch symbol table get the session engine's ids.
fn rebind<V: Venue, J: Journal>(
    input: lockstep_engine::Input,
    scratch: &lockstep_core::SymbolTable,
    session: &mut Session<V, J>,
) -> lockstep_engine::Input {
    match input {
        lockstep_engine::Input::Bar(mut b) => {
            b.symbol = session.symbol(scratch.name(b.symbol));
            lockstep_engine::Input::Bar(b)
        }
        other => other,
    }
}
