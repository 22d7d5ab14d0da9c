//! Restart: a session rebuilt from its journal. Every recorded input is fed again through a
//! fresh engine (without writing) and every decision must come out as recorded; then the
//! session continues in the same journal. Decisions of the last input that never became
//! durable (the process died between the two writes) are journaled now, before anything
//! they imply is sent.

use crate::journal::{JournalStore, Record, RecordKind};
use crate::replay::{feed_records, Divergence, Fed, ReplayError, ReplayReport};
use crate::session::{Session, SessionError};
use lockstep_core::SymbolId;
use lockstep_engine::{Journal, Venue};

/// What rebuilding found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resumed {
    /// Inputs fed again.
    pub inputs: u64,
    /// Recorded decisions matched.
    pub decisions: u64,
    /// Decisions of the last input that were not in the journal (now journaled).
    pub completed: usize,
    /// Time of the last record (the clock must not run behind it).
    pub last_ts: i64,
}

/// Why a session cannot be resumed.
#[derive(Debug, thiserror::Error)]
pub enum ResumeError {
    /// The journal could not be fed again.
    #[error(transparent)]
    Replay(#[from] ReplayError),
    /// The journal could not be written.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// Feeding the journal again made other decisions: the engine or its config changed.
    #[error("the journal does not rebuild to the decisions it recorded ({0}); refusing to resume")]
    Diverged(Divergence),
    /// The session already ended.
    #[error("the session ended (end record at seq {0}); start a new session instead")]
    Ended(u64),
    /// The journal holds no session start.
    #[error("the journal has no session start record; nothing to resume")]
    NoBegin,
}

/// Rebuilds `session` (built like the recorded one, with no store) from `records`, then
/// attaches `store` (the same journal, opened for appending) and journals a `resume` record
/// at `at`. `on_symbol` hears every symbol the journal's bars name.
pub fn resume<V: Venue, J: Journal>(
    session: &mut Session<V, J>,
    records: &[Record],
    store: JournalStore,
    at: i64,
    on_symbol: &mut dyn FnMut(SymbolId, &str),
) -> Result<Resumed, ResumeError> {
    if !records
        .iter()
        .any(|r| r.kind == RecordKind::Session && r.body.contains("\"begin\""))
    {
        return Err(ResumeError::NoBegin);
    }
    let mut report = ReplayReport::default();
    let left = match feed_records(records, session, &mut report, on_symbol)? {
        Fed::Diverged => {
            let d = report.divergence.unwrap_or(Divergence {
                seq: 0,
                recorded: None,
                replayed: None,
            });
            return Err(ResumeError::Diverged(d));
        }
        Fed::Ended(_) => {
            let seq = records
                .iter()
                .find(|r| r.kind == RecordKind::Session && r.body.contains("\"end\""))
                .map_or(0, |r| r.seq);
            return Err(ResumeError::Ended(seq));
        }
        Fed::Open(left) => left,
    };
    let last_ts = records.last().map_or(at, |r| r.ts);
    session.attach(store);
    let left: Vec<String> = left.into_iter().collect();
    session.append_decisions(&left, last_ts)?;
    let body = serde_json::json!({
        "event": "resume", "inputs": report.inputs, "decisions": report.decisions,
        "completed": left.len(),
    });
    session.note(
        lockstep_core::UnixNanos(at.max(last_ts)),
        RecordKind::Session,
        body.to_string(),
    )?;
    Ok(Resumed {
        inputs: report.inputs,
        decisions: report.decisions,
        completed: left.len(),
        last_ts,
    })
}
