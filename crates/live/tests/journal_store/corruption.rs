//! Damaged and foreign files: altered, forged, deleted and mistyped records, torn WAL
//! tails, cutting back to the valid prefix, and files that are not journals.

use super::{body, journal_with, new_record, raw};
use lockstep_live::journal::{record_checksum, JournalReader, JournalStore, JournalStoreError};

#[test]
fn altered_body_breaks_the_journal_at_that_record() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, store) = journal_with(dir.path(), "s.db", 1000, 50);
    drop(store);
    raw(&path)
        .execute(
            "UPDATE records SET body = '{\"i\":7000}' WHERE seq = 700",
            [],
        )
        .expect("tamper");
    let reader = JournalReader::open(&path).expect("open");
    let (records, integrity) = reader.read_all().expect("read");
    assert_eq!(records.len(), 699);
    assert_eq!(records.last().map(|r| r.seq), Some(699));
    assert_eq!(integrity.valid_records, 699);
    assert_eq!(integrity.first_bad_seq, Some(700));
    let reason = integrity.reason.clone().expect("reason");
    assert!(reason.contains("checksum"), "{reason}");
    assert!(!integrity.is_intact());
    let shown = reader.inspect().expect("inspect").to_string();
    assert!(shown.contains("integrity: BROKEN at seq 700: "), "{shown}");
    assert!(shown.contains("699 verified of 1000 stored"), "{shown}");
}

#[test]
fn a_forged_checksum_breaks_the_next_link() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, store) = journal_with(dir.path(), "s.db", 20, 20);
    drop(store);
    let conn = raw(&path);
    let prev: String = conn
        .query_row("SELECT checksum FROM records WHERE seq = 9", [], |r| {
            r.get(0)
        })
        .expect("prev");
    let forged_body = "{\"forged\":true}";
    let r = new_record(10);
    let forged = record_checksum(&prev, 10, r.ts, r.kind.as_str(), forged_body);
    conn.execute(
        "UPDATE records SET body = ?1, checksum = ?2 WHERE seq = 10",
        [forged_body, forged.as_str()],
    )
    .expect("forge");
    let (records, integrity) = JournalReader::open(&path)
        .expect("open")
        .read_all()
        .expect("read");
    // Record 10 is self-consistent, but record 11 was chained to the original 10.
    assert_eq!(records.len(), 10);
    assert_eq!(integrity.first_bad_seq, Some(11));
    assert!(integrity
        .reason
        .as_deref()
        .unwrap_or("")
        .contains("checksum"));
}

#[test]
fn a_deleted_record_is_a_gap() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, store) = journal_with(dir.path(), "s.db", 1000, 50);
    drop(store);
    raw(&path)
        .execute("DELETE FROM records WHERE seq = 500", [])
        .expect("delete");
    let (records, integrity) = JournalReader::open(&path)
        .expect("open")
        .read_all()
        .expect("read");
    assert_eq!(records.len(), 499);
    assert_eq!(integrity.valid_records, 499);
    assert_eq!(integrity.first_bad_seq, Some(500));
    let reason = integrity.reason.expect("reason");
    assert!(reason.contains("gap"), "{reason}");
}

#[test]
fn unknown_kind_and_wrong_types_are_integrity_breaks_not_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, store) = journal_with(dir.path(), "s.db", 30, 10);
    drop(store);
    let conn = raw(&path);
    conn.execute("UPDATE records SET kind = 'Bar' WHERE seq = 20", [])
        .expect("tamper kind");
    conn.execute("UPDATE records SET ts = 'noon' WHERE seq = 10", [])
        .expect("tamper ts");
    let (records, integrity) = JournalReader::open(&path)
        .expect("open")
        .read_all()
        .expect("read");
    assert_eq!(records.len(), 9);
    assert_eq!(integrity.first_bad_seq, Some(10));
    assert!(integrity.reason.as_deref().unwrap_or("").contains("ts"));
}

#[test]
fn open_append_cuts_a_corrupt_tail_and_continues_from_the_valid_prefix() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, store) = journal_with(dir.path(), "s.db", 1000, 50);
    drop(store);
    raw(&path)
        .execute("UPDATE records SET body = 'torn' WHERE seq = 700", [])
        .expect("tamper");
    let mut store = JournalStore::open_append(&path).expect("open_append");
    let integrity = store.opened_integrity().expect("integrity").clone();
    assert_eq!(integrity.cut, 301);
    assert_eq!(integrity.valid_records, 699);
    assert_eq!(integrity.first_bad_seq, Some(700));
    assert!(!integrity.is_intact());
    assert!(
        integrity.to_string().contains("cut 301 records"),
        "{integrity}"
    );
    assert_eq!(store.last_seq(), 699);
    let seqs = store
        .append(&[new_record(700), new_record(701)])
        .expect("append after cut");
    assert_eq!(seqs, vec![700, 701]);
    let (records, integrity) = JournalReader::open(&path)
        .expect("open")
        .read_all()
        .expect("read");
    assert!(integrity.is_intact(), "{integrity:?}");
    assert_eq!(records.len(), 701);
    assert_eq!(records[699].body, body(700));
    // Reopening again finds nothing to cut.
    drop(store);
    let store = JournalStore::open_append(&path).expect("reopen");
    assert_eq!(store.opened_integrity().map(|i| i.cut), Some(0));
    assert_eq!(store.last_seq(), 701);
}

#[test]
fn open_append_cuts_everything_after_a_gap() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, store) = journal_with(dir.path(), "s.db", 1000, 50);
    drop(store);
    raw(&path)
        .execute("DELETE FROM records WHERE seq = 500", [])
        .expect("delete");
    let mut store = JournalStore::open_append(&path).expect("open_append");
    assert_eq!(store.opened_integrity().map(|i| i.cut), Some(500));
    assert_eq!(store.append(&[new_record(500)]).expect("append"), vec![500]);
    let (records, integrity) = JournalReader::open(&path)
        .expect("open")
        .read_all()
        .expect("read");
    assert!(integrity.is_intact());
    assert_eq!(records.len(), 500);
}

#[test]
fn a_torn_wal_tail_recovers_a_prefix() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The writer stays open, so the records are still in the -wal file, not checkpointed.
    let (path, _store) = journal_with(dir.path(), "s.db", 200, 20);
    let copy = dir.path().join("copy.db");
    std::fs::copy(&path, &copy).expect("copy db");
    let wal = std::fs::read(dir.path().join("s.db-wal")).expect("read wal");
    assert!(wal.len() > 1000, "records should be in the WAL");
    std::fs::write(dir.path().join("copy.db-wal"), &wal[..wal.len() - 700]).expect("torn wal");
    // A reader can recover the copy on its own (no -shm file, writer gone).
    let (seen, integrity) = JournalReader::open(&copy)
        .expect("reader on torn copy")
        .read_all()
        .expect("read");
    assert!(integrity.is_intact(), "{integrity:?}");
    let mut store = JournalStore::open_append(&copy).expect("open_append on torn copy");
    let kept = store.last_seq();
    assert_eq!(seen.len() as u64, kept);
    eprintln!("torn WAL copy kept {kept} of 200 records");
    assert!(
        kept < 200,
        "the torn last transaction must be gone, kept {kept}"
    );
    assert_eq!(kept % 20, 0, "whole transactions only, kept {kept}");
    assert_eq!(
        store.append(&[new_record(kept + 1)]).expect("append"),
        vec![kept + 1]
    );
    let (records, integrity) = JournalReader::open(&copy)
        .expect("open")
        .read_all()
        .expect("read");
    assert!(integrity.is_intact(), "{integrity:?}");
    assert_eq!(records.len() as u64, kept + 1);
}

#[test]
fn files_that_are_not_journals_are_refused_without_panic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let garbage = dir.path().join("garbage.db");
    let bytes: Vec<u8> = (0..8192u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&garbage, &bytes).expect("write");
    for result in [
        JournalReader::open(&garbage).err(),
        JournalStore::open_append(&garbage).err(),
    ] {
        match result {
            Some(JournalStoreError::NotAJournal(p, _)) => assert_eq!(p, garbage),
            other => panic!("expected NotAJournal, got {other:?}"),
        }
    }
    assert_eq!(
        std::fs::read(&garbage).expect("read back"),
        bytes,
        "left untouched"
    );
    assert!(matches!(
        JournalStore::create(&garbage, &[]),
        Err(JournalStoreError::Exists(_))
    ));

    let other_db = dir.path().join("other.db");
    raw(&other_db)
        .execute_batch("CREATE TABLE t (x INTEGER)")
        .expect("other db");
    assert!(matches!(
        JournalReader::open(&other_db),
        Err(JournalStoreError::NotAJournal(..))
    ));
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").expect("write");
    assert!(matches!(
        JournalStore::open_append(&empty),
        Err(JournalStoreError::NotAJournal(..))
    ));
    let missing = dir.path().join("missing.db");
    assert!(matches!(
        JournalReader::open(&missing),
        Err(JournalStoreError::NotFound(_))
    ));
    assert!(!missing.exists(), "opening must not create the file");
}

#[test]
fn a_newer_schema_version_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, store) = journal_with(dir.path(), "s.db", 1, 1);
    drop(store);
    raw(&path)
        .execute(
            "UPDATE meta SET value = '2' WHERE key = 'schema_version'",
            [],
        )
        .expect("bump");
    match JournalStore::open_append(&path) {
        Err(JournalStoreError::NotAJournal(_, why)) => assert!(why.contains("schema_version")),
        other => panic!("expected NotAJournal, got {:?}", other.err()),
    }
}
