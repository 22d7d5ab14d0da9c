//! [`ReportJournal`]: the replay journal that writes the run folder while the run goes.
//! Everything goes to a temporary sibling folder, renamed into place only when complete,
//! so a failed run never leaves a half report.

use crate::csv_table::{CsvTable, WrittenTable};
use crate::hash::{report_hash, sha256_hex};
use crate::parquet_twin::write_parquet_twin;
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
        "{0}: exists and is not a lockstep report folder (no summary.json); refusing to replace it"
    )]
    NotAReport(PathBuf),
}

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
}

fn json<T: Serialize>(path: &Path, v: &T) -> Result<Vec<u8>, ReportError> {
    let mut b = serde_json::to_vec_pretty(v).map_err(|e| io(path, e))?;
    b.push(b'\n');
    Ok(b)
}

impl ReportJournal {
    /// Prepares the temporary folder for a report that will end up in `dir`. Refuses to
    /// replace an existing non-empty folder that is not a lockstep report.
    pub fn create(dir: &Path) -> Result<Self, ReportError> {
        let parent = dir
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
        if dir.exists() && !dir.join("summary.json").exists() {
            let empty = fs::read_dir(dir).map_err(|e| io(dir, e))?.next().is_none();
            if !empty {
                return Err(ReportError::NotAReport(dir.to_path_buf()));
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
        })
    }

    /// Completes the report of a run with totals `outcome`: closes the CSVs, writes the
    /// summary with its hash and the Parquet twins, then `run.json` from `facts` (called
    /// last so its timings include the report), and renames the folder into place.
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
        let summary_path = tmp.join("summary.json");
        let unhashed = sha256_hex(&json(&summary_path, &summary)?);
        let names: Vec<String> = written
            .iter()
            .map(|t| format!("{}.csv", t.spec.name))
            .collect();
        let mut parts: Vec<(&str, &str)> = vec![("summary.json", unhashed.as_str())];
        parts.extend(
            names
                .iter()
                .zip(&written)
                .map(|(n, t)| (n.as_str(), t.digest.as_str())),
        );
        let hash = report_hash(parts);
        summary.report_hash = Some(hash.clone());
        fs::write(&summary_path, json(&summary_path, &summary)?)
            .map_err(|e| io(&summary_path, e))?;
        for t in &written {
            let out = tmp.join(format!("{}.parquet", t.spec.name));
            write_parquet_twin(t, &out).map_err(|e| io(&out, e))?;
        }
        let run_json = tmp.join("run.json");
        fs::write(&run_json, json(&run_json, &facts())?).map_err(|e| io(&run_json, e))?;
        if self.dir.exists() {
            fs::remove_dir_all(&self.dir).map_err(|e| io(&self.dir, e))?;
        }
        fs::rename(&tmp, &self.dir).map_err(|e| io(&self.dir, e))?;
        guard.0 = None;
        Ok(ReportPaths {
            dir: self.dir,
            hash,
            summary,
        })
    }
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
            Entry::Fill(f) => self.fills.write(&tables::fill_row(f, names)).map_err(jerr),
            Entry::Allocation(a) => {
                self.summary.allocation(a);
                self.lots.write(&tables::lot_row(a, names)).map_err(jerr)
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
