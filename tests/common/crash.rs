//! Crash campaigns against the loopback fake: a live session is SIGKILLed at a named
//! crash point (`LOCKSTEP_CRASH_AT`), the fake's clock is paused while it is down (so the
//! market does not move on without it: the outcome can be compared with an uncrashed
//! run), and `lockstep live --resume` continues it until a run completes.

use super::sessions::{key, DATA, SECRET, START_UP};
use lockstep_core::UnixNanos;
use lockstep_live::fake::{FakeConfig, FakeEnd, FakeThread};
use lockstep_live::time_source::{system_nanos, SharedTime, TimeSource};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A warped clock a test can stop and start: while paused it reads the pause instant.
/// `resume` returns the reading and anchor a new process must be given to agree with it.
#[derive(Debug)]
pub struct PausableClock {
    speed: f64,
    state: Mutex<Running>,
}

/// The clock reads `at` at the system time `anchor` (and stands still before it), then
/// runs; `paused` holds the reading while it is stopped.
#[derive(Debug)]
struct Running {
    at: UnixNanos,
    anchor: i64,
    paused: Option<UnixNanos>,
}

impl PausableClock {
    /// A clock standing at `start`, which runs `speed`x once resumed.
    pub fn new(start: UnixNanos, speed: f64) -> Self {
        PausableClock {
            speed,
            state: Mutex::new(Running {
                at: start,
                anchor: system_nanos(),
                paused: Some(start),
            }),
        }
    }

    fn read(&self, r: &Running) -> UnixNanos {
        let since = (system_nanos() - r.anchor).max(0) as f64 * self.speed;
        r.at.plus(since as i64)
    }

    /// Stops the clock at the current time.
    pub fn pause(&self) {
        let mut s = self.state.lock().expect("clock");
        if s.paused.is_none() {
            s.paused = Some(self.read(&s));
        }
    }

    /// Starts it again from where it stopped, after `hold` of real time in which it still
    /// stands; returns the reading and the anchor (system ns) it runs from.
    pub fn resume(&self, hold: Duration) -> (UnixNanos, i64) {
        let mut s = self.state.lock().expect("clock");
        if let Some(at) = s.paused.take() {
            s.at = at;
            s.anchor = system_nanos() + hold.as_nanos() as i64;
        }
        (s.at, s.anchor)
    }
}

impl TimeSource for PausableClock {
    fn now(&self) -> UnixNanos {
        let s = self.state.lock().expect("clock");
        s.paused.unwrap_or_else(|| self.read(&s))
    }
}

/// How a campaign session is run.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The config file.
    pub config: PathBuf,
    /// The recorded minutes the fake serves.
    pub data: PathBuf,
    /// Clock start (RFC 3339).
    pub start: String,
    /// Clock speed.
    pub speed: f64,
    /// The fake's market-order grace (s).
    pub grace_secs: i64,
    /// Faults the fake starts with.
    pub faults: lockstep_live::fake::FaultScript,
}

/// What a crashed-and-resumed (or plain) session came to.
pub struct Outcome {
    /// Processes run (1 = no crash).
    pub runs: usize,
    /// Runs that died by SIGKILL.
    pub killed: usize,
    /// What the fake holds at the end.
    pub end: FakeEnd,
    /// stdout and stderr of every run.
    pub outputs: Vec<(String, String)>,
}

fn start_ns(text: &str) -> UnixNanos {
    let t = chrono::DateTime::parse_from_rfc3339(text).expect("start");
    UnixNanos(t.timestamp_nanos_opt().expect("ns"))
}

/// `lockstep live` against `fake` with a clock that reads `(at, anchor)` ([`PausableClock::resume`]).
fn base_cmd(setup: &Setup, fake: &FakeThread, (at, anchor): (UnixNanos, i64)) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lockstep"));
    c.args(["live", "--clock-start", &at.to_iso(), "--speed"])
        .arg(setup.speed.to_string())
        .args(["--one-session", "--quiet"])
        .env("APCA_API_KEY_ID", key())
        .env("APCA_API_SECRET_KEY", SECRET)
        .env("LOCKSTEP_CLOCK_ANCHOR_NS", anchor.to_string())
        .env("APCA_API_BASE_URL", fake.base_url())
        .env("APCA_API_DATA_URL", fake.base_url())
        .env("APCA_API_STREAM_URL", fake.data_stream_url())
        .env_remove("LOCKSTEP_CRASH_AT");
    c
}

/// A plain HTTP/1.1 request to `addr` (host:port) with extra header lines; returns the
/// status (0 when the connection fails) and the body.
pub fn http_at(addr: &str, method: &str, path: &str, headers: &str, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(addr) else {
        return (0, String::new());
    };
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    if s.write_all(req.as_bytes()).is_err() {
        return (0, String::new());
    }
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

/// Waits (polling every millisecond, so a SIGKILL is seen at once) for `child` to end;
/// kills it and returns `None` past `limit`.
pub fn wait_bounded(
    child: &mut std::process::Child,
    limit: Duration,
) -> Option<std::process::ExitStatus> {
    let t0 = Instant::now();
    loop {
        if let Some(s) = child.try_wait().expect("wait") {
            return Some(s);
        }
        if t0.elapsed() > limit {
            let _ = child.kill();
            return None;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// One run of a campaign process.
pub struct Run {
    /// Whether it died by SIGKILL.
    pub killed: bool,
    /// Whether it exited 0.
    pub ok: bool,
    /// Its exit code, if it exited.
    pub code: Option<i32>,
    /// stdout.
    pub stdout: String,
    /// stderr.
    pub stderr: String,
}

/// A fake on a pausable clock, and the sessions run against it.
pub struct Campaign {
    /// The fake.
    pub fake: FakeThread,
    /// Its clock (the sessions are given anchors that agree with it).
    pub clock: Arc<PausableClock>,
    setup: Setup,
}

impl Campaign {
    /// Starts the fake for `setup`.
    pub fn start(setup: &Setup) -> Campaign {
        // Page the binary in before the clock runs: its first start after a build can
        // wait on the disk for longer than a bar lasts.
        let _ = Command::new(env!("CARGO_BIN_EXE_lockstep"))
            .arg("--version")
            .output();
        let clock = Arc::new(PausableClock::new(start_ns(&setup.start), setup.speed));
        let shared: SharedTime = clock.clone();
        let mut cfg = FakeConfig::new(key(), SECRET, setup.data.clone(), shared);
        cfg.market_open_grace = setup.grace_secs * 1_000_000_000;
        cfg.faults = setup.faults.clone();
        let fake = FakeThread::start(cfg, Duration::from_secs(240)).expect("fake");
        Campaign {
            fake,
            clock,
            setup: setup.clone(),
        }
    }

    /// Runs `lockstep live` with `args` (a config and `--out`, or `--resume DIR`), killed at
    /// `crash` if given; when it ends (killed or not) the fake's clock is paused until the
    /// next run or [`Self::down_for`].
    pub fn run(&self, args: &[&std::ffi::OsStr], crash: Option<&str>) -> Run {
        let clock = self.clock.resume(START_UP);
        let mut cmd = base_cmd(&self.setup, &self.fake, clock);
        cmd.args(args);
        if let Some(point) = crash {
            cmd.env("LOCKSTEP_CRASH_AT", point);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let Some(status) = wait_bounded(&mut child, Duration::from_secs(60)) else {
            let o = child.wait_with_output().expect("output");
            panic!(
                "a run hung: {args:?}\n{}\n{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
        };
        // The market waits for the next run (whether this one was killed or stopped).
        self.clock.pause();
        let killed = status.signal() == Some(9);
        let o = child.wait_with_output().expect("output");
        Run {
            killed,
            ok: status.success(),
            code: status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).to_string(),
            stderr: String::from_utf8_lossy(&o.stderr).to_string(),
        }
    }

    /// A first run: the config, into `out`.
    pub fn first(&self, out: &Path, extra: &[&str], crash: Option<&str>) -> Run {
        let mut args: Vec<&std::ffi::OsStr> = vec![self.setup.config.as_os_str()];
        args.extend(["--out".as_ref(), out.as_os_str()]);
        args.extend(extra.iter().map(std::ffi::OsStr::new));
        self.run(&args, crash)
    }

    /// A resumed run of the session in `out`.
    pub fn resume(&self, out: &Path, extra: &[&str], crash: Option<&str>) -> Run {
        let mut args: Vec<&std::ffi::OsStr> = vec!["--resume".as_ref(), out.as_os_str()];
        args.extend(extra.iter().map(std::ffi::OsStr::new));
        self.run(&args, crash)
    }

    /// Lets the fake's clock run (real) `ms` milliseconds with no session attached.
    pub fn down_for(&self, ms: u64) {
        self.clock.resume(Duration::ZERO);
        std::thread::sleep(Duration::from_millis(ms));
        self.clock.pause();
    }

    /// Sends an HTTP request to the fake's trading API with the test keys (an operator at
    /// the broker's website); returns the status and body.
    pub fn http(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        let addr = self
            .fake
            .base_url()
            .trim_start_matches("http://")
            .to_string();
        let keys = format!(
            "APCA-API-KEY-ID: {}\r\nAPCA-API-SECRET-KEY: {SECRET}\r\n",
            key()
        );
        http_at(&addr, method, path, &keys, body)
    }

    /// A `lockstep live` command for this campaign's fake (the caller adds the rest).
    pub fn command(&self) -> Command {
        base_cmd(&self.setup, &self.fake, self.clock.resume(START_UP))
    }

    /// Stops the fake: what it holds at the end.
    pub fn finish(self) -> FakeEnd {
        self.fake.finish().expect("fake end")
    }
}

/// Runs a session in `out`, the `k`-th process crashing at `crashes[k]` (as
/// `LOCKSTEP_CRASH_AT`), resuming after each SIGKILL until a process ends by itself.
pub fn run_campaign(setup: &Setup, out: &Path, crashes: &[&str]) -> Outcome {
    let c = Campaign::start(setup);
    let (mut runs, mut killed, mut outputs) = (0, 0, Vec::new());
    loop {
        let crash = crashes.get(runs).copied();
        let r = if runs == 0 {
            c.first(out, &[], crash)
        } else {
            c.resume(out, &[], crash)
        };
        runs += 1;
        outputs.push((r.stdout.clone(), r.stderr.clone()));
        if !r.killed {
            assert!(
                r.ok,
                "run {runs} failed after {crashes:?}:\n{:?}",
                outputs.last()
            );
            break;
        }
        killed += 1;
        assert!(runs < 6, "still crashing after {runs} runs");
    }
    Outcome {
        runs,
        killed,
        end: c.finish(),
        outputs,
    }
}

/// Runs `work` on every item, `jobs` at a time, each on a thread named after the calling
/// one (so each has its own fake account: [`key`] follows the thread's name); the results
/// come back in the items' order. After a panic no further item starts, and the panic is
/// raised again on the calling thread once the running items are done.
pub fn run_side_by_side<T: Sync, R: Send>(
    items: &[T],
    jobs: usize,
    work: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let results: Mutex<Vec<Option<R>>> = Mutex::new(items.iter().map(|_| None).collect());
    let caller = std::thread::current().name().unwrap_or("main").to_string();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..jobs.max(1))
            .map(|w| {
                let (next, failed, results, work) = (&next, &failed, &results, &work);
                std::thread::Builder::new()
                    .name(format!("{caller}/job-{w}"))
                    .spawn_scoped(scope, move || {
                        while !failed.load(Ordering::SeqCst) {
                            let i = next.fetch_add(1, Ordering::SeqCst);
                            let Some(item) = items.get(i) else { break };
                            let outcome =
                                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                    work(item)
                                }));
                            match outcome {
                                Ok(r) => results.lock().expect("results")[i] = Some(r),
                                Err(panic) => {
                                    failed.store(true, Ordering::SeqCst);
                                    std::panic::resume_unwind(panic);
                                }
                            }
                        }
                    })
                    .expect("a worker thread")
            })
            .collect();
        for worker in workers {
            if let Err(panic) = worker.join() {
                std::panic::resume_unwind(panic);
            }
        }
    });
    results
        .into_inner()
        .expect("results")
        .into_iter()
        .map(|r| r.expect("every item ran"))
        .collect()
}

/// The journal's `submitted` decisions: client order ids, in order.
pub fn journaled_submissions(dir: &Path) -> Vec<String> {
    decision_bodies(dir)
        .into_iter()
        .filter_map(|body| {
            let v: serde_json::Value = serde_json::from_str(&body).ok()?;
            Some(v.get("submitted")?.as_str()?.to_string())
        })
        .collect()
}

/// Every decision body in the journal, through the library's reader.
fn decision_bodies(dir: &Path) -> Vec<String> {
    let reader =
        lockstep_live::journal::JournalReader::open(&dir.join("journal.db")).expect("journal");
    let (records, _) = reader.read_all().expect("records");
    records
        .into_iter()
        .filter(|r| r.kind == lockstep_live::journal::RecordKind::Decision)
        .map(|r| r.body)
        .collect()
}

/// `lockstep journal replay` of `dir` must report 0 differences.
pub fn replays_exactly(dir: &Path) -> bool {
    let out = Command::new(env!("CARGO_BIN_EXE_lockstep"))
        .args(["journal", "replay"])
        .arg(dir.join("journal.db"))
        .output()
        .expect("replay runs");
    out.status.success() && String::from_utf8_lossy(&out.stdout).contains(": 0 differences")
}

/// 15:35:01 ET on 2013-10-04: the first bar fetched is 15:36's, and the session has a
/// minute of clock time to reconcile before it closes.
pub const SHORT_START: &str = "2013-10-04T19:35:01Z";

/// The campaigns' session: SPY minutes from 15:36 ET on 2013-10-04 (24 bars, the EOD
/// flatten at 15:55, the close) at 500x, two strategies, 8 fills when nothing goes wrong.
pub fn short_session(dir: &Path) -> Setup {
    let config = dir.join("crash.toml");
    std::fs::write(
        &config,
        r#"[data]
calendar = "nyse"

[live]
symbols = ["SPY"]

[[strategies]]
name = "sma_cross"
fast = 2
slow = 3
qty = 10

[[strategies]]
name = "buy_and_hold"
qty = 7
reenter = true

[eod]
policy = "flatten"
"#,
    )
    .expect("config");
    Setup {
        config,
        data: PathBuf::from(DATA),
        start: SHORT_START.into(),
        speed: 500.0,
        grace_secs: 59,
        faults: Vec::new(),
    }
}
