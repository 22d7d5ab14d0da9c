//! Errors of the journal store. Every variant that concerns a file names it.

use std::path::{Path, PathBuf};

/// What can go wrong opening, reading or appending a journal.
///
/// A damaged journal *content* (bad checksum, gap, torn tail) is not an error: it is reported
/// as an [`Integrity`](super::Integrity) next to the valid prefix. Errors are for files that
/// cannot be used at all, and for SQLite/IO failures.
#[derive(Debug, thiserror::Error)]
pub enum JournalStoreError {
    /// SQLite failed on this file.
    #[error("journal {}: sqlite: {}", .0.display(), .1)]
    Sqlite(PathBuf, #[source] rusqlite::Error),
    /// A filesystem operation failed on this path.
    #[error("journal {}: {}", .0.display(), .1)]
    Io(PathBuf, #[source] std::io::Error),
    /// `create` refused to overwrite a file that exists and is not empty.
    #[error("journal {}: already exists and is not empty", .0.display())]
    Exists(PathBuf),
    /// The file to open does not exist.
    #[error("journal {}: no such file", .0.display())]
    NotFound(PathBuf),
    /// The file is not an SQLite database, or not a lockstep journal (missing tables, wrong
    /// schema version); the string says which.
    #[error("journal {}: not a lockstep journal: {}", .0.display(), .1)]
    NotAJournal(PathBuf, String),
    /// A meta key reserved by the store (`schema_version`) was given by the caller.
    #[error("journal meta key `{0}` is reserved by the store")]
    ReservedKey(String),
    /// WAL mode could not be enabled (e.g. the filesystem does not support it); the string is
    /// the journal mode SQLite reported instead.
    #[error("journal {}: cannot enable WAL mode (got `{}`)", .0.display(), .1)]
    WalUnavailable(PathBuf, String),
    /// The next seq would not fit SQLite's 64-bit signed integer.
    #[error("journal {}: seq space exhausted", .0.display())]
    Full(PathBuf),
    /// Another writer appended to the journal behind this store's back; nothing was written.
    #[error("journal {}: another writer appended (expected last seq {expected}, found {found}); nothing written", .path.display())]
    ConcurrentWriter {
        /// The journal file.
        path: PathBuf,
        /// The last seq this store had written.
        expected: u64,
        /// The last seq found in the file.
        found: u64,
    },
}

/// Maps an SQLite error on `path`: "file is not a database" becomes [`JournalStoreError::NotAJournal`],
/// everything else [`JournalStoreError::Sqlite`].
pub(crate) fn db_err(path: &Path, e: rusqlite::Error) -> JournalStoreError {
    if e.sqlite_error_code() == Some(rusqlite::ErrorCode::NotADatabase) {
        JournalStoreError::NotAJournal(path.to_path_buf(), format!("not an SQLite database ({e})"))
    } else {
        JournalStoreError::Sqlite(path.to_path_buf(), e)
    }
}
