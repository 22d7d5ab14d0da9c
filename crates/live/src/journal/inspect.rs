//! A human/machine summary of a journal: [`Inspection`].

use super::db::damage;
use super::error::{db_err, JournalStoreError};
use super::verify::{verify_records, Integrity};
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::Connection;
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

/// A verified summary of a journal, from [`JournalReader::inspect`](super::JournalReader::inspect).
///
/// Counts and times cover the verified prefix only (records `1..=last_seq`);
/// `stored_records` counts every row, so `stored_records > last_seq` means unverified rows
/// follow the break. `Display` prints a human summary ending in `integrity: ok` or
/// `integrity: BROKEN at seq N: reason`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    /// Number of verified records per kind text (`bar`, `intent`, ...); kinds with no record
    /// are absent.
    pub counts: BTreeMap<String, u64>,
    /// `ts` of the first verified record.
    pub first_ts: Option<i64>,
    /// `ts` of the last verified record.
    pub last_ts: Option<i64>,
    /// Seq of the last verified record (0 if none).
    pub last_seq: u64,
    /// Rows in the `records` table, verified or not (in a file SQLite reports damaged: the
    /// rows it could read before the damage).
    pub stored_records: u64,
    /// What verification found.
    pub integrity: Integrity,
    /// Every `meta` pair, `schema_version` included.
    pub meta: BTreeMap<String, String>,
}

/// Builds the inspection from `conn` (the caller provides the snapshot/transaction).
pub(crate) fn inspect(conn: &Connection, path: &Path) -> Result<Inspection, JournalStoreError> {
    let err = |e| db_err(path, e);
    let mut meta = BTreeMap::new();
    {
        let mut stmt = conn
            .prepare("SELECT key, value FROM meta ORDER BY key")
            .map_err(err)?;
        let mut rows = stmt.query([]).map_err(err)?;
        while let Some(row) = rows.next().map_err(err)? {
            meta.insert(row.get(0).map_err(err)?, row.get(1).map_err(err)?);
        }
    }
    let stored = match conn.query_row("SELECT count(*) FROM records", [], |r| r.get::<_, i64>(0)) {
        Ok(n) => u64::try_from(n).unwrap_or(0),
        Err(e) if damage(&e).is_some() => readable_rows(conn, path)?,
        Err(e) => return Err(err(e)),
    };
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut first_ts = None;
    let mut last_ts = None;
    let verified = verify_records(conn, path, |r| {
        *counts.entry(r.kind.as_str().to_string()).or_default() += 1;
        first_ts.get_or_insert(r.ts);
        last_ts = Some(r.ts);
    })?;
    Ok(Inspection {
        counts,
        first_ts,
        last_ts,
        last_seq: verified.integrity.valid_records,
        stored_records: stored,
        integrity: verified.integrity,
        meta,
    })
}

/// Counts the rows of `records` SQLite can read, stopping where it reports the file damaged.
fn readable_rows(conn: &Connection, path: &Path) -> Result<u64, JournalStoreError> {
    let err = |e| db_err(path, e);
    let mut stmt = conn
        .prepare("SELECT seq FROM records ORDER BY seq")
        .map_err(err)?;
    let mut rows = stmt.query([]).map_err(err)?;
    let mut n = 0u64;
    loop {
        match rows.next() {
            Ok(Some(_)) => n += 1,
            Ok(None) => return Ok(n),
            Err(e) if damage(&e).is_some() => return Ok(n),
            Err(e) => return Err(err(e)),
        }
    }
}

/// ISO-8601 UTC text of UnixNanos (`2024-01-02T14:30:00Z`, fractions only when present).
fn iso(ts: i64) -> String {
    DateTime::<Utc>::from_timestamp_nanos(ts).to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

impl fmt::Display for Inspection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.stored_records == self.last_seq {
            writeln!(f, "records: {}", self.last_seq)?;
        } else {
            writeln!(
                f,
                "records: {} verified of {} stored",
                self.last_seq, self.stored_records
            )?;
        }
        writeln!(f, "kinds:")?;
        for (kind, n) in &self.counts {
            writeln!(f, "  {kind}: {n}")?;
        }
        match (self.first_ts, self.last_ts) {
            (Some(a), Some(b)) => writeln!(f, "span: {} .. {}", iso(a), iso(b))?,
            _ => writeln!(f, "span: (no records)")?,
        }
        writeln!(f, "last seq: {}", self.last_seq)?;
        writeln!(f, "meta:")?;
        for (key, value) in &self.meta {
            writeln!(f, "  {key} = {value}")?;
        }
        write!(f, "integrity: {}", self.integrity)
    }
}
