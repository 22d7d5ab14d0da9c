//! SQLite plumbing shared by the writer and the reader: opening, checking, pragmas, meta.

use super::error::{db_err, JournalStoreError};
use super::store::{SCHEMA_VERSION, SCHEMA_VERSION_KEY};
use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a connection waits for a lock held by another connection.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens an existing file with `flags` and checks it is a journal. A read-write connection
/// comes with checkpoint-on-close off; the caller turns it back on once it trusts the file.
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
    if flags.contains(OpenFlags::SQLITE_OPEN_READ_WRITE) {
        // Until the caller has checked the file, closing must not checkpoint the WAL into it
        // (nor delete the WAL): a refused or damaged journal stays exactly as it was.
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
            .map_err(|e| db_err(path, e))?;
    }
    check_journal(&conn, path)?;
    Ok(conn)
}

/// Opens an existing file read-only when SQLite refused it as damaged (e.g. a truncated file
/// whose header counts more pages than it holds): `writable_schema` makes SQLite read what
/// is there instead of refusing the file; the connection cannot write. Checks it is a journal.
pub(super) fn open_damaged(path: &Path) -> Result<Connection, JournalStoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| db_err(path, e))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| db_err(path, e))?;
    conn.pragma_update(None, "writable_schema", "ON")
        .map_err(|e| db_err(path, e))?;
    check_journal(&conn, path)?;
    Ok(conn)
}

/// SQLite's message when `e` says the file is damaged (`SQLITE_CORRUPT`); `None` otherwise.
pub(super) fn damage(e: &rusqlite::Error) -> Option<String> {
    (e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseCorrupt)).then(|| e.to_string())
}

/// [`damage`] for a store error: only [`JournalStoreError::Sqlite`] can report damage.
pub(super) fn store_damage(e: &JournalStoreError) -> Option<String> {
    match e {
        JournalStoreError::Sqlite(_, e) => damage(e),
        _ => None,
    }
}

/// `PRAGMA quick_check`: `None` when SQLite finds the file's structure sound, else what it
/// found. A failing check, or a corruption error while checking, is damage, not an error;
/// any other SQLite failure is an error.
pub(super) fn quick_check(conn: &Connection) -> rusqlite::Result<Option<String>> {
    let found = conn.prepare("PRAGMA quick_check(3)").and_then(|mut s| {
        s.query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()
    });
    match found {
        Ok(lines) if lines.len() == 1 && lines[0] == "ok" => Ok(None),
        Ok(lines) => Ok(Some(format!(
            "quick_check: {}",
            lines.join("; ").replace('\n', "; ")
        ))),
        Err(e) => match damage(&e) {
            Some(found) => Ok(Some(format!("quick_check: {found}"))),
            None => Err(e),
        },
    }
}

/// The first free name among `base`, `base.2`, `base.3`... (also free with `-wal`/`-shm`
/// appended), for keeping a damaged file next to the journal without overwriting anything.
pub(super) fn unused_path(base: PathBuf) -> Result<PathBuf, JournalStoreError> {
    for n in 1..=999u32 {
        let candidate = if n == 1 {
            base.clone()
        } else {
            sidecar(&base, &format!(".{n}"))
        };
        let taken = [
            &candidate,
            &sidecar(&candidate, "-wal"),
            &sidecar(&candidate, "-shm"),
        ]
        .into_iter()
        .any(|p| std::fs::symlink_metadata(p).is_ok());
        if !taken {
            return Ok(candidate);
        }
    }
    let why = std::io::Error::new(std::io::ErrorKind::AlreadyExists, "no free name left");
    Err(JournalStoreError::Io(base, why))
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
