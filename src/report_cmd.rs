//! `lockstep report html RUN` (regenerate a folder's page) and `lockstep report compare
//! RUN_A RUN_B` (two runs side by side; exit 0 whether or not they differ).

use crate::error::AppError;
use lockstep_analytics::compare::{self, Comparison};
use lockstep_analytics::{write_atomic, RunFolder};
use std::path::{Path, PathBuf};

/// `lockstep report` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum ReportCommand {
    /// Regenerate the HTML page of a run folder (report.html), a sweep folder (sweep.html,
    /// from sweep.csv) or a walk-forward folder (walkforward.html, from walkforward.json).
    Html {
        /// The folder.
        dir: PathBuf,
    },
    /// Compare two run folders: headline metrics side by side, the first trade (lots row)
    /// that differs, P&L deltas per exit reason and per strategy, overlaid equity in
    /// compare.html. Prints "identical" when both have the same report_hash. Exit 0 either way.
    Compare {
        /// Run folder A.
        a: PathBuf,
        /// Run folder B.
        b: PathBuf,
        /// Where compare.html goes (default: the current folder).
        #[arg(long, value_name = "DIR", default_value = ".")]
        out: PathBuf,
    },
}

fn bad(e: impl std::fmt::Display) -> AppError {
    AppError::BadInput(e.to_string())
}

fn html(dir: &Path) -> Result<PathBuf, AppError> {
    if dir.join("summary.json").is_file() {
        lockstep_analytics::tearsheet::write(dir).map_err(bad)
    } else if dir.join("sweep.csv").is_file() {
        crate::pages::write_sweep_page(dir)
    } else if dir.join("walkforward.json").is_file() {
        crate::pages::write_walkforward_page(dir)
    } else {
        Err(AppError::BadInput(format!(
            "{}: neither a run folder (summary.json), a sweep folder (sweep.csv) nor a walk-forward folder (walkforward.json)",
            dir.display()
        )))
    }
}

/// Runs a `report` subcommand; returns what it prints.
pub fn run(cmd: &ReportCommand) -> Result<String, AppError> {
    match cmd {
        ReportCommand::Html { dir } => html(dir).map(|p| format!("wrote {}\n", p.display())),
        ReportCommand::Compare { a, b, out } => {
            let c = Comparison::new(
                RunFolder::open(a).map_err(bad)?,
                RunFolder::open(b).map_err(bad)?,
            )
            .map_err(bad)?;
            std::fs::create_dir_all(out)
                .map_err(|e| AppError::Runtime(format!("{}: {e}", out.display())))?;
            let page = write_atomic(&out.join("compare.html"), compare::render(&c).as_bytes())
                .map_err(|e| AppError::Runtime(e.to_string()))?;
            Ok(format!("{}wrote {}\n", c.text(), page.display()))
        }
    }
}
