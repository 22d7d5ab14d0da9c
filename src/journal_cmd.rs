//! `lockstep journal inspect|replay`: read a paper or live session's write-ahead journal.
//!
//! `inspect` prints what the journal holds and whether its checksum chain is intact.
//! `replay` rebuilds the session's engine from the config recorded in the journal's meta,
//! feeds it every recorded input and compares every decision it makes with the recorded one,
//! in order; `--out DIR` also writes the replay's report folder.
//!
//! Exit codes: 0 ok; 1 (`inspect`) the checksum chain is broken, or a runtime failure;
//! 2 the file is missing or not a journal, a meta key is missing or the recorded config is
//! bad; 3 (`replay`) the replay differs from the recording (including a journal whose
//! checksum chain breaks: the decisions after the break are not there to compare).

use crate::config;
use crate::error::AppError;
use crate::run::{engine_parts, run_facts, EngineParts};
use chrono::{SecondsFormat, Utc};
use lockstep_engine::{EngineError, Journal, MemoryJournal, RunOutcome};
use lockstep_live::journal::{Integrity, JournalReader, JournalStoreError, Record};
use lockstep_live::recorded_venue::RecordedVenue;
use lockstep_live::replay::{replay, Divergence, ReplayError, ReplayReport};
use lockstep_live::session::SessionError;
use lockstep_report::{ReportJournal, ReportPaths};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Exit code of a replay that differs from its recording (as `scenario verify` mismatches).
pub const EXIT_DIFFERENCE: u8 = 3;
/// Exit code of `journal inspect` on a journal whose checksum chain is broken.
pub const EXIT_BROKEN: u8 = 1;

/// `lockstep journal ...`
#[derive(Debug, Clone, clap::Subcommand)]
pub enum JournalCommand {
    /// Print a session journal's record counts by kind, time span, last seq, meta and
    /// integrity (exit 1 when its checksum chain is broken, 2 when it is not a journal).
    Inspect {
        /// The journal file (a paper/live report folder's journal.db).
        path: PathBuf,
    },
    /// Feed a session journal's recorded inputs through a fresh engine built from its
    /// recorded config and compare every decision with the recorded one; exit 3 at the first
    /// difference (or where the checksum chain breaks).
    Replay(ReplayArgs),
}

/// Arguments of `lockstep journal replay`.
#[derive(Debug, Clone, clap::Args)]
pub struct ReplayArgs {
    /// The journal file (a paper/live report folder's journal.db).
    pub path: PathBuf,
    /// Write the replay's report folder into DIR (only when the replay finds no
    /// difference and the session concluded). DIR may be the session's own report folder:
    /// its journal is kept.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print nothing when there is no difference (differences and warnings still are).
    #[arg(long)]
    pub quiet: bool,
}

/// Runs a `journal` subcommand; returns the process exit code.
pub fn run(cmd: &JournalCommand) -> Result<u8, AppError> {
    match cmd {
        JournalCommand::Inspect { path } => inspect(path),
        JournalCommand::Replay(args) => replay_cmd(args, std::env::args().collect()),
    }
}

/// A journal store error: missing or foreign files are bad input (2), the rest runtime (1).
fn store_err(e: JournalStoreError) -> AppError {
    match e {
        JournalStoreError::NotFound(_) | JournalStoreError::NotAJournal(..) => {
            AppError::BadInput(e.to_string())
        }
        other => AppError::Runtime(other.to_string()),
    }
}

/// The text `inspect` shows for the `config` meta value: its line count.
fn config_lines(text: &str) -> String {
    let n = text.lines().count();
    format!("({n} line{} of TOML)", if n == 1 { "" } else { "s" })
}

/// `journal inspect PATH`: prints the inspection; 0 intact, 1 broken.
pub fn inspect(path: &Path) -> Result<u8, AppError> {
    let reader = JournalReader::open(path).map_err(store_err)?;
    let mut inspection = reader.inspect().map_err(store_err)?;
    if let Some(text) = inspection.meta.get_mut("config") {
        *text = config_lines(text);
    }
    println!("journal: {}", path.display());
    println!("{inspection}");
    Ok(if inspection.integrity.is_intact() {
        0
    } else {
        EXIT_BROKEN
    })
}

/// Which venue the recorded session traded on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// The simulated venue: the replay simulates it again.
    Paper,
    /// A broker: its answers are recorded inputs; the replay's venue sends nothing.
    Live,
}

/// What a journal says about its session, and its verified records.
pub(crate) struct Recorded {
    pub(crate) mode: Mode,
    pub(crate) run_id: String,
    /// When the session's clock started (meta `clock_start`), if recorded and readable.
    pub(crate) clock_start: Option<lockstep_core::UnixNanos>,
    pub(crate) cfg: config::Config,
    pub(crate) table: toml::Table,
    pub(crate) records: Vec<Record>,
    pub(crate) integrity: Integrity,
}

/// Reads the meta keys, the config and every verified record; the reader is closed on
/// return (so the file can be moved into a report folder).
pub(crate) fn read_journal(path: &Path) -> Result<Recorded, AppError> {
    let reader = JournalReader::open(path).map_err(store_err)?;
    let meta = |key: &str| -> Result<String, AppError> {
        reader.meta(key).map_err(store_err)?.ok_or_else(|| {
            AppError::BadInput(format!(
                "{}: journal meta has no `{key}` key (not written by `lockstep paper` or `lockstep live`?)",
                path.display()
            ))
        })
    };
    let mode = match meta("mode")?.as_str() {
        "paper" => Mode::Paper,
        "live" => Mode::Live,
        other => {
            return Err(AppError::BadInput(format!(
                "{}: journal meta `mode` is `{}` (expected paper or live)",
                path.display(),
                other.escape_debug()
            )))
        }
    };
    let run_id = meta("run_id")?;
    let clock_start = meta("clock_start")
        .ok()
        .and_then(|t| crate::live_setup::parse_ts("clock_start", &t).ok());
    let text = meta("config")?;
    let table = text.parse::<toml::Table>().map_err(|e| {
        AppError::BadInput(format!(
            "{}: journal meta `config`: invalid TOML: {}",
            path.display(),
            e.message()
        ))
    })?;
    // from_table only uses the path to name where the config came from.
    let origin = PathBuf::from(format!("{}: journal meta `config`", path.display()));
    let cfg = config::from_table(table.clone(), Some(&origin))?;
    let (records, integrity) = reader.read_all().map_err(store_err)?;
    Ok(Recorded {
        mode,
        run_id,
        clock_start,
        cfg,
        table,
        records,
        integrity,
    })
}

fn replay_err(path: &Path, e: ReplayError) -> AppError {
    let msg = format!("{}: {e}", path.display());
    match e {
        ReplayError::Decode(_) | ReplayError::NoBegin => AppError::BadInput(msg),
        ReplayError::Session(SessionError::Engine(
            EngineError::Data(_)
            | EngineError::EodNeedsIntraday
            | EngineError::OptionsNeedSessions(_),
        )) => AppError::BadInput(msg),
        ReplayError::Session(_) => AppError::Runtime(msg),
    }
}

type Replayed<J> = (ReplayReport, Option<(RunOutcome, J)>);

/// Replays on the venue of the recorded mode: the sim venue for paper, the recorded
/// broker's answers for live.
fn replay_mode<J: Journal>(
    path: &Path,
    rec: &Recorded,
    parts: EngineParts,
    inner: J,
) -> Result<Replayed<J>, AppError> {
    let replayed = match rec.mode {
        Mode::Paper => replay(&rec.records, parts.session(inner, None)),
        Mode::Live => replay(
            &rec.records,
            parts.session_on(RecordedVenue::default(), inner, None),
        ),
    };
    replayed.map_err(|e| replay_err(path, e))
}

/// The first difference between recording and replay, counting a broken checksum chain as
/// one: the records from the break on are not there to compare.
fn first_difference(rec: &Recorded, report: &ReplayReport) -> Option<Divergence> {
    let Some(bad) = rec.integrity.first_bad_seq else {
        return report.divergence.clone();
    };
    let unverified = format!(
        "(record fails verification: {})",
        rec.integrity.reason.as_deref().unwrap_or("broken")
    );
    match &report.divergence {
        // A real difference inside the verified prefix.
        Some(d) if d.recorded.is_some() || d.seq < rec.integrity.valid_records => Some(d.clone()),
        // The prefix ran out while the replay still had decisions: the next one is what
        // the replay decided at the broken seq.
        Some(d) => Some(Divergence {
            seq: bad,
            recorded: Some(unverified),
            replayed: d.replayed.clone(),
        }),
        None => Some(Divergence {
            seq: bad,
            recorded: Some(unverified),
            replayed: None,
        }),
    }
}

/// `journal replay PATH [--out DIR] [--quiet]`: 0 no difference, 3 a difference.
pub fn replay_cmd(args: &ReplayArgs, argv: Vec<String>) -> Result<u8, AppError> {
    let started = Instant::now();
    let started_utc = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
    let path = args.path.as_path();
    let rec = read_journal(path)?;
    let parts = engine_parts(&rec.cfg, &rec.run_id).map_err(|e| match e {
        AppError::BadInput(m) => {
            AppError::BadInput(format!("{}: journal meta `config`: {m}", path.display()))
        }
        other => other,
    })?;
    if !rec.integrity.is_intact() {
        eprintln!(
            "warning: {}: integrity {}; replaying the valid prefix ({} records)",
            path.display(),
            rec.integrity,
            rec.integrity.valid_records
        );
    }
    let (report, outcome, writer) = match &args.out {
        None => {
            let (report, done) = replay_mode(path, &rec, parts, MemoryJournal::default())?;
            (report, done.map(|d| d.0), None)
        }
        Some(dir) => {
            let journal = parts.report(dir)?;
            let (report, done) = replay_mode(path, &rec, parts, journal)?;
            match done {
                Some((outcome, journal)) => (report, Some(outcome), Some(journal)),
                None => (report, None, None),
            }
        }
    };
    let head = format!(
        "replayed {} inputs, compared {} decisions",
        report.inputs, report.decisions
    );
    if let Some(d) = first_difference(&rec, &report) {
        let why = if rec.integrity.first_bad_seq == Some(d.seq) {
            "stopped where the journal's checksum chain breaks"
        } else {
            "stopped at a difference"
        };
        println!("{head}: {why}\n{d}");
        if args.out.is_some() {
            eprintln!("no report written: the replay differs from the recording");
        }
        return Ok(EXIT_DIFFERENCE);
    }
    if !args.quiet {
        println!("{head}: 0 differences");
    }
    let Some(outcome) = outcome else {
        let note = format!(
            "{}: the journal has no session end record (still running, or stopped before it concluded)",
            path.display()
        );
        if args.out.is_some() {
            return Err(AppError::BadInput(format!("{note}: no report to write")));
        }
        eprintln!("note: {note}");
        return Ok(0);
    };
    if let Some(journal) = writer {
        let report = finish(journal, &outcome, started, started_utc, argv)?;
        if !args.quiet {
            print!(
                "{}",
                crate::run::summary_table(
                    &report.summary,
                    &report.dir,
                    started.elapsed().as_secs_f64()
                )
            );
        }
    }
    Ok(0)
}

/// Writes the replay's report folder, as `lockstep backtest` does.
fn finish(
    journal: ReportJournal,
    outcome: &RunOutcome,
    started: Instant,
    started_utc: String,
    argv: Vec<String>,
) -> Result<ReportPaths, AppError> {
    let bars = outcome.bars;
    journal
        .finish(outcome, || run_facts(started, started_utc, bars, argv))
        .map_err(|e| AppError::Runtime(e.to_string()))
}
