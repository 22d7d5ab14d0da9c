//! `lockstep backtest`: config -> sources -> engine -> report folder.

use crate::config::{self, Config, EquitySetting};
use crate::digest_tap::DigestTap;
use crate::error::AppError;
use crate::host;
use crate::price_tap::PriceTap;
use crate::safety;
use chrono::{SecondsFormat, Utc};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use lockstep_analytics::decimate::PriceDecimator;
use lockstep_core::{BarSource, Interval, Scale, UnixNanos};
use lockstep_data::recorded::{RecordedBars, Replay};
use lockstep_data::time_window::TimeWindow;
use lockstep_data::{open_source, DataOptions, MergedSource, PriceScale};
use lockstep_engine::{
    Engine, EngineError, EngineSettings, EquityMode, Journal, NamedStrategy, SimClock, SimVenue,
    Venue,
};
use lockstep_live::journal::JournalStore;
use lockstep_live::session::Session;
use lockstep_report::{ReportJournal, ReportPaths, RunFacts, ShadowBook, Summary};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// Arguments of `lockstep backtest`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct BacktestArgs {
    /// Config file (TOML). Without it and without --data, runs the bundled GOOG daily sample
    /// with sma_cross fast=10 slow=30 qty=100, fill next_open, no commission.
    pub config: Option<PathBuf>,
    /// Data file (Parquet or .csv); repeat for several. Replaces data.paths.
    #[arg(long = "data", value_name = "PATH")]
    pub data: Vec<PathBuf>,
    /// Built-in strategy to run (sma_cross, buy_and_hold); sets strategy.name. Default sma_cross.
    #[arg(long, value_name = "NAME")]
    pub strategy: Option<String>,
    /// Override a config key with a TOML value (repeatable), e.g. --set strategy.fast=5
    /// --set execution.commission.percent=0.001 --set execution.fill=close. Keys below.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Write the run's files directly into DIR (default: <report.dir>/<run name>/).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Run name (default: config file stem, or "default"); prefixes client order ids.
    #[arg(long, value_name = "RUN")]
    pub name: Option<String>,
    /// Skip bad data rows (counted in summary.skipped_rows) and bad signal lines (each
    /// named on stderr) instead of failing.
    #[arg(long)]
    pub lenient: bool,
    /// Recorded signals (JSON Lines, or a .parquet with the same columns: ts, symbol,
    /// direction, optional timeframe, id, price),
    /// merged into the event order as Signal events; repeatable. Replaces data.signals.
    #[arg(long = "signals", value_name = "FILE")]
    pub signals: Vec<PathBuf>,
    /// No progress bar and no summary table.
    #[arg(long)]
    pub quiet: bool,
    /// Skip report.html (and the config.toml and prices.csv it draws on).
    #[arg(long)]
    pub no_html: bool,
}

/// A finished backtest.
#[derive(Debug, Clone)]
pub struct BacktestResult {
    /// Where the report went, its hash and summary.
    pub report: ReportPaths,
    /// Wall seconds.
    pub wall_secs: f64,
}

fn load_config(args: &BacktestArgs) -> Result<(Config, toml::Table), AppError> {
    config::load_with_table(args.config.as_deref(), &args.set, |t| {
        if let Some(name) = &args.strategy {
            if t.contains_key("strategies") {
                return Err(AppError::BadInput(
                    "--strategy cannot be combined with [[strategies]] in the config".into(),
                ));
            }
            let s = t
                .entry("strategy")
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if let toml::Value::Table(s) = s {
                s.insert("name".into(), toml::Value::String(name.clone()));
            }
        }
        if args.lenient || !args.signals.is_empty() {
            let d = t
                .entry("data")
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if let toml::Value::Table(d) = d {
                if args.lenient {
                    d.insert("lenient".into(), toml::Value::Boolean(true));
                }
                if !args.signals.is_empty() {
                    // Command-line paths are the caller's: made absolute, so they do not
                    // resolve against the config file.
                    let cwd = std::env::current_dir().unwrap_or_default();
                    let files = args
                        .signals
                        .iter()
                        .map(|p| toml::Value::String(cwd.join(p).display().to_string()))
                        .collect();
                    d.insert("signals".into(), toml::Value::Array(files));
                }
            }
        }
        Ok(())
    })
}

/// How to read the data files of `cfg`.
pub fn data_options(cfg: &Config) -> Result<DataOptions, AppError> {
    let calendar = lockstep_core::Calendar::from_name(&cfg.data.calendar).ok_or_else(|| {
        AppError::BadInput(format!(
            "data.calendar: unknown calendar `{}` (known: 24x7, nyse)",
            cfg.data.calendar
        ))
    })?;
    let interval = match &cfg.data.interval {
        None => None,
        Some(s) => Some(
            s.parse::<Interval>()
                .map_err(|e| AppError::BadInput(format!("data.interval: {e}")))?,
        ),
    };
    let price_scale =
        match cfg.data.price_decimals {
            None => PriceScale::Infer,
            Some(dp) => PriceScale::Fixed(Scale::new(dp).ok_or_else(|| {
                AppError::BadInput("data.price_decimals must be at most 18".into())
            })?),
        };
    Ok(DataOptions {
        symbol: cfg.data.symbol.clone(),
        price_scale,
        interval,
        lenient: cfg.data.lenient,
        calendar,
        extended_hours: cfg.data.session == config::SessionSetting::Extended,
        ..DataOptions::default()
    })
}

/// `data.from`, `data.to` and `data.delivered_by` as UTC nanoseconds.
pub(crate) fn data_bounds(cfg: &Config) -> Result<[Option<i64>; 3], AppError> {
    let bound = |key: &str, v: &Option<String>| {
        v.as_deref()
            .map(|t| {
                lockstep_data::timeparse::parse_ts_text(t, None)
                    .map_err(|e| AppError::BadInput(format!("data.{key}: {e}")))
            })
            .transpose()
    };
    let d = &cfg.data;
    Ok([
        bound("from", &d.from)?,
        bound("to", &d.to)?,
        bound("delivered_by", &d.delivered_by)?,
    ])
}

fn progress_bar(quiet: bool, total: Option<u64>) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = match total {
        Some(n) => ProgressBar::new(n),
        None => ProgressBar::no_length(),
    };
    pb.set_draw_target(ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} {pos}/{len} bars {per_sec} {wide_bar} {eta}")
    {
        pb.set_style(style);
    }
    pb
}

/// A loaded config and how to run it.
#[derive(Debug, Clone)]
pub struct RunPlan {
    /// The validated config.
    pub cfg: Config,
    /// The file it came from (data paths in it are relative to this file).
    pub config_path: Option<PathBuf>,
    /// Data files from the command line (replace `data.paths`).
    pub data: Vec<PathBuf>,
    /// Run name override.
    pub name: Option<String>,
    /// Output folder override.
    pub out: Option<PathBuf>,
    /// No progress bar.
    pub quiet: bool,
    /// Write report.html with the resolved config (TOML) and the decimated closes the
    /// engine saw; `None` for no page.
    pub page: Option<PagePlan>,
    /// The data already read once (a sweep's points share it); `None` reads the files.
    /// Only for runs whose data settings are those it was recorded with.
    pub recorded: Option<Arc<RecordedBars>>,
}

/// What a run's page records besides its tables.
#[derive(Debug, Clone, Default)]
pub struct PagePlan {
    /// The resolved config as TOML (written to `config.toml`).
    pub config_toml: Option<String>,
}

/// Runs one backtest from command-line arguments and writes its report folder.
pub fn run_backtest(args: &BacktestArgs, argv: Vec<String>) -> Result<BacktestResult, AppError> {
    let (cfg, table) = load_config(args)?;
    let page = (!args.no_html).then(|| PagePlan {
        config_toml: Some(if table.is_empty() {
            "# no config file and no --set: the built-in defaults (`lockstep backtest --help`)\n"
                .to_string()
        } else {
            toml::to_string(&table).unwrap_or_default()
        }),
    });
    let plan = RunPlan {
        cfg,
        config_path: args.config.clone(),
        data: args.data.clone(),
        name: args.name.clone(),
        out: args.out.clone(),
        quiet: args.quiet,
        page,
        recorded: None,
    };
    execute(&plan, argv)
}

/// What the engine of a run is built from: the same for replay, paper and live.
pub struct EngineParts {
    /// Engine settings (run id, cash, risk, EOD, exits).
    pub settings: EngineSettings,
    /// The simulated venue (replay and paper).
    pub venue: SimVenue,
    /// The strategies with their names.
    pub strategies: Vec<NamedStrategy>,
    /// `ledger.books = "per_strategy"`: each strategy closes only its own lots.
    pub per_strategy_books: bool,
}

impl EngineParts {
    /// The engine on `venue` (the parts' own SimVenue for replay and paper, a broker for
    /// live), recording into `journal`, its clock set before any data.
    pub fn engine_on<V: Venue, J: Journal>(self, venue: V, journal: J) -> Engine<V, SimClock, J> {
        let engine = Engine::new(
            self.settings,
            venue,
            SimClock::new(UnixNanos(i64::MIN)),
            self.strategies,
            journal,
        );
        if self.per_strategy_books {
            engine.with_per_strategy_books()
        } else {
            engine
        }
    }

    /// The report folder `dir` of a run of these parts (its lots and summary per strategy
    /// with per-strategy books).
    pub fn report(&self, dir: &std::path::Path) -> Result<ReportJournal, AppError> {
        let err = |e: lockstep_report::ReportError| AppError::Runtime(e.to_string());
        let journal = ReportJournal::create(dir).map_err(err)?;
        if self.per_strategy_books {
            journal.with_per_strategy_books().map_err(err)
        } else {
            Ok(journal)
        }
    }

    /// A journaled session of these parts on `venue` (`store`: none for a replay).
    pub fn session_on<V: Venue, J: Journal>(
        self,
        venue: V,
        inner: J,
        store: Option<JournalStore>,
    ) -> Session<V, J> {
        Session::new(|tee| self.engine_on(venue, tee), inner, store)
    }

    /// A journaled session on the parts' own SimVenue (paper).
    pub fn session<J: Journal>(
        mut self,
        inner: J,
        store: Option<JournalStore>,
    ) -> Session<SimVenue, J> {
        let venue = std::mem::take(&mut self.venue);
        self.session_on(venue, inner, store)
    }
}

/// Facts about a run for `run.json` (not part of the result): version, timings, speed,
/// peak memory and the command line.
pub fn run_facts(started: Instant, started_utc: String, bars: u64, argv: Vec<String>) -> RunFacts {
    let wall = started.elapsed().as_secs_f64();
    RunFacts {
        version: env!("CARGO_PKG_VERSION").to_string(),
        started_utc,
        wall_secs: wall,
        bars,
        bars_per_sec: if wall > 0.0 { bars as f64 / wall } else { 0.0 },
        peak_rss_bytes: host::peak_rss_bytes(),
        argv,
    }
}

/// Builds the engine's parts from a validated config; `run_id` prefixes client order ids.
pub fn engine_parts(cfg: &Config, run_id: &str) -> Result<EngineParts, AppError> {
    let plans = safety::build_strategies(cfg)?;
    let venue = SimVenue::with_settings(safety::sim_settings(cfg)?);
    let exits = safety::exit_settings(cfg, &plans)?;
    let eod = safety::eod_settings(cfg, &plans)?;
    let strategies = plans.into_iter().map(|p| p.strategy).collect();
    let settings = EngineSettings {
        run_id: run_id.to_string(),
        initial_cash: cfg.run.initial_cash,
        equity: match cfg.report.equity {
            EquitySetting::Session => EquityMode::Session,
            EquitySetting::Bar => EquityMode::Bar,
        },
        risk: safety::risk_limits(cfg)?,
        eod,
        exits,
        indexes: cfg.data.indexes.clone(),
    };
    Ok(EngineParts {
        settings,
        venue,
        strategies,
        per_strategy_books: cfg.ledger.per_strategy()?,
    })
}

/// The run's name: `--name`, `run.name`, the config's stem, or `default`; checked to be a
/// usable folder name.
pub fn run_name(plan: &RunPlan) -> Result<String, AppError> {
    let cfg = &plan.cfg;
    let name = plan
        .name
        .clone()
        .or_else(|| cfg.run.name.clone())
        .or_else(|| {
            plan.config_path
                .as_ref()
                .and_then(|p| p.file_stem())
                .map(|s| s.to_string_lossy().to_string())
        })
        .unwrap_or_else(|| "default".to_string());
    if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
        return Err(AppError::BadInput(format!(
            "run name `{name}` must be non-empty, without slashes or a leading dot"
        )));
    }
    Ok(name)
}

/// The run's recorded signals, file by file (the engine's queue puts them in time order);
/// with `data.lenient` bad lines are skipped, each named on stderr (unless quiet).
fn read_signals(cfg: &Config, plan: &RunPlan) -> Result<Vec<lockstep_core::Signal>, AppError> {
    let mut all = Vec::new();
    for path in config::signal_paths(cfg, plan.config_path.as_deref()) {
        let file = lockstep_data::signals::read_signals(&path, cfg.data.lenient)
            .map_err(|e| AppError::BadInput(e.to_string()))?;
        if !plan.quiet {
            for e in &file.skipped {
                eprintln!("skipped: {e}");
            }
        }
        all.extend(file.signals);
    }
    Ok(all)
}

/// The strategies that have a shadow role (they trade the other engine's signals when
/// replayed with `role = "shadow"`).
const SHADOW_ROLES: [&str; 1] = ["dual_engine"];

/// `cfg` with every strategy that has a role set to `role = "shadow"`; an error when none
/// has one.
pub fn shadow_config(cfg: &Config) -> Result<Config, AppError> {
    let mut shadow = cfg.clone();
    shadow.run.shadow = false;
    let mut flipped = 0;
    let tables = shadow
        .strategy
        .iter_mut()
        .chain(shadow.strategies.iter_mut().flatten());
    for t in tables {
        let named = t
            .get("name")
            .and_then(|v| v.as_str())
            .unwrap_or("sma_cross");
        if SHADOW_ROLES.contains(&named) {
            t.insert("role".into(), toml::Value::String("shadow".into()));
            flipped += 1;
        }
    }
    if flipped == 0 {
        return Err(AppError::BadInput(format!(
            "run.shadow: no strategy has a shadow role (those that do: {})",
            SHADOW_ROLES.join(", ")
        )));
    }
    Ok(shadow)
}

/// The data files of `cfg` (config-relative paths resolved against `config_path`, or the
/// command line's `data` instead) opened and merged by time.
pub fn open_merged(
    cfg: &Config,
    config_path: Option<&Path>,
    data: &[PathBuf],
) -> Result<MergedSource, AppError> {
    let paths = config::data_paths(cfg, config_path, data);
    let opts = DataOptions {
        batch_rows: lockstep_data::parquet_source::batch_rows(paths.len()),
        ..data_options(cfg)?
    };
    let mut sources: Vec<Box<dyn BarSource>> = Vec::new();
    for p in &paths {
        sources.push(open_source(p, &opts)?);
    }
    Ok(MergedSource::new(sources))
}

/// Replays `cfg`'s data and signals through its engine into `journal`; `n` counts bars.
fn replay<J: lockstep_engine::Journal>(
    cfg: &Config,
    plan: &RunPlan,
    mut parts: EngineParts,
    journal: J,
    progress: &mut dyn FnMut(u64),
    prices: Option<&mut PriceDecimator>,
) -> Result<(lockstep_engine::RunOutcome, J), AppError> {
    let paths = config::data_paths(cfg, plan.config_path.as_deref(), &plan.data);
    let [from, to, by] = data_bounds(cfg)?;
    let mut source: Box<dyn BarSource> = match &plan.recorded {
        Some(rec) => {
            Box::new(TimeWindow::new(Replay::new(Arc::clone(rec)), from, to).delivered_by(by))
        }
        None => {
            let merged = open_merged(cfg, plan.config_path.as_deref(), &plan.data)?;
            Box::new(TimeWindow::new(merged, from, to).delivered_by(by))
        }
    };
    let signals = read_signals(cfg, plan)?;
    let venue = std::mem::take(&mut parts.venue);
    let mut engine = parts.engine_on(venue, journal);
    for s in signals {
        engine.enqueue_signal(s);
    }
    let ran = match prices {
        Some(p) => engine.run(&mut PriceTap::new(source.as_mut(), p), progress),
        None => engine.run(source.as_mut(), progress),
    };
    let (outcome, journal) = ran.map_err(|e| match e {
        EngineError::Data(d) => AppError::BadInput(d.0),
        EngineError::EodNeedsIntraday | EngineError::OptionsNeedSessions(_) => {
            AppError::BadInput(e.to_string())
        }
        other => AppError::Runtime(other.to_string()),
    })?;
    if outcome.bars == 0 {
        let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(AppError::BadInput(format!(
            "{}: no valid bars to replay",
            names.join(", ")
        )));
    }
    Ok((outcome, journal))
}

/// Where the shadow book of the run folder `dir` is written before its tables are copied
/// in: a hidden sibling named after the run and this process.
pub fn shadow_scratch(dir: &Path) -> PathBuf {
    dir.with_file_name(format!(
        ".{}.shadow-{}",
        dir.file_name()
            .map_or("run".into(), |n| n.to_string_lossy()),
        std::process::id()
    ))
}

/// Runs the shadow book of `plan` into a scratch folder beside `dir`.
fn shadow_book(plan: &RunPlan, dir: &Path, name: &str) -> Result<ShadowBook, AppError> {
    let cfg = shadow_config(&plan.cfg)?;
    let parts = engine_parts(&cfg, name)?;
    let journal = parts.report(&shadow_scratch(dir))?;
    let (outcome, journal) = replay(&cfg, plan, parts, journal, &mut |_| {}, None)?;
    let paths = journal
        .finish(&outcome, || {
            run_facts(Instant::now(), String::new(), 0, Vec::new())
        })
        .map_err(|e| AppError::Runtime(e.to_string()))?;
    Ok(ShadowBook {
        dir: paths.dir,
        summary: paths.summary,
    })
}

/// Runs a planned backtest and writes its report folder (with its shadow book when
/// `run.shadow` is on).
pub fn execute(plan: &RunPlan, argv: Vec<String>) -> Result<BacktestResult, AppError> {
    let started = Instant::now();
    let started_utc = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
    let cfg = &plan.cfg;
    let parts = engine_parts(cfg, &run_name(plan)?)?;
    let name = parts.settings.run_id.clone();
    let paths = config::data_paths(cfg, plan.config_path.as_deref(), &plan.data);
    let total = lockstep_data::open::row_count_hint(&paths);
    let dir = plan
        .out
        .clone()
        .unwrap_or_else(|| cfg.report.dir.join(&name));
    let mut journal = parts.report(&dir)?;
    if cfg.run.shadow {
        journal = journal.with_shadow(shadow_book(plan, &dir, &name)?);
    }
    let pb = progress_bar(plan.quiet, total);
    let mut prices = plan
        .page
        .as_ref()
        .map(|_| PriceDecimator::new(crate::pages::PRICE_BUCKETS));
    let journal = DigestTap::new(journal, plan.page.is_some());
    let done = replay(
        cfg,
        plan,
        parts,
        journal,
        &mut |n| pb.set_position(n),
        prices.as_mut(),
    );
    pb.finish_and_clear();
    let (outcome, tap) = done?;
    let (journal, trades) = tap.into_parts();
    let bars = outcome.bars;
    let report = journal
        .finish(&outcome, || run_facts(started, started_utc, bars, argv))
        .map_err(|e| AppError::Runtime(e.to_string()))?;
    if let Some(page) = &plan.page {
        crate::pages::write_run_page(
            &report.dir,
            crate::pages::PageInputs {
                config_toml: page.config_toml.clone(),
                prices,
                trades,
            },
        )?;
    }
    Ok(BacktestResult {
        report,
        wall_secs: started.elapsed().as_secs_f64(),
    })
}

/// A short human summary of a finished run.
pub fn summary_table(s: &Summary, dir: &Path, wall_secs: f64) -> String {
    let mut out = String::new();
    let range = match (&s.first_ts, &s.last_ts) {
        (Some(a), Some(b)) => format!("{a} .. {b}"),
        _ => "no bars".into(),
    };
    let rate = if wall_secs > 0.0 {
        s.bars as f64 / wall_secs
    } else {
        0.0
    };
    let mut line = |k: &str, v: String| out.push_str(&format!("{k:<14}{v}\n"));
    line("run", format!("{}  ->  {}", s.run_id, dir.display()));
    line("bars", format!("{} ({range}), {:.0} bars/s", s.bars, rate));
    if s.skipped_rows > 0 {
        line("skipped rows", s.skipped_rows.to_string());
    }
    line("orders/fills", format!("{} / {}", s.orders, s.fills));
    line("round trips", s.round_trips.to_string());
    line(
        "realized P&L",
        format!(
            "{} (gross {}, fees {})",
            s.realized_pnl, s.gross_pnl, s.fees
        ),
    );
    for p in &s.open_positions {
        line(
            "open",
            format!(
                "{} {} @ {} (unrealized {})",
                p.symbol, p.qty, p.avg_price, p.unrealized_pnl
            ),
        );
    }
    let m = &s.metrics;
    let f = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    line(
        "metrics",
        format!(
            "return {}  CAGR {}  max DD {}  Sharpe {}  win rate {}",
            f(&m.total_return),
            f(&m.cagr),
            f(&m.max_drawdown),
            f(&m.sharpe),
            f(&m.win_rate)
        ),
    );
    for (code, n) in &s.rejections {
        line("rejected", format!("{code}: {n}"));
    }
    line("report_hash", s.report_hash.clone().unwrap_or_default());
    out
}
