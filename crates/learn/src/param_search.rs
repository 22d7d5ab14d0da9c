//! `param_search`: the grid point with the best objective on the train window, among points
//! with at least `min_trades` round trips.

use crate::learner::{Learned, Learner, RunStats, TrainWindow};
use rust_decimal::Decimal;

/// What ranks grid points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Objective {
    /// Highest realized P&L.
    RealizedPnl,
    /// Highest Sharpe ratio (points without one rank last).
    Sharpe,
}

impl Objective {
    fn score(self, s: &RunStats) -> Option<Decimal> {
        match self {
            Objective::RealizedPnl => Some(s.realized_pnl),
            Objective::Sharpe => s.sharpe,
        }
    }
}

/// The learner: `grid` is (key, values) in order; points are their Cartesian product, the
/// first key varying slowest.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSearch {
    /// Keys and the values each takes (TOML text).
    pub grid: Vec<(String, Vec<String>)>,
    /// Ranking.
    pub objective: Objective,
    /// Fewest round trips a point needs on the train window to be chosen.
    pub min_trades: u64,
}

impl ParamSearch {
    fn points(&self) -> Vec<Vec<String>> {
        let mut out = vec![Vec::new()];
        for (key, values) in &self.grid {
            out = out
                .into_iter()
                .flat_map(|p: Vec<String>| {
                    values.iter().map(move |v| {
                        let mut q = p.clone();
                        q.push(format!("{key}={v}"));
                        q
                    })
                })
                .collect();
        }
        out
    }
}

impl Learner for ParamSearch {
    fn name(&self) -> &'static str {
        "param_search"
    }

    /// Every point runs on the train window; the best by the objective (ties: the earlier
    /// point) among those with enough trades wins. With no eligible point nothing is
    /// learned: the test window trades the config as it is.
    fn learn(&self, train: &dyn TrainWindow) -> Result<Learned, String> {
        let mut best: Option<(Decimal, Vec<String>, RunStats)> = None;
        for sets in self.points() {
            let stats = train.run(&sets)?;
            if stats.round_trips < self.min_trades {
                continue;
            }
            let Some(score) = self.objective.score(&stats) else {
                continue;
            };
            if best.as_ref().is_none_or(|(b, _, _)| score > *b) {
                best = Some((score, sets, stats));
            }
        }
        let Some((_, sets, in_sample)) = best else {
            return Ok(Learned::as_is(
                train.run(&[])?,
                format!(
                    "no grid point made {} round trips with a defined objective: config as is",
                    self.min_trades
                ),
            ));
        };
        Ok(Learned {
            digest: sets.join(" "),
            sets,
            in_sample,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fake;
    impl TrainWindow for Fake {
        fn bars(&self) -> Result<Vec<crate::learner::BarPoint>, String> {
            Ok(Vec::new())
        }

        fn run(&self, sets: &[String]) -> Result<RunStats, String> {
            // P&L = fast * slow; trades = fast; the config as is trades nothing.
            if sets.is_empty() {
                return Ok(RunStats::default());
            }
            let v = |i: usize| sets[i].split('=').nth(1).unwrap().parse::<i64>().unwrap();
            Ok(RunStats {
                round_trips: v(0) as u64,
                realized_pnl: Decimal::from(v(0) * v(1)),
                sharpe: None,
                returns: Vec::new(),
                years: 1.0,
                ..RunStats::default()
            })
        }
    }

    #[test]
    fn the_best_point_with_enough_trades_wins() {
        let grid = vec![
            ("fast".to_string(), vec!["2".to_string(), "5".to_string()]),
            ("slow".to_string(), vec!["10".to_string(), "3".to_string()]),
        ];
        let l = ParamSearch {
            grid: grid.clone(),
            objective: Objective::RealizedPnl,
            min_trades: 0,
        };
        assert_eq!(l.learn(&Fake).unwrap().digest, "fast=5 slow=10");
        let l = ParamSearch {
            grid,
            objective: Objective::RealizedPnl,
            min_trades: 6,
        };
        let fallback = l.learn(&Fake).unwrap();
        assert!(fallback.sets.is_empty() && fallback.digest.contains("6 round trips"));
    }
}
