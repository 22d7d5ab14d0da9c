//! `lockstep paper` and `lockstep live`: the backtest's engine on a live feed. Strategies,
//! risk engine, executor, exits, EOD guard and FIFO ledger are built from the config exactly
//! as `backtest` builds them; only the input side (Alpaca's market-data stream, with REST
//! backfill), the clock and the venue differ: `paper` fills on the SimVenue, `live` sends
//! orders to Alpaca. Every input and decision goes to `DIR/journal.db`, and the run writes
//! the same report folder as a backtest.

use crate::config::{self};
use crate::config_live::{self, Keys};
use crate::error::AppError;
use crate::run::{data_options, engine_parts, run_facts, run_name, summary_table, RunPlan};
use chrono::{SecondsFormat, Utc};
use lockstep_core::UnixNanos;
use lockstep_live::alpaca::{AlpacaVenue, BrokerConfig};
use lockstep_live::driver::{run_blocking, run_blocking_live, DriverSettings, Stop};
use lockstep_live::feed::FeedConfig;
use lockstep_live::journal::JournalStore;
use lockstep_live::time_source::{SharedTime, TimeSource, WarpClock};
use lockstep_report::ReportJournal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Arguments of `lockstep paper` and `lockstep live`.
#[derive(Debug, clap::Args)]
pub struct SessionArgs {
    /// Config file (TOML), as for `backtest`; `[broker]` and `[live]` say where to connect.
    pub config: PathBuf,
    /// Override a config key with a TOML value (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Write the run folder (and DIR/journal.db) here (default: <report.dir>/<run name>/).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Run name (default: config file stem).
    #[arg(long, value_name = "RUN")]
    pub name: Option<String>,
    /// Start the clock at this time (RFC 3339, e.g. 2013-10-07T13:29:00Z; default: now).
    #[arg(long, value_name = "TS")]
    pub clock_start: Option<String>,
    /// Run the clock this many times faster than real time (default 1).
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// Stop when the clock reaches this time (RFC 3339).
    #[arg(long, value_name = "TS")]
    pub until: Option<String>,
    /// Stop after the first session's close.
    #[arg(long)]
    pub one_session: bool,
    /// No status line and no summary table.
    #[arg(long)]
    pub quiet: bool,
    /// `live` only: required with `broker.endpoint = "live"` (real money).
    #[arg(long)]
    pub confirm_live: bool,
}

/// Which venue a session trades on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Live feed, simulated fills.
    Paper,
    /// Live feed, Alpaca fills.
    Live,
}

impl Mode {
    fn as_str(self) -> &'static str {
        match self {
            Mode::Paper => "paper",
            Mode::Live => "live",
        }
    }
}

/// The clock of a session: from `--clock-start` (or now) at `--speed`; with
/// `LOCKSTEP_CLOCK_ANCHOR_NS` (a system time in ns), the clock read the start at that
/// instant, so a fake broker started from the same values agrees with it.
fn session_clock(start: UnixNanos, speed: f64) -> Result<WarpClock, AppError> {
    match std::env::var("LOCKSTEP_CLOCK_ANCHOR_NS") {
        Ok(v) if !v.is_empty() => {
            let anchor = v.parse::<i64>().map_err(|_| {
                AppError::BadInput("LOCKSTEP_CLOCK_ANCHOR_NS must be nanoseconds".into())
            })?;
            Ok(WarpClock::since(start, speed, anchor))
        }
        _ => Ok(WarpClock::new(start, speed)),
    }
}

/// Holds the account's lock for the whole session: one process per account, because a
/// second one would race the first for orders and for Alpaca's single stream connection.
/// The lock file (in the temp folder, named by a hash of the key id, never the key) is
/// released when the process ends, however it ends.
fn account_lock(keys: &Keys) -> Result<std::fs::File, AppError> {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(keys.key_id.as_bytes());
    let tag: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    let path = std::env::temp_dir().join(format!("lockstep-account-{tag}.lock"));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| AppError::Runtime(format!("{}: {e}", path.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(AppError::Runtime(format!(
            "another lockstep session is already running on this account (lock {}); one process per account",
            path.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(AppError::Runtime(format!("{}: {e}", path.display())))
        }
    }
}

/// The trading URL for `mode` after the endpoint and confirmation checks.
fn trading_url(cfg: &config::Config, args: &SessionArgs) -> Result<String, AppError> {
    let endpoint = cfg.broker.endpoint().map_err(AppError::BadInput)?;
    let live_money = endpoint == config_live::Endpoint::Live;
    if live_money && !args.confirm_live {
        return Err(AppError::BadInput(
            "broker.endpoint = \"live\" trades real money: add --confirm-live".into(),
        ));
    }
    let default = if live_money {
        config_live::LIVE_TRADING_URL
    } else {
        config_live::PAPER_TRADING_URL
    };
    let url = config_live::url("APCA_API_BASE_URL", &cfg.broker.trading_url, default);
    if !live_money && url.trim_end_matches('/') == config_live::LIVE_TRADING_URL {
        return Err(AppError::BadInput(format!(
            "broker.trading_url: {url} is the real-money host but broker.endpoint is paper"
        )));
    }
    Ok(url)
}

fn parse_ts(flag: &str, text: &str) -> Result<UnixNanos, AppError> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .and_then(|t| t.timestamp_nanos_opt())
        .map(UnixNanos)
        .ok_or_else(|| AppError::BadInput(format!("{flag}: `{text}` is not an RFC 3339 time")))
}

/// Runs a paper or live session to its stop and writes its report folder; returns the
/// summary text.
pub fn run_session(args: &SessionArgs, mode: Mode, argv: Vec<String>) -> Result<String, AppError> {
    let started = Instant::now();
    let started_utc = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
    let (cfg, table) = config::load_with_table(Some(&args.config), &args.set, |_| Ok(()))?;
    let trading = trading_url(&cfg, args)?;
    let keys = Keys::from_env().map_err(AppError::BadInput)?;
    let _account_lock = account_lock(&keys)?;
    if !(args.speed.is_finite() && args.speed > 0.0) {
        return Err(AppError::BadInput(
            "--speed must be a positive number".into(),
        ));
    }
    let plan = RunPlan {
        cfg: cfg.clone(),
        config_path: Some(args.config.clone()),
        data: Vec::new(),
        name: args.name.clone(),
        out: args.out.clone(),
        quiet: args.quiet,
    };
    let name = run_name(&plan)?;
    let opts = data_options(&cfg)?;
    let symbols = if cfg.live.symbols.is_empty() {
        cfg.data.symbol.clone().into_iter().collect()
    } else {
        cfg.live.symbols.clone()
    };
    if symbols.is_empty() {
        return Err(AppError::BadInput(
            "live.symbols: name the symbols to follow (or set data.symbol)".into(),
        ));
    }
    let minute = 60_000_000_000;
    if opts.interval.is_some_and(|i| i.nanos() != minute) {
        return Err(AppError::BadInput(
            "data.interval: paper and live follow one-minute bars (1m)".into(),
        ));
    }
    let grace = cfg
        .live
        .timer_grace_secs
        .unwrap_or(rust_decimal::Decimal::from(2));
    let grace_ns = (grace * rust_decimal::Decimal::from(1_000_000_000))
        .trunc()
        .try_into()
        .map_err(|_| AppError::BadInput("live.timer_grace_secs is out of range".into()))?;
    let start = match &args.clock_start {
        Some(t) => parse_ts("--clock-start", t)?,
        None => WarpClock::real().now(),
    };
    let until = args
        .until
        .as_deref()
        .map(|t| parse_ts("--until", t))
        .transpose()?;
    let clock: SharedTime = Arc::new(session_clock(start, args.speed)?);
    let run_id = format!("{name}-{}", start.to_datetime().format("%Y%m%d%H%M%S"));
    let parts = engine_parts(&cfg, &run_id)?;
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| cfg.report.dir.join(&name));
    let runtime = |e: String| AppError::Runtime(e);
    std::fs::create_dir_all(&dir).map_err(|e| runtime(format!("{}: {e}", dir.display())))?;
    let db = dir.join("journal.db");
    let config_text = toml::to_string(&table).map_err(|e| runtime(e.to_string()))?;
    let store = JournalStore::create(
        &db,
        &[
            ("mode", mode.as_str()),
            ("run_id", &run_id),
            ("config", &config_text),
            ("clock_start", &start.to_iso()),
            ("speed", &args.speed.to_string()),
        ],
    )
    .map_err(|e| runtime(e.to_string()))?;
    let report = ReportJournal::create(&dir).map_err(|e| runtime(e.to_string()))?;
    let broker = &cfg.broker;
    let feed = FeedConfig {
        stream_url: config_live::url(
            "APCA_API_STREAM_URL",
            &broker.data_stream_url,
            config_live::DATA_STREAM_URL,
        ),
        rest_url: config_live::url("APCA_API_DATA_URL", &broker.data_url, config_live::DATA_URL),
        key_id: keys.key_id,
        secret_key: keys.secret_key,
        symbols,
        crypto: cfg.live.crypto,
        clock: clock.clone(),
        backfill_from: start,
    };
    let driver = DriverSettings {
        clock: clock.clone(),
        grace: grace_ns,
        poll: Duration::from_millis(2),
        until,
        one_session: args.one_session,
        calendar: opts.calendar,
        extended_hours: opts.extended_hours,
        scale: opts.scale,
        interval: minute,
        status: !args.quiet,
    };
    let err = |e: lockstep_live::session::SessionError| runtime(e.to_string());
    let (stop, stats, done) = match mode {
        Mode::Paper => {
            let mut session = parts.session(report, Some(store));
            session.begin(clock.now()).map_err(err)?;
            let (stop, stats) = run_blocking(&mut session, feed, &driver).map_err(err)?;
            (stop, stats, session.conclude(clock.now()).map_err(err)?)
        }
        Mode::Live => {
            let alpaca = AlpacaVenue::new();
            let mut session = parts.session_on(alpaca.clone(), report, Some(store));
            let broker = BrokerConfig {
                trading_url: trading,
                key_id: feed.key_id.clone(),
                secret_key: feed.secret_key.clone(),
                run_id: run_id.clone(),
                clock: clock.clone(),
            };
            session.begin(clock.now()).map_err(err)?;
            let settle = Duration::from_secs(2);
            let (stop, stats) =
                run_blocking_live(&mut session, alpaca, feed, broker, &driver, settle)
                    .map_err(err)?;
            (stop, stats, session.conclude(clock.now()).map_err(err)?)
        }
    };
    let bars = stats.bars;
    let paths = done
        .journal
        .finish(&done.outcome, || {
            run_facts(started, started_utc, bars, argv)
        })
        .map_err(|e| runtime(e.to_string()))?;
    let why = match stop {
        Stop::Until => "--until reached",
        Stop::SessionClosed => "the session closed",
        Stop::Interrupted => "interrupted",
        Stop::FeedEnded => "the feed ended",
    };
    let ms = |q: f64| {
        stats.latency(q).map_or("-".to_string(), |d| {
            format!("{:.2} ms", d.as_secs_f64() * 1e3)
        })
    };
    let latency = format!(
        "bar -> order request: p50 {}, p99 {} over {} bars that led to orders\n",
        ms(0.5),
        ms(0.99),
        stats.bar_to_request.len()
    );
    Ok(format!(
        "{latency}{} session stopped: {why}; {} bars, {} malformed frames, {} corrections, {} feed disconnects\n{}",
        mode.as_str(),
        stats.bars,
        stats.malformed,
        stats.corrections,
        stats.disconnects,
        summary_table(&paths.summary, &paths.dir, started.elapsed().as_secs_f64())
    ))
}
