//! Journal damage: "truncate or corrupt the last records at 100 random offsets: recovery
//! keeps the longest valid prefix, never panics, and says what it cut."
//!
//! A 300-record journal (varied kinds and bodies, appended in batches of 1..=17) is damaged
//! in its last quarter, 100 times, each on a fresh copy: the file truncated or overwritten
//! with 1..=16 random bytes, both for a closed journal (checkpointed: everything is in the
//! main file) and for a crashed one (the tail is still in the `-wal` file); a record body
//! rewritten through SQL without fixing its checksum; the last rows deleted through SQL.
//! Each copy is read (`JournalReader::read_all`), then recovered (`JournalStore::open_append`)
//! and appended to; both run under `catch_unwind`. The cases come from a seeded xorshift
//! generator: `LOCKSTEP_DAMAGE_SEED=<n>` replays another run; every failure names the seed.

use lockstep_live::journal::{Integrity, JournalReader, JournalStore, NewRecord, RecordKind};
use rusqlite::Connection;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

const N: u64 = 300;
const CASES: u64 = 100;
const DEFAULT_SEED: u64 = 0x1c57_e9da_4a6e_0b01;
const T0: i64 = 1_704_205_800_000_000_000; // 2024-01-02T14:30:00Z

/// xorshift64*: small, deterministic, good enough to pick offsets. Never seeded with 0.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// Uniform-ish in `lo..hi` (`hi > lo`).
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo)
    }
}

fn seed() -> u64 {
    let env = std::env::var("LOCKSTEP_DAMAGE_SEED").unwrap_or_default();
    let hex = env.strip_prefix("0x").map(|h| u64::from_str_radix(h, 16));
    hex.unwrap_or_else(|| env.parse()).unwrap_or(DEFAULT_SEED)
}

fn new_record(i: u64) -> NewRecord {
    let kind = RecordKind::ALL[(i * 7 % 13) as usize];
    let pad = "ab\u{e9}\u{2713}".repeat((i * 37 % 160) as usize);
    let body = format!(
        "{{\"i\":{i},\"kind\":\"{kind}\",\"quote\":\"say \\\"{i}\\\"\",\"pad\":\"{pad}\"}}"
    );
    NewRecord::new(T0 + i as i64 * 1_000_000 + (i % 7) as i64 * 13, kind, body)
}

/// Batch sizes 1..=17 summing to N.
fn batches() -> Vec<u64> {
    let (mut sizes, mut next) = (Vec::new(), 1);
    while next <= N {
        let size = (next * 5 % 17 + 1).min(N - next + 1);
        sizes.push(size);
        next += size;
    }
    sizes
}

/// A stored row exactly as in the file: seq, ts, kind, body, checksum.
type Row = (i64, i64, String, String, String);

fn rows(path: &Path) -> Vec<Row> {
    let conn = Connection::open(path).expect("raw connection");
    let sql = "SELECT seq, ts, kind, body, checksum FROM records ORDER BY seq";
    let mut stmt = conn.prepare(sql).expect("prepare");
    let rows = stmt.query_map([], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
    });
    let rows = rows.expect("query").collect::<Result<_, _>>();
    rows.expect("rows")
}

/// Where record cells lie in the closed journal: (page number, seq, byte range in the page),
/// per leaf page in key order, from the pristine bytes.
struct Layout {
    page_size: usize,
    /// (page number, its first seq, its cells in pointer order)
    leaves: Vec<(usize, u64, Vec<Cell>)>,
}

/// A record cell: its seq and its byte range in the page.
type Cell = (u64, usize, usize);

/// An SQLite varint of up to 8 bytes (ours are 1 or 2): value and length.
fn varint(b: &[u8]) -> (u64, usize) {
    let n = b.iter().position(|x| x & 0x80 == 0).expect("varint end") + 1;
    (
        b[..n].iter().fold(0, |v, x| v << 7 | u64::from(x & 0x7f)),
        n,
    )
}

fn layout(path: &Path) -> Layout {
    let bytes = std::fs::read(path).expect("read pristine");
    let page_size = match u16::from_be_bytes([bytes[16], bytes[17]]) {
        1 => 65536,
        n => usize::from(n),
    };
    let conn = Connection::open(path).expect("raw connection");
    let sql =
        "SELECT pageno FROM dbstat WHERE name = 'records' AND pagetype = 'leaf' ORDER BY path";
    let mut stmt = conn.prepare(sql).expect("dbstat");
    let pages = stmt.query_map([], |r| r.get(0)).expect("query");
    let pages: Vec<usize> = pages.collect::<Result<_, _>>().expect("pages");
    let leaves = pages
        .into_iter()
        .map(|page| {
            let p = &bytes[(page - 1) * page_size..page * page_size];
            assert_eq!(p[0], 0x0d, "page {page} is a table leaf");
            let n = usize::from(u16::from_be_bytes([p[3], p[4]]));
            let cells: Vec<_> = (0..n)
                .map(|i| {
                    let start = usize::from(u16::from_be_bytes([p[8 + 2 * i], p[9 + 2 * i]]));
                    let (payload, a) = varint(&p[start..]);
                    let (seq, b) = varint(&p[start + a..]);
                    assert!(payload < page_size as u64 - 35, "no overflow pages");
                    (seq, start, start + a + b + payload as usize)
                })
                .collect();
            (page, cells[0].0, cells)
        })
        .collect();
    Layout { page_size, leaves }
}

impl Layout {
    /// Bounds on the prefix a recovery can keep when the bytes at `changed` (file offsets)
    /// differ: at least the records on untouched leaf pages before the first touched one;
    /// at most the records before the first touched cell or cell pointer.
    fn bounds(&self, changed: &[usize]) -> (u64, u64) {
        let (mut lo, mut hi) = (N, N);
        for &off in changed {
            let (page, at) = (off / self.page_size + 1, off % self.page_size);
            let Some((_, first, cells)) = self.leaves.iter().find(|l| l.0 == page) else {
                lo = 0; // not a record leaf: no promise
                continue;
            };
            lo = lo.min(first - 1);
            let pointers = 8..8 + 2 * cells.len();
            if pointers.contains(&at) {
                hi = hi.min(cells[(at - 8) / 2].0 - 1);
            }
            if let Some(cell) = cells.iter().find(|c| (c.1..c.2).contains(&at)) {
                hi = hi.min(cell.0 - 1);
            }
        }
        (lo, hi)
    }
}

/// The pristine journals every case copies.
struct Fixture {
    _dir: tempfile::TempDir,
    closed: PathBuf,
    crashed: PathBuf,
    rows: Vec<Row>,
    layout: Layout,
    /// Crashed journal's WAL: frame length, and per commit frame (end offset, records).
    frame_len: usize,
    commits: Vec<(usize, u64)>,
}

fn build(dir: &Path, name: &str, before_close: impl FnOnce(&Path)) -> PathBuf {
    let path = dir.join(name);
    let mut store =
        JournalStore::create(&path, &[("run", "damage"), ("mode", "paper")]).expect("create");
    let mut next = 1;
    for size in batches() {
        let recs: Vec<_> = (next..next + size).map(new_record).collect();
        assert_eq!(store.append(&recs).expect("append").len() as u64, size);
        next += size;
    }
    before_close(&path);
    drop(store);
    path
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let closed = build(dir.path(), "closed.db", |_| {});
    let wal = |p: &Path| sidecar(p, "-wal");
    // Closing the last connection checkpoints the WAL into the main file and deletes it.
    assert!(!wal(&closed).exists(), "the store checkpoints on drop");
    let crashed = dir.path().join("crashed.db");
    build(dir.path(), "live.db", |live| {
        // A copy taken while the writer is open is what a crash leaves behind.
        std::fs::copy(live, &crashed).expect("copy db");
        std::fs::copy(wal(live), wal(&crashed)).expect("copy wal");
    });
    let pristine = rows(&closed);
    assert_eq!(pristine.len() as u64, N);
    let log = std::fs::read(wal(&crashed)).expect("read wal");
    let frame_len = 24 + u32::from_be_bytes([log[8], log[9], log[10], log[11]]) as usize;
    let ends: Vec<usize> = (0..(log.len() - 32) / frame_len)
        .map(|f| 32 + f * frame_len)
        .filter(|&at| log[at + 4..at + 8] != [0, 0, 0, 0])
        .map(|at| at + frame_len)
        .collect();
    // One commit per append, after those of create.
    let sizes = batches();
    let mut counts = vec![0; ends.len() - sizes.len()];
    counts.extend(
        sizes
            .iter()
            .scan(0, |sum, s| Some(std::mem::replace(sum, *sum + s) + s)),
    );
    let main_len = std::fs::metadata(&crashed).expect("db").len();
    assert!(
        main_len < 16 * 4096,
        "the records are in the WAL, not checkpointed"
    );
    Fixture {
        layout: layout(&closed),
        _dir: dir,
        closed,
        crashed,
        rows: pristine,
        frame_len,
        commits: ends.into_iter().zip(counts).collect(),
    }
}

/// The six damages, taken in turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Damage {
    TruncateDb,
    BytesDb,
    TruncateWal,
    BytesWal,
    SqlBody,
    SqlDelete,
}
use Damage::*;
const DAMAGES: [Damage; 6] = [
    TruncateDb,
    BytesDb,
    TruncateWal,
    BytesWal,
    SqlBody,
    SqlDelete,
];

/// What one case did to its copy (the damaged file, db or `-wal`, and its bytes, to check
/// they are kept as evidence), and the bounds on the prefix a recovery may keep.
struct Done {
    what: String,
    file: PathBuf,
    bytes: Vec<u8>,
    lo: u64,
    hi: u64,
    /// The cut must be reported (false: the damage may be undetectable).
    must_report: bool,
    /// For a damaged log: the bytes SQLite keeps (up to the end of the last intact commit).
    wal_kept: Option<u64>,
}

/// Copies the pristine journal for `damage` into `dir` and damages it.
fn damage(fx: &Fixture, damage: Damage, rng: &mut Rng, dir: &Path) -> (PathBuf, Done) {
    let db = dir.join("s.db");
    let wal_case = matches!(damage, TruncateWal | BytesWal);
    let file = sidecar(&db, if wal_case { "-wal" } else { "" });
    std::fs::copy(if wal_case { &fx.crashed } else { &fx.closed }, &db).expect("copy");
    if wal_case {
        std::fs::copy(sidecar(&fx.crashed, "-wal"), &file).expect("copy wal");
    }
    let pristine = std::fs::read(&file).expect("read");
    let len = pristine.len() as u64;
    let mut bytes = pristine.clone();
    let sql = |sql: &str, params: &[&dyn rusqlite::ToSql]| {
        let conn = Connection::open(&db).expect("raw");
        conn.execute(sql, params).expect("sql damage") as u64
    };
    let d = |what, lo, hi, must_report| Done {
        what,
        file: file.clone(),
        bytes: std::fs::read(&file).unwrap_or_default(),
        lo,
        hi,
        must_report,
        wal_kept: None,
    };
    let (what, changed): (String, Vec<usize>) = match damage {
        TruncateDb | TruncateWal => {
            let at = rng.range(len * 3 / 4, len) as usize;
            bytes.truncate(at);
            let what = format!("truncated at byte {at} of {len}");
            (what, (at..pristine.len()).collect())
        }
        BytesDb | BytesWal => {
            let at = rng.range(len * 3 / 4, len) as usize;
            let n = (rng.range(1, 17) as usize).min(pristine.len() - at);
            for b in &mut bytes[at..at + n] {
                *b = rng.next() as u8;
            }
            let changed = (at..at + n).filter(|&i| bytes[i] != pristine[i]).collect();
            (format!("{n} random bytes at byte {at} of {len}"), changed)
        }
        SqlBody => {
            let seq = rng.range(N * 3 / 4 + 1, N + 1);
            let old = &fx.rows[seq as usize - 1].3;
            let body = match rng.next() % 3 {
                0 => old.replacen("\"i\"", "\"I\"", 1),
                1 => old.chars().take(old.chars().count() / 2).collect(),
                _ => "{}".to_string(),
            };
            let update = "UPDATE records SET body = ?1 WHERE seq = ?2";
            assert_eq!(sql(update, &[&body, &seq]), 1);
            let what = format!("body of seq {seq} rewritten by SQL, checksum kept");
            return (db.clone(), d(what, seq - 1, seq - 1, true));
        }
        SqlDelete => {
            let k = rng.range(1, N / 4 + 1);
            assert_eq!(sql("DELETE FROM records WHERE seq > ?1", &[&(N - k)]), k);
            // The chain seals each record to its predecessor: a removed tail leaves a valid
            // shorter journal, which no reader can tell from one that was never longer.
            let what = format!("last {k} rows deleted by SQL");
            return (db.clone(), d(what, N - k, N - k, false));
        }
    };
    std::fs::write(&file, &bytes).expect("write damage");
    let mut wal_kept = None;
    let (lo, hi) = match changed.first() {
        None => (N, N),
        Some(_) if !wal_case => fx.layout.bounds(&changed),
        Some(&first) => {
            // SQLite keeps the log up to the last commit before the first bad frame.
            let frame_start = 32 + (first.max(32) - 32) / fx.frame_len * fx.frame_len;
            let kept = fx.commits.iter().filter(|c| c.0 <= frame_start);
            let (end, k) = kept.max().copied().unwrap_or((32, 0));
            wal_kept = Some(end as u64);
            (k, k)
        }
    };
    // A log truncated exactly after a commit is a shorter valid log: nothing to see.
    let clean_cut = damage == TruncateWal && fx.commits.iter().any(|c| c.0 == bytes.len());
    let mut done = d(what, lo, hi, !changed.is_empty() && !clean_cut);
    done.wal_kept = wal_kept;
    (db, done)
}

fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", path.display()))
}

/// How the cases ended. `kept_full_prefix`: the damage hit unused bytes; `undetectable`: a
/// shorter journal that is valid (rows deleted by SQL), which nothing can tell apart.
#[derive(Default, Debug)]
struct Tally {
    kept_full_prefix: u64,
    cut_in_place: u64,
    salvaged: u64,
    wal_tail_reported: u64,
    undetectable: u64,
    unreadable_with_error: u64,
}

#[test]
fn damaged_tails_recover_the_longest_valid_prefix_without_panic() {
    let (fx, seed) = (fixture(), seed());
    let mut tally = Tally::default();
    let mut per_damage = [(0u64, 0u64); 6];
    for case in 0..CASES {
        let mut rng = Rng((seed ^ case.wrapping_mul(0xd1b5_4a32_d192_ed03)) | 1);
        let kind = DAMAGES[(case % 6) as usize];
        let dir = tempfile::tempdir().expect("tempdir");
        let (db, d) = damage(&fx, kind, &mut rng, dir.path());
        let what = format!("case {case} {kind:?} ({})", d.what);
        let tag = format!("seed {seed:#x} {what} (rerun: LOCKSTEP_DAMAGE_SEED={seed:#x})");
        per_damage[(case % 6) as usize].0 += 1;
        match check_case(&fx, &db, &d, &tag) {
            Ok((k, how, report, reader)) => {
                per_damage[(case % 6) as usize].1 += 1;
                *match how {
                    _ if k == N && report.is_none() => &mut tally.kept_full_prefix,
                    How::InPlace if report.is_none() => &mut tally.undetectable,
                    How::InPlace => &mut tally.cut_in_place,
                    How::Salvaged => &mut tally.salvaged,
                    How::WalTail => &mut tally.wal_tail_reported,
                } += 1;
                let report = report.unwrap_or_else(|| "ok".to_string());
                eprintln!("{what}: allowed {}..={}, kept {k}: {report}", d.lo, d.hi);
                eprintln!("    reader: {reader}");
            }
            Err(e) => {
                tally.unreadable_with_error += 1;
                eprintln!("{what}: refused: {e}");
            }
        }
    }
    eprintln!("journal damage, seed {seed:#x}, {CASES} cases: {tally:#?}");
    for (kind, (cases, ok)) in DAMAGES.iter().zip(per_damage) {
        eprintln!("  {kind:?}: {ok} of {cases} recovered");
    }
    let recovered = CASES - tally.unreadable_with_error;
    let at_least = CASES * 6 / 10;
    assert!(
        recovered >= at_least,
        "{recovered} of {CASES} recovered: {tally:?}"
    );
}

enum How {
    InPlace,
    Salvaged,
    WalTail,
}

/// Recovered: (records kept, how, the report if not intact, what the reader said);
/// refused: the error text.
type Outcome = Result<(u64, How, Option<String>, String), String>;

fn holds(file: &Path, bytes: &[u8]) -> bool {
    std::fs::read(file).is_ok_and(|b| b == bytes)
}

/// Reads, recovers and appends to the damaged copy at `db`, checking every promise.
fn check_case(fx: &Fixture, db: &Path, d: &Done, tag: &str) -> Outcome {
    let read = catch_unwind(AssertUnwindSafe(|| {
        JournalReader::open(db).and_then(|r| r.read_all())
    }))
    .unwrap_or_else(|_| panic!("{tag}: the reader panicked"));
    assert!(
        holds(&d.file, &d.bytes),
        "{tag}: the reader modified the file"
    );
    let opened = catch_unwind(AssertUnwindSafe(|| JournalStore::open_append(db)))
        .unwrap_or_else(|_| panic!("{tag}: open_append panicked"));
    let mut store = match opened {
        Ok(store) => store,
        Err(e) => {
            let text = e.to_string();
            let named = text.contains(&db.display().to_string());
            assert!(named, "{tag}: the error names the file: {text}");
            assert!(
                read.is_err(),
                "{tag}: the reader read what open_append refused"
            );
            assert!(
                holds(&d.file, &d.bytes),
                "{tag}: a refused file is left untouched"
            );
            return Err(text);
        }
    };
    let integrity: Integrity = store.opened_integrity().expect("integrity").clone();
    let (k, shown) = (store.last_seq(), integrity.to_string());
    let allowed = d.lo..=d.hi;
    assert!(
        allowed.contains(&k),
        "{tag}: kept {k}, allowed {allowed:?}: {shown}"
    );
    assert_eq!(integrity.valid_records, k, "{tag}");
    let (records, seen) = read.unwrap_or_else(|e| panic!("{tag}: reader failed: {e}"));
    assert_eq!(
        records.len() as u64,
        k,
        "{tag}: the reader keeps the same prefix"
    );
    if k < N && seen.reason.is_some() {
        assert_eq!(seen.first_bad_seq, Some(k + 1), "{tag}: reader: {seen}");
    }
    let how = if let Some(s) = store.salvaged() {
        assert_eq!(s.kept, k, "{tag}");
        assert!(holds(&s.damaged, &d.bytes), "{tag}: the original is kept");
        let named = shown.contains(&s.damaged.display().to_string());
        assert!(named && shown.contains("damaged"), "{tag}: {shown}");
        How::Salvaged
    } else if let Some(t) = store.discarded_wal_tail() {
        let copy = t.copy.as_ref().expect("copy of the log");
        assert!(holds(copy, &d.bytes), "{tag}: the damaged log is kept");
        assert_eq!(Some(t.kept_bytes), d.wal_kept, "{tag}: {t:?}");
        assert!(t.discarded_bytes > 0, "{tag}: {t:?}");
        assert!(shown.contains("write-ahead log"), "{tag}: {shown}");
        How::WalTail
    } else {
        if integrity.first_bad_seq.is_some() {
            let cut = format!("cut {} records", integrity.cut);
            assert!(integrity.cut >= 1 && shown.contains(&cut), "{tag}: {shown}");
        }
        How::InPlace
    };
    if k < N && d.must_report {
        let at = integrity.first_bad_seq;
        assert_eq!(at, Some(k + 1), "{tag}: says where: {shown}");
        assert!(integrity.reason.is_some(), "{tag}: says why: {shown}");
    }
    if !d.must_report {
        assert!(integrity.is_intact(), "{tag}: nothing to report: {shown}");
    }
    // The recovered journal takes the next record and verifies whole.
    let seqs = store.append(&[new_record(k + 1)]);
    assert_eq!(seqs.ok(), Some(vec![k + 1]), "{tag}");
    drop(store);
    let reread = JournalReader::open(db).and_then(|r| r.read_all());
    let (after, whole) = reread.unwrap_or_else(|e| panic!("{tag}: reread: {e}"));
    assert!(whole.is_intact(), "{tag}: after recovery: {whole}");
    assert_eq!(after.len() as u64, k + 1, "{tag}");
    // The kept prefix is exactly the pristine one, and the appended record, chained to it,
    // is byte for byte the one the pristine journal holds at that seq.
    let upto = (k + 1).min(N) as usize;
    assert_eq!(rows(db)[..upto], fx.rows[..upto], "{tag}: an exact prefix");
    Ok((
        k,
        how,
        (!integrity.is_intact()).then_some(shown),
        seen.to_string(),
    ))
}

/// Damage outside the last records is refused with an error naming the file and the reason,
/// and the file is left exactly as it was: a garbled meta page (nothing to salvage a journal
/// into), and a broken log header (SQLite ignores the whole log, which here holds even the
/// schema: the error says so).
#[test]
fn damage_beyond_salvage_is_a_clear_error_and_leaves_the_file_untouched() {
    let fx = fixture();
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("m.db");
    std::fs::copy(&fx.closed, &db).expect("copy");
    let mut bytes = std::fs::read(&db).expect("read");
    let sql = "SELECT rootpage FROM sqlite_master WHERE name = 'meta'";
    let meta_page: usize = Connection::open(&db)
        .and_then(|c| c.query_row(sql, [], |r| r.get(0)))
        .expect("meta root page");
    let page = fx.layout.page_size;
    bytes[(meta_page - 1) * page..meta_page * page].fill(0xa5);
    std::fs::write(&db, &bytes).expect("damage meta");

    let wdb = dir.path().join("w.db");
    std::fs::copy(&fx.crashed, &wdb).expect("copy");
    let mut log = std::fs::read(sidecar(&fx.crashed, "-wal")).expect("read wal");
    log[24..32].fill(0); // the header checksum
    std::fs::write(sidecar(&wdb, "-wal"), &log).expect("damage wal");
    let main = std::fs::read(&wdb).expect("read");

    for (path, why) in [(&db, "malformed"), (&wdb, "write-ahead log")] {
        let read = JournalReader::open(path).err().map(|e| e.to_string());
        let opened = catch_unwind(|| JournalStore::open_append(path).err().map(|e| e.to_string()));
        for err in [read, opened.expect("no panic")] {
            let err = err.expect("refused");
            assert!(err.contains(&path.display().to_string()), "{err}");
            eprintln!("{err}");
        }
        let err = JournalStore::open_append(path).err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains(why)), "open_append says why");
        assert!(!sidecar(path, ".damaged").exists() && !sidecar(path, ".salvage").exists());
    }
    assert!(holds(&db, &bytes), "left untouched");
    assert!(
        holds(&wdb, &main) && holds(&sidecar(&wdb, "-wal"), &log),
        "left untouched"
    );
}
