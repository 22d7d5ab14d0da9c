//! `lockstep sweep`: the Cartesian grid of `--set` overrides, one backtest per point, run in
//! parallel (rayon) and collected by index, so the table is identical whatever the thread
//! count; `--shard I/N` runs every N-th point for a cluster, and `sweep merge` joins the
//! shard tables into the same `sweep.parquet` an unsharded run writes.

pub mod grid;
pub mod table;

use crate::config;
use crate::error::AppError;
use crate::run::{execute, RunPlan};
use crate::shared_data::read_once;
use grid::{Grid, Shard};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use lockstep_data::recorded::RecordedBars;
use lockstep_report::hash::sha256_hex;
use rayon::prelude::*;
use rust_decimal::Decimal;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use table::{PointRow, PointStats, SweepId};

/// Arguments of `lockstep sweep CONFIG`.
#[derive(Debug, Clone, clap::Args)]
pub struct SweepArgs {
    /// Config file (TOML) every point starts from.
    pub config: PathBuf,
    /// A grid axis: a dotted config key and the TOML values it takes, comma-separated
    /// (repeatable; points are the Cartesian product, the first key varying slowest).
    #[arg(long = "grid", value_name = "KEY=V1,V2,...")]
    pub grid: Vec<String>,
    /// Override a config key for every point (repeatable), as in `backtest --set`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Data file (repeatable); replaces data.paths for every point.
    #[arg(long = "data", value_name = "PATH")]
    pub data: Vec<PathBuf>,
    /// Run only the points whose index is I modulo N and write a shard table
    /// (`sweep-shard-I-of-N.parquet/.csv`) for `lockstep sweep merge`.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Output folder: the table, plus each point's report in points/pNNNN/
    /// (default: <report.dir>/sweep-<config stem>).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// What ranks points in the printed top list.
    #[arg(long, value_enum, default_value_t = Objective::RealizedPnl)]
    pub objective: Objective,
    /// How many of the best points to print.
    #[arg(long, default_value_t = 5)]
    pub top: usize,
    /// Worker threads (default: all cores). The table does not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// No progress bar and no top list.
    #[arg(long)]
    pub quiet: bool,
    /// Read the data files in every point. By default a sweep whose grid has no `data.*`
    /// key reads them once (up to 2 M bars) and every point replays those bars, with the
    /// same result byte for byte.
    #[arg(long)]
    pub no_shared_data: bool,
}

/// How points are ranked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Objective {
    /// Highest realized P&L (net of fees).
    RealizedPnl,
    /// Highest Sharpe ratio.
    Sharpe,
    /// Smallest maximum drawdown.
    MaxDrawdown,
    /// Most round trips.
    RoundTrips,
}

impl Objective {
    /// The point's score (higher is better); `None` when it has none.
    pub fn score(self, s: &PointStats) -> Option<Decimal> {
        match self {
            Objective::RealizedPnl => Some(s.realized_pnl),
            Objective::Sharpe => s.sharpe,
            Objective::MaxDrawdown => s.max_drawdown.map(|d| -d),
            Objective::RoundTrips => Some(Decimal::from(s.round_trips)),
        }
    }
}

/// A finished sweep: where the table went and its rows.
#[derive(Debug, Clone)]
pub struct SweepResult {
    /// Output folder.
    pub dir: PathBuf,
    /// Table file stem (`sweep` or `sweep-shard-I-of-N`).
    pub stem: String,
    /// The sweep's identity.
    pub id: SweepId,
    /// Rows, by index.
    pub rows: Vec<PointRow>,
    /// Bars read once and shared by the points (`None`: each point read the files).
    pub shared_bars: Option<usize>,
}

fn identity(args: &SweepArgs, grid: &Grid) -> Result<SweepId, AppError> {
    let text = std::fs::read(&args.config)
        .map_err(|e| AppError::BadInput(format!("{}: cannot read: {e}", args.config.display())))?;
    let mut digest_input = text;
    for s in &args.set {
        digest_input.extend_from_slice(format!("\n--set {s}").as_bytes());
    }
    for d in &args.data {
        digest_input.extend_from_slice(format!("\n--data {}", d.display()).as_bytes());
    }
    Ok(SweepId {
        keys: grid.axes.iter().map(|a| a.key.clone()).collect(),
        grid: grid.describe(),
        points: grid.len(),
        config: sha256_hex(&digest_input),
    })
}

fn stats(r: &crate::run::BacktestResult) -> PointStats {
    let s = &r.report.summary;
    let d = |t: &str| Decimal::from_str(t).unwrap_or_default();
    let opt = |t: &Option<String>| t.as_deref().and_then(|t| Decimal::from_str(t).ok());
    PointStats {
        round_trips: s.round_trips as i64,
        fills: s.fills as i64,
        realized_pnl: d(&s.realized_pnl),
        fees: d(&s.fees),
        max_drawdown: opt(&s.metrics.max_drawdown),
        sharpe: opt(&s.metrics.sharpe),
        report_hash: r.report.hash.clone(),
    }
}

/// The sweep's data read once, when every point reads the same (no grid key is a
/// `data.*` key).
fn shared_data(args: &SweepArgs, grid: &Grid) -> Option<Arc<RecordedBars>> {
    if grid.axes.iter().any(|a| a.key.starts_with("data.")) {
        return None;
    }
    read_once(&args.config, &args.set, &args.data)
}

/// Runs point `index` into `dir/points/pNNNN` (on `shared` data when given).
fn run_point(
    args: &SweepArgs,
    grid: &Grid,
    stem: &str,
    dir: &Path,
    index: usize,
    shared: Option<&Arc<RecordedBars>>,
) -> PointRow {
    let mut sets = args.set.clone();
    sets.extend(grid.sets(index));
    let outcome = config::load(Some(&args.config), &sets, |_| Ok(()))
        .and_then(|cfg| {
            let plan = RunPlan {
                cfg,
                config_path: Some(args.config.clone()),
                data: args.data.clone(),
                name: Some(format!("{stem}-p{index:04}")),
                out: Some(dir.join("points").join(format!("p{index:04}"))),
                quiet: true,
                page: None,
                recorded: shared.cloned(),
            };
            execute(&plan, vec!["lockstep".into(), "sweep".into()])
        })
        .map(|r| stats(&r))
        .map_err(|e| e.to_string());
    PointRow {
        index,
        values: grid.point(index).iter().map(|v| v.to_string()).collect(),
        outcome,
    }
}

fn progress(quiet: bool, total: usize) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} points  {elapsed} (eta {eta})")
    {
        pb.set_style(style);
    }
    pb
}

/// Runs the sweep (or one shard of it) and writes its table.
pub fn run_sweep(args: &SweepArgs) -> Result<SweepResult, AppError> {
    let grid = Grid::parse(&args.grid)?;
    let shard = args.shard.as_deref().map(Shard::parse).transpose()?;
    // The base config must load before any point runs: a bad key is one clear error.
    config::load(Some(&args.config), &args.set, |_| Ok(()))?;
    let id = identity(args, &grid)?;
    let config_stem = args
        .config
        .file_stem()
        .map_or_else(|| "sweep".into(), |s| s.to_string_lossy().to_string());
    let dir = match &args.out {
        Some(d) => d.clone(),
        None => {
            let cfg = config::load(Some(&args.config), &args.set, |_| Ok(()))?;
            cfg.report.dir.join(format!("sweep-{config_stem}"))
        }
    };
    std::fs::create_dir_all(dir.join("points"))
        .map_err(|e| AppError::Runtime(format!("{}: {e}", dir.display())))?;
    let indices: Vec<usize> = (0..grid.len())
        .filter(|i| shard.is_none_or(|s| s.owns(*i)))
        .collect();
    let pb = progress(args.quiet, indices.len());
    let shared = if args.no_shared_data {
        None
    } else {
        shared_data(args, &grid)
    };
    let work = || -> Vec<PointRow> {
        indices
            .par_iter()
            .map(|&i| {
                let row = run_point(args, &grid, &config_stem, &dir, i, shared.as_ref());
                pb.inc(1);
                row
            })
            .collect()
    };
    let rows = match args.threads {
        None => work(),
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build()
            .map_err(|e| AppError::Runtime(format!("thread pool: {e}")))?
            .install(work),
    };
    pb.finish_and_clear();
    let stem = match shard {
        None => "sweep".to_string(),
        Some(s) => format!("sweep-shard-{}-of-{}", s.index, s.count),
    };
    table::write(&dir, &stem, &id, &rows)?;
    if shard.is_none() {
        crate::pages::write_sweep_page(&dir)?;
    }
    Ok(SweepResult {
        dir,
        stem,
        id,
        rows,
        shared_bars: shared.as_ref().map(|r| r.len()),
    })
}

/// The most points a sweep may have (a merge trusts no larger count from a file).
pub const MAX_POINTS: usize = 10_000_000;

/// Joins the shard tables found in `dirs` into `out/sweep.parquet` and `.csv`. The shards
/// must come from one sweep (same grid, points and config digest) and together hold every
/// point exactly once.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<SweepResult, AppError> {
    let mut files = Vec::new();
    for d in dirs {
        let entries = std::fs::read_dir(d)
            .map_err(|e| AppError::BadInput(format!("{}: {e}", d.display())))?;
        let mut found: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("sweep-shard-") && n.ends_with(".parquet"))
            })
            .collect();
        found.sort();
        files.extend(found);
    }
    if files.is_empty() {
        return Err(AppError::BadInput(
            "sweep merge: no sweep-shard-*.parquet in the given folders".into(),
        ));
    }
    let mut id: Option<SweepId> = None;
    let mut rows: Vec<PointRow> = Vec::new();
    for f in &files {
        let (fid, frows) = table::read(f)?;
        match &id {
            None => id = Some(fid),
            Some(first) if *first != fid => {
                return Err(AppError::BadInput(format!(
                    "{}: from another sweep (grid `{}`, {} points) than the first shard (grid `{}`, {} points)",
                    f.display(),
                    fid.grid,
                    fid.points,
                    first.grid,
                    first.points
                )))
            }
            Some(_) => {}
        }
        rows.extend(frows);
    }
    let id = id.ok_or_else(|| AppError::BadInput("sweep merge: nothing to merge".into()))?;
    if id.points > MAX_POINTS {
        return Err(AppError::BadInput(format!(
            "sweep merge: {} points claimed, more than {MAX_POINTS}",
            id.points
        )));
    }
    rows.sort_by_key(|r| r.index);
    let mut seen = vec![0u32; id.points];
    for r in &rows {
        match seen.get_mut(r.index) {
            Some(n) => *n += 1,
            None => {
                return Err(AppError::BadInput(format!(
                    "sweep merge: point {} is outside the grid of {} points",
                    r.index, id.points
                )))
            }
        }
    }
    let missing: Vec<String> = (0..id.points)
        .filter(|i| seen[*i] == 0)
        .map(|i| i.to_string())
        .collect();
    let twice: Vec<String> = (0..id.points)
        .filter(|i| seen[*i] > 1)
        .map(|i| i.to_string())
        .collect();
    if !missing.is_empty() || !twice.is_empty() {
        return Err(AppError::BadInput(format!(
            "sweep merge: points missing [{}], points in more than one shard [{}]",
            missing.join(", "),
            twice.join(", ")
        )));
    }
    std::fs::create_dir_all(out)
        .map_err(|e| AppError::Runtime(format!("{}: {e}", out.display())))?;
    table::write(out, "sweep", &id, &rows)?;
    crate::pages::write_sweep_page(out)?;
    Ok(SweepResult {
        dir: out.to_path_buf(),
        stem: "sweep".into(),
        id,
        rows,
        shared_bars: None,
    })
}

/// The best `n` points by `objective` (ties by index), as printable lines.
pub fn top_lines(result: &SweepResult, objective: Objective, n: usize) -> Vec<String> {
    let mut ranked: Vec<(&PointRow, Decimal)> = result
        .rows
        .iter()
        .filter_map(|r| {
            let s = r.outcome.as_ref().ok()?;
            objective.score(s).map(|v| (r, v))
        })
        .collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.index.cmp(&b.0.index)));
    ranked
        .iter()
        .take(n)
        .filter_map(|(r, _)| {
            let s = r.outcome.as_ref().ok()?;
            let params: Vec<String> = result
                .id
                .keys
                .iter()
                .zip(&r.values)
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            Some(format!(
                "#{:<4} {}  trades {:>5}  pnl {:>14}  max DD {}  Sharpe {}",
                r.index,
                params.join(" "),
                s.round_trips,
                lockstep_report::fmt::money(s.realized_pnl),
                s.max_drawdown.map_or("-".into(), |d| d.to_string()),
                s.sharpe.map_or("-".into(), |d| d.to_string()),
            ))
        })
        .collect()
}
