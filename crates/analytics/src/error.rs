//! Errors of the analysis layer: each names the file (and row) it concerns.

use std::path::{Path, PathBuf};

/// Why a run folder could not be read or a page not written.
#[derive(Debug, thiserror::Error)]
pub enum AnalyticsError {
    /// The folder holds no `summary.json`.
    #[error("{0}: not a run folder (no summary.json)")]
    NotARun(PathBuf),
    /// A file could not be read, parsed or written.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// A table row could not be read.
    #[error("{path}: row {row}: {reason}")]
    Row {
        /// The table.
        path: PathBuf,
        /// 1-based line number (the header is line 1).
        row: usize,
        /// What went wrong.
        reason: String,
    },
}

impl AnalyticsError {
    /// A file-level error.
    pub fn file(path: &Path, e: impl std::fmt::Display) -> Self {
        AnalyticsError::File {
            path: path.to_path_buf(),
            reason: e.to_string(),
        }
    }

    /// A row-level error.
    pub fn row(path: &Path, row: usize, e: impl std::fmt::Display) -> Self {
        AnalyticsError::Row {
            path: path.to_path_buf(),
            row,
            reason: e.to_string(),
        }
    }
}
