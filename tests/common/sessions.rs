//! Helpers for paper/live sessions against the loopback fake: bounded child processes,
//! a shared warped clock, and CSV/summary readers.

use lockstep_live::fake::{FakeConfig, FakeThread};
use lockstep_live::time_source::{system_nanos, SharedTime, WarpClock};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The fake API key id of the calling test (never a real one): one per test, since a
/// session holds its account's lock and tests run in parallel.
pub fn key() -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    std::thread::current().name().unwrap_or("main").hash(&mut h);
    format!("PKTEST{:016X}", h.finish())
}
/// The fake secret; no output may contain it.
pub const SECRET: &str = "fake-secret-never-printed-7f3a9c";
/// The recorded SPY minutes the fake serves.
pub const DATA: &str = "data/lean_spy_1m_7days.parquet";
/// 09:29 ET on its first session.
pub const START: &str = "2013-10-04T13:29:00Z";

/// A fake serving [`DATA`] on a clock that read [`START`] at `anchor` and runs `speed`x.
pub fn fake(speed: f64, anchor: i64, market_open_grace_secs: i64) -> FakeThread {
    fake_with(speed, anchor, market_open_grace_secs, Vec::new())
}

/// As [`fake`], with scripted faults from the start.
pub fn fake_with(
    speed: f64,
    anchor: i64,
    market_open_grace_secs: i64,
    faults: lockstep_live::fake::FaultScript,
) -> FakeThread {
    fake_from(START, speed, anchor, market_open_grace_secs, faults)
}

/// As [`fake_with`], on a clock that read `start` (RFC 3339) at `anchor`.
pub fn fake_from(
    start: &str,
    speed: f64,
    anchor: i64,
    market_open_grace_secs: i64,
    faults: lockstep_live::fake::FaultScript,
) -> FakeThread {
    let start = chrono::DateTime::parse_from_rfc3339(start).expect("start");
    let start = lockstep_core::UnixNanos(start.timestamp_nanos_opt().expect("ns"));
    let clock: SharedTime = Arc::new(WarpClock::since(start, speed, anchor));
    let mut cfg = FakeConfig::new(key(), SECRET, PathBuf::from(DATA), clock);
    cfg.market_open_grace = market_open_grace_secs * 1_000_000_000;
    cfg.faults = faults;
    FakeThread::start(cfg, Duration::from_secs(180)).expect("fake")
}

/// Live sessions in one test binary run at most [`SESSION_SLOTS`] at a time: each needs the
/// fake's answers within a fraction of a second of real time, though it spends over 90 % of
/// it waiting for the fake's clock (a crash campaign: 0.7 s of CPU in 10 s).
pub fn session_slot() -> SessionSlot {
    let mut taken = SLOTS
        .0
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    while *taken >= SESSION_SLOTS {
        taken = SLOTS
            .1
            .wait(taken)
            .unwrap_or_else(std::sync::PoisonError::into_inner);
    }
    *taken += 1;
    SessionSlot(())
}

/// How many live sessions of one test binary may run side by side.
pub const SESSION_SLOTS: usize = 2;

/// The slots taken and the signal that one was given back.
static SLOTS: (std::sync::Mutex<usize>, std::sync::Condvar) =
    (std::sync::Mutex::new(0), std::sync::Condvar::new());

/// One of the [`SESSION_SLOTS`]; dropping it (even while panicking) gives it back.
pub struct SessionSlot(());

impl Drop for SessionSlot {
    fn drop(&mut self) {
        let mut taken = SLOTS
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *taken -= 1;
        SLOTS.1.notify_one();
    }
}

/// Real time a started or resumed session is given before its market moves: process start,
/// rebuild, reconnect and reconcile happen while the clock stands still, so a slow start
/// on a loaded machine does not cost it bars (seen in CI: a first entry three bars late,
/// entries refused `eod_cutoff`, an EOD flatten missed).
pub const START_UP: Duration = Duration::from_millis(600);

/// The clock anchor both sides share: [`START_UP`] from now, the clocks stand until then
/// ([`WarpClock::since`]).
pub fn anchor_now() -> i64 {
    system_nanos() + START_UP.as_nanos() as i64
}

/// A `lockstep paper|live` command against `fake`, with the keys and the shared anchor.
pub fn session(
    mode: &str,
    config: &Path,
    out: &Path,
    fake: &FakeThread,
    speed: f64,
    anchor: i64,
) -> Command {
    session_from(START, mode, config, out, fake, speed, anchor)
}

/// As [`session`], with the session's clock starting at `start` (RFC 3339).
pub fn session_from(
    start: &str,
    mode: &str,
    config: &Path,
    out: &Path,
    fake: &FakeThread,
    speed: f64,
    anchor: i64,
) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lockstep"));
    c.args([mode])
        .arg(config)
        .args([
            "--clock-start",
            start,
            "--speed",
            &speed.to_string(),
            "--one-session",
        ])
        .args(["--quiet", "--out"])
        .arg(out)
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
        .env("APCA_API_KEY_ID", key())
        .env("APCA_API_SECRET_KEY", SECRET)
        .env("LOCKSTEP_CLOCK_ANCHOR_NS", anchor.to_string())
        .env_remove("APCA_API_BASE_URL")
        .env_remove("APCA_API_DATA_URL")
        .env_remove("APCA_API_STREAM_URL");
    c
}

/// Runs `cmd` to its end, or kills it after `limit` and fails; returns (ok, stdout, stderr).
pub fn run_bounded(mut cmd: Command, limit: Duration) -> (bool, String, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let t0 = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let out = child.wait_with_output().expect("output");
            return (
                status.success(),
                String::from_utf8_lossy(&out.stdout).to_string(),
                String::from_utf8_lossy(&out.stderr).to_string(),
            );
        }
        if t0.elapsed() > limit {
            let _ = child.kill();
            panic!("{cmd:?} ran past {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The rows of a CSV report table without the named columns.
pub fn csv_rows(path: &Path, drop_cols: &[&str]) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split(',').collect();
    let keep: Vec<usize> = (0..header.len())
        .filter(|i| !drop_cols.contains(&header[*i]))
        .collect();
    lines
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            keep.iter()
                .map(|i| cells.get(*i).copied().unwrap_or(""))
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect()
}

/// `summary.json` of a run folder.
pub fn summary(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("summary.json")).expect("summary");
    serde_json::from_str(&text).expect("json")
}

/// Every file under `dir`.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Fails if any output or file under `dir` holds the key or the secret.
pub fn assert_no_secrets(dir: &Path, outputs: &[&str]) {
    let mut texts: Vec<String> = outputs.iter().map(|s| s.to_string()).collect();
    for f in files_under(dir) {
        texts.push(String::from_utf8_lossy(&std::fs::read(&f).expect("read")).to_string());
    }
    for t in &texts {
        assert!(!t.contains(&key()) && !t.contains(SECRET), "a key leaked");
    }
}

/// `lockstep journal replay DIR/journal.db` must report 0 differences.
pub fn assert_replays_exactly(dir: &Path) {
    let out = Command::new(env!("CARGO_BIN_EXE_lockstep"))
        .args(["journal", "replay"])
        .arg(dir.join("journal.db"))
        .output()
        .expect("replay runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains(": 0 differences"),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
