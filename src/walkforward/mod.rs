//! `lockstep walkforward CONFIG`: the `[walkforward]` table's windows, a learner per window
//! that sees only its train window, the test windows traded with the frozen state and
//! without it, and the report: `windows.parquet/.csv`, `walkforward.json` and the headline
//! (stitched out-of-sample vs in-sample vs no-learning baseline).

pub mod report;
pub mod section;

use crate::config;
use crate::error::AppError;
use crate::run::{data_bounds, execute, open_merged, RunPlan};
use crate::shared_data::{read_once, sets_data};
use lockstep_core::{BarSource, SymbolTable, UnixNanos};
use lockstep_data::time_window::TimeWindow;
use lockstep_learn::{walk_forward, BarPoint, LotOutcome, RunRequest, RunStats, WindowResult};
use rust_decimal::Decimal;
use section::WalkforwardSection;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Arguments of `lockstep walkforward`.
#[derive(Debug, Clone, clap::Args)]
pub struct WalkforwardArgs {
    /// Config file (TOML) with a [walkforward] table.
    pub config: PathBuf,
    /// Override a config key (repeatable), as in `backtest --set`; `walkforward.*` keys too.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Data file (repeatable); replaces data.paths.
    #[arg(long = "data", value_name = "PATH")]
    pub data: Vec<PathBuf>,
    /// Output folder (default: <report.dir>/walkforward-<config stem>); every run of every
    /// window keeps its report in runs/<window>-<kind>/.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Worker threads (default: all cores). The result does not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// No headline table.
    #[arg(long)]
    pub quiet: bool,
    /// Read the data files in every run. By default the data is read once (up to 2 M
    /// bars) and every window's runs replay those bars, with the same result byte for byte.
    #[arg(long)]
    pub no_shared_data: bool,
}

/// A finished walk-forward.
#[derive(Debug, Clone)]
pub struct WalkforwardResult {
    /// Output folder.
    pub dir: PathBuf,
    /// Per-window results, in window order.
    pub windows: Vec<WindowResult>,
    /// The headline numbers and the result hash.
    pub headline: report::Headline,
}

/// The bars the config's data delivers whose open time is in `[from, to)`, in delivery
/// order.
fn delivered(
    args: &WalkforwardArgs,
    cfg: &config::Config,
    from: Option<i64>,
    to: Option<i64>,
) -> Result<Vec<BarPoint>, AppError> {
    let mut source = TimeWindow::new(open_merged(cfg, Some(&args.config), &args.data)?, from, to)
        .delivered_by(to);
    let mut symbols = SymbolTable::new();
    let mut out = Vec::new();
    while let Some(b) = source
        .next_bar(&mut symbols)
        .map_err(|e| AppError::BadInput(e.0))?
    {
        out.push(BarPoint {
            symbol: symbols.name(b.symbol).to_string(),
            end: b.end,
            close: b.scale.to_f64(b.close),
        });
    }
    Ok(out)
}

/// Distinct bar open times the config's data delivers inside its own `data.from/to`.
fn bar_times(args: &WalkforwardArgs, cfg: &config::Config) -> Result<Vec<i64>, AppError> {
    let [from, to, _] = data_bounds(cfg)?;
    let mut source = TimeWindow::new(open_merged(cfg, Some(&args.config), &args.data)?, from, to);
    let mut symbols = SymbolTable::new();
    let mut times = Vec::new();
    while let Some(b) = source
        .next_bar(&mut symbols)
        .map_err(|e| AppError::BadInput(e.0))?
    {
        times.push(b.ts.0);
    }
    times.sort_unstable();
    times.dedup();
    Ok(times)
}

fn read_csv(dir: &Path, name: &str) -> Result<Vec<csv::StringRecord>, String> {
    let path = dir.join(format!("{name}.csv"));
    let mut r = csv::Reader::from_path(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let headers = r.headers().map_err(|e| e.to_string())?.clone();
    let mut out = vec![headers];
    for rec in r.records() {
        out.push(rec.map_err(|e| format!("{}: {e}", path.display()))?);
    }
    Ok(out)
}

fn column(rows: &[csv::StringRecord], name: &str) -> Result<usize, String> {
    rows.first()
        .and_then(|h| h.iter().position(|c| c == name))
        .ok_or_else(|| format!("report table lacks column `{name}`"))
}

/// The stats a learner and the headline use, read back from a finished run's report.
fn run_stats(r: &crate::run::BacktestResult, initial: Decimal) -> Result<RunStats, String> {
    let s = &r.report.summary;
    let dir = &r.report.dir;
    // Each lot's entry decision time: lot -> its opening fill -> that fill's order.
    let fills = read_csv(dir, "fills")?;
    let (fid_i, foid_i) = (column(&fills, "fill_id")?, column(&fills, "order_id")?);
    let orders = read_csv(dir, "orders")?;
    let (oid_i, created_i) = (column(&orders, "order_id")?, column(&orders, "created_ts")?);
    let created: std::collections::BTreeMap<&str, &str> = orders[1..]
        .iter()
        .map(|o| (&o[oid_i], &o[created_i]))
        .collect();
    let decided: std::collections::BTreeMap<&str, &str> = fills[1..]
        .iter()
        .filter_map(|f| Some((&f[fid_i], *created.get(&f[foid_i])?)))
        .collect();
    let lots = read_csv(dir, "lots")?;
    let (open_i, pnl_i) = (column(&lots, "open_fill_id")?, column(&lots, "net_pnl")?);
    let sym_i = column(&lots, "symbol")?;
    let lots = lots[1..]
        .iter()
        .map(|l| {
            let when = decided
                .get(&l[open_i])
                .ok_or_else(|| format!("lot opened by unknown fill {}", &l[open_i]))?;
            let ts = lockstep_data::timeparse::parse_ts_text(when, None)?;
            let pnl = Decimal::from_str(&l[pnl_i]).map_err(|e| e.to_string())?;
            Ok(LotOutcome {
                symbol: l[sym_i].to_string(),
                open_ts: UnixNanos(ts),
                net_pnl: pnl,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let equity = read_csv(dir, "equity")?;
    let eq_i = column(&equity, "equity")?;
    let mut prev = initial;
    let mut returns = Vec::new();
    for row in &equity[1..] {
        let e = Decimal::from_str(&row[eq_i]).map_err(|e| e.to_string())?;
        if prev > Decimal::ZERO {
            let r = (e - prev) / prev;
            returns.push(r.to_string().parse::<f64>().unwrap_or(0.0));
        }
        prev = e;
    }
    let ts = |t: &Option<String>| {
        t.as_deref()
            .and_then(|t| lockstep_data::timeparse::parse_ts_text(t, None).ok())
    };
    let years = match (ts(&s.first_ts), ts(&s.last_ts)) {
        (Some(a), Some(b)) => (b - a) as f64 / 1e9 / (365.25 * 86_400.0),
        _ => 0.0,
    };
    Ok(RunStats {
        round_trips: s.round_trips,
        fills: s.fills,
        fees: Decimal::from_str(&s.fees).unwrap_or_default(),
        open_positions: s.open_positions.len() as u64,
        unrealized_pnl: Decimal::from_str(&s.unrealized_pnl).unwrap_or_default(),
        exit_reasons: s
            .exit_reasons
            .iter()
            .map(|(k, v)| (k.clone(), v.count))
            .collect(),
        rejections: s.rejections.clone(),
        realized_pnl: Decimal::from_str(&s.realized_pnl).unwrap_or_default(),
        sharpe: s
            .metrics
            .sharpe
            .as_deref()
            .and_then(|t| Decimal::from_str(t).ok()),
        returns,
        years,
        report_hash: r.report.hash.clone(),
        lots,
    })
}

/// Runs the walk-forward evaluation and writes its report.
pub fn run_walkforward(args: &WalkforwardArgs) -> Result<WalkforwardResult, AppError> {
    let section = WalkforwardSection::load(&args.config, &args.set)?;
    let learner = section.learner()?;
    let cfg = config::load(Some(&args.config), &args.set, |_| Ok(()))?;
    let spec = section.spec()?;
    let times = bar_times(args, &cfg)?;
    let windows = lockstep_learn::windows(&spec, &times)
        .map_err(|e| AppError::BadInput(format!("walkforward: {e}")))?;
    let stem = args
        .config
        .file_stem()
        .map_or_else(|| "walkforward".into(), |s| s.to_string_lossy().to_string());
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| cfg.report.dir.join(format!("walkforward-{stem}")));
    std::fs::create_dir_all(dir.join("runs"))
        .map_err(|e| AppError::Runtime(format!("{}: {e}", dir.display())))?;
    let initial = cfg.run.initial_cash;
    let [user_from, user_to, _] = data_bounds(&cfg)?;
    let shared = if args.no_shared_data {
        None
    } else {
        read_once(&args.config, &args.set, &args.data)
    };
    let run = |req: &RunRequest| -> Result<RunStats, String> {
        let mut sets = args.set.clone();
        sets.extend(req.sets.iter().cloned());
        let mut cfg =
            config::load(Some(&args.config), &sets, |_| Ok(())).map_err(|e| e.to_string())?;
        let from = user_from.map_or(req.from.0, |f| f.max(req.from.0));
        let to = user_to.map_or(req.to.0, |t| t.min(req.to.0));
        cfg.data.from = Some(UnixNanos(from).to_iso());
        cfg.data.to = Some(UnixNanos(to).to_iso());
        if req.train {
            cfg.data.delivered_by = Some(UnixNanos(to).to_iso());
        }
        let plan = RunPlan {
            cfg,
            config_path: Some(args.config.clone()),
            data: args.data.clone(),
            name: Some(format!("{stem}-{}", req.tag)),
            out: Some(dir.join("runs").join(&req.tag)),
            quiet: true,
            page: None,
            // Runs differ in their window; one that changes another data key reads itself.
            recorded: if req.sets.iter().any(|s| sets_data(s)) {
                None
            } else {
                shared.clone()
            },
        };
        let done = execute(&plan, vec!["lockstep".into(), "walkforward".into()])
            .map_err(|e| e.to_string())?;
        run_stats(&done, initial)
    };
    let bars = |from: UnixNanos, to: UnixNanos| {
        delivered(args, &cfg, Some(from.0), Some(to.0)).map_err(|e| e.to_string())
    };
    let results = walk_forward(&windows, learner.as_ref(), &run, &bars, args.threads)
        .map_err(AppError::Runtime)?;
    let windows: Vec<WindowResult> = results
        .into_iter()
        .collect::<Result<_, _>>()
        .map_err(AppError::BadInput)?;
    let headline = report::write(&dir, &section, learner.name(), &windows)?;
    crate::pages::write_walkforward_page(&dir)?;
    Ok(WalkforwardResult {
        dir,
        windows,
        headline,
    })
}
