//! [`ReportJournal`]: the replay journal that writes the run folder while the run goes.
//! Everything goes to a temporary sibling folder, renamed into place only when complete,
//! so a failed run never leaves a half report.
//!
//! A paper or live session keeps its write-ahead journal in the report folder it will
//! finish ([`SESSION_JOURNAL_FILES`]: `journal.db` and SQLite's `-wal`/`-shm` files). The
//! folder may hold only those before its first report, and they are carried over into the
//! new folder whenever a report replaces it.

use crate::csv_table::{CsvTable, WrittenTable};
use crate::hash::{report_hash, sha256_hex};
use crate::summary::{Summary, SummaryBuilder};
use crate::tables;
use lockstep_engine::{Entry, Journal, JournalError, Names, RunOutcome};
use serde::Serialize;
use std::fs;
use std::path::{Path, PathBuf};

/// Why a report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// File system or encoding problem.
    #[error("{path}: {detail}")]
    Io {
        /// Where.
        path: PathBuf,
        /// What.
        detail: String,
    },
    /// The output folder exists and does not look like a lockstep report.
    #[error(
        "{0}: exists and is not a lockstep report folder (no summary.json, and more than a session journal); refusing to replace it"
    )]
    NotAReport(PathBuf),
}

/// The session journal files a report folder carries over when a report replaces it: the
/// SQLite journal of a paper/live session, the `-wal`/`-shm` files SQLite keeps next to it
/// while it is open, an operator's request not yet taken (`.control`), and the damaged
/// originals a recovery kept (`.damaged`).
pub const SESSION_JOURNAL_FILES: [&str; 6] = [
    "journal.db",
    "journal.db-wal",
    "journal.db-shm",
    "journal.db.control",
    "journal.db.damaged",
    "journal.db-wal.damaged",
];

fn io(path: &Path, e: impl std::fmt::Display) -> ReportError {
    ReportError::Io {
        path: path.to_path_buf(),
        detail: e.to_string(),
    }
}

/// Host facts of a run, written to `run.json` (never hashed).
#[derive(Debug, Clone, Serialize)]
pub struct RunFacts {
    /// lockstep version.
    pub version: String,
    /// Wall-clock start, UTC ISO-8601.
    pub started_utc: String,
    /// Wall seconds of the whole run including the report.
    pub wall_secs: f64,
    /// Bars processed.
    pub bars: u64,
    /// Bars per wall second.
    pub bars_per_sec: f64,
    /// Peak resident set size of the process in bytes, if known.
    pub peak_rss_bytes: Option<u64>,
    /// The command line.
    pub argv: Vec<String>,
}

/// Where the report went and its hash.
#[derive(Debug, Clone)]
pub struct ReportPaths {
    /// The run folder.
    pub dir: PathBuf,
    /// `report_hash`.
    pub hash: String,
    /// The summary as written.
    pub summary: Summary,
}

/// Removes the temporary folder when dropped, unless the report was completed: a run that
/// fails (or panics) never leaves a half report behind.
struct TmpDir(Option<PathBuf>);

impl Drop for TmpDir {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = fs::remove_dir_all(p);
        }
    }
}

/// Streams a run's tables to a temporary folder and accumulates its summary.
pub struct ReportJournal {
    dir: PathBuf,
    tmp: PathBuf,
    guard: TmpDir,
    fills: CsvTable,
    orders: CsvTable,
    lots: CsvTable,
    equity: CsvTable,
    rejections: CsvTable,
    summary: SummaryBuilder,
    shadow: Option<crate::shadow::ShadowBook>,
}

fn json<T: Serialize>(path: &Path, v: &T) -> Result<Vec<u8>, ReportError> {
    let mut b = serde_json::to_vec_pretty(v).map_err(|e| io(path, e))?;
    b.push(b'\n');
    Ok(b)
}

impl ReportJournal {
    /// Prepares the temporary folder for a report that will end up in `dir`. Refuses to
    /// replace an existing folder that is not a lockstep report (no `summary.json`) unless
    /// it is empty or holds nothing but a session journal ([`SESSION_JOURNAL_FILES`]).
    pub fn create(dir: &Path) -> Result<Self, ReportError> {
        let parent = dir
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
        if dir.exists() && !dir.join("summary.json").exists() {
            for entry in fs::read_dir(dir).map_err(|e| io(dir, e))? {
                let entry = entry.map_err(|e| io(dir, e))?;
                let name = entry.file_name();
                let journal_file = SESSION_JOURNAL_FILES.iter().any(|f| name == **f)
                    && entry.file_type().map_err(|e| io(dir, e))?.is_file();
                if !journal_file {
                    return Err(ReportError::NotAReport(dir.to_path_buf()));
                }
            }
        }
        let name = dir
            .file_name()
            .map_or_else(|| "run".into(), |s| s.to_string_lossy().to_string());
        let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
        if tmp.exists() {
            fs::remove_dir_all(&tmp).map_err(|e| io(&tmp, e))?;
        }
        fs::create_dir_all(&tmp).map_err(|e| io(&tmp, e))?;
        let open = |spec| CsvTable::create(&tmp, spec).map_err(|e| io(&tmp, e));
        Ok(ReportJournal {
            fills: open(tables::FILLS)?,
            orders: open(tables::ORDERS)?,
            lots: open(tables::LOTS)?,
            equity: open(tables::EQUITY)?,
            rejections: open(tables::REJECTIONS)?,
            dir: dir.to_path_buf(),
            guard: TmpDir(Some(tmp.clone())),
            tmp,
            summary: SummaryBuilder::default(),
            shadow: None,
        })
    }

    /// The same report for a run with per-strategy books: `lots.csv` gains the book's
    /// `strategy` column and `summary.json` a `by_strategy` table. Call before any entry.
    pub fn with_per_strategy_books(mut self) -> Result<Self, ReportError> {
        self.lots =
            CsvTable::create(&self.tmp, tables::LOTS_PER_STRATEGY).map_err(|e| io(&self.tmp, e))?;
        self.summary.per_strategy();
        Ok(self)
    }

    /// Adds a finished shadow book: its fills and lots are copied in as `shadow_*` tables
    /// (hashed with the rest) and its totals go into the summary's `shadow`; its own folder
    /// is removed when this report is finished.
    pub fn with_shadow(mut self, book: crate::shadow::ShadowBook) -> Self {
        self.shadow = Some(book);
        self
    }

    /// Completes the report of a run with totals `outcome`: closes the CSVs, writes the
    /// summary with its hash and the Parquet twins, then `run.json` from `facts` (called
    /// last so its timings include the report), and renames the folder into place. A
    /// session journal in the old folder ([`SESSION_JOURNAL_FILES`]) is moved into the new
    /// one, byte for byte (it is not part of the report hash); the session must have closed
    /// it first.
    pub fn finish(
        self,
        outcome: &RunOutcome,
        facts: impl FnOnce() -> RunFacts,
    ) -> Result<ReportPaths, ReportError> {
        let tmp = self.tmp.clone();
        let mut guard = self.guard;
        let written: Vec<WrittenTable> = [
            self.fills,
            self.orders,
            self.lots,
            self.equity,
            self.rejections,
        ]
        .into_iter()
        .map(|t| t.finish().map_err(|e| io(&tmp, e)))
        .collect::<Result<_, _>>()?;
        let mut summary = self.summary.finish(outcome);
        summary.shadow = self.shadow.as_ref().map(crate::shadow::ShadowBook::totals);
        let summary_path = tmp.join("summary.json");
        let unhashed = sha256_hex(&json(&summary_path, &summary)?);
        let mut names: Vec<String> = written
            .iter()
            .map(|t| format!("{}.csv", t.spec.name))
            .collect();
        let mut digests: Vec<String> = written.iter().map(|t| t.digest.clone()).collect();
        if let Some(book) = &self.shadow {
            for (from, to) in crate::shadow::SHADOW_FILES {
                let (src, dst) = (book.dir.join(from), tmp.join(to));
                fs::copy(&src, &dst).map_err(|e| io(&src, e))?;
                if to.ends_with(".csv") {
                    names.push(to.to_string());
                    digests.push(sha256_hex(&fs::read(&dst).map_err(|e| io(&dst, e))?));
                }
            }
        }
        let mut parts: Vec<(&str, &str)> = vec![("summary.json", unhashed.as_str())];
        parts.extend(
            names
                .iter()
                .zip(&digests)
                .map(|(n, d)| (n.as_str(), d.as_str())),
        );
        let hash = report_hash(parts);
        summary.report_hash = Some(hash.clone());
        fs::write(&summary_path, json(&summary_path, &summary)?)
            .map_err(|e| io(&summary_path, e))?;
        let run_json = tmp.join("run.json");
        fs::write(&run_json, json(&run_json, &facts())?).map_err(|e| io(&run_json, e))?;
        replace_folder(&tmp, &self.dir)?;
        guard.0 = None;
        if let Some(book) = &self.shadow {
            let _ = fs::remove_dir_all(&book.dir);
        }
        Ok(ReportPaths {
            dir: self.dir,
            hash,
            summary,
        })
    }
}

/// Moves the session journal files found in `from` into `to`; returns their names. On a
/// failure the files already moved are put back.
fn move_journal(from: &Path, to: &Path) -> Result<Vec<&'static str>, ReportError> {
    let mut moved = Vec::new();
    for name in SESSION_JOURNAL_FILES {
        let src = from.join(name);
        match fs::symlink_metadata(&src) {
            Ok(m) if m.is_file() => {}
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                put_back(&moved, to, from);
                return Err(io(&src, e));
            }
        }
        if let Err(e) = fs::rename(&src, to.join(name)) {
            put_back(&moved, to, from);
            return Err(io(&src, e));
        }
        moved.push(name);
    }
    Ok(moved)
}

/// Best effort: moves `names` from `from` back to `to` (recreating `to` if needed).
fn put_back(names: &[&str], from: &Path, to: &Path) {
    if names.is_empty() {
        return;
    }
    let _ = fs::create_dir_all(to);
    for name in names {
        let _ = fs::rename(from.join(name), to.join(name));
    }
}

/// Replaces `dir` by the finished `tmp` folder, carrying the session journal of `dir` over.
/// If that fails, the journal is put back into `dir`: it is never left in `tmp`, which is
/// deleted on failure.
fn replace_folder(tmp: &Path, dir: &Path) -> Result<(), ReportError> {
    if !dir.exists() {
        return fs::rename(tmp, dir).map_err(|e| io(dir, e));
    }
    let moved = move_journal(dir, tmp)?;
    let replaced = fs::remove_dir_all(dir).and_then(|()| fs::rename(tmp, dir));
    if let Err(e) = replaced {
        put_back(&moved, tmp, dir);
        return Err(io(dir, e));
    }
    Ok(())
}

fn jerr(e: std::io::Error) -> JournalError {
    JournalError(e.to_string())
}

impl Journal for ReportJournal {
    fn record(&mut self, entry: Entry<'_>, names: &Names<'_>) -> Result<(), JournalError> {
        match entry {
            Entry::Order(o) => self
                .orders
                .write(&tables::order_row(o, names))
                .map_err(jerr),
            Entry::Fill(f) => {
                self.summary.fill(f);
                self.fills.write(&tables::fill_row(f, names)).map_err(jerr)
            }
            Entry::Allocation(a) => {
                self.summary.allocation(a);
                let (row, used) = tables::lot_row(a, names);
                self.lots.write(&row[..used]).map_err(jerr)
            }
            Entry::Rejection(r) => {
                self.summary.rejection(r);
                self.rejections
                    .write(&tables::rejection_row(r, names))
                    .map_err(jerr)
            }
            Entry::Eod(session, ts) => {
                self.summary.eod(session, ts);
                Ok(())
            }
            Entry::Equity(e) => {
                self.summary.equity(e);
                self.equity.write(&tables::equity_row(e)).map_err(jerr)
            }
            // The orders table lists orders when they end; a submission adds nothing yet.
            Entry::Submitted(_) => Ok(()),
            Entry::Alert(a) => {
                self.summary.alert(a, names);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    /// A scratch folder under the system temp dir, removed when dropped.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Self {
            let p = std::env::temp_dir().join(format!(
                "lockstep-sink-{name}-{}-{:?}",
                std::process::id(),
                std::thread::current().id()
            ));
            let _ = fs::remove_dir_all(&p);
            fs::create_dir_all(&p).expect("scratch dir");
            Scratch(p)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn outcome() -> RunOutcome {
        let cash = Decimal::from(100_000);
        RunOutcome {
            run_id: "t".into(),
            strategies: Vec::new(),
            symbols: lockstep_core::SymbolTable::new(),
            bars: 0,
            first_ts: None,
            last_ts: None,
            skipped_rows: 0,
            bars_outside_session: 0,
            quoteless_rows: 0,
            orders: 0,
            fills: 0,
            open_positions: Vec::new(),
            initial_cash: cash,
            final_cash: cash,
            final_equity: cash,
            fees: Decimal::ZERO,
            realized_pnl: Decimal::ZERO,
            open_lot_fees: Decimal::ZERO,
        }
    }

    fn facts() -> RunFacts {
        RunFacts {
            version: "test".into(),
            started_utc: "2024-01-01T00:00:00Z".into(),
            wall_secs: 0.0,
            bars: 0,
            bars_per_sec: 0.0,
            peak_rss_bytes: None,
            argv: Vec::new(),
        }
    }

    /// Bytes no report writer would produce, different per file.
    fn journal_bytes(name: &str) -> Vec<u8> {
        let mut b = format!("SQLite format 3\0{name}").into_bytes();
        b.extend((0..=255u8).cycle().take(5000));
        b
    }

    fn write_journal(dir: &Path, names: &[&str]) {
        for name in names {
            fs::write(dir.join(name), journal_bytes(name)).expect("write journal");
        }
    }

    fn assert_journal(dir: &Path, names: &[&str]) {
        for name in names {
            let got = fs::read(dir.join(name)).expect("journal file kept");
            assert!(got == journal_bytes(name), "{name} changed");
        }
    }

    /// A folder holding only a session's journal (and SQLite's -wal/-shm) is accepted, and
    /// the journal ends up, byte for byte, in the finished report folder.
    #[test]
    fn a_session_folder_with_only_its_journal_becomes_the_report_and_keeps_it() {
        let scratch = Scratch::new("journal-only");
        let dir = scratch.0.join("paper");
        fs::create_dir_all(&dir).expect("dir");
        write_journal(&dir, &SESSION_JOURNAL_FILES);
        let journal = ReportJournal::create(&dir).expect("a journal-only folder is accepted");
        let paths = journal.finish(&outcome(), facts).expect("finish");
        assert_eq!(paths.dir, dir);
        assert!(dir.join("summary.json").is_file());
        assert!(dir.join("fills.csv").is_file());
        assert_journal(&dir, &SESSION_JOURNAL_FILES);
        let leftovers: Vec<_> = fs::read_dir(&scratch.0)
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(leftovers, vec![std::ffi::OsString::from("paper")]);
    }

    /// A finished report folder holding a journal keeps it when a new report replaces it;
    /// the report's hash does not depend on it.
    #[test]
    fn refinishing_a_report_folder_keeps_its_journal() {
        let scratch = Scratch::new("refinish");
        let dir = scratch.0.join("paper");
        let first = ReportJournal::create(&dir)
            .expect("create")
            .finish(&outcome(), facts)
            .expect("first report");
        write_journal(&dir, &["journal.db"]);
        fs::write(dir.join("stale.txt"), "from the old report").expect("write");
        let second = ReportJournal::create(&dir)
            .expect("a report folder is accepted")
            .finish(&outcome(), facts)
            .expect("second report");
        assert_eq!(first.hash, second.hash);
        assert_journal(&dir, &["journal.db"]);
        assert!(!dir.join("journal.db-wal").exists());
        assert!(
            !dir.join("stale.txt").exists(),
            "the old report was replaced"
        );
    }

    /// Anything but a session journal in a folder without summary.json is refused, and the
    /// folder is left alone.
    #[test]
    fn a_folder_with_other_files_is_still_refused() {
        let scratch = Scratch::new("refused");
        let dir = scratch.0.join("mine");
        fs::create_dir_all(dir.join("journal.db-shm")).expect("a folder named like a sidecar");
        assert!(matches!(
            ReportJournal::create(&dir),
            Err(ReportError::NotAReport(_))
        ));
        let dir = scratch.0.join("notes");
        fs::create_dir_all(&dir).expect("dir");
        write_journal(&dir, &["journal.db"]);
        fs::write(dir.join("notes.txt"), "mine").expect("write");
        assert!(matches!(
            ReportJournal::create(&dir),
            Err(ReportError::NotAReport(_))
        ));
        assert_journal(&dir, &["journal.db"]);
        assert!(dir.join("notes.txt").is_file());
    }
}
