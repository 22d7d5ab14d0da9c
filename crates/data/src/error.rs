//! Data errors that name file, row, column and reason.

use lockstep_core::SourceError;
use std::fmt;
use std::path::{Path, PathBuf};

/// A bad-input or I/O problem with a data file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct DataError {
    /// The file.
    pub file: PathBuf,
    /// 1-based data row (header excluded), when the problem is in a row.
    pub row: Option<u64>,
    /// The column, when the problem is in a column.
    pub column: Option<String>,
    /// What is wrong, in plain words.
    pub reason: String,
}

impl DataError {
    /// A problem with the file as a whole.
    pub fn file(file: &Path, reason: impl Into<String>) -> Self {
        DataError {
            file: file.to_path_buf(),
            row: None,
            column: None,
            reason: reason.into(),
        }
    }

    /// A problem with a column as a whole (missing, wrong type).
    pub fn column(file: &Path, column: &str, reason: impl Into<String>) -> Self {
        DataError {
            file: file.to_path_buf(),
            row: None,
            column: Some(column.to_string()),
            reason: reason.into(),
        }
    }

    /// A problem in one cell or row.
    pub fn cell(file: &Path, row: u64, column: &str, reason: impl Into<String>) -> Self {
        DataError {
            file: file.to_path_buf(),
            row: Some(row),
            column: Some(column.to_string()),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(row) = self.row {
            write!(f, ": row {row}")?;
        }
        if let Some(col) = &self.column {
            write!(f, ", column `{col}`")?;
        }
        write!(f, ": {}", self.reason)
    }
}

impl From<DataError> for SourceError {
    fn from(e: DataError) -> Self {
        SourceError(e.to_string())
    }
}
