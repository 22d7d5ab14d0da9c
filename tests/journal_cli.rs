//! `lockstep journal inspect|replay` on a journal made the way `lockstep paper` makes one:
//! meta `mode`, `run_id` and `config` (the resolved config as TOML text), then a journaled
//! session over the first two sessions of the SPY one-minute week, fed one input at a time
//! (as tests/journal_parity.rs does), with the engine built from that same config text.

mod common;

use common::{lockstep, repo, stderr, summary};
use lockstep::config;
use lockstep::run::{data_options, engine_parts};
use lockstep_core::{Bar, BarSource, SymbolTable};
use lockstep_data::{open_source, MergedSource};
use lockstep_engine::{Input, MemoryJournal, SimVenue};
use lockstep_live::journal::{JournalReader, JournalStore, NewRecord, Record, RecordKind};
use lockstep_live::session::Session;
use std::path::{Path, PathBuf};
use std::process::Output;

const SCENARIO: &str = "scenarios/exits_two_strategies_spy.toml";
const DATA: &str = "data/lean_spy_1m_7days.parquet";
const MINUTE: i64 = 60_000_000_000;

/// The scenario as the paper command records it: without `[expect]`/`[invariants]`, and
/// without `data.paths` (a session's bars come from its feed, then from the journal).
fn config_text() -> String {
    let mut table = config::read_table(&repo().join(SCENARIO)).expect("scenario");
    table.remove("expect");
    table.remove("invariants");
    if let Some(toml::Value::Table(data)) = table.get_mut("data") {
        data.remove("paths");
    }
    toml::to_string(&table).expect("TOML text")
}

fn config_of(text: &str) -> config::Config {
    config::from_table(text.parse().expect("TOML"), None).expect("config")
}

/// The bars of the data file's first two sessions (UTC days), with their symbol names.
fn two_sessions(cfg: &config::Config) -> Vec<(String, Bar)> {
    let opts = data_options(cfg).expect("options");
    let source = open_source(&repo().join(DATA), &opts).expect("open");
    let mut src = MergedSource::new(vec![source]);
    let mut symbols = SymbolTable::new();
    let mut days = Vec::new();
    let mut out = Vec::new();
    while let Some(b) = src.next_bar(&mut symbols).expect("bar") {
        let day = b.ts.utc_day();
        if !days.contains(&day) {
            if days.len() == 2 {
                break;
            }
            days.push(day);
        }
        out.push((symbols.name(b.symbol).to_string(), b));
    }
    assert_eq!(days.len(), 2, "the data holds two sessions");
    out
}

/// What a recorded session did.
struct Recorded {
    bars: usize,
    inputs: u64,
    fills: u64,
}

/// Records a paper session into a new journal at `db` with `meta`: every bar of the first two
/// sessions, the clock ticking every minute up to each bar's close (as a wall clock would).
fn record(db: &Path, meta: &[(&str, &str)]) -> Recorded {
    let text = config_text();
    let cfg = config_of(&text);
    let store = JournalStore::create(db, meta).expect("journal");
    let mut s: Session<SimVenue, MemoryJournal> = engine_parts(&cfg, "paper")
        .expect("parts")
        .session(MemoryJournal::default(), Some(store));
    let all = two_sessions(&cfg);
    let bars = all.len();
    let first = all.first().map(|b| b.1.ts).expect("bars");
    s.begin(first).expect("begin");
    let mut last = first;
    for (name, mut bar) in all {
        if bar.end.0 - last.0 > 86_400_000_000_000 {
            last = bar.ts;
        }
        while last.0 + MINUTE < bar.end.0 {
            last = last.plus(MINUTE);
            s.feed(Input::Tick(last)).expect("tick");
        }
        bar.symbol = s.symbol(&name);
        s.feed(Input::Bar(bar)).expect("bar");
        s.feed(Input::Tick(bar.end)).expect("tick at close");
        last = bar.end;
    }
    let inputs = s.inputs();
    let done = s.conclude(last).expect("conclude");
    assert_eq!(done.journal.fills.len() as u64, done.outcome.fills);
    Recorded {
        bars,
        inputs,
        fills: done.outcome.fills,
    }
}

/// Records the standard paper journal at `db`.
fn record_paper(db: &Path) -> Recorded {
    let text = config_text();
    record(
        db,
        &[("mode", "paper"), ("run_id", "paper"), ("config", &text)],
    )
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn run(args: &[&str]) -> Output {
    lockstep(&repo(), args)
}

fn code(o: &Output) -> Option<i32> {
    o.status.code()
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn inspect_prints_kinds_span_meta_and_ok_integrity() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("journal.db");
    let rec = record_paper(&db);
    assert!(rec.bars > 700, "{} bars", rec.bars);
    let o = run(&["journal", "inspect", s(&db)]);
    let out = stdout(&o);
    assert_eq!(code(&o), Some(0), "{out}{}", stderr(&o));
    assert!(out.contains("integrity: ok"), "{out}");
    assert!(out.contains(&format!("\n  bar: {}\n", rec.bars)), "{out}");
    assert!(out.contains("\n  decision: "), "{out}");
    assert!(out.contains("\nspan: 20"), "{out}");
    assert!(out.contains("\nlast seq: "), "{out}");
    assert!(out.contains("\n  mode = paper\n"), "{out}");
    assert!(out.contains("\n  run_id = paper\n"), "{out}");
    let lines = config_text().lines().count();
    assert!(
        out.contains(&format!("\n  config = ({lines} lines of TOML)\n")),
        "{out}"
    );
    assert!(
        !out.contains("hard_stop_pct"),
        "the config text is not printed: {out}"
    );
}

#[test]
fn replay_of_a_paper_journal_finds_0_differences() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("journal.db");
    let rec = record_paper(&db);
    let o = run(&["journal", "replay", s(&db)]);
    let out = stdout(&o);
    assert_eq!(code(&o), Some(0), "{out}{}", stderr(&o));
    let (records, integrity) = JournalReader::open(&db)
        .expect("open")
        .read_all()
        .expect("read");
    assert!(integrity.is_intact());
    let decisions = records
        .iter()
        .filter(|r| r.kind == RecordKind::Decision)
        .count();
    assert!(decisions > 100, "{decisions} decisions");
    assert_eq!(
        out,
        format!(
            "replayed {} inputs, compared {decisions} decisions: 0 differences\n",
            rec.inputs
        )
    );
    let o = run(&["journal", "replay", s(&db), "--quiet"]);
    assert_eq!(code(&o), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "",
        "--quiet prints nothing without a difference"
    );
}

#[test]
fn replay_out_writes_the_replays_report_with_the_sessions_fills() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("journal.db");
    let rec = record_paper(&db);
    assert!(rec.fills > 10, "{} fills", rec.fills);
    let out_dir = dir.path().join("replay");
    let o = run(&["journal", "replay", s(&db), "--out", s(&out_dir), "--quiet"]);
    assert_eq!(code(&o), Some(0), "{}{}", stdout(&o), stderr(&o));
    let sum = summary(&out_dir);
    assert_eq!(sum["fills"].as_u64(), Some(rec.fills), "{sum}");
    assert_eq!(sum["run_id"].as_str(), Some("paper"));
    assert!(out_dir.join("fills.parquet").is_file());
}

/// The paper command keeps its journal in its report folder: a replay into that folder
/// replaces the report and keeps the journal, byte for byte.
#[test]
fn replay_out_into_the_sessions_own_folder_keeps_its_journal() {
    let dir = tempfile::tempdir().expect("tmp");
    let folder = dir.path().join("paper");
    std::fs::create_dir_all(&folder).expect("folder");
    let db = folder.join("journal.db");
    let rec = record_paper(&db);
    let bytes = std::fs::read(&db).expect("journal bytes");
    for round in 0..2 {
        let o = run(&["journal", "replay", s(&db), "--out", s(&folder)]);
        let out = stdout(&o);
        assert_eq!(code(&o), Some(0), "round {round}: {out}{}", stderr(&o));
        assert!(out.contains(": 0 differences\n"), "{out}");
        assert!(
            out.contains("report_hash"),
            "the summary table follows: {out}"
        );
        assert_eq!(summary(&folder)["fills"].as_u64(), Some(rec.fills));
        assert!(
            std::fs::read(&db).expect("journal kept") == bytes,
            "round {round}: journal.db changed"
        );
    }
}

/// Changes one decision record's body in the file itself, byte for byte (this crate has no
/// SQLite client of its own; the edit is what an UPDATE of the body would store): the fill
/// price of a hard stop fill in the second half. Returns its seq and its original body.
fn is_stop_fill(body: &str) -> bool {
    body.contains("\"fill\":") && body.contains("\"exit_reason\":\"hard_stop\"")
}

/// The first hard stop fill in the second half of the journal.
fn late_stop_fill(records: &[Record]) -> &Record {
    let half = records.len() as u64 / 2;
    records
        .iter()
        .find(|r| r.seq > half && r.kind == RecordKind::Decision && is_stop_fill(&r.body))
        .expect("a hard stop fill in the second half")
}

/// `body` with the first digit of its `price` changed (same length).
fn other_price(body: &str) -> String {
    let at = body.find("\"price\":\"").expect("a price") + "\"price\":\"".len();
    let digit = body.as_bytes()[at];
    assert!(digit.is_ascii_digit(), "{body}");
    let changed = if digit == b'9' {
        '8'
    } else {
        char::from(digit + 1)
    };
    format!("{}{changed}{}", &body[..at], &body[at + 1..])
}

fn tamper_late_stop_fill(db: &Path) -> (u64, String) {
    assert!(
        !PathBuf::from(format!("{}-wal", db.display())).exists(),
        "the closed journal is checkpointed into its main file"
    );
    let (records, _) = JournalReader::open(db)
        .expect("open")
        .read_all()
        .expect("read");
    let r = late_stop_fill(&records);
    let tampered = other_price(&r.body).into_bytes();
    let mut file = std::fs::read(db).expect("read file");
    let old = r.body.as_bytes();
    let hits: Vec<usize> = file
        .windows(old.len())
        .enumerate()
        .filter(|(_, w)| *w == old)
        .map(|(i, _)| i)
        .collect();
    // B-tree rebalancing can leave stale copies of a cell in free page space: change them
    // all, the live one among them.
    assert!(
        !hits.is_empty(),
        "the record body is stored as it was written"
    );
    for at in hits {
        file[at..at + old.len()].copy_from_slice(&tampered);
    }
    std::fs::write(db, file).expect("write file");
    (r.seq, r.body.clone())
}

/// A tampered decision breaks the checksum chain at its seq: `inspect` says so (exit 1);
/// `replay` replays the valid prefix, warns, and reports the broken seq as the first
/// difference with what the replay decided there (exit 3).
#[test]
fn a_tampered_fill_breaks_the_chain_and_replay_exits_3_naming_its_seq() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("journal.db");
    let rec = record_paper(&db);
    let (seq, original) = tamper_late_stop_fill(&db);
    assert!(seq > 1000, "a fill well inside the journal: seq {seq}");

    let o = run(&["journal", "inspect", s(&db)]);
    let out = stdout(&o);
    assert_eq!(code(&o), Some(1), "{out}{}", stderr(&o));
    assert!(
        out.contains(&format!(
            "integrity: BROKEN at seq {seq}: checksum mismatch"
        )),
        "{out}"
    );
    assert!(out.contains(&format!("\nlast seq: {}\n", seq - 1)), "{out}");

    let out_dir = dir.path().join("replay");
    let o = run(&["journal", "replay", s(&db), "--out", s(&out_dir)]);
    let (out, err) = (stdout(&o), stderr(&o));
    assert_eq!(code(&o), Some(3), "{out}{err}");
    assert!(
        err.contains(&format!("integrity BROKEN at seq {seq}: checksum mismatch")),
        "{err}"
    );
    assert!(
        err.contains(&format!("replaying the valid prefix ({} records)", seq - 1)),
        "{err}"
    );
    let head = out.lines().next().unwrap_or_default().to_string();
    let inputs: u64 = head
        .strip_prefix("replayed ")
        .and_then(|h| h.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("replayed N inputs");
    assert!(
        inputs > 10 && inputs < rec.inputs,
        "the valid prefix: {head}"
    );
    assert!(
        out.contains(&format!(
            "decisions: stopped where the journal's checksum chain breaks\nfirst difference at seq {seq}\n  recorded: (record fails verification: checksum mismatch"
        )),
        "{out}"
    );
    assert!(
        out.ends_with(&format!("\n  replayed: {original}\n")),
        "the replay decided the untampered fill there: {out}"
    );
    assert!(!out_dir.exists(), "no report for a replay that differs");
}

#[test]
fn a_missing_file_exits_2_naming_the_path() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("nowhere.db");
    for cmd in ["inspect", "replay"] {
        let o = run(&["journal", cmd, s(&db)]);
        assert_eq!(code(&o), Some(2), "{cmd}: {}", stderr(&o));
        assert!(stderr(&o).contains(s(&db)), "{cmd}: {}", stderr(&o));
    }
    let text = dir.path().join("notes.db");
    std::fs::write(
        &text,
        "not a database, just some text long enough to not be empty",
    )
    .expect("write");
    for cmd in ["inspect", "replay"] {
        let o = run(&["journal", cmd, s(&text)]);
        assert_eq!(code(&o), Some(2), "{cmd}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains(s(&text)) && err.contains("not a lockstep journal"),
            "{err}"
        );
    }
}

#[test]
fn a_journal_without_config_meta_exits_2_naming_config() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("journal.db");
    drop(JournalStore::create(&db, &[("mode", "paper"), ("run_id", "paper")]).expect("journal"));
    let o = run(&["journal", "replay", s(&db)]);
    let err = stderr(&o);
    assert_eq!(code(&o), Some(2), "{err}");
    assert!(err.contains("`config`") && err.contains(s(&db)), "{err}");

    let db = dir.path().join("bad_config.db");
    let meta = [
        ("mode", "paper"),
        ("run_id", "paper"),
        ("config", "[exits]\nhard_stop = 0.01\n"),
    ];
    drop(JournalStore::create(&db, &meta).expect("journal"));
    let o = run(&["journal", "replay", s(&db)]);
    let err = stderr(&o);
    assert_eq!(code(&o), Some(2), "{err}");
    assert!(
        err.contains("journal meta `config`") && err.contains("exits.hard_stop"),
        "{err}"
    );

    let db = dir.path().join("bad_mode.db");
    let text = config_text();
    let meta = [("mode", "backtest"), ("run_id", "paper"), ("config", &text)];
    drop(JournalStore::create(&db, &meta).expect("journal"));
    let o = run(&["journal", "replay", s(&db)]);
    let err = stderr(&o);
    assert_eq!(code(&o), Some(2), "{err}");
    assert!(err.contains("`mode`") && err.contains("backtest"), "{err}");
}

/// Copies the records of `src` into a new journal `dst` with `meta`, resealing them (a valid
/// checksum chain), with `edit` applied to their bodies.
fn copy_journal(src: &Path, dst: &Path, meta: &[(&str, &str)], edit: impl Fn(&str) -> String) {
    let (records, integrity) = JournalReader::open(src)
        .expect("open")
        .read_all()
        .expect("read");
    assert!(integrity.is_intact());
    let batch: Vec<NewRecord> = records
        .iter()
        .map(|r| NewRecord::new(r.ts, r.kind, edit(&r.body)))
        .collect();
    let mut store = JournalStore::create(dst, meta).expect("journal");
    store.append(&batch).expect("append");
}

/// A decision edited and resealed (the chain is intact) is found by the comparison itself:
/// the first difference names its seq, the recorded (edited) and the replayed line.
#[test]
fn a_resealed_edit_is_found_by_replay_at_its_seq() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("journal.db");
    record_paper(&db);
    let (records, _) = JournalReader::open(&db)
        .expect("open")
        .read_all()
        .expect("read");
    let target = late_stop_fill(&records).clone();
    let edited = dir.path().join("edited.db");
    let text = config_text();
    let meta = [
        ("mode", "paper"),
        ("run_id", "paper"),
        ("config", text.as_str()),
    ];
    copy_journal(&db, &edited, &meta, |body| {
        if body == target.body {
            other_price(body)
        } else {
            body.to_string()
        }
    });
    let o = run(&["journal", "inspect", s(&edited)]);
    assert_eq!(code(&o), Some(0), "the chain is intact: {}", stdout(&o));
    let o = run(&["journal", "replay", s(&edited)]);
    let (out, err) = (stdout(&o), stderr(&o));
    assert_eq!(code(&o), Some(3), "{out}{err}");
    assert!(err.is_empty(), "{err}");
    assert!(
        out.ends_with(&format!(
            "decisions: stopped at a difference\nfirst difference at seq {}\n  recorded: {}\n  replayed: {}\n",
            target.seq,
            other_price(&target.body),
            target.body
        )),
        "{out}"
    );
}

/// `mode = "live"` replays on the recorded venue, which fills nothing by itself: a paper
/// recording (whose fills came from the simulator, not from recorded broker reports)
/// differs at its first fill.
#[test]
fn a_paper_recording_replayed_as_live_differs_at_its_first_fill() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("journal.db");
    record_paper(&db);
    let (records, _) = JournalReader::open(&db)
        .expect("open")
        .read_all()
        .expect("read");
    let first_fill = records
        .iter()
        .find(|r| r.kind == RecordKind::Decision && r.body.contains("\"fill\":"))
        .expect("a fill");
    let live = dir.path().join("live.db");
    let text = config_text();
    let meta = [
        ("mode", "live"),
        ("run_id", "paper"),
        ("config", text.as_str()),
    ];
    copy_journal(&db, &live, &meta, str::to_string);
    let o = run(&["journal", "replay", s(&live)]);
    let out = stdout(&o);
    assert_eq!(code(&o), Some(3), "{out}{}", stderr(&o));
    assert!(
        out.contains(&format!(
            "first difference at seq {}\n  recorded: {}\n",
            first_fill.seq, first_fill.body
        )),
        "{out}"
    );
}
