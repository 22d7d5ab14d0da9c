//! Seed 002's experiment assignment, exactly: SHA-256 of `symbol:timeframe:signal_id`, its
//! first 8 hex digits read as a number and divided by 0xFFFFFFFF give a bucket in [0, 1];
//! a bucket below the split goes to engine A, the rest to B. The same signal always gets
//! the same engine, in every run and every mode.

use sha2::{Digest, Sha256};

/// One of the two decision engines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// Tiered rules (block / wait / enter).
    A,
    /// Weighted scorers with a meta decision.
    B,
}

/// The bucket of a signal: `int(sha256("symbol:timeframe:id")[0..8], 16) / 0xFFFFFFFF`.
pub fn bucket(symbol: &str, timeframe: &str, id: &str) -> f64 {
    let digest = Sha256::digest(format!("{symbol}:{timeframe}:{id}").as_bytes());
    let first = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
    f64::from(first) / f64::from(u32::MAX)
}

/// The engine a signal is assigned to: A when its bucket is below `split_to_a` (0 = all
/// B, 1 = all A).
pub fn assign(symbol: &str, timeframe: &str, id: &str, split_to_a: f64) -> Engine {
    if bucket(symbol, timeframe, id) < split_to_a {
        Engine::A
    } else {
        Engine::B
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_is_the_first_eight_hex_digits_of_the_sha256() {
        // sha256("GOOG:1m:sig-1") computed independently (coreutils sha256sum).
        let hex = "d6bdc5d4";
        let want = f64::from(u32::from_str_radix(hex, 16).expect("hex")) / f64::from(u32::MAX);
        let got = bucket("GOOG", "1m", "sig-1");
        assert_eq!(got, want);
    }

    #[test]
    fn a_split_of_a_third_sends_a_third_to_a_and_is_stable() {
        let ids: Vec<String> = (0..3000).map(|k| format!("s{k}")).collect();
        let run = || -> Vec<Engine> {
            ids.iter()
                .map(|id| assign("SPY", "5m", id, 1.0 / 3.0))
                .collect()
        };
        let first = run();
        assert_eq!(first, run(), "same signals, same engines");
        let a = first.iter().filter(|e| **e == Engine::A).count() as f64 / first.len() as f64;
        assert!((a - 1.0 / 3.0).abs() < 0.02, "{a}");
        assert!(ids
            .iter()
            .all(|id| assign("SPY", "5m", id, 0.0) == Engine::B));
        assert!(ids
            .iter()
            .all(|id| assign("SPY", "5m", id, 1.0) == Engine::A));
    }
}
