//! The journal file: one SQLite database per session, written by one [`JournalStore`] and
//! read (also while it is being written) by any number of [`JournalReader`]s.
//!
//! Schema, exactly as [`JournalStore::create`] makes it ([`SCHEMA_SQL`]):
//!
//! ```sql
//! CREATE TABLE meta (
//!     key   TEXT PRIMARY KEY,
//!     value TEXT NOT NULL
//! );
//! CREATE TABLE records (
//!     seq      INTEGER PRIMARY KEY,
//!     ts       INTEGER NOT NULL,
//!     kind     TEXT NOT NULL,
//!     body     TEXT NOT NULL,
//!     checksum TEXT NOT NULL
//! );
//! ```
//!
//! - Pragmas: `journal_mode=WAL` (persistent, lets readers run while the writer appends) and
//!   `synchronous=FULL` (set on every writing connection: a committed append survives a
//!   power cut).
//! - `meta` holds `schema_version` = `1` plus the caller's keys.
//! - `records.seq` is 1, 2, 3... with no gaps; `ts` is UnixNanos of the engine clock; `kind`
//!   is the snake_case [`RecordKind`](super::RecordKind) text; `body` is JSON text, opaque to
//!   the store.
//! - `checksum` = lowercase hex of the first 16 bytes of sha256 over: the previous record's
//!   checksum text (empty for seq 1) ++ `"\n"` ++ seq (decimal) ++ `"\n"` ++ ts (decimal)
//!   ++ `"\n"` ++ kind ++ `"\n"` ++ body ([`record_checksum`]). It is
//!   both a per-record checksum and a hash chain: changing or deleting any record breaks
//!   every later link.

use super::db::{
    configure_writer, damage, open_damaged, open_existing, quick_check, read_meta, refuse_existing,
    sidecar, store_damage, sync_parent_dir, to_sql_seq, upsert_meta,
};
use super::error::{db_err, JournalStoreError};
use super::inspect::{inspect, Inspection};
use super::record::{record_checksum, NewRecord, Record};
use super::salvage::{salvage, Salvage};
use super::verify::{verify_records, Integrity};
use super::wal::{keep_copy, scan_wal, WalTail};
use rusqlite::config::DbConfig;
use rusqlite::{params, Connection, OpenFlags, TransactionBehavior};
use std::path::{Path, PathBuf};

/// The schema [`JournalStore::create`] executes (see the module documentation).
pub const SCHEMA_SQL: &str = "\
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE records (
    seq      INTEGER PRIMARY KEY,
    ts       INTEGER NOT NULL,
    kind     TEXT NOT NULL,
    body     TEXT NOT NULL,
    checksum TEXT NOT NULL
);
";

/// The `meta` key holding the schema version; reserved by the store.
pub const SCHEMA_VERSION_KEY: &str = "schema_version";

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: &str = "1";

pub(crate) const INSERT_SQL: &str =
    "INSERT INTO records (seq, ts, kind, body, checksum) VALUES (?1, ?2, ?3, ?4, ?5)";

/// The single writer of a journal file.
///
/// Guarantees: records get seq 1, 2, 3... with no gaps; an [`append`](Self::append) is one
/// SQLite transaction with one fsync (`synchronous=FULL`, WAL), so after it returns `Ok` the
/// whole batch is durable, and after an error none of it is; a second writer on the same
/// file is detected and refused ([`JournalStoreError::ConcurrentWriter`]), never interleaved.
pub struct JournalStore {
    conn: Connection,
    path: PathBuf,
    last_seq: u64,
    last_checksum: String,
    opened: Option<Integrity>,
    salvaged: Option<Salvage>,
    wal_tail: Option<WalTail>,
}

/// What one attempt of [`JournalStore::open_append`] found.
enum Opened {
    /// Verified (and cut back if needed): ready to append.
    Ready(Box<JournalStore>),
    /// SQLite reports the file damaged (this message): it must be salvaged.
    Damaged(String),
}

impl JournalStore {
    /// Creates a new journal file (error [`JournalStoreError::Exists`] if it exists and is not
    /// empty, or a non-empty `-wal` file lies next to it), in WAL mode with
    /// `synchronous=FULL`, and writes the schema and `meta` (`schema_version` = 1 plus the
    /// given pairs; a repeated key keeps its last value) in one transaction.
    /// `schema_version` may not be given ([`JournalStoreError::ReservedKey`]).
    pub fn create(path: &Path, meta: &[(&str, &str)]) -> Result<Self, JournalStoreError> {
        if let Some((key, _)) = meta.iter().find(|(k, _)| *k == SCHEMA_VERSION_KEY) {
            return Err(JournalStoreError::ReservedKey((*key).to_string()));
        }
        refuse_existing(path)?;
        refuse_existing(&sidecar(path, "-wal"))?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = Connection::open_with_flags(path, flags).map_err(|e| db_err(path, e))?;
        configure_writer(&conn, path)?;
        let err = |e| db_err(path, e);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Exclusive)
            .map_err(err)?;
        tx.execute_batch(SCHEMA_SQL).map_err(err)?;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)",
            params![SCHEMA_VERSION_KEY, SCHEMA_VERSION],
        )
        .map_err(err)?;
        for (key, value) in meta {
            upsert_meta(&tx, path, key, value)?;
        }
        tx.commit().map_err(err)?;
        sync_parent_dir(path)?;
        Ok(JournalStore {
            conn,
            path: path.to_path_buf(),
            last_seq: 0,
            last_checksum: String::new(),
            opened: None,
            salvaged: None,
            wal_tail: None,
        })
    }

    /// Opens an existing journal for appending, continuing its seq numbering.
    ///
    /// The journal is verified first (under the write lock), records and file structure
    /// (`PRAGMA quick_check`). What it finds is reported in
    /// [`opened_integrity`](Self::opened_integrity), never a panic, never silently accepted:
    ///
    /// - A torn or corrupt tail (bad checksum or chain link, gap, unknown kind...) is deleted
    ///   back to the longest valid prefix (`cut` = number of records removed).
    /// - A file SQLite reports damaged (truncated, garbled pages) is salvaged: its verified
    ///   prefix is copied into a fresh journal that takes its place, and the original is kept
    ///   as `<path>.damaged` ([`salvaged`](Self::salvaged) says where and why).
    /// - A torn or corrupt tail of the `-wal` file, which SQLite drops on its own, is
    ///   reported too, and a copy of the log kept
    ///   ([`discarded_wal_tail`](Self::discarded_wal_tail)).
    ///
    /// Files that are not SQLite or not a journal give [`JournalStoreError::NotAJournal`] and
    /// are left untouched; so are files too damaged to read even their schema and meta (an
    /// error naming the file and SQLite's reason).
    pub fn open_append(path: &Path) -> Result<Self, JournalStoreError> {
        let cause = match Self::open_checked(path) {
            Ok(Opened::Ready(store)) => return Ok(*store),
            Ok(Opened::Damaged(cause)) => cause,
            Err(JournalStoreError::NotAJournal(p, why)) => {
                // E.g. the schema itself is in a log SQLite ignores: say so.
                let why = match scan_wal(path) {
                    Ok(Some(tail)) => format!("{why}; {}", tail.describe()),
                    _ => why,
                };
                return Err(JournalStoreError::NotAJournal(p, why));
            }
            Err(e) => return Err(e),
        };
        let (mut integrity, salvaged) = salvage(path, cause)?;
        let mut store = match Self::open_checked(path)? {
            Opened::Ready(store) => store,
            Opened::Damaged(cause) => {
                let why = format!("the salvaged journal is reported damaged too: {cause}");
                let e = std::io::Error::new(std::io::ErrorKind::InvalidData, why);
                return Err(JournalStoreError::Io(path.to_path_buf(), e));
            }
        };
        salvaged.report(&mut integrity);
        store.opened = Some(integrity);
        store.salvaged = Some(salvaged);
        Ok(*store)
    }

    /// One attempt of [`open_append`](Self::open_append) without salvaging.
    fn open_checked(path: &Path) -> Result<Opened, JournalStoreError> {
        let damaged = |e: JournalStoreError| match store_damage(&e) {
            Some(cause) => Ok(Opened::Damaged(cause)),
            None => Err(e),
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = match open_existing(path, flags) {
            Ok(conn) => conn,
            Err(e) => return damaged(e),
        };
        let err = |e| db_err(path, e);
        if let Err(e) = configure_writer(&conn, path) {
            return damaged(e);
        }
        let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
            Ok(tx) => tx,
            Err(e) => return damaged(err(e)),
        };
        let verified = verify_records(&tx, path, |_| {})?;
        let found = match verified.damaged {
            Some(found) => Some(found),
            None => quick_check(&tx).map_err(err)?,
        };
        if let Some(cause) = found {
            return Ok(Opened::Damaged(cause));
        }
        // Before anything is written: SQLite's next write overwrites what it ignored.
        let mut wal_tail = scan_wal(path)?;
        if let Some(tail) = wal_tail.as_mut() {
            keep_copy(tail)?;
        }
        let mut integrity = verified.integrity;
        if integrity.first_bad_seq.is_some() {
            let keep = to_sql_seq(path, integrity.valid_records)?;
            match tx.execute("DELETE FROM records WHERE seq > ?1 OR seq < 1", [keep]) {
                Ok(removed) => integrity.cut = removed as u64,
                Err(e) if damage(&e).is_some() => return damaged(err(e)),
                Err(e) => return Err(err(e)),
            }
        }
        if let Some(tail) = &wal_tail {
            let note = tail.describe();
            integrity.first_bad_seq = integrity
                .first_bad_seq
                .or(Some(integrity.valid_records + 1));
            integrity.reason = Some(match integrity.reason.take() {
                Some(found) => format!("{found}; {note}"),
                None => note,
            });
        }
        tx.commit().map_err(err)?;
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, false)
            .map_err(err)?;
        Ok(Opened::Ready(Box::new(JournalStore {
            conn,
            path: path.to_path_buf(),
            last_seq: integrity.valid_records,
            last_checksum: verified.last_checksum,
            opened: Some(integrity),
            salvaged: None,
            wal_tail,
        })))
    }

    /// Appends `batch` in ONE transaction (one fsync per call, i.e. per engine step) and
    /// returns the seqs given, `last_seq + 1 ..= last_seq + batch.len()`. All or nothing: on
    /// error nothing is written and [`last_seq`](Self::last_seq) is unchanged. An empty batch
    /// writes nothing and returns an empty vector.
    pub fn append(&mut self, batch: &[NewRecord]) -> Result<Vec<u64>, JournalStoreError> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let path = self.path.as_path();
        let err = |e| db_err(path, e);
        let end = u64::try_from(batch.len())
            .ok()
            .and_then(|n| self.last_seq.checked_add(n))
            .filter(|&end| i64::try_from(end).is_ok())
            .ok_or_else(|| JournalStoreError::Full(path.to_path_buf()))?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        let found: Option<i64> = tx
            .prepare_cached("SELECT max(seq) FROM records")
            .and_then(|mut s| s.query_row([], |r| r.get(0)))
            .map_err(err)?;
        let found = found.unwrap_or(0);
        if u64::try_from(found).ok() != Some(self.last_seq) {
            return Err(JournalStoreError::ConcurrentWriter {
                path: path.to_path_buf(),
                expected: self.last_seq,
                found: u64::try_from(found).unwrap_or(0),
            });
        }
        let mut seqs = Vec::with_capacity(batch.len());
        let mut prev = self.last_checksum.clone();
        {
            let mut insert = tx.prepare_cached(INSERT_SQL).map_err(err)?;
            for (seq, rec) in (self.last_seq + 1..=end).zip(batch) {
                let kind = rec.kind.as_str();
                let checksum = record_checksum(&prev, seq, rec.ts, kind, &rec.body);
                // `end` fits in i64 (checked above), so every seq does.
                let seq_sql = i64::try_from(seq).unwrap_or(i64::MAX);
                insert
                    .execute(params![seq_sql, rec.ts, kind, rec.body, checksum])
                    .map_err(err)?;
                prev = checksum;
                seqs.push(seq);
            }
        }
        tx.commit().map_err(err)?;
        self.last_seq = end;
        self.last_checksum = prev;
        Ok(seqs)
    }

    /// The seq of the last record written (or kept by `open_append`); 0 for an empty journal.
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// The `meta` value of `key`, if set.
    pub fn meta(&self, key: &str) -> Result<Option<String>, JournalStoreError> {
        read_meta(&self.conn, &self.path, key)
    }

    /// Sets (inserts or replaces) the `meta` value of `key`, durably. `schema_version` is
    /// reserved ([`JournalStoreError::ReservedKey`]).
    pub fn set_meta(&mut self, key: &str, value: &str) -> Result<(), JournalStoreError> {
        if key == SCHEMA_VERSION_KEY {
            return Err(JournalStoreError::ReservedKey(key.to_string()));
        }
        upsert_meta(&self.conn, &self.path, key, value)
    }

    /// What [`open_append`](Self::open_append) found when it opened the journal (with `cut`
    /// = records removed); `None` for a journal made by [`create`](Self::create).
    pub fn opened_integrity(&self) -> Option<&Integrity> {
        self.opened.as_ref()
    }

    /// When [`open_append`](Self::open_append) had to salvage a file SQLite reported
    /// damaged: why, how many records it kept, and where the damaged original went. `None`
    /// otherwise (also for a journal made by [`create`](Self::create)).
    pub fn salvaged(&self) -> Option<&Salvage> {
        self.salvaged.as_ref()
    }

    /// When [`open_append`](Self::open_append) found that SQLite ignored a torn or corrupt
    /// tail of the `-wal` file (the transactions in it are lost): where, why, and where a
    /// copy of the log was kept. `None` otherwise.
    pub fn discarded_wal_tail(&self) -> Option<&WalTail> {
        self.wal_tail.as_ref()
    }

    /// The journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Read-only access to a journal. Works while another process appends (WAL): every call
/// sees a consistent snapshot of the committed records. Never modifies the file's content.
///
/// A file SQLite refuses as damaged (e.g. truncated) is read as far as SQLite can; every
/// [`Integrity`] it reports then says so. A torn `-wal` tail is invisible to a reader (SQLite
/// drops it silently); [`JournalStore::open_append`] reports it.
pub struct JournalReader {
    conn: Connection,
    path: PathBuf,
    damaged: Option<String>,
}

impl JournalReader {
    /// Opens `path` read-only after checking it is a journal of a supported schema version
    /// ([`JournalStoreError::NotFound`], [`JournalStoreError::NotAJournal`] otherwise).
    pub fn open(path: &Path) -> Result<Self, JournalStoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let (conn, damaged) = match open_existing(path, flags) {
            Ok(conn) => (conn, None),
            Err(e) => match store_damage(&e) {
                Some(cause) => (open_damaged(path).map_err(|_| e)?, Some(cause)),
                None => return Err(e),
            },
        };
        Ok(JournalReader {
            conn,
            path: path.to_path_buf(),
            damaged,
        })
    }

    /// Adds to `integrity` that SQLite refused the file as damaged, if it did.
    fn note_damage(&self, integrity: &mut Integrity) {
        if let Some(cause) = &self.damaged {
            let note = format!(
                "SQLite reports the file damaged ({}) and it was read as far as possible; JournalStore::open_append salvages the valid prefix",
                cause.trim_end_matches('.')
            );
            integrity.reason = Some(match integrity.reason.take() {
                Some(found) => format!("{found}; {note}"),
                None => note,
            });
        }
    }

    /// All records in seq order, verified: stops at the first record whose checksum or chain
    /// link is wrong or whose seq breaks the 1..n sequence, and returns the valid prefix plus
    /// an [`Integrity`] saying what (if anything) was wrong. Bad content is not an error.
    pub fn read_all(&self) -> Result<(Vec<Record>, Integrity), JournalStoreError> {
        let mut records = Vec::new();
        let mut verified = verify_records(&self.conn, &self.path, |r| records.push(r))?;
        self.note_damage(&mut verified.integrity);
        Ok((records, verified.integrity))
    }

    /// The `meta` value of `key`, if set.
    pub fn meta(&self, key: &str) -> Result<Option<String>, JournalStoreError> {
        read_meta(&self.conn, &self.path, key)
    }

    /// A verified summary (counts by kind, time span, last seq, integrity, meta), all taken
    /// from one snapshot of the file.
    pub fn inspect(&self) -> Result<Inspection, JournalStoreError> {
        let err = |e| db_err(&self.path, e);
        let tx = self.conn.unchecked_transaction().map_err(err)?;
        let mut inspection = inspect(&tx, &self.path)?;
        tx.finish().map_err(err)?;
        self.note_damage(&mut inspection.integrity);
        Ok(inspection)
    }

    /// The journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::{JournalStore, SCHEMA_SQL};

    fn pragma(store: &JournalStore, name: &str) -> Option<String> {
        store
            .conn
            .query_row(&format!("PRAGMA {name}"), [], |r| {
                r.get::<_, rusqlite::types::Value>(0)
            })
            .ok()
            .map(|v| format!("{v:?}"))
    }

    /// Both the creating and the re-opening writer run WAL with synchronous=FULL (2).
    #[test]
    fn writers_use_wal_and_synchronous_full() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("p.db");
        let store = JournalStore::create(&path, &[]).expect("create");
        assert_eq!(
            pragma(&store, "journal_mode").as_deref(),
            Some("Text(\"wal\")")
        );
        assert_eq!(pragma(&store, "synchronous").as_deref(), Some("Integer(2)"));
        drop(store);
        let store = JournalStore::open_append(&path).expect("open_append");
        assert_eq!(
            pragma(&store, "journal_mode").as_deref(),
            Some("Text(\"wal\")")
        );
        assert_eq!(pragma(&store, "synchronous").as_deref(), Some("Integer(2)"));
    }

    /// The module documentation shows the schema exactly as executed.
    #[test]
    fn module_doc_shows_the_schema_as_created() {
        let doc: String = SCHEMA_SQL
            .lines()
            .map(|l| format!("//! {l}").trim_end().to_string() + "\n")
            .collect();
        assert!(include_str!("store.rs").contains(&format!("//! ```sql\n{doc}//! ```")));
    }
}
