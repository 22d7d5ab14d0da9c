//! The run configuration (TOML). Unknown keys are errors naming the file and the key path.
//! Every default is listed in `lockstep backtest --help` and the README.

use crate::config_safety::{ExitsSection, FaultsSection, RiskSection, SlippageSection};
use crate::error::AppError;
use crate::overrides;
use lockstep_core::dec_serde;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Every config key with its default, shown by `lockstep backtest --help`.
pub const KEYS_HELP: &str = "\
Config keys (TOML file or --set KEY=VALUE), with defaults:
  run.name                        config file stem, or \"default\"
  run.initial_cash                100000
  run.shadow                      false (dual_engine: also price the shadow book, shadow_*.csv; replay, paper, live)
  data.paths                      [\"data/backtestingpy_goog_1d.parquet\"] (relative to the config file)
  data.interval                   inferred from the data (1m, 5m, 1h, 1d, ...)
  data.calendar                   24x7  (or nyse: bars end at the session close)
  data.session                    regular  (or extended)
  data.symbol                     file stem (for files without a symbol column)
  data.price_decimals             inferred per file: the decimals its prices need, at least 4,
                                  at most 9 (a number fixes it: floats are rounded to it)
  data.lenient                    false
  data.from / data.to             none (replay only bars opening in [from, to); ISO-8601, UTC)
  data.delivered_by               none (replay only bars delivered at or before this time)
  data.signals                    [] (recorded signals, JSON Lines; relative to the config file)
  data.indexes                    [\"SPX\", \"NDX\", \"RUT\", \"VIX\", \"DJX\"] (price sources only: orders on
                                  them are refused not_tradable; option underlyings)
  strategy.name                   sma_cross  (or buy_and_hold; [[strategies]] for several)
  strategy.fast / slow / qty      10 / 30 / 100   (sma_cross)
  strategy.allow_short            false           (sma_cross)
  strategy.reenter                false           (buy_and_hold: buy again whenever flat)
  strategy.symbol                 every symbol
  execution.fill                  next_open  (or close)
  ledger.books                    shared  (or per_strategy: a strategy closes only its own lots)
  execution.quote_fill            bid_ask (option market orders on quote bars: buy at the ask,
                                  sell at the bid; or mid). A missing side: rejected no_quote
  execution.commission.percent    none (0.001 = 0.1 % of notional per fill; taker rate)
  execution.commission.maker_percent  = percent (rate for resting limit fills)
  execution.commission.per_share  none, with execution.commission.minimum per fill
                                  (per_contract: the same, for option contracts)
  execution.slippage.bps          none (or .ticks with .tick_size, default 0.01); market/stop fills
  execution.max_participation     none (0.1 = at most 10 % of a bar's volume; rest keeps working)
  execution.faults.reject_every   none (sim venue rejects every Nth order)
  execution.faults.reject_probability / timeout_probability / seed   none / none / 0
  risk.max_order_notional         none
  risk.max_position_qty           none
  risk.max_open_positions         none
  risk.max_daily_trades           none (entries per session)
  risk.max_daily_entry_notional   none
  risk.daily_loss_limit           none (realized + unrealized, per session)
  risk.kill_switch                false (blocks entries; exits still go through)
  risk.profile                    none (safe_defaults: every unset limit gets a conservative value)
  risk.buying_power               none (1 = cash account: no entry the account cannot pay for)
  risk.no_short                   false (cash accounts, spot crypto: no entry goes short)
  risk.max_position_pct           none (percent of equity per symbol)
  risk.max_total_exposure         none (open lots at marks + working entries)
  risk.max_positions_per_symbol   none (strategies holding a symbol; options count under the underlying)
  risk.reentry_cooldown_secs      none (after any exit fill in a symbol, no strategy re-enters it)
  risk.stale_after_secs           none (refuse entries on older data)
  risk.loss_streak                none (N losing round trips in a row pause entries for the session)
  risk.loss_streak_pause_secs     none (pause this long instead of the rest of the session)
  risk.venue_breaker_errors       none (N venue errors in a row block entries ...)
  risk.venue_breaker_cooldown_secs 300 (... for this long)
  risk.entry_cutoff               none (\"HH:MM\" exchange time: no new entries from then)
  risk.entry_blackout             [] ([\"09:30-10:00\", ...] exchange time: no entries inside)
  risk.entry_pattern_blocked      [] ([\"UUD\", ...]: no entry after these close moves; with
                                  risk.entry_pattern_bars, default 3)
  risk.entry_score_weights        none ([w1, w5, w20] on 1/5/20-bar returns; entries scoring
                                  below risk.entry_score_min, default 0, are refused)
  exits.hard_stop_pct             none (0.02 = 2 % below entry for longs; fills at the level)
  exits.soft_stop_pct             none (judged on bar closes; market order)
  exits.take_profit_pct           none (fills at the level once a bar trades through it)
  exits.trailing_pct              none (or exits.trailing_atr with exits.atr_period, default 14)
  exits.trailing_activation_pct / trailing_step_pct   0 / 0
  exits.trailing_step_atr         0 (with trailing_atr: move only by this many ATRs)
  exits.trailing_min_pct / trailing_max_pct           none (bounds on the trailing distance)
  exits.max_hold_secs             none (market order once held this long)
  exits.signal_only_in_profit     false (hold a strategy's own exits while losing)
  exits.min_dte                   none (options: close at market once expiry is this many days away)
  exits.partials                  [] ([{ gain_pct = 0.5, fraction = 0.5 }]: tiered partial take profits)
  exits.trailing_suppresses_signal  false (an active trailing stop holds signal exits)
  exits.intrabar                  pessimistic (or optimistic: target before stop in one bar)
  [[strategies]] exits = {...}    per-strategy exit keys over [exits]; eod = \"hold\"|\"flatten\"
  eod.flatten_at                  15:55 (exchange time; nyse calendar only)
  eod.policy                      hold  (or flatten: close every position at flatten_at)
  eod.flatten_expiring            true  (options expiring that session are closed at flatten_at;
                                  false: settled in cash at intrinsic value at the close)
  report.equity                   session  (or bar)
  report.dir                      reports

Exit codes: 0 ok, 1 runtime failure, 2 bad input or config.";

/// The bundled sample the default backtest runs on.
pub const DEFAULT_DATA: &str = "data/backtestingpy_goog_1d.parquet";

/// `[run]`
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RunSection {
    /// Run name: output folder `reports/<name>/` and client-order-id prefix.
    #[serde(default)]
    pub name: Option<String>,
    /// Starting cash (default 100000).
    #[serde(default = "default_cash", deserialize_with = "dec_serde::decimal")]
    pub initial_cash: Decimal,
    /// Also run the shadow book: every strategy with a role (`dual_engine`) replayed as
    /// `role = "shadow"` in a second, simulated book (default false).
    #[serde(default)]
    pub shadow: bool,
}

fn default_cash() -> Decimal {
    Decimal::from(100_000)
}

impl Default for RunSection {
    fn default() -> Self {
        RunSection {
            name: None,
            initial_cash: default_cash(),
            shadow: false,
        }
    }
}

/// `[ledger]`
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct LedgerSection {
    /// `"shared"` (default: one FIFO book per instrument for all strategies, so one
    /// strategy's sell can close another's lot) or `"per_strategy"` (each strategy closes
    /// only its own lots; `lots.csv` gains a `strategy` column and `summary.json` a
    /// `by_strategy` table).
    #[serde(default)]
    pub books: Option<String>,
}

impl LedgerSection {
    /// Whether books are per strategy; an unknown value is an error naming the key.
    pub fn per_strategy(&self) -> Result<bool, AppError> {
        match self.books.as_deref() {
            None | Some("shared") => Ok(false),
            Some("per_strategy") => Ok(true),
            Some(other) => Err(AppError::BadInput(format!(
                "ledger.books: `{other}` is not one of shared, per_strategy"
            ))),
        }
    }
}

/// `[data]`
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DataSection {
    /// Parquet/CSV files, merged by time. Relative paths are relative to the config file.
    #[serde(default)]
    pub paths: Vec<PathBuf>,
    /// Bar interval (`1m`, `5m`, `1h`, `1d`); inferred from the data when absent.
    #[serde(default)]
    pub interval: Option<String>,
    /// Trading calendar: `24x7` (default) or `nyse`.
    #[serde(default = "default_calendar")]
    pub calendar: String,
    /// `regular` (default): intraday bars outside the session are counted, not delivered;
    /// `extended`: they are delivered.
    #[serde(default)]
    pub session: SessionSetting,
    /// Symbol for files without a `symbol` column (default: file stem).
    #[serde(default)]
    pub symbol: Option<String>,
    /// Price decimals; `None` (the default) infers them per file (at least 4, at most 9).
    #[serde(default)]
    pub price_decimals: Option<u32>,
    /// Skip and count bad rows instead of failing (default false).
    #[serde(default)]
    pub lenient: bool,
    /// Symbols that are indexes: price sources only, never traded.
    #[serde(default = "default_indexes")]
    pub indexes: Vec<String>,
    /// Replay only bars that open at or after this time (ISO-8601, UTC unless it says).
    #[serde(default)]
    pub from: Option<String>,
    /// Replay only bars that open before this time.
    #[serde(default)]
    pub to: Option<String>,
    /// Replay only bars delivered (closed) at or before this time.
    #[serde(default)]
    pub delivered_by: Option<String>,
    /// Recorded signal files (JSON Lines), merged into the event order as `Signal` events.
    /// Relative paths are relative to the config file.
    #[serde(default)]
    pub signals: Vec<PathBuf>,
}

fn default_indexes() -> Vec<String> {
    ["SPX", "NDX", "RUT", "VIX", "DJX"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

fn default_calendar() -> String {
    "24x7".into()
}

impl Default for DataSection {
    fn default() -> Self {
        DataSection {
            paths: Vec::new(),
            interval: None,
            calendar: default_calendar(),
            session: SessionSetting::default(),
            symbol: None,
            price_decimals: None,
            lenient: false,
            indexes: default_indexes(),
            from: None,
            to: None,
            delivered_by: None,
            signals: Vec::new(),
        }
    }
}

/// `data.session`
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum SessionSetting {
    /// Regular session only (default).
    #[default]
    Regular,
    /// Regular and extended hours.
    Extended,
}

/// `execution.fill`
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum FillSetting {
    /// Open of the next bar (default).
    #[default]
    NextOpen,
    /// Close of the current bar (optimistic).
    Close,
}

/// `execution.quote_fill`
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum QuoteFillSetting {
    /// Buy at the ask, sell at the bid (default).
    #[default]
    BidAsk,
    /// At the mid of bid and ask.
    Mid,
}

/// `[execution.commission]`: `percent`, or `per_share` with optional `minimum`.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct CommissionSection {
    /// Fraction of notional per fill (0.001 = 0.1 %); the taker rate when `maker_percent`
    /// is set.
    #[serde(default, deserialize_with = "dec_serde::opt_decimal")]
    pub percent: Option<Decimal>,
    /// Fraction of notional for maker (resting limit) fills; default `percent`.
    #[serde(default, deserialize_with = "dec_serde::opt_decimal")]
    pub maker_percent: Option<Decimal>,
    /// Charge per share, or per contract for options (`per_contract` is the same key).
    #[serde(
        default,
        alias = "per_contract",
        deserialize_with = "dec_serde::opt_decimal"
    )]
    pub per_share: Option<Decimal>,
    /// Minimum per fill for `per_share`.
    #[serde(default, deserialize_with = "dec_serde::opt_decimal")]
    pub minimum: Option<Decimal>,
}

/// `[execution]`
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct ExecutionSection {
    /// Fill model (default `next_open`).
    #[serde(default)]
    pub fill: FillSetting,
    /// Option market-order price on quote bars (default `bid_ask`).
    #[serde(default)]
    pub quote_fill: QuoteFillSetting,
    /// Commission model (default none).
    #[serde(default)]
    pub commission: CommissionSection,
    /// Slippage on market and stop fills (default none).
    #[serde(default)]
    pub slippage: SlippageSection,
    /// Largest fraction of a bar's volume filled; the rest keeps working (default none).
    #[serde(default, deserialize_with = "dec_serde::opt_decimal")]
    pub max_participation: Option<Decimal>,
    /// Injected venue faults (default none).
    #[serde(default)]
    pub faults: FaultsSection,
}

/// `eod.policy`
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum EodPolicy {
    /// Keep positions overnight; the guard still cancels working entries (default).
    #[default]
    Hold,
    /// Close every position at `flatten_at`.
    Flatten,
}

/// `[eod]`: the EOD guard (needs a session calendar such as `nyse`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EodSection {
    /// Exchange time of the guard, "HH:MM" (default 15:55); on early-close days the same
    /// offset before the early close.
    #[serde(default = "default_flatten_at")]
    pub flatten_at: String,
    /// `hold` (default) or `flatten`; a `[[strategies]]` entry may set its own `eod`.
    #[serde(default)]
    pub policy: EodPolicy,
    /// Close options expiring in the session at `flatten_at` whoever holds them (default
    /// true); `false` leaves them to cash settlement at the close.
    #[serde(default = "yes")]
    pub flatten_expiring: bool,
}

fn yes() -> bool {
    true
}

fn default_flatten_at() -> String {
    "15:55".into()
}

impl Default for EodSection {
    fn default() -> Self {
        EodSection {
            flatten_at: default_flatten_at(),
            policy: EodPolicy::default(),
            flatten_expiring: true,
        }
    }
}

/// `report.equity`
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum EquitySetting {
    /// One row per session close (default).
    #[default]
    Session,
    /// One row per bar.
    Bar,
}

/// `[report]`
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ReportSection {
    /// Equity rows per session (default) or per bar.
    #[serde(default)]
    pub equity: EquitySetting,
    /// Parent folder of run folders (default `reports`).
    #[serde(default = "default_reports")]
    pub dir: PathBuf,
}

fn default_reports() -> PathBuf {
    PathBuf::from("reports")
}

impl Default for ReportSection {
    fn default() -> Self {
        ReportSection {
            equity: EquitySetting::default(),
            dir: default_reports(),
        }
    }
}

/// The whole config file.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[run]`
    #[serde(default)]
    pub run: RunSection,
    /// `[data]`
    #[serde(default)]
    pub data: DataSection,
    /// `[strategy]`: one strategy (`name` plus its parameters).
    #[serde(default)]
    pub strategy: Option<toml::Table>,
    /// `[[strategies]]`: several strategies sharing one book.
    #[serde(default)]
    pub strategies: Option<Vec<toml::Table>>,
    /// `[execution]`
    #[serde(default)]
    pub execution: ExecutionSection,
    /// `[risk]`
    #[serde(default)]
    pub risk: RiskSection,
    /// `[exits]`
    #[serde(default)]
    pub exits: ExitsSection,
    /// `[eod]`
    #[serde(default)]
    pub eod: EodSection,
    /// `[report]`
    #[serde(default)]
    pub report: ReportSection,
    /// `[broker]`: where `paper` and `live` connect (backtests ignore it).
    #[serde(default)]
    pub broker: crate::config_live::BrokerSection,
    /// `[live]`: the live driver (backtests ignore it).
    #[serde(default)]
    pub live: crate::config_live::LiveSection,
    /// `[ledger]`: how fills become lots.
    #[serde(default)]
    pub ledger: LedgerSection,
    /// `[webhook]`: signal intake of `paper`/`live --webhook` (backtests ignore it).
    #[serde(default)]
    pub webhook: crate::config_live::WebhookSection,
}

/// Where a config came from, for messages.
fn origin(path: Option<&Path>) -> String {
    path.map_or_else(
        || "command line (--set)".to_string(),
        |p| p.display().to_string(),
    )
}

/// Reads and parses `path` as a TOML table; errors name the file.
pub fn read_table(path: &Path) -> Result<toml::Table, AppError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| AppError::BadInput(format!("{}: cannot read config: {e}", path.display())))?;
    text.parse::<toml::Table>().map_err(|e| {
        AppError::BadInput(format!("{}: invalid TOML: {}", path.display(), e.message()))
    })
}

/// Deserializes a config table; errors name `path` (or the command line) and the key path.
pub fn from_table(table: toml::Table, path: Option<&Path>) -> Result<Config, AppError> {
    serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
        let key = e.path().to_string();
        let inner = e.into_inner();
        AppError::BadInput(format!(
            "{}: key `{key}`: {}",
            origin(path),
            inner.message()
        ))
    })
}

/// Reads `path` (or starts empty), applies `--set` overrides and then `extra` edits, and
/// deserializes. Errors name the file and the key path. A scenario file is a config too:
/// its `[expect]` and `[invariants]` tables are for `lockstep scenario`, `[walkforward]`
/// for `lockstep walkforward`; they are skipped here.
pub fn load(
    path: Option<&Path>,
    sets: &[String],
    extra: impl FnOnce(&mut toml::Table) -> Result<(), AppError>,
) -> Result<Config, AppError> {
    load_with_table(path, sets, extra).map(|(c, _)| c)
}

/// As [`load`], also returning the resolved table (what a session journals, so a replay
/// rebuilds the same engine).
pub fn load_with_table(
    path: Option<&Path>,
    sets: &[String],
    extra: impl FnOnce(&mut toml::Table) -> Result<(), AppError>,
) -> Result<(Config, toml::Table), AppError> {
    let mut table = match path {
        None => toml::Table::new(),
        Some(p) => read_table(p)?,
    };
    table.remove("expect");
    table.remove("invariants");
    table.remove("walkforward");
    for s in sets {
        overrides::apply(&mut table, s)?;
    }
    extra(&mut table)?;
    Ok((from_table(table.clone(), path)?, table))
}

/// The recorded signal files of `cfg` (relative ones resolved against the config file).
pub fn signal_paths(cfg: &Config, config_path: Option<&Path>) -> Vec<PathBuf> {
    let base = config_path.and_then(Path::parent).unwrap_or(Path::new(""));
    cfg.data.signals.iter().map(|p| base.join(p)).collect()
}

/// Resolves data paths: config-relative for config entries, the bundled sample when none.
pub fn data_paths(cfg: &Config, config_path: Option<&Path>, cli: &[PathBuf]) -> Vec<PathBuf> {
    if !cli.is_empty() {
        return cli.to_vec();
    }
    if !cfg.data.paths.is_empty() {
        let base = config_path.and_then(Path::parent).unwrap_or(Path::new(""));
        return cfg.data.paths.iter().map(|p| base.join(p)).collect();
    }
    let local = PathBuf::from(DEFAULT_DATA);
    if local.exists() {
        vec![local]
    } else {
        vec![Path::new(env!("CARGO_MANIFEST_DIR")).join(DEFAULT_DATA)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_name_the_path() {
        let e = load(None, &["execution.fil=close".into()], |_| Ok(())).unwrap_err();
        assert!(e.to_string().contains("execution.fil"), "{e}");
        let e = load(None, &["exits.hard_stop=0.1".into()], |_| Ok(())).unwrap_err();
        assert!(e.to_string().contains("exits.hard_stop"), "{e}");
        let c = load(None, &["execution.commission.percent=0.001".into()], |_| {
            Ok(())
        })
        .unwrap();
        assert_eq!(c.execution.commission.percent, Some(Decimal::new(1, 3)));
    }
}
