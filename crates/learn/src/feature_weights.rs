//! `feature_weights`: one weight per entry feature (the 1-, 5- and 20-bar returns before
//! the entry), fitted to the train window's round trips (+1 won, -1 lost) with exponential
//! decay, so later outcomes count more: `w = sum(d^age y x) / sum(d^age x^2)` per feature.
//! In the test window, entries whose score `w . x` is below `min_score` are refused
//! (`risk.entry_score_weights`). Exits, risk limits and EOD are untouched.

use crate::learner::{closes_before, Learned, Learner, TrainWindow};
use lockstep_core::features::returns;
use rust_decimal::Decimal;

/// The learner.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FeatureWeights {
    /// Weight kept per later round trip (0 < decay <= 1; 1 = no decay).
    pub decay: f64,
    /// Entries scoring below this are refused.
    pub min_score: f64,
}

impl FeatureWeights {
    /// The weights fitted to `(features, outcome)` pairs in time order.
    pub fn fit(&self, samples: &[([f64; 3], f64)]) -> [f64; 3] {
        let (mut num, mut den) = ([0.0; 3], [0.0; 3]);
        for (x, y) in samples {
            for j in 0..3 {
                num[j] = self.decay * num[j] + y * x[j];
                den[j] = self.decay * den[j] + x[j] * x[j];
            }
        }
        std::array::from_fn(|j| if den[j] > 0.0 { num[j] / den[j] } else { 0.0 })
    }
}

impl Learner for FeatureWeights {
    fn name(&self) -> &'static str {
        "feature_weights"
    }

    /// Runs the strategy on the train window, fits the weights to its round trips in the
    /// order they opened, and re-runs the train window with the score applied.
    fn learn(&self, train: &dyn TrainWindow) -> Result<Learned, String> {
        let base = train.run(&[])?;
        let bars = train.bars()?;
        let mut lots = base.lots.clone();
        lots.sort_by_key(|l| l.open_ts);
        let samples: Vec<([f64; 3], f64)> = lots
            .iter()
            .filter_map(|l| {
                let x = returns(&closes_before(&bars, &l.symbol, l.open_ts))?;
                let y = match l.net_pnl.cmp(&Decimal::ZERO) {
                    std::cmp::Ordering::Greater => 1.0,
                    std::cmp::Ordering::Less => -1.0,
                    std::cmp::Ordering::Equal => 0.0,
                };
                Some((x, y))
            })
            .collect();
        if samples.is_empty() {
            return Ok(Learned::as_is(
                base,
                "no round trip with 20 bars of history",
            ));
        }
        let w = self.fit(&samples);
        let sets = vec![
            format!(
                "risk.entry_score_weights=[{:e}, {:e}, {:e}]",
                w[0], w[1], w[2]
            ),
            format!("risk.entry_score_min={:e}", self.min_score),
        ];
        let digest = format!(
            "w1 {:.4} w5 {:.4} w20 {:.4} from {} round trips",
            w[0],
            w[1],
            w[2],
            samples.len()
        );
        Learned::with_sets(train, sets, digest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_follow_the_outcomes_and_decay_favours_the_recent() {
        let l = FeatureWeights {
            decay: 1.0,
            min_score: 0.0,
        };
        // Wins after rises, losses after falls: positive weights; by hand for w1:
        // (1*0.01 + -1*-0.02) / (0.01^2 + 0.02^2) = 0.03 / 0.0005 = 60.
        let s = [([0.01, 0.0, 0.0], 1.0), ([-0.02, 0.0, 0.0], -1.0)];
        let w = l.fit(&s);
        assert!((w[0] - 60.0).abs() < 1e-9, "{w:?}");
        assert_eq!((w[1], w[2]), (0.0, 0.0));
        // With decay 0.5 the later (opposite) outcome dominates.
        let s = [([0.01, 0.0, 0.0], 1.0), ([0.01, 0.0, 0.0], -1.0)];
        let w = FeatureWeights { decay: 0.5, ..l }.fit(&s);
        // num = 0.5*0.01 - 0.01 = -0.005; den = 0.5*1e-4 + 1e-4 = 1.5e-4.
        assert!((w[0] - (-0.005 / 1.5e-4)).abs() < 1e-9, "{w:?}");
    }
}
