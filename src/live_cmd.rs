//! `lockstep paper` and `lockstep live`: the backtest's engine on a live feed. Strategies,
//! risk engine, executor, exits, EOD guard and FIFO ledger are built from the config exactly
//! as `backtest` builds them; only the input side (Alpaca's market-data stream, with REST
//! backfill), the clock and the venue differ: `paper` fills on the SimVenue, `live` sends
//! orders to Alpaca. Every input and decision goes to `DIR/journal.db`, and the run writes
//! the same report folder as a backtest.

use crate::config::{self};
use crate::config_live::{self, Keys};
use crate::error::AppError;
use crate::live_setup::{account_lock, parse_ts, session_clock, trading_url};
use crate::run::{data_options, engine_parts, run_facts, run_name, summary_table, RunPlan};
use chrono::{SecondsFormat, Utc};
use lockstep_core::UnixNanos;
use lockstep_live::alpaca::{AlpacaVenue, BrokerConfig, KnownOrder};
use lockstep_live::driver::{
    control_path, run_blocking, run_blocking_live, DriverSettings, LiveSettings, Sidecars, Stop,
};
use lockstep_live::feed::FeedConfig;
use lockstep_live::journal::JournalStore;
use lockstep_live::resume::resume;
use lockstep_live::session::Session;
use lockstep_live::time_source::{SharedTime, TimeSource, WarpClock};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Arguments of `lockstep paper` and `lockstep live`.
#[derive(Debug, clap::Args)]
pub struct SessionArgs {
    /// Config file (TOML), as for `backtest`; `[broker]` and `[live]` say where to connect.
    /// Left out with `--resume`.
    pub config: Option<PathBuf>,
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
    /// Stop after the first session's close, once the bar closing at the close is in (at
    /// most a minute of clock time later).
    #[arg(long)]
    pub one_session: bool,
    /// No status line and no summary table.
    #[arg(long)]
    pub quiet: bool,
    /// Skip report.html (and the config.toml it records).
    #[arg(long)]
    pub no_html: bool,
    /// `live` only: required with `broker.endpoint = "live"` (real money).
    #[arg(long)]
    pub confirm_live: bool,
    /// Serve /healthz, /readyz (JSON) and /metrics (Prometheus) at this address (default
    /// 127.0.0.1:9464 when the flag is given bare). With LOCKSTEP_CONTROL_TOKEN set, POST
    /// /kill (body {"flatten": true} to close positions) and /lift accept that bearer token.
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "127.0.0.1:9464")]
    pub health: Option<std::net::SocketAddr>,
    /// Take signals at POST http://ADDR/webhook (default 127.0.0.1:8787 when the flag is
    /// given bare; off without it). Requests are authenticated by an X-Webhook-Signature
    /// header (hex HMAC-SHA256 of the body) or a `secret` field in the body, both with the
    /// secret in LOCKSTEP_WEBHOOK_SECRET. Answers {"status": "accepted" | "duplicate" |
    /// "rejected", "id", "errors"}; [webhook] sets max_age_secs, dedup_secs and
    /// outside_session. Received signals are exported to DIR/signals.jsonl.
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "127.0.0.1:8787")]
    pub webhook: Option<std::net::SocketAddr>,
    /// Continue the session whose journal this is (a `journal.db`, or its run folder)
    /// after a crash or stop: rebuild the engine from the journal, reconcile with the
    /// broker, then trade on. The report folder is rewritten from the whole journal.
    #[arg(long, value_name = "SESSION.db")]
    pub resume: Option<PathBuf>,
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

/// Where a session's config, identity and journal come from: a new journal, or the one
/// `--resume` names (whose recorded config and run id the session keeps).
struct Opened {
    cfg: config::Config,
    run_id: String,
    /// When the session's clock first started (a resumed session: as its journal says).
    session_start: UnixNanos,
    dir: PathBuf,
    /// The resolved config as TOML (the run folder's `config.toml`).
    config_toml: String,
    store: JournalStore,
    /// The journal's records when resuming.
    records: Option<Vec<lockstep_live::journal::Record>>,
}

fn runtime(e: impl std::fmt::Display) -> AppError {
    AppError::Runtime(e.to_string())
}

/// A new session: the config file, a run id from the name and the clock's start, a new
/// journal in the run folder.
fn open_new(
    args: &SessionArgs,
    mode: Mode,
    path: &std::path::Path,
    start: UnixNanos,
) -> Result<Opened, AppError> {
    let (cfg, table) = config::load_with_table(Some(path), &args.set, |_| Ok(()))?;
    let plan = RunPlan {
        cfg: cfg.clone(),
        config_path: Some(path.to_path_buf()),
        data: Vec::new(),
        name: args.name.clone(),
        out: args.out.clone(),
        quiet: args.quiet,
        page: None,
        recorded: None,
    };
    let name = run_name(&plan)?;
    let run_id = format!("{name}-{}", start.to_datetime().format("%Y%m%d%H%M%S"));
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| cfg.report.dir.join(&name));
    std::fs::create_dir_all(&dir).map_err(|e| runtime(format!("{}: {e}", dir.display())))?;
    let config_text = toml::to_string(&table).map_err(runtime)?;
    let store = JournalStore::create(
        &dir.join("journal.db"),
        &[
            ("mode", mode.as_str()),
            ("run_id", &run_id),
            ("config", &config_text),
            ("clock_start", &start.to_iso()),
            ("speed", &args.speed.to_string()),
        ],
    )
    .map_err(runtime)?;
    Ok(Opened {
        cfg,
        run_id,
        session_start: start,
        dir,
        config_toml: config_text,
        store,
        records: None,
    })
}

/// A resumed session: the journal at `path` (or `path/journal.db`), its torn tail cut,
/// its recorded config (with `--set` on top), run id and clock start (`now` if it has
/// none).
fn open_resumed(
    args: &SessionArgs,
    mode: Mode,
    path: &std::path::Path,
    now: UnixNanos,
) -> Result<Opened, AppError> {
    if args.config.is_some() {
        return Err(AppError::BadInput(
            "--resume: leave CONFIG out; a resumed session keeps the config its journal recorded (use --set to change [live] or [broker] keys)".into(),
        ));
    }
    let db = if path.is_dir() {
        path.join("journal.db")
    } else {
        path.to_path_buf()
    };
    if !db.is_file() {
        return Err(AppError::BadInput(format!(
            "--resume: {}: no such journal",
            db.display()
        )));
    }
    let store = JournalStore::open_append(&db).map_err(runtime)?;
    let rec = crate::journal_cmd::read_journal(&db)?;
    let recorded = match rec.mode {
        crate::journal_cmd::Mode::Paper => Mode::Paper,
        crate::journal_cmd::Mode::Live => Mode::Live,
    };
    if recorded != mode {
        return Err(AppError::BadInput(format!(
            "--resume: {} is a {} session; resume it with `lockstep {}`",
            db.display(),
            recorded.as_str(),
            recorded.as_str()
        )));
    }
    let mut table = rec.table;
    for s in &args.set {
        crate::overrides::apply(&mut table, s)?;
    }
    let config_toml = toml::to_string(&table).map_err(runtime)?;
    let cfg = config::from_table(table, Some(&db))?;
    let dir = db
        .parent()
        .map_or_else(|| PathBuf::from("."), std::path::Path::to_path_buf);
    Ok(Opened {
        cfg,
        run_id: rec.run_id,
        session_start: rec.clock_start.unwrap_or(now),
        dir,
        config_toml,
        store,
        records: Some(rec.records),
    })
}

/// Rebuilds a resumed session from its journal records (nothing is sent while it
/// rebuilds); a new session starts its strategies instead.
fn start_or_resume<V: lockstep_engine::Venue, J: lockstep_engine::Journal>(
    session: &mut Session<V, J>,
    records: Option<Vec<lockstep_live::journal::Record>>,
    store: JournalStore,
    now: UnixNanos,
    on_symbol: &mut dyn FnMut(lockstep_core::SymbolId, &str),
    quiet: bool,
) -> Result<(), AppError> {
    match records {
        None => {
            session.attach(store);
            session.begin(now).map_err(runtime)?;
        }
        Some(records) => {
            let r = resume(session, &records, store, now.0, on_symbol).map_err(runtime)?;
            if !quiet {
                eprintln!(
                    "resumed: {} inputs fed again, {} decisions matched, {} completed; {} orders working",
                    r.inputs,
                    r.decisions,
                    r.completed,
                    session.working_orders().len()
                );
            }
        }
    }
    Ok(())
}

/// Runs a paper or live session to its stop and writes its report folder; returns the
/// summary text. A session that stops because the broker's book differs from its journal
/// returns an error carrying the difference (exit 1), and leaves the journal open for a
/// later `--resume`.
pub fn run_session(args: &SessionArgs, mode: Mode, argv: Vec<String>) -> Result<String, AppError> {
    let started = Instant::now();
    let started_utc = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
    if !(args.speed.is_finite() && args.speed > 0.0) {
        return Err(AppError::BadInput(
            "--speed must be a positive number".into(),
        ));
    }
    let start = match &args.clock_start {
        Some(t) => parse_ts("--clock-start", t)?,
        None => WarpClock::real().now(),
    };
    let keys = Keys::from_env().map_err(AppError::BadInput)?;
    if args.webhook.is_some() {
        lockstep_live::webhook::secret_from_env().map_err(AppError::BadInput)?;
    }
    // One process per account, checked before any journal is created or opened.
    let _account_lock = account_lock(&keys)?;
    let opened = match (&args.resume, &args.config) {
        (Some(path), _) => open_resumed(args, mode, path, start)?,
        (None, Some(path)) => {
            // Refuse a real-money session without --confirm-live before creating anything.
            let (cfg, _) = config::load_with_table(Some(path), &args.set, |_| Ok(()))?;
            trading_url(&cfg, args)?;
            open_new(args, mode, path, start)?
        }
        (None, None) => {
            return Err(AppError::BadInput(
                "name a CONFIG file, or --resume a session's journal".into(),
            ))
        }
    };
    let Opened {
        cfg,
        run_id,
        session_start,
        dir,
        config_toml,
        store,
        records,
    } = opened;
    let trading = trading_url(&cfg, args)?;
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
    let secs = |d: rust_decimal::Decimal, key: &str| -> Result<i64, AppError> {
        (d * rust_decimal::Decimal::from(1_000_000_000))
            .trunc()
            .try_into()
            .map_err(|_| AppError::BadInput(format!("live.{key} is out of range")))
    };
    let live_cfg = &cfg.live;
    let grace_ns = secs(
        live_cfg
            .timer_grace_secs
            .unwrap_or(rust_decimal::Decimal::from(2)),
        "timer_grace_secs",
    )?;
    let check_every = secs(
        rust_decimal::Decimal::from(live_cfg.check_every_secs.unwrap_or(300).max(1)),
        "check_every_secs",
    )?;
    let external = live_cfg.external().map_err(AppError::BadInput)?;
    let max_skew_ms = i64::try_from(live_cfg.max_clock_skew_ms.unwrap_or(2000))
        .map_err(|_| AppError::BadInput("live.max_clock_skew_ms is out of range".into()))?;
    let until = args
        .until
        .as_deref()
        .map(|t| parse_ts("--until", t))
        .transpose()?;
    let clock: SharedTime = Arc::new(session_clock(start, args.speed)?);
    let parts = engine_parts(&cfg, &run_id)?;
    let db = dir.join("journal.db");
    let report = parts.report(&dir)?;
    let shadow: Option<Box<dyn lockstep_live::shadow::Shadow>> = if cfg.run.shadow {
        Some(Box::new(crate::shadow_book::SessionShadow::new(
            &cfg, &run_id, &dir,
        )?))
    } else {
        None
    };
    let broker = &cfg.broker;
    let mut feed = FeedConfig {
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
        // The bar in progress when the session began is its first: a late (re)connect
        // fetches it over REST instead of losing it.
        backfill_from: UnixNanos(session_start.0 - session_start.0.rem_euclid(minute)),
        seen: Default::default(),
    };
    let driver = DriverSettings {
        clock: clock.clone(),
        grace: grace_ns,
        poll: Duration::from_millis(2),
        until,
        one_session: args.one_session,
        calendar: opts.calendar,
        extended_hours: opts.extended_hours,
        scale: opts.price_scale.or_default(),
        interval: minute,
        status: !args.quiet,
        control: Some(control_path(&db)),
        check_every,
    };
    let sidecars = Sidecars {
        name: run_id.clone(),
        symbols: feed.symbols.clone(),
        health: args.health,
        control_token: std::env::var("LOCKSTEP_CONTROL_TOKEN").ok(),
        alerts: lockstep_live::alerts::AlertConfig::from_env(),
        stale_after: 3 * minute,
        webhook: args
            .webhook
            .map(|addr| cfg.webhook.config(addr, opts.calendar))
            .transpose()
            .map_err(AppError::BadInput)?,
    };
    let err = |e: lockstep_live::session::SessionError| runtime(e);
    let (stop, stats, signals, done) = match mode {
        Mode::Paper => {
            let mut session = parts.session(report, None);
            if let Some(s) = shadow {
                session.with_shadow(s);
            }
            start_or_resume(
                &mut session,
                records,
                store,
                clock.now(),
                &mut |_, _| {},
                args.quiet,
            )?;
            feed.seen = session.last_bars();
            let (stop, stats) =
                run_blocking(&mut session, feed, &driver, &sidecars).map_err(err)?;
            let signals = session.signals().to_vec();
            (
                stop,
                stats,
                signals,
                session.conclude(clock.now()).map_err(err)?,
            )
        }
        Mode::Live => {
            let alpaca = AlpacaVenue::new();
            let mut session = parts.session_on(alpaca.clone(), report, None);
            if let Some(s) = shadow {
                session.with_shadow(s);
            }
            let mut name_symbol = |id, name: &str| alpaca.name_symbol(id, name);
            let resuming = records.is_some();
            start_or_resume(
                &mut session,
                records,
                store,
                clock.now(),
                &mut name_symbol,
                args.quiet,
            )?;
            feed.seen = session.last_bars();
            let known = resuming.then(|| known_orders(&session));
            if resuming {
                lockstep_live::crash::point("resumed");
            }
            let live = LiveSettings {
                broker: BrokerConfig {
                    trading_url: trading,
                    key_id: feed.key_id.clone(),
                    secret_key: feed.secret_key.clone(),
                    run_id: run_id.clone(),
                    clock: clock.clone(),
                    resumed: known,
                    budget_per_minute: None,
                },
                settle: Duration::from_secs(2),
                external,
                max_skew_ms,
            };
            let (stop, stats) =
                run_blocking_live(&mut session, alpaca, feed, live, &driver, &sidecars)
                    .map_err(err)?;
            if let Stop::Unreconciled(diff) = &stop {
                return Err(AppError::Runtime(format!(
                    "reconciliation: the broker's positions differ from the journal's and the journal cannot explain it: {diff}. Nothing was sent. The difference is journaled in {}; fix the account, or set live.external_positions = \"ignore\" and --resume",
                    db.display()
                )));
            }
            let signals = session.signals().to_vec();
            (
                stop,
                stats,
                signals,
                session.conclude(clock.now()).map_err(err)?,
            )
        }
    };
    let bars = stats.bars;
    let (report, shadow_failed) = crate::shadow_book::attach(done.journal, done.shadow);
    if let Some(why) = &shadow_failed {
        eprintln!("{why}");
    }
    let paths = report
        .finish(&done.outcome, || {
            run_facts(started, started_utc, bars, argv)
        })
        .map_err(runtime)?;
    if args.webhook.is_some() || !signals.is_empty() {
        export_signals(&paths.dir.join("signals.jsonl"), &signals)?;
    }
    if !args.no_html {
        crate::pages::write_run_page(
            &paths.dir,
            crate::pages::PageInputs {
                config_toml: Some(config_toml),
                prices: crate::pages::prices_from_journal(&paths.dir.join("journal.db")),
                trades: None,
            },
        )?;
    }
    let why = match stop {
        Stop::Until => "--until reached",
        Stop::SessionClosed => "the session closed",
        Stop::Interrupted => "interrupted",
        Stop::FeedEnded => "the feed ended",
        Stop::Unreconciled(_) => "the broker's book differs from the journal",
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
    let webhook = if args.webhook.is_some() {
        let n = |k: &str| stats.webhook.get(k).copied().unwrap_or(0);
        format!(
            "webhook: {} accepted, {} duplicate, {} rejected\n",
            n("accepted"),
            n("duplicate"),
            n("rejected")
        )
    } else {
        String::new()
    };
    Ok(format!(
        "{latency}{webhook}{} session stopped: {why}; {} bars, {} malformed frames, {} corrections, {} feed disconnects\n{}",
        mode.as_str(),
        stats.bars,
        stats.malformed,
        stats.corrections,
        stats.disconnects,
        summary_table(&paths.summary, &paths.dir, started.elapsed().as_secs_f64())
    ))
}

/// Writes the signals a session received as recorded-signal JSON Lines (what
/// `backtest --signals` reads), in the order the loop was fed them.
fn export_signals(
    path: &std::path::Path,
    signals: &[lockstep_core::Signal],
) -> Result<(), AppError> {
    let mut text = String::new();
    for s in signals {
        text.push_str(&lockstep_data::signals::signal_line(s));
        text.push('\n');
    }
    std::fs::write(path, text).map_err(|e| runtime(format!("{}: {e}", path.display())))
}

/// What the broker task must know of a resumed session's orders: the last order number
/// and each working order's acknowledgement and fills so far.
fn known_orders<J: lockstep_engine::Journal>(
    session: &Session<AlpacaVenue, J>,
) -> (u64, Vec<KnownOrder>) {
    let working: Vec<KnownOrder> = session
        .working_orders()
        .iter()
        .map(|o| KnownOrder {
            id: o.id,
            accepted: o.status() != lockstep_core::OrderStatus::New,
            filled: o.filled_qty,
            notional: o.filled_notional,
        })
        .collect();
    (session.orders_created(), working)
}
