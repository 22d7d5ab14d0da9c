//! What a learner is and what it may see: only backtests of its own train window.

use lockstep_core::UnixNanos;
use rust_decimal::Decimal;

/// One closed round trip of a run: what, when its entry was decided and what it made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LotOutcome {
    /// Instrument.
    pub symbol: String,
    /// When the entry order was created: the moment the risk engine judged it, so features
    /// and time buckets learned from the lot are the ones the risk engine will see.
    pub open_ts: UnixNanos,
    /// Net P&L after fees.
    pub net_pnl: Decimal,
}

/// The outcome of one backtest over a window.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunStats {
    /// Round trips.
    pub round_trips: u64,
    /// Fills.
    pub fills: u64,
    /// Fees.
    pub fees: Decimal,
    /// Positions still open at the window's end.
    pub open_positions: u64,
    /// Their unrealized P&L at the window's last price.
    pub unrealized_pnl: Decimal,
    /// Round trips per exit reason.
    pub exit_reasons: std::collections::BTreeMap<String, u64>,
    /// Rejections per code.
    pub rejections: std::collections::BTreeMap<String, u64>,
    /// Realized P&L, net of fees.
    pub realized_pnl: Decimal,
    /// Annualized Sharpe ratio of session returns, when defined.
    pub sharpe: Option<Decimal>,
    /// Session returns in order (for stitching windows).
    pub returns: Vec<f64>,
    /// Years the run spanned (first to last bar).
    pub years: f64,
    /// The run's report hash.
    pub report_hash: String,
    /// Closed round trips.
    pub lots: Vec<LotOutcome>,
}

/// A bar as a learner sees it: its instrument, when it was delivered and its close.
#[derive(Debug, Clone, PartialEq)]
pub struct BarPoint {
    /// Instrument.
    pub symbol: String,
    /// Delivery time (the bar's end).
    pub end: UnixNanos,
    /// Close, as a double (features only).
    pub close: f64,
}

/// A train window as a learner sees it: it can ask for backtests of the strategy with
/// config overrides, and for the bars, each only of the train window.
pub trait TrainWindow {
    /// Runs the base config plus `sets` (`KEY=VALUE`) over the train window.
    fn run(&self, sets: &[String]) -> Result<RunStats, String>;

    /// The bars the engine delivers in the train window, in delivery order.
    fn bars(&self) -> Result<Vec<BarPoint>, String>;
}

/// The closes of `symbol` delivered at or before `at`, oldest first: what the engine had
/// seen when it decided an entry at `at`.
pub fn closes_before(bars: &[BarPoint], symbol: &str, at: UnixNanos) -> Vec<f64> {
    bars.iter()
        .filter(|b| b.symbol == symbol && b.end <= at)
        .map(|b| b.close)
        .collect()
}

/// A frozen learner state: the overrides the test run gets and a readable digest.
#[derive(Debug, Clone, PartialEq)]
pub struct Learned {
    /// `KEY=VALUE` overrides for the test window (strategy parameters, entry filters).
    pub sets: Vec<String>,
    /// What was learned, in words (`strategy.fast=10 strategy.slow=30`).
    pub digest: String,
    /// How the learned state did on the train window itself.
    pub in_sample: RunStats,
}

impl Learned {
    /// Nothing learned: the test window trades the config as it is; `base` is its train
    /// result.
    pub fn as_is(base: RunStats, why: impl Into<String>) -> Learned {
        Learned {
            sets: Vec::new(),
            digest: why.into(),
            in_sample: base,
        }
    }

    /// The state `sets`, with its in-sample result: the train window run again with it.
    pub fn with_sets(
        train: &dyn TrainWindow,
        sets: Vec<String>,
        digest: String,
    ) -> Result<Learned, String> {
        let in_sample = train.run(&sets)?;
        Ok(Learned {
            sets,
            digest,
            in_sample,
        })
    }
}

/// Learns from a train window. Implementations must be deterministic: the same train
/// window gives the same state.
pub trait Learner: Sync {
    /// The learner's name.
    fn name(&self) -> &'static str;

    /// Observes the train window (only through `train`) and returns the frozen state.
    fn learn(&self, train: &dyn TrainWindow) -> Result<Learned, String>;
}
