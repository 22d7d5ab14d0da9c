//! The `[walkforward]` table: windows, learner and the learner's settings.

use crate::config::{self, Config};
use crate::error::AppError;
use crate::overrides;
use lockstep_core::dec_serde;
use lockstep_learn::feature_weights::FeatureWeights;
use lockstep_learn::param_search::{Objective, ParamSearch};
use lockstep_learn::pattern_memory::PatternMemory;
use lockstep_learn::time_of_day::TimeOfDay;
use lockstep_learn::{Learner, Mode, Span, WindowSpec};
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The `[walkforward]` keys, for `lockstep walkforward --help`.
pub const KEYS_HELP: &str = "\
[walkforward] keys (in the config file, or --set walkforward.KEY=VALUE), with defaults:
  train / test          required: a duration (365d, 12h, 30m) or a bar count (500)
  step                  = test (a step shorter than test is refused: test windows never overlap)
  mode                  rolling (or anchored: every train window starts at the first bar)
  learner               required: param_search, time_of_day, pattern_memory or feature_weights
  param_search:   grid = { \"strategy.fast\" = [5, 10], ... } (strategy keys only),
                  objective = sharpe (or realized_pnl), min_trades = 1
  time_of_day:    bucket_minutes = 30, min_win_rate = 0.5, min_bucket_trades = 5
  pattern_memory: pattern_bars = 3, min_pattern_trades = 3
  feature_weights: decay = 0.95, min_score = 0
Learners only set strategy parameters and entry filters (risk.entry_blackout,
risk.entry_pattern_*, risk.entry_score_*); exits, risk limits and EOD stay as configured.";

/// `walkforward.mode`
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum ModeSetting {
    /// A fixed-length train window moving by `step` (default).
    #[default]
    Rolling,
    /// The train window always starts at the first bar.
    Anchored,
}

/// `walkforward.objective`
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum ObjectiveSetting {
    /// Highest Sharpe ratio on the train window (default).
    #[default]
    Sharpe,
    /// Highest realized P&L on the train window.
    RealizedPnl,
}

/// `[walkforward]`
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WalkforwardSection {
    /// Train window: a duration (`365d`) or a bar count (`500`).
    pub train: String,
    /// Test window, same kind.
    pub test: String,
    /// How far windows move (default: `test`, so test windows tile the data).
    #[serde(default)]
    pub step: Option<String>,
    /// `rolling` (default) or `anchored`.
    #[serde(default)]
    pub mode: ModeSetting,
    /// `param_search` or `time_of_day`.
    pub learner: String,
    /// param_search: what ranks grid points (default `sharpe`).
    #[serde(default)]
    pub objective: ObjectiveSetting,
    /// param_search: fewest train round trips a point needs (default 1).
    #[serde(default = "one")]
    pub min_trades: u64,
    /// param_search: config keys and the values each takes (keys in alphabetical order).
    #[serde(default)]
    pub grid: BTreeMap<String, Vec<toml::Value>>,
    /// time_of_day: bucket length in minutes (default 30).
    #[serde(default = "thirty")]
    pub bucket_minutes: u32,
    /// time_of_day: buckets with a lower train win rate are blocked (default 0.5).
    #[serde(default = "half", deserialize_with = "dec_serde::decimal")]
    pub min_win_rate: Decimal,
    /// time_of_day: train round trips a bucket needs before it can be blocked (default 5).
    #[serde(default = "five")]
    pub min_bucket_trades: u64,
    /// pattern_memory: pattern length in bars (default 3).
    #[serde(default = "three")]
    pub pattern_bars: usize,
    /// pattern_memory: train round trips a pattern needs before it can be blocked
    /// (default 3).
    #[serde(default = "three_trades")]
    pub min_pattern_trades: u64,
    /// feature_weights: weight kept per later round trip, in (0, 1] (default 0.95).
    #[serde(default = "decay")]
    pub decay: f64,
    /// feature_weights: entries scoring below this are refused (default 0).
    #[serde(default)]
    pub min_score: f64,
    /// The exchange time zone for time_of_day, from `data.calendar` (not a key).
    #[serde(skip)]
    pub tz: Option<chrono_tz::Tz>,
}

fn one() -> u64 {
    1
}
fn thirty() -> u32 {
    30
}
fn half() -> Decimal {
    Decimal::new(5, 1)
}
fn five() -> u64 {
    5
}
fn three() -> usize {
    3
}
fn three_trades() -> u64 {
    3
}
fn decay() -> f64 {
    0.95
}

impl WalkforwardSection {
    /// Reads `[walkforward]` from `path` after `sets` (which may name `walkforward.*` keys).
    pub fn load(path: &Path, sets: &[String]) -> Result<Self, AppError> {
        let mut table = config::read_table(path)?;
        for s in sets {
            overrides::apply(&mut table, s)?;
        }
        let file = path.display();
        let section = table.remove("walkforward").ok_or_else(|| {
            AppError::BadInput(format!(
                "{file}: no [walkforward] table (train, test, learner, ...)"
            ))
        })?;
        let mut s: WalkforwardSection = serde_path_to_error::deserialize(section).map_err(|e| {
            let key = e.path().to_string();
            AppError::BadInput(format!(
                "{file}: key `walkforward.{key}`: {}",
                e.into_inner().message()
            ))
        })?;
        let cfg: Config = config::load(Some(path), sets, |_| Ok(()))?;
        s.tz = Some(match cfg.data.calendar.as_str() {
            "nyse" => chrono_tz::America::New_York,
            _ => chrono_tz::UTC,
        });
        Ok(s)
    }

    /// The window settings.
    pub fn spec(&self) -> Result<WindowSpec, AppError> {
        let span = |key: &str, v: &str| {
            v.parse::<Span>()
                .map_err(|e| AppError::BadInput(format!("walkforward.{key}: {e}")))
        };
        Ok(WindowSpec {
            train: span("train", &self.train)?,
            test: span("test", &self.test)?,
            step: span("step", self.step.as_deref().unwrap_or(&self.test))?,
            mode: match self.mode {
                ModeSetting::Rolling => Mode::Rolling,
                ModeSetting::Anchored => Mode::Anchored,
            },
        })
    }

    /// The learner this section names.
    pub fn learner(&self) -> Result<Box<dyn Learner>, AppError> {
        match self.learner.as_str() {
            "param_search" => {
                if self.grid.is_empty() {
                    return Err(AppError::BadInput(
                        "walkforward.grid: param_search needs at least one key, e.g. grid = { \"strategy.fast\" = [5, 10] }".into(),
                    ));
                }
                for key in self.grid.keys() {
                    lockstep_learn::driver::check_learned(&[format!("{key}=")])
                        .map_err(|e| AppError::BadInput(format!("walkforward.grid: {e}")))?;
                }
                Ok(Box::new(ParamSearch {
                    grid: self
                        .grid
                        .iter()
                        .map(|(k, vs)| (k.clone(), vs.iter().map(|v| v.to_string()).collect()))
                        .collect(),
                    objective: match self.objective {
                        ObjectiveSetting::Sharpe => Objective::Sharpe,
                        ObjectiveSetting::RealizedPnl => Objective::RealizedPnl,
                    },
                    min_trades: self.min_trades,
                }))
            }
            "time_of_day" => {
                if self.bucket_minutes == 0 || 1440 % self.bucket_minutes != 0 {
                    return Err(AppError::BadInput(format!(
                        "walkforward.bucket_minutes: {} does not divide a day",
                        self.bucket_minutes
                    )));
                }
                Ok(Box::new(TimeOfDay {
                    bucket_minutes: self.bucket_minutes,
                    min_win_rate: self.min_win_rate,
                    min_trades: self.min_bucket_trades,
                    tz: self.tz.unwrap_or(chrono_tz::UTC),
                }))
            }
            "pattern_memory" => {
                if self.pattern_bars == 0 {
                    return Err(AppError::BadInput(
                        "walkforward.pattern_bars must be at least 1".into(),
                    ));
                }
                Ok(Box::new(PatternMemory {
                    bars: self.pattern_bars,
                    min_trades: self.min_pattern_trades,
                }))
            }
            "feature_weights" => {
                let in_range = self.decay > 0.0 && self.decay <= 1.0;
                if !(in_range && self.min_score.is_finite()) {
                    return Err(AppError::BadInput(format!(
                        "walkforward.decay: {} must be in (0, 1], and min_score finite",
                        self.decay
                    )));
                }
                Ok(Box::new(FeatureWeights {
                    decay: self.decay,
                    min_score: self.min_score,
                }))
            }
            other => Err(AppError::BadInput(format!(
                "walkforward.learner: unknown learner `{other}` (known: param_search, time_of_day, pattern_memory, feature_weights)"
            ))),
        }
    }
}
