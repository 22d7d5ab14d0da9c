//! Live-side measurements (a benchmark, not a test; numbers go in the issue note):
//! - journal throughput: a journaled paper session fed 100k one-minute bars one input at a
//!   time (each step: input record, engine, decision records; one fsync per append);
//! - replay of that journal (about 100k inputs) through a fresh engine, compared decision by
//!   decision;
//! - bar-in -> order-request-out latency of `lockstep live` against the loopback fake over
//!   one recorded session (p50/p99, journal writes included), if the release binary exists.
//!
//! Run: `cargo bench --bench live_journal` (after `cargo build --release`).

use lockstep::config;
use lockstep::run::engine_parts;
use lockstep_core::{Bar, Scale, SymbolId, UnixNanos};
use lockstep_engine::{Input, MemoryJournal, SimVenue};
use lockstep_live::journal::{JournalReader, JournalStore};
use lockstep_live::replay::replay;
use lockstep_live::session::Session;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

const N: usize = 100_000;
const CONFIG: &str = "[data]\ncalendar = \"24x7\"\n[strategy]\nname = \"sma_cross\"\nfast = 5\nslow = 20\nqty = 10\n";

fn session(store: Option<JournalStore>) -> Session<SimVenue, MemoryJournal> {
    let table: toml::Table = CONFIG.parse().expect("toml");
    let cfg = config::from_table(table, None).expect("config");
    engine_parts(&cfg, "bench")
        .expect("parts")
        .session(MemoryJournal::default(), store)
}

fn bars() -> Vec<Bar> {
    let scale = Scale::new(2).expect("scale");
    let mut px: i64 = 10_000;
    let mut state: u64 = 7;
    (0..N)
        .map(|i| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let step = ((state >> 33) % 21) as i64 - 10;
            let open = px;
            px = (px + step).max(100);
            let ts = 1_700_000_000_000_000_000 + i as i64 * 60_000_000_000;
            Bar {
                ts: UnixNanos(ts),
                end: UnixNanos(ts + 60_000_000_000),
                symbol: SymbolId(0),
                scale,
                open,
                high: open.max(px) + 2,
                low: open.min(px) - 2,
                close: px,
                volume: 1000.0,
                quote: None,
            }
        })
        .collect()
}

fn main() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("journal.db");
    let store = JournalStore::create(&db, &[("mode", "paper")]).expect("journal");
    let mut s = session(Some(store));
    s.symbol("SYN");
    let all = bars();
    let t0 = Instant::now();
    s.begin(all[0].ts).expect("begin");
    for b in &all {
        s.feed(Input::Bar(*b)).expect("feed");
    }
    let end = all[N - 1].end;
    let done = s.conclude(end).expect("end");
    let secs = t0.elapsed().as_secs_f64();
    let (records, _) = JournalReader::open(&db)
        .expect("open")
        .read_all()
        .expect("read");
    println!(
        "journal: {N} bars, {} records ({} fills) in {secs:.2} s = {:.0} steps/s, {:.0} records/s, one fsync per append",
        records.len(),
        done.outcome.fills,
        N as f64 / secs,
        records.len() as f64 / secs
    );
    let t1 = Instant::now();
    let mut r = session(None);
    r.symbol("SYN");
    let (report, _) = replay(&records, r).expect("replay");
    println!(
        "replay: {} inputs, {} decisions compared in {:.2} s, divergence: {:?}",
        report.inputs,
        report.decisions,
        t1.elapsed().as_secs_f64(),
        report.divergence.map(|d| d.seq)
    );
    latency();
}

/// `lockstep live` over the SPY file's first session at 300x against the fake; prints the
/// driver's bar -> order request percentiles.
fn latency() {
    let bin = PathBuf::from("target/release/lockstep");
    if !bin.exists() {
        println!("latency: skipped (build target/release/lockstep first)");
        return;
    }
    let (key, secret) = ("PKBENCHKEY", "bench-secret");
    let speed = 300.0;
    let anchor = lockstep_live::time_source::system_nanos();
    let start = UnixNanos(1_380_893_340_000_000_000); // 2013-10-04T13:29:00Z
    let clock: lockstep_live::time_source::SharedTime = Arc::new(
        lockstep_live::time_source::WarpClock::since(start, speed, anchor),
    );
    let mut cfg = lockstep_live::fake::FakeConfig::new(
        key,
        secret,
        PathBuf::from("data/lean_spy_1m_7days.parquet"),
        clock,
    );
    cfg.market_open_grace = 55_000_000_000;
    let fake = lockstep_live::fake::FakeThread::start(cfg, Duration::from_secs(300)).expect("fake");
    let dir = tempfile::tempdir().expect("tmp");
    let out = std::process::Command::new(&bin)
        .args([
            "live",
            "scenarios/exits_two_strategies_spy.toml",
            "--one-session",
        ])
        .args([
            "--clock-start",
            &start.to_iso(),
            "--speed",
            &speed.to_string(),
            "--out",
        ])
        .arg(dir.path().join("live"))
        .args(["--set", "live.symbols=[\"SPY\"]"])
        .args(["--set", &format!("broker.data_url=\"{}\"", fake.base_url())])
        .args([
            "--set",
            &format!("broker.trading_url=\"{}\"", fake.base_url()),
        ])
        .args([
            "--set",
            &format!("broker.data_stream_url=\"{}\"", fake.data_stream_url()),
        ])
        .env("APCA_API_KEY_ID", key)
        .env("APCA_API_SECRET_KEY", secret)
        .env("LOCKSTEP_CLOCK_ANCHOR_NS", anchor.to_string())
        .output()
        .expect("live runs");
    let text = String::from_utf8_lossy(&out.stdout);
    match text.lines().find(|l| l.starts_with("bar -> order request")) {
        Some(line) => println!("latency: {line}"),
        None => println!("latency: no line in the output:\n{text}"),
    }
}
