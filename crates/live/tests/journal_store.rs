//! The SQLite write-ahead journal store: numbering, durability boundaries, verification,
//! cutting a corrupt tail, and refusing files that are not journals.

use lockstep_live::journal::{
    record_checksum, JournalReader, JournalStore, JournalStoreError, NewRecord, RecordKind,
};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[path = "journal_store/corruption.rs"]
mod corruption;

const T0: i64 = 1_704_205_800_000_000_000; // 2024-01-02T14:30:00Z

fn body(i: u64) -> String {
    format!("{{\"i\":{i},\"note\":\"record number {i}\"}}")
}

fn kind_of(i: u64) -> RecordKind {
    RecordKind::ALL[(i % RecordKind::ALL.len() as u64) as usize]
}

fn new_record(i: u64) -> NewRecord {
    NewRecord::new(T0 + i as i64 * 1_000_000, kind_of(i), body(i))
}

/// A fresh journal at `dir/name` holding records 1..=n, appended in batches of `batch`.
fn journal_with(dir: &Path, name: &str, n: u64, batch: u64) -> (PathBuf, JournalStore) {
    let path = dir.join(name);
    let mut store = JournalStore::create(&path, &[("run", "test")]).expect("create");
    let mut next = 1;
    while next <= n {
        let end = (next + batch - 1).min(n);
        let recs: Vec<NewRecord> = (next..=end).map(new_record).collect();
        let seqs = store.append(&recs).expect("append");
        assert_eq!(seqs, (next..=end).collect::<Vec<_>>());
        next = end + 1;
    }
    (path, store)
}

fn raw(path: &Path) -> Connection {
    Connection::open(path).expect("raw sqlite connection")
}

#[test]
fn round_trip_of_1000_records_in_batches() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, store) = journal_with(dir.path(), "s.db", 1000, 37);
    assert_eq!(store.last_seq(), 1000);
    let (records, integrity) = JournalReader::open(&path)
        .expect("open")
        .read_all()
        .expect("read");
    assert!(integrity.is_intact(), "{integrity:?}");
    assert_eq!(integrity.valid_records, 1000);
    assert_eq!(records.len(), 1000);
    for (i, r) in (1u64..).zip(&records) {
        assert_eq!(r.seq, i);
        assert_eq!(r.ts, new_record(i).ts);
        assert_eq!(r.kind, kind_of(i));
        assert_eq!(r.body, body(i));
    }
}

#[test]
fn stored_checksums_follow_the_documented_chain() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, _store) = journal_with(dir.path(), "s.db", 5, 2);
    let conn = raw(&path);
    let mut stmt = conn
        .prepare("SELECT seq, ts, kind, body, checksum FROM records ORDER BY seq")
        .expect("prepare");
    let rows: Vec<(i64, i64, String, String, String)> = stmt
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    let mut prev = String::new();
    for (seq, ts, kind, body, checksum) in rows {
        assert_eq!(kind, kind_of(seq as u64).as_str());
        assert_eq!(
            checksum,
            record_checksum(&prev, seq as u64, ts, &kind, &body)
        );
        prev = checksum;
    }
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .expect("journal_mode");
    assert_eq!(mode, "wal");
}

#[test]
fn open_append_continues_numbering_and_chain() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, store) = journal_with(dir.path(), "s.db", 1000, 100);
    drop(store);
    let mut store = JournalStore::open_append(&path).expect("open_append");
    let integrity = store
        .opened_integrity()
        .expect("integrity after open_append");
    assert!(integrity.is_intact(), "{integrity:?}");
    assert_eq!(integrity.cut, 0);
    assert_eq!(store.last_seq(), 1000);
    assert_eq!(
        store.append(&[new_record(1001)]).expect("append"),
        vec![1001]
    );
    assert_eq!(store.append(&[]).expect("empty append"), Vec::<u64>::new());
    assert_eq!(store.last_seq(), 1001);
    let (records, integrity) = JournalReader::open(&path)
        .expect("open")
        .read_all()
        .expect("read");
    assert!(integrity.is_intact(), "{integrity:?}");
    assert_eq!(records.len(), 1001);
    assert_eq!(records[1000].body, body(1001));
}

#[test]
fn meta_round_trip() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("m.db");
    let mut store =
        JournalStore::create(&path, &[("run", "alpha"), ("mode", "paper")]).expect("create");
    assert_eq!(store.meta("run").expect("meta").as_deref(), Some("alpha"));
    assert_eq!(
        store.meta("schema_version").expect("meta").as_deref(),
        Some("1")
    );
    assert_eq!(store.meta("absent").expect("meta"), None);
    store.set_meta("run", "beta").expect("set_meta");
    store.set_meta("config_hash", "abc123").expect("set_meta");
    assert!(matches!(
        store.set_meta("schema_version", "2"),
        Err(JournalStoreError::ReservedKey(_))
    ));
    assert!(matches!(
        JournalStore::create(&dir.path().join("r.db"), &[("schema_version", "9")]),
        Err(JournalStoreError::ReservedKey(_))
    ));
    drop(store);
    let reader = JournalReader::open(&path).expect("open");
    assert_eq!(reader.meta("run").expect("meta").as_deref(), Some("beta"));
    assert_eq!(reader.meta("mode").expect("meta").as_deref(), Some("paper"));
    assert_eq!(
        reader.meta("config_hash").expect("meta").as_deref(),
        Some("abc123")
    );
}

#[test]
fn create_on_an_existing_journal_is_an_error_naming_the_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, store) = journal_with(dir.path(), "s.db", 3, 3);
    drop(store);
    let err = JournalStore::create(&path, &[])
        .err()
        .expect("create must refuse");
    assert!(
        matches!(&err, JournalStoreError::Exists(p) if p == &path),
        "{err:?}"
    );
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
    // The existing journal is untouched.
    let (records, integrity) = JournalReader::open(&path)
        .expect("open")
        .read_all()
        .expect("read");
    assert_eq!((records.len(), integrity.is_intact()), (3, true));
    // An existing but empty file (e.g. from a temp-file API) is fine.
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").expect("write");
    JournalStore::create(&empty, &[]).expect("create over an empty file");
}

#[test]
fn a_reader_sees_appends_while_the_writer_is_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, mut store) = journal_with(dir.path(), "s.db", 10, 10);
    let reader = JournalReader::open(&path).expect("open");
    assert_eq!(reader.read_all().expect("read").0.len(), 10);
    store
        .append(&[new_record(11), new_record(12)])
        .expect("append");
    let (records, integrity) = reader.read_all().expect("read");
    assert_eq!(records.len(), 12);
    assert!(integrity.is_intact());
}

#[test]
fn a_second_writer_is_refused_not_interleaved() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, mut first) = journal_with(dir.path(), "s.db", 10, 10);
    let mut second = JournalStore::open_append(&path).expect("second writer");
    assert_eq!(
        second.append(&[new_record(11)]).expect("second append"),
        vec![11]
    );
    match first.append(&[new_record(11)]) {
        Err(JournalStoreError::ConcurrentWriter {
            expected, found, ..
        }) => assert_eq!((expected, found), (10, 11)),
        other => panic!("expected ConcurrentWriter, got {other:?}"),
    }
    assert_eq!(first.last_seq(), 10);
    let (records, integrity) = JournalReader::open(&path)
        .expect("open")
        .read_all()
        .expect("read");
    assert!(integrity.is_intact());
    assert_eq!(records.len(), 11);
}

#[test]
fn inspect_counts_by_kind_and_reports_ok() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("i.db");
    let mut store = JournalStore::create(&path, &[("run", "inspect-me")]).expect("create");
    let mut batch = Vec::new();
    for i in 0..7 {
        batch.push(NewRecord::new(T0 + i, RecordKind::Bar, "{}"));
    }
    for i in 7..10 {
        batch.push(NewRecord::new(T0 + i, RecordKind::Intent, "{}"));
    }
    batch.push(NewRecord::new(
        T0 + 60_000_000_000,
        RecordKind::VenueReport,
        "{}",
    ));
    store.append(&batch).expect("append");
    let inspection = JournalReader::open(&path)
        .expect("open")
        .inspect()
        .expect("inspect");
    assert_eq!(inspection.counts.get("bar"), Some(&7));
    assert_eq!(inspection.counts.get("intent"), Some(&3));
    assert_eq!(inspection.counts.get("venue_report"), Some(&1));
    assert_eq!(inspection.counts.len(), 3);
    assert_eq!(inspection.first_ts, Some(T0));
    assert_eq!(inspection.last_ts, Some(T0 + 60_000_000_000));
    assert_eq!(inspection.last_seq, 11);
    assert_eq!(inspection.stored_records, 11);
    assert_eq!(
        inspection.meta.get("run").map(String::as_str),
        Some("inspect-me")
    );
    assert!(inspection.integrity.is_intact());
    let shown = inspection.to_string();
    assert!(shown.contains("integrity: ok"), "{shown}");
    assert!(shown.contains("  bar: 7\n"), "{shown}");
    assert!(shown.contains("  venue_report: 1\n"), "{shown}");
    assert!(shown.contains("2024-01-02T14:30:00Z"), "{shown}");
    assert!(shown.contains("2024-01-02T14:31:00Z"), "{shown}");
    assert!(shown.contains("last seq: 11"), "{shown}");
}

#[test]
fn append_throughput_100k_records_in_batches_of_50() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("perf.db");
    let mut store = JournalStore::create(&path, &[]).expect("create");
    let batches: Vec<Vec<NewRecord>> = (0..2000u64)
        .map(|b| (b * 50 + 1..=b * 50 + 50).map(new_record).collect())
        .collect();
    let start = Instant::now();
    for batch in &batches {
        store.append(batch).expect("append");
    }
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "journal append: 100000 records in batches of 50 in {secs:.3}s = {:.0} records/s ({:.0} commits/s)",
        100_000.0 / secs,
        2000.0 / secs
    );
    assert_eq!(store.last_seq(), 100_000);
    let start = Instant::now();
    let (records, integrity) = JournalReader::open(&path)
        .expect("open")
        .read_all()
        .expect("read");
    eprintln!(
        "journal read_all + verify: {} records in {:.3}s",
        records.len(),
        start.elapsed().as_secs_f64()
    );
    assert!(integrity.is_intact());
    assert_eq!(records.len(), 100_000);
}
