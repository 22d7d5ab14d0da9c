//! Salvaging a journal SQLite reports damaged (`SQLITE_CORRUPT`: a truncated file, a
//! garbled page): its readable, verified prefix goes into a fresh journal file that takes its
//! place, and the damaged original is kept beside it.

use super::db::{damage, open_damaged, sidecar, sync_parent_dir, unused_path};
use super::error::{db_err, JournalStoreError};
use super::record::record_checksum;
use super::store::{INSERT_SQL, SCHEMA_SQL};
use super::verify::{verify_records, Integrity};
use rusqlite::{params, Connection, OpenFlags};
use std::path::{Path, PathBuf};

/// What [`JournalStore::open_append`](super::JournalStore::open_append) did with a journal
/// file SQLite reported damaged: the verified prefix (records `1..=kept`, with their meta)
/// was copied into a fresh journal at the original path, and the damaged original moved to
/// [`damaged`](Self::damaged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Salvage {
    /// What SQLite reported (why the file was salvaged instead of cut in place).
    pub cause: String,
    /// Where the damaged original now lies (`<journal>.damaged`, or `<journal>.damaged.2`...
    /// when that is taken); its `-wal` file, if any, moved with it (`<that>-wal`).
    pub damaged: PathBuf,
    /// Records verified and copied into the fresh journal (seqs `1..=kept`).
    pub kept: u64,
    /// Rows the damaged file still held after the kept prefix, when SQLite could count them
    /// (`None`: the damage made them uncountable).
    pub dropped: Option<u64>,
}

impl Salvage {
    /// Folds the salvage into `integrity` (what verification of the damaged file found) so
    /// its reason says what was cut, why, and where the original went.
    pub(crate) fn report(&self, integrity: &mut Integrity) {
        let mut note = format!(
            "SQLite reports the file damaged ({}): ",
            self.cause.trim_end_matches('.')
        );
        if integrity.first_bad_seq.is_some() {
            let lost = match self.dropped {
                Some(n) => format!("{n} stored record(s)"),
                None => "an unknown number of records (unreadable)".to_string(),
            };
            note.push_str(&format!(
                "records 1..={} verified and were copied into a fresh journal, {lost} from seq {} on were cut",
                self.kept,
                self.kept + 1
            ));
        } else {
            note.push_str(&format!(
                "all {} records verified and were copied into a fresh journal",
                self.kept
            ));
        }
        note.push_str(&format!(
            "; the damaged original is kept as {}",
            self.damaged.display()
        ));
        integrity.reason = Some(match integrity.reason.take() {
            Some(found) => format!("{found}; {note}"),
            None => note,
        });
        integrity.cut = self.dropped.unwrap_or(0);
    }
}

/// Salvages the damaged journal at `path` (no connection of this process may hold it):
/// reads its meta and its records in seq order until the first one that is unreadable or
/// does not verify, writes them with the same checksums into `<path>.salvage` (rollback
/// journal mode, one transaction, synced), moves the original (and its `-wal`) to a free
/// `<path>.damaged` name, drops its `-shm`, and renames the fresh file to `path`. A stale
/// `<path>.salvage` (from an interrupted salvage) is replaced.
///
/// Returns what verification of the damaged file found (`cut` = 0) and the [`Salvage`].
/// Fails, leaving `path` untouched, when even the schema or the meta cannot be read.
/// A crash between the two renames leaves the journal at `<path>.salvage`.
pub(crate) fn salvage(
    path: &Path,
    cause: String,
) -> Result<(Integrity, Salvage), JournalStoreError> {
    let src = open_damaged(path)?;
    let err = |e| db_err(path, e);
    let mut meta: Vec<(String, String)> = Vec::new();
    {
        let mut stmt = src
            .prepare("SELECT key, value FROM meta ORDER BY key")
            .map_err(err)?;
        let mut rows = stmt.query([]).map_err(err)?;
        while let Some(row) = rows.next().map_err(err)? {
            meta.push((row.get(0).map_err(err)?, row.get(1).map_err(err)?));
        }
    }
    let fresh = sidecar(path, ".salvage");
    for stale in [fresh.clone(), sidecar(&fresh, "-journal")] {
        if stale.exists() {
            remove(&stale)?;
        }
    }
    let integrity = copy_prefix(&src, path, &fresh, &meta)?;
    let kept = integrity.valid_records;
    let dropped = match src.query_row(
        "SELECT count(*) FROM records WHERE seq > ?1",
        [i64::try_from(kept).unwrap_or(i64::MAX)],
        |r| r.get::<_, i64>(0),
    ) {
        Ok(n) => u64::try_from(n).ok(),
        Err(e) if damage(&e).is_some() => None,
        Err(e) => return Err(err(e)),
    };
    src.close().map_err(|(_, e)| err(e))?;
    let damaged = unused_path(sidecar(path, ".damaged"))?;
    rename(path, &damaged)?;
    // The log goes with the original unless it is empty; the shared-memory index is derived.
    let wal = sidecar(path, "-wal");
    match std::fs::metadata(&wal) {
        Ok(m) if m.len() > 0 => rename(&wal, &sidecar(&damaged, "-wal"))?,
        Ok(_) => remove(&wal)?,
        Err(_) => {}
    }
    let shm = sidecar(path, "-shm");
    if shm.exists() {
        remove(&shm)?;
    }
    rename(&fresh, path)?;
    sync_parent_dir(path)?;
    let salvage = Salvage {
        cause,
        damaged,
        kept,
        dropped,
    };
    Ok((integrity, salvage))
}

/// Writes the schema, `meta` and the verified prefix of `src` into the new file `fresh`.
fn copy_prefix(
    src: &Connection,
    path: &Path,
    fresh: &Path,
    meta: &[(String, String)],
) -> Result<Integrity, JournalStoreError> {
    let ferr = |e| db_err(fresh, e);
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut out = Connection::open_with_flags(fresh, flags).map_err(ferr)?;
    out.pragma_update(None, "synchronous", "FULL")
        .map_err(ferr)?;
    let tx = out.transaction().map_err(ferr)?;
    tx.execute_batch(SCHEMA_SQL).map_err(ferr)?;
    for (key, value) in meta {
        tx.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)",
            [key, value],
        )
        .map_err(ferr)?;
    }
    let mut failed = None;
    let verified = {
        let mut insert = tx.prepare(INSERT_SQL).map_err(ferr)?;
        let mut prev = String::new();
        verify_records(src, path, |r| {
            if failed.is_some() {
                return;
            }
            let kind = r.kind.as_str();
            let checksum = record_checksum(&prev, r.seq, r.ts, kind, &r.body);
            let seq = i64::try_from(r.seq).unwrap_or(i64::MAX);
            match insert.execute(params![seq, r.ts, kind, r.body, checksum]) {
                Ok(_) => prev = checksum,
                Err(e) => failed = Some(e),
            }
        })?
    };
    if let Some(e) = failed {
        return Err(ferr(e));
    }
    tx.commit().map_err(ferr)?;
    out.close().map_err(|(_, e)| ferr(e))?;
    Ok(verified.integrity)
}

fn remove(path: &Path) -> Result<(), JournalStoreError> {
    std::fs::remove_file(path).map_err(|e| JournalStoreError::Io(path.to_path_buf(), e))
}

fn rename(from: &Path, to: &Path) -> Result<(), JournalStoreError> {
    std::fs::rename(from, to).map_err(|e| JournalStoreError::Io(from.to_path_buf(), e))
}
