//! SQLite plumbing shared by the writer and the reader: opening, checking, pragmas, meta.

use super::error::{db_err, JournalStoreError};
use super::store::{SCHEMA_VERSION, SCHEMA_VERSION_KEY};
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a connection waits for a lock held by another connection.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens an existing file with `flags` and checks it is a journal.
pub(super) fn open_existing(
    path: &Path,
    flags: OpenFlags,
) -> Result<Connection, JournalStoreError> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => {}
        Ok(_) => {
            let why = "not a regular file".to_string();
            return Err(JournalStoreError::NotAJournal(path.to_path_buf(), why));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(JournalStoreError::NotFound(path.to_path_buf()));
        }
        Err(e) => return Err(JournalStoreError::Io(path.to_path_buf(), e)),
    }
    let conn = Connection::open_with_flags(path, flags).map_err(|e| db_err(path, e))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| db_err(path, e))?;
    check_journal(&conn, path)?;
    Ok(conn)
}

/// Checks the file has both tables with the expected columns and schema version 1.
fn check_journal(conn: &Connection, path: &Path) -> Result<(), JournalStoreError> {
    let not = |why: String| JournalStoreError::NotAJournal(path.to_path_buf(), why);
    let tables: u32 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('meta', 'records')",
            [],
            |r| r.get(0),
        )
        .map_err(|e| db_err(path, e))?;
    if tables != 2 {
        return Err(not("no `meta` and `records` tables".to_string()));
    }
    for probe in [
        "SELECT key, value FROM meta LIMIT 0",
        "SELECT seq, ts, kind, body, checksum FROM records LIMIT 0",
    ] {
        if let Err(e) = conn.prepare(probe) {
            return Err(not(format!("unexpected table layout ({e})")));
        }
    }
    match read_meta(conn, path, SCHEMA_VERSION_KEY)? {
        Some(v) if v == SCHEMA_VERSION => Ok(()),
        Some(v) => Err(not(format!(
            "unsupported schema_version `{}` (this build reads {SCHEMA_VERSION})",
            v.escape_debug()
        ))),
        None => Err(not("meta has no schema_version".to_string())),
    }
}

/// WAL + synchronous=FULL + busy timeout on a writing connection.
pub(super) fn configure_writer(conn: &Connection, path: &Path) -> Result<(), JournalStoreError> {
    let err = |e| db_err(path, e);
    conn.busy_timeout(BUSY_TIMEOUT).map_err(err)?;
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        .map_err(err)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(JournalStoreError::WalUnavailable(path.to_path_buf(), mode));
    }
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(err)?;
    Ok(())
}

pub(super) fn read_meta(
    conn: &Connection,
    path: &Path,
    key: &str,
) -> Result<Option<String>, JournalStoreError> {
    conn.prepare_cached("SELECT value FROM meta WHERE key = ?1")
        .and_then(|mut s| s.query_row([key], |r| r.get(0)).optional())
        .map_err(|e| db_err(path, e))
}

pub(super) fn upsert_meta(
    conn: &Connection,
    path: &Path,
    key: &str,
    value: &str,
) -> Result<(), JournalStoreError> {
    conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .and_then(|mut s| s.execute([key, value]))
    .map(|_| ())
    .map_err(|e| db_err(path, e))
}

pub(super) fn to_sql_seq(path: &Path, seq: u64) -> Result<i64, JournalStoreError> {
    i64::try_from(seq).map_err(|_| JournalStoreError::Full(path.to_path_buf()))
}

/// Error [`JournalStoreError::Exists`] if `path` is a non-empty file.
pub(super) fn refuse_existing(path: &Path) -> Result<(), JournalStoreError> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() && m.len() == 0 => Ok(()),
        Ok(_) => Err(JournalStoreError::Exists(path.to_path_buf())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(JournalStoreError::Io(path.to_path_buf(), e)),
    }
}

/// `path` with `suffix` appended to its file name (SQLite's `-wal`/`-shm` files).
pub(super) fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(suffix);
    PathBuf::from(name)
}

/// Makes the new file's directory entry durable (unix; elsewhere a no-op).
pub(super) fn sync_parent_dir(path: &Path) -> Result<(), JournalStoreError> {
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| JournalStoreError::Io(dir.to_path_buf(), e))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}
