//! Writes a run folder atomically: everything goes to a temporary sibling folder, which is
//! renamed into place only when complete. A failed run never leaves a half report.

use crate::hash::report_hash;
use crate::summary::Summary;
use crate::tables;
use lockstep_engine::RunOutcome;
use serde::Serialize;
use std::fs;
use std::path::{Path, PathBuf};

/// Why a report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// File system problem.
    #[error("{path}: {source}")]
    Io {
        /// Where.
        path: PathBuf,
        /// What.
        source: std::io::Error,
    },
    /// Encoding problem (should not happen).
    #[error("cannot encode {what}: {detail}")]
    Encode {
        /// Which file.
        what: String,
        /// Why.
        detail: String,
    },
    /// The output folder exists and does not look like a lockstep report.
    #[error(
        "{0}: exists and is not a lockstep report folder (no summary.json); refusing to replace it"
    )]
    NotAReport(PathBuf),
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

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ReportError + '_ {
    move |source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn enc(what: &str, e: impl std::fmt::Display) -> ReportError {
    ReportError::Encode {
        what: what.to_string(),
        detail: e.to_string(),
    }
}

fn json<T: Serialize>(what: &str, v: &T) -> Result<Vec<u8>, ReportError> {
    let mut b = serde_json::to_vec_pretty(v).map_err(|e| enc(what, e))?;
    b.push(b'\n');
    Ok(b)
}

/// Writes the run folder `dir` for `outcome`. `facts` is called last (after every result
/// file is written) so its timings cover the report too.
pub fn write_report(
    outcome: &RunOutcome,
    dir: &Path,
    facts: impl FnOnce() -> RunFacts,
) -> Result<ReportPaths, ReportError> {
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(io(parent))?;
    if dir.exists() && !dir.join("summary.json").exists() {
        let empty = fs::read_dir(dir).map_err(io(dir))?.next().is_none();
        if !empty {
            return Err(ReportError::NotAReport(dir.to_path_buf()));
        }
    }
    let name = dir
        .file_name()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "run".into());
    let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(io(&tmp))?;
    }
    fs::create_dir_all(&tmp).map_err(io(&tmp))?;

    let tables = tables::all(outcome);
    let mut csvs = Vec::new();
    for t in &tables {
        let csv = t.to_csv().map_err(|e| enc(t.name, e))?;
        let pq = t.to_parquet().map_err(|e| enc(t.name, e))?;
        let p = tmp.join(format!("{}.parquet", t.name));
        fs::write(&p, pq).map_err(io(&p))?;
        let p = tmp.join(format!("{}.csv", t.name));
        fs::write(&p, &csv).map_err(io(&p))?;
        csvs.push((format!("{}.csv", t.name), csv));
    }
    let mut summary = Summary::of(outcome);
    let unhashed = json("summary.json", &summary)?;
    let mut parts: Vec<(&str, &[u8])> = vec![("summary.json", unhashed.as_slice())];
    parts.extend(csvs.iter().map(|(n, b)| (n.as_str(), b.as_slice())));
    let hash = report_hash(parts);
    summary.report_hash = Some(hash.clone());
    let p = tmp.join("summary.json");
    fs::write(&p, json("summary.json", &summary)?).map_err(io(&p))?;
    let p = tmp.join("run.json");
    fs::write(&p, json("run.json", &facts())?).map_err(io(&p))?;

    if dir.exists() {
        fs::remove_dir_all(dir).map_err(io(dir))?;
    }
    fs::rename(&tmp, dir).map_err(io(dir))?;
    Ok(ReportPaths {
        dir: dir.to_path_buf(),
        hash,
        summary,
    })
}
