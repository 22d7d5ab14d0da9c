//! The `lockstep` command line. Exit codes: 0 ok, 1 runtime failure, 2 bad input or config.

use clap::{Parser, Subcommand};
use lockstep::run::{run_backtest, summary_table, BacktestArgs};
use lockstep::scenario::commands;
use lockstep::sweep::{merge, run_sweep, top_lines, SweepArgs};
use lockstep::walkforward::{run_walkforward, WalkforwardArgs};
use lockstep::AppError;
use lockstep_core::Scale;
use lockstep_data::{import::import, inspect, synth, DataOptions, PriceScale};
use std::path::PathBuf;
use std::process::ExitCode;

/// Deterministic backtest-and-live trading engine.
#[derive(Debug, Parser)]
#[command(name = "lockstep", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Replay bars through strategies, risk, executor, sim venue and FIFO ledger; write a report.
    #[command(after_help = lockstep::config::KEYS_HELP)]
    Backtest(BacktestArgs),
    /// Inspect, import and synthesize market data.
    #[command(subcommand)]
    Data(DataCommand),
    /// Print a trading calendar's sessions as CSV: date,open_utc,close_utc,early_close.
    Calendar {
        /// Calendar name: nyse or 24x7.
        name: String,
        /// First date (YYYY-MM-DD).
        #[arg(long)]
        from: chrono::NaiveDate,
        /// Last date, inclusive (YYYY-MM-DD).
        #[arg(long)]
        to: chrono::NaiveDate,
    },
    /// Regression scenarios: backtest configs with an [expect] table (default folder scenarios/).
    #[command(subcommand)]
    Scenario(ScenarioCommand),
    /// Parameter sweep: one backtest per point of a --grid, in parallel; writes
    /// sweep.parquet/.csv (one row per point) and prints the best points. `sweep merge`
    /// joins shard tables (--shard I/N) into the same sweep.parquet.
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Sweep {
        #[command(subcommand)]
        merge: Option<SweepCommand>,
        #[command(flatten)]
        args: Option<SweepArgs>,
    },
    /// Walk-forward learning evaluation: per window, a learner observes the train window
    /// and is frozen; the strategy trades the test window. Writes windows.parquet/.csv and
    /// walkforward.json: stitched out-of-sample vs in-sample vs a no-learning baseline.
    #[command(after_help = lockstep::walkforward::section::KEYS_HELP)]
    Walkforward(WalkforwardArgs),
    /// Paper trading: the backtest's engine (strategies, risk, exits, EOD, SimVenue, FIFO
    /// ledger) on Alpaca's live market-data feed, on the wall clock (or one started at
    /// --clock-start and run --speed times faster). Keys only from APCA_API_KEY_ID and
    /// APCA_API_SECRET_KEY. Writes the report folder and DIR/journal.db.
    #[command(after_help = lockstep::config::KEYS_HELP)]
    Paper(lockstep::live_cmd::SessionArgs),
    /// Live trading: the same engine with orders sent to Alpaca (its paper endpoint unless
    /// broker.endpoint = "live" and --confirm-live). Keys only from APCA_API_KEY_ID and
    /// APCA_API_SECRET_KEY; URLs from [broker] or APCA_API_BASE_URL, APCA_API_DATA_URL,
    /// APCA_API_STREAM_URL. Writes the report folder and DIR/journal.db.
    #[command(after_help = lockstep::config::KEYS_HELP)]
    Live(lockstep::live_cmd::SessionArgs),
    /// Pages and comparisons of finished runs: `html` regenerates a folder's page,
    /// `compare` puts two runs side by side.
    #[command(subcommand)]
    Report(lockstep::report_cmd::ReportCommand),
    /// Paper/live session journals: `inspect` (counts, span, meta, integrity; exit 1 when
    /// broken) and `replay` (rebuild the engine from the recorded config, compare every
    /// decision; exit 3 at the first difference).
    #[command(subcommand)]
    Journal(lockstep::journal_cmd::JournalCommand),
    /// Run-time kill switch for a running paper/live session: blocks new entries (its
    /// working entries are withdrawn); --flatten also closes every position at market with
    /// reason `manual`; --lift allows entries again. The session takes the request within
    /// a second and journals it as an input, so a replay decides the same.
    Kill {
        /// The session's journal (`journal.db`) or its run folder.
        session: std::path::PathBuf,
        /// Also close every open position at market (reason `manual`).
        #[arg(long, conflicts_with = "lift")]
        flatten: bool,
        /// Lift the kill switch: entries may go out again.
        #[arg(long)]
        lift: bool,
    },
}

#[derive(Debug, Subcommand)]
enum SweepCommand {
    /// Join the sweep-shard-*.parquet tables found in DIR... into OUT/sweep.parquet/.csv,
    /// byte for byte what the unsharded sweep writes; every point must be there once.
    Merge {
        /// Folders holding shard tables.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Where sweep.parquet/.csv go.
        #[arg(long, value_name = "DIR", default_value = ".")]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum ScenarioCommand {
    /// Run scenarios in parallel, one line each; runs go to reports/scenarios/<name>/.
    Run {
        /// Scenario files or folders (default: scenarios/).
        paths: Vec<PathBuf>,
    },
    /// Run scenarios twice and compare with [expect] and [invariants]; exit 3 on any mismatch.
    Verify {
        /// Scenario files or folders (default: scenarios/).
        paths: Vec<PathBuf>,
    },
    /// Write the actual values into each scenario's [expect], keeping comments and layout.
    Bless {
        /// Scenario files or folders (default: scenarios/).
        paths: Vec<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum DataCommand {
    /// Show schema, rows, symbols, time range, inferred interval and a validation verdict.
    Inspect {
        /// Parquet or .csv file.
        path: PathBuf,
        /// Symbol for files without a symbol column (default: file stem).
        #[arg(long)]
        symbol: Option<String>,
        /// Price decimals (default: inferred from the file, at least 4, at most 9).
        #[arg(long)]
        price_decimals: Option<u32>,
    },
    /// Convert a Parquet/CSV bar file to canonical, time-sorted Parquet (with exact text columns).
    Import {
        /// Source file.
        src: PathBuf,
        /// Destination Parquet file.
        #[arg(long, value_name = "DST.parquet")]
        out: PathBuf,
        /// Symbol for files without a symbol column (default: file stem).
        #[arg(long)]
        symbol: Option<String>,
        /// Time zone of naive text timestamps, e.g. America/New_York (default UTC).
        #[arg(long, value_name = "ZONE")]
        tz: Option<String>,
        /// Price decimals (default: inferred from the file, at least 4, at most 9).
        #[arg(long)]
        price_decimals: Option<u32>,
        /// Skip bad rows (reported) instead of failing.
        #[arg(long)]
        lenient: bool,
    },
    /// Write seeded random-walk 1-minute bars (same seed, same bytes).
    Synth {
        /// Number of bars.
        #[arg(long)]
        rows: u64,
        /// RNG seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output Parquet file.
        #[arg(long, value_name = "FILE.parquet")]
        out: PathBuf,
        /// Symbol written in every row.
        #[arg(long, default_value = "SYN")]
        symbol: String,
    },
}

fn sweep(args: &SweepArgs) -> Result<(), AppError> {
    let r = run_sweep(args)?;
    let failed = r.rows.iter().filter(|p| p.outcome.is_err()).count();
    if !args.quiet {
        println!(
            "{} points ({} failed) -> {}",
            r.rows.len(),
            failed,
            r.dir.join(format!("{}.parquet", r.stem)).display()
        );
        if let Some(n) = r.shared_bars {
            println!("data read once: {n} bars shared by the points");
        }
        for line in top_lines(&r, args.objective, args.top) {
            println!("{line}");
        }
    }
    if failed > 0 && failed == r.rows.len() {
        let first = r.rows.iter().find_map(|p| p.outcome.as_ref().err());
        return Err(AppError::BadInput(format!(
            "every point failed; the first: {}",
            first.map_or("", |s| s.as_str())
        )));
    }
    Ok(())
}

fn price_scale(dp: Option<u32>) -> Result<PriceScale, AppError> {
    dp.map_or(Ok(PriceScale::Infer), |dp| {
        Scale::new(dp)
            .map(PriceScale::Fixed)
            .ok_or_else(|| AppError::BadInput("--price-decimals must be at most 18".into()))
    })
}

fn data(cmd: DataCommand) -> Result<(), AppError> {
    match cmd {
        DataCommand::Inspect {
            path,
            symbol,
            price_decimals,
        } => {
            let opts = DataOptions {
                symbol,
                price_scale: price_scale(price_decimals)?,
                ..DataOptions::default()
            };
            let report = inspect(&path, &opts)?;
            println!("{report}");
            if report.is_valid() {
                Ok(())
            } else {
                Err(AppError::BadInput(format!(
                    "{}: data fails validation",
                    path.display()
                )))
            }
        }
        DataCommand::Import {
            src,
            out,
            symbol,
            tz,
            price_decimals,
            lenient,
        } => {
            let tz =
                match tz {
                    None => None,
                    Some(z) => Some(z.parse().map_err(|_| {
                        AppError::BadInput(format!("--tz: unknown time zone `{z}`"))
                    })?),
                };
            let opts = DataOptions {
                symbol,
                price_scale: price_scale(price_decimals)?,
                tz,
                lenient,
                ..DataOptions::default()
            };
            let s = import(&src, &out, &opts)?;
            println!(
                "wrote {} rows to {} ({} skipped)",
                s.rows,
                out.display(),
                s.skipped
            );
            Ok(())
        }
        DataCommand::Synth {
            rows,
            seed,
            out,
            symbol,
        } => {
            let spec = synth::SynthSpec { rows, seed, symbol };
            let n = synth::write_synth(&out, &spec)?;
            println!("wrote {n} bars to {}", out.display());
            Ok(())
        }
    }
}

fn calendar(name: &str, from: chrono::NaiveDate, to: chrono::NaiveDate) -> Result<(), AppError> {
    let cal = lockstep_core::Calendar::from_name(name).ok_or_else(|| {
        AppError::BadInput(format!("unknown calendar `{name}` (known: nyse, 24x7)"))
    })?;
    if from > to {
        return Err(AppError::BadInput(format!(
            "--from {from} is after --to {to}"
        )));
    }
    let mut out = String::from("date,open_utc,close_utc,early_close\n");
    for s in cal.sessions(from, to) {
        out.push_str(&format!(
            "{},{},{},{}\n",
            s.date, s.open, s.close, s.early_close
        ));
    }
    print!("{out}");
    Ok(())
}

fn session(
    args: &lockstep::live_cmd::SessionArgs,
    mode: lockstep::live_cmd::Mode,
) -> Result<(), AppError> {
    lockstep::live_cmd::run_session(args, mode, std::env::args().collect()).map(|text| {
        if !args.quiet {
            println!("{text}");
        }
    })
}

/// `lockstep kill`: leaves the request beside the session's journal.
fn kill(session: &std::path::Path, flatten: bool, lift: bool) -> Result<(), AppError> {
    use lockstep_live::health::Control;
    let db = if session.is_dir() {
        session.join("journal.db")
    } else {
        session.to_path_buf()
    };
    if !db.is_file() {
        return Err(AppError::BadInput(format!(
            "{}: no such session journal",
            db.display()
        )));
    }
    let request = if lift {
        Control::Lift
    } else {
        Control::Kill { flatten }
    };
    let path = lockstep_live::driver::write_request(&db, request)
        .map_err(|e| AppError::Runtime(e.to_string()))?;
    println!(
        "{} requested ({}); the session takes it within a second",
        lockstep_live::driver::control_text(request),
        path.display()
    );
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Backtest(args) => run_backtest(&args, std::env::args().collect()).map(|r| {
            if !args.quiet {
                print!(
                    "{}",
                    summary_table(&r.report.summary, &r.report.dir, r.wall_secs)
                );
            }
        }),
        Command::Data(cmd) => data(cmd),
        Command::Sweep {
            merge: Some(SweepCommand::Merge { dirs, out }),
            ..
        } => merge(&dirs, &out).map(|r| {
            println!(
                "merged {} points into {}",
                r.rows.len(),
                r.dir.join("sweep.parquet").display()
            )
        }),
        Command::Sweep {
            args: Some(args), ..
        } => sweep(&args),
        Command::Paper(args) => session(&args, lockstep::live_cmd::Mode::Paper),
        Command::Live(args) => session(&args, lockstep::live_cmd::Mode::Live),
        Command::Walkforward(args) => run_walkforward(&args).map(|r| {
            if !args.quiet {
                print!(
                    "{}",
                    lockstep::walkforward::report::headline_table(&r.headline, &r.dir)
                );
            }
        }),
        Command::Sweep { .. } => Err(AppError::BadInput(
            "sweep needs a CONFIG and --grid KEY=V1,V2,... (or `sweep merge DIR...`)".into(),
        )),
        Command::Report(cmd) => lockstep::report_cmd::run(&cmd).map(|text| print!("{text}")),
        Command::Calendar { name, from, to } => calendar(&name, from, to),
        Command::Kill {
            session,
            flatten,
            lift,
        } => kill(&session, flatten, lift),
        Command::Journal(cmd) => match lockstep::journal_cmd::run(&cmd) {
            Ok(0) => Ok(()),
            Ok(c) => return ExitCode::from(c),
            Err(e) => Err(e),
        },
        Command::Scenario(cmd) => {
            let code = match cmd {
                ScenarioCommand::Run { paths } => commands::run(&paths),
                ScenarioCommand::Verify { paths } => commands::verify(&paths),
                ScenarioCommand::Bless { paths } => commands::bless(&paths),
            };
            match code {
                Ok(0) => Ok(()),
                Ok(c) => return ExitCode::from(c as u8),
                Err(e) => Err(e),
            }
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}
