//! Verification of the `records` table: seq contiguity, kind, checksum and chain link.

use super::db::damage;
use super::error::{db_err, JournalStoreError};
use super::record::{record_checksum, Record, RecordKind};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, Row};
use std::fmt;
use std::path::Path;

/// What verification found.
///
/// The valid prefix is records `1..=valid_records`. When a record is wrong or missing,
/// `first_bad_seq == Some(valid_records + 1)` (the first seq that is missing, unreadable or
/// does not verify) and `reason` says what was wrong with it; nothing after it is trusted.
/// When the damage lies below the records and none of them was lost (e.g. SQLite found the
/// file's structure damaged but every record still verified, see
/// [`JournalStore::salvaged`](super::JournalStore::salvaged)), `first_bad_seq` is `None`
/// and `reason` says what was found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Integrity {
    /// Number of records in the verified prefix (= the last valid seq).
    pub valid_records: u64,
    /// The first seq that is missing or does not verify; `None` when the journal is intact.
    pub first_bad_seq: Option<u64>,
    /// Human-readable cause (mentions "checksum", "gap", "unknown kind", "unreadable", ...,
    /// and what recovery did about it); `None` when intact.
    pub reason: Option<String>,
    /// Records removed by [`JournalStore::open_append`](super::JournalStore::open_append) to
    /// cut the journal back to its valid prefix (always 0 from a reader). After a salvage:
    /// the rows the damaged file still held after the prefix, when SQLite could count them
    /// (else 0, and `reason` says the number is unknown).
    pub cut: u64,
}

impl Integrity {
    /// True when every stored record verified (nothing bad found, nothing cut).
    pub fn is_intact(&self) -> bool {
        self.first_bad_seq.is_none() && self.reason.is_none() && self.cut == 0
    }
}

impl fmt::Display for Integrity {
    /// `ok`, or `BROKEN at seq N: reason` (plus `; cut K records` after a cut).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.first_bad_seq, &self.reason) {
            (None, None) => f.write_str("ok")?,
            (seq, reason) => {
                f.write_str("BROKEN")?;
                if let Some(seq) = seq {
                    write!(f, " at seq {seq}")?;
                }
                if let Some(reason) = reason {
                    write!(f, ": {reason}")?;
                }
            }
        }
        if self.cut > 0 {
            write!(f, "; cut {} records", self.cut)?;
        }
        Ok(())
    }
}

/// The outcome of a verification pass.
pub(crate) struct Verified {
    /// What was found (`cut` is 0).
    pub integrity: Integrity,
    /// Checksum text of the last valid record (empty when there is none).
    pub last_checksum: String,
    /// SQLite's message when reading stopped because it reported the file damaged
    /// (`SQLITE_CORRUPT`); the record where it stopped is `integrity.first_bad_seq`.
    pub damaged: Option<String>,
}

/// Streams `records` in seq order, verifying each row; hands every valid record to `each`
/// and stops at the first bad one. SQLite failures are errors; bad content is not, and
/// neither is a row SQLite cannot read because the file is damaged (`SQLITE_CORRUPT`): that
/// row ends the valid prefix like a bad one, with [`Verified::damaged`] set.
pub(crate) fn verify_records(
    conn: &Connection,
    path: &Path,
    mut each: impl FnMut(Record),
) -> Result<Verified, JournalStoreError> {
    let err = |e| db_err(path, e);
    let mut stmt = conn
        .prepare("SELECT seq, ts, kind, body, checksum FROM records ORDER BY seq")
        .map_err(err)?;
    let mut rows = stmt.query([]).map_err(err)?;
    let mut prev = String::new();
    let mut valid = 0u64;
    loop {
        let expected = valid + 1;
        let row = match rows.next() {
            Ok(Some(row)) => row,
            Ok(None) => break,
            Err(e) => {
                let Some(damaged) = damage(&e) else {
                    return Err(err(e));
                };
                let integrity = Integrity {
                    valid_records: valid,
                    first_bad_seq: Some(expected),
                    reason: Some(format!("unreadable: sqlite: {damaged}")),
                    cut: 0,
                };
                return Ok(Verified {
                    integrity,
                    last_checksum: prev,
                    damaged: Some(damaged),
                });
            }
        };
        match check_row(row, expected, &prev).map_err(err)? {
            Ok((record, checksum)) => {
                prev = checksum;
                valid = expected;
                each(record);
            }
            Err(reason) => {
                let integrity = Integrity {
                    valid_records: valid,
                    first_bad_seq: Some(expected),
                    reason: Some(reason),
                    cut: 0,
                };
                return Ok(Verified {
                    integrity,
                    last_checksum: prev,
                    damaged: None,
                });
            }
        }
    }
    let integrity = Integrity {
        valid_records: valid,
        ..Integrity::default()
    };
    Ok(Verified {
        integrity,
        last_checksum: prev,
        damaged: None,
    })
}

type RowCheck = Result<(Record, String), String>;

/// Checks one row against the expected seq and the previous checksum. The outer error is a
/// SQLite failure; the inner one the reason the row is bad.
fn check_row(row: &Row<'_>, expected: u64, prev: &str) -> rusqlite::Result<RowCheck> {
    let seq = match row.get_ref(0)? {
        ValueRef::Integer(s) => s,
        other => {
            return Ok(Err(format!(
                "seq is not an integer ({})",
                other.data_type()
            )))
        }
    };
    if u64::try_from(seq).ok() != Some(expected) {
        let reason = if u64::try_from(seq).is_ok_and(|s| s > expected) {
            format!("gap: seq {expected} is missing (next stored seq is {seq})")
        } else {
            format!("unexpected seq {seq} where seq {expected} was expected")
        };
        return Ok(Err(reason));
    }
    let ts = match row.get_ref(1)? {
        ValueRef::Integer(t) => t,
        other => return Ok(Err(format!("ts is not an integer ({})", other.data_type()))),
    };
    let Some(kind_text) = text(row.get_ref(2)?) else {
        return Ok(Err("kind is not text".to_string()));
    };
    let Some(kind) = RecordKind::parse(kind_text) else {
        return Ok(Err(format!("unknown kind `{}`", kind_text.escape_debug())));
    };
    let Some(body) = text(row.get_ref(3)?) else {
        return Ok(Err("body is not UTF-8 text".to_string()));
    };
    let Some(stored) = text(row.get_ref(4)?) else {
        return Ok(Err("checksum is not text".to_string()));
    };
    let computed = record_checksum(prev, expected, ts, kind_text, body);
    if stored != computed {
        return Ok(Err(format!(
            "checksum mismatch (stored {}, computed {computed}): the record or its link to seq {} was altered",
            stored.escape_debug(),
            expected - 1
        )));
    }
    let record = Record {
        seq: expected,
        ts,
        kind,
        body: body.to_string(),
    };
    Ok(Ok((record, computed)))
}

/// The UTF-8 text of a TEXT value; `None` for other types or invalid UTF-8.
fn text(v: ValueRef<'_>) -> Option<&str> {
    match v {
        ValueRef::Text(b) => std::str::from_utf8(b).ok(),
        _ => None,
    }
}
