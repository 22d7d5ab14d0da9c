//! The walk-forward driver: for each window, the learner observes the train window and is
//! frozen; the strategy then trades the test window with the learned state (out of sample)
//! and without it (the no-learning baseline). Windows run in parallel and are collected by
//! index, so results do not depend on the thread count.

use crate::learner::{BarPoint, Learned, Learner, RunStats, TrainWindow};
use crate::windows::Window;
use lockstep_core::UnixNanos;
use rayon::prelude::*;
use std::cell::Cell;

/// A backtest the driver asks for: the base config plus `sets`, over the bars whose open
/// time lies in `[from, to)`. `tag` names the run and depends only on the window and the
/// order of requests, never on scheduling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRequest {
    /// First bar open time included.
    pub from: UnixNanos,
    /// First bar open time excluded.
    pub to: UnixNanos,
    /// `KEY=VALUE` overrides.
    pub sets: Vec<String>,
    /// Run name (`w003-train-2`, `w003-test`, `w003-baseline`).
    pub tag: String,
    /// A train-window run: bars delivered after `to` must be left out too (a bar that
    /// opened inside the window but closed after it tells of the test window).
    pub train: bool,
}

/// One window's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowResult {
    /// The window.
    pub window: Window,
    /// The frozen learner state and its in-sample result.
    pub learned: Learned,
    /// The test window traded with the learned state.
    pub oos: RunStats,
    /// The test window traded as configured, without learning.
    pub baseline: RunStats,
}

/// Reads the bars delivered in `[from, to)` (bar open times).
pub type BarsIn<'a> = dyn Fn(UnixNanos, UnixNanos) -> Result<Vec<BarPoint>, String> + Sync + 'a;

/// The train window of one window: every run and every bar the learner asks for is
/// clipped to it.
struct Train<'a, F> {
    window: &'a Window,
    run: &'a F,
    bars: &'a BarsIn<'a>,
    asked: Cell<usize>,
}

impl<F> TrainWindow for Train<'_, F>
where
    F: Fn(&RunRequest) -> Result<RunStats, String>,
{
    fn bars(&self) -> Result<Vec<BarPoint>, String> {
        (self.bars)(self.window.train.0, self.window.train.1)
    }

    fn run(&self, sets: &[String]) -> Result<RunStats, String> {
        let n = self.asked.get();
        self.asked.set(n + 1);
        (self.run)(&RunRequest {
            from: self.window.train.0,
            to: self.window.train.1,
            sets: sets.to_vec(),
            tag: format!("w{:03}-train-{n}", self.window.index),
            train: true,
        })
    }
}

/// Keys a learned state may set: strategy parameters and entry filters. A learner never
/// changes exits, risk limits, EOD, execution or data.
pub const LEARNABLE: [&str; 5] = [
    "strategy.",
    "strategies.",
    "risk.entry_blackout",
    "risk.entry_pattern_",
    "risk.entry_score_",
];

/// Refuses a learned override outside [`LEARNABLE`], including a strategy's own `exits`
/// or `eod` settings.
pub fn check_learned(sets: &[String]) -> Result<(), String> {
    let allowed = |s: &str| {
        let key = s.split('=').next().unwrap_or("").trim();
        let own_safety = key.split('.').any(|part| part == "exits" || part == "eod");
        LEARNABLE.iter().any(|p| key.starts_with(p)) && !own_safety
    };
    match sets.iter().find(|s| !allowed(s)) {
        Some(s) => Err(format!(
            "a learner may only set strategy parameters and entry filters, not `{s}`"
        )),
        None => Ok(()),
    }
}

/// Runs one window: learn on train, then test with and without the learned state.
pub fn run_window<F>(
    w: &Window,
    learner: &dyn Learner,
    run: &F,
    bars: &BarsIn<'_>,
) -> Result<WindowResult, String>
where
    F: Fn(&RunRequest) -> Result<RunStats, String>,
{
    let train = Train {
        window: w,
        run,
        bars,
        asked: Cell::new(0),
    };
    let learned = learner.learn(&train)?;
    check_learned(&learned.sets)?;
    let test = |sets: Vec<String>, kind: &str| {
        run(&RunRequest {
            from: w.test.0,
            to: w.test.1,
            sets,
            tag: format!("w{:03}-{kind}", w.index),
            train: false,
        })
    };
    let oos = test(learned.sets.clone(), "test")?;
    let baseline = test(Vec::new(), "baseline")?;
    Ok(WindowResult {
        window: *w,
        learned,
        oos,
        baseline,
    })
}

/// Runs every window in parallel (on `threads` workers, or all cores), results in window
/// order. A window that fails carries its error with its index.
pub fn walk_forward<F>(
    windows: &[Window],
    learner: &dyn Learner,
    run: &F,
    bars: &BarsIn<'_>,
    threads: Option<usize>,
) -> Result<Vec<Result<WindowResult, String>>, String>
where
    F: Fn(&RunRequest) -> Result<RunStats, String> + Sync,
{
    let work = || {
        windows
            .par_iter()
            .map(|w| {
                run_window(w, learner, run, bars).map_err(|e| format!("window {}: {e}", w.index))
            })
            .collect()
    };
    match threads {
        None => Ok(work()),
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build()
            .map_err(|e| format!("thread pool: {e}"))
            .map(|pool| pool.install(work)),
    }
}

#[cfg(test)]
mod tests {
    use super::check_learned;

    #[test]
    fn learners_may_set_strategy_parameters_and_entry_filters_only() {
        let ok = [
            "strategy.fast=5",
            "risk.entry_blackout=[\"09:30-10:00\"]",
            "risk.entry_score_min=0",
        ];
        assert!(check_learned(&ok.map(String::from)).is_ok());
        for bad in [
            "exits.hard_stop_pct=0.5",
            "risk.daily_loss_limit=1e9",
            "eod.policy=\"hold\"",
            "data.paths=[]",
            "strategy.exits.take_profit_pct=0.1",
            "strategies.0.eod=\"hold\"",
        ] {
            let e = check_learned(&[bad.to_string()]).unwrap_err();
            assert!(e.contains(bad), "{e}");
        }
    }
}
