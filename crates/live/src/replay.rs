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

/// Replays `records` through `session` (built like the recorded one, with no store).
/// Returns the comparison and, when the recording reached its end, the replay's totals
/// and report writer.
pub fn replay<V: Venue, J: Journal>(
    records: &[Record],
    mut session: Session<V, J>,
) -> Result<(ReplayReport, Option<(RunOutcome, J)>), ReplayError> {
    let mut report = ReplayReport::default();
    let mut made: VecDeque<String> = VecDeque::new();
    let mut begun = false;
    let mut ended = None;
    let mut symbols = lockstep_core::SymbolTable::new();
    for r in records {
        let diverged = |made: &mut VecDeque<String>, recorded: Option<String>| Divergence {
            seq: r.seq,
            recorded,
            replayed: made.pop_front(),
        };
        match r.kind {
            RecordKind::Decision => match made.pop_front() {
                Some(m) if m == r.body => report.decisions += 1,
                other => {
                    report.divergence = Some(Divergence {
                        seq: r.seq,
                        recorded: Some(r.body.clone()),
                        replayed: other,
                    });
                    return Ok((report, None));
                }
            },
            _ if !made.is_empty() => {
                report.divergence = Some(diverged(&mut made, None));
                return Ok((report, None));
            }
            RecordKind::Session if r.body.contains("\"begin\"") => {
                made.extend(session.begin(UnixNanos(r.ts))?.into_iter().map(|d| d.1));
                begun = true;
            }
            RecordKind::Session if r.body.contains("\"end\"") => {
                if !begun {
                    return Err(ReplayError::NoBegin);
                }
                ended = Some(r.ts);
                break;
            }
            kind => {
                let names = &mut symbols;
                if let Some(input) = decode_input(r.seq, kind, &r.body, names)? {
                    if !begun {
                        return Err(ReplayError::NoBegin);
                    }
                    let input = rebind(input, &symbols, &mut session);
                    made.extend(session.feed(input)?.into_iter().map(|d| d.1));
                    report.inputs += 1;
                }
            }
        }
    }
    let Some(at) = ended else {
        if let Some(m) = made.pop_front() {
            let seq = records.last().map_or(0, |r| r.seq);
            report.divergence = Some(Divergence {
                seq,
                recorded: None,
                replayed: Some(m),
            });
        }
        return Ok((report, None));
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
