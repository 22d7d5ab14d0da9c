//! Seeded random-walk 1-minute bars for benchmarks and tests: same seed, same bytes.

use crate::error::DataError;
use crate::writer::{BarRow, BarWriter, PriceColumns};
use lockstep_core::Scale;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::Path;

/// First bar open time: 2020-01-01T00:00:00Z.
const START_NS: i64 = 1_577_836_800 * 1_000_000_000;
/// One minute.
const MINUTE_NS: i64 = 60 * 1_000_000_000;

/// Parameters of a synthetic dataset.
#[derive(Debug, Clone)]
pub struct SynthSpec {
    /// Number of bars.
    pub rows: u64,
    /// RNG seed.
    pub seed: u64,
    /// Symbol written in every row.
    pub symbol: String,
}

/// Writes `spec.rows` consecutive 1-minute bars (prices as `decimal128(18, 2)`): whole-cent
/// prices starting at 100.00,
/// open = previous close + a gap of -2..=2 cents, close = open + a step of -25..=25 cents,
/// high/low widened by 0..=10 cents beyond open/close; prices never go below 1.00.
pub fn write_synth(path: &Path, spec: &SynthSpec) -> Result<u64, DataError> {
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let cents = Scale::new(2).ok_or_else(|| DataError::file(path, "internal: scale"))?;
    let mut w = BarWriter::create(path, PriceColumns::Decimal(cents))?;
    let mut prev_close: i64 = 10_000;
    for i in 0..spec.rows {
        let open = (prev_close + rng.random_range(-2..=2)).max(100);
        let close = (open + rng.random_range(-25..=25)).max(100);
        let high = open.max(close) + rng.random_range(0..=10);
        let low = (open.min(close) - rng.random_range(0..=10)).max(1);
        let volume = rng.random_range(100..=10_000) as f64;
        w.push(BarRow {
            ts: START_NS + i as i64 * MINUTE_NS,
            symbol: spec.symbol.clone(),
            prices: [open, high, low, close],
            scale: cents,
            volume,
        })?;
        prev_close = close;
    }
    w.finish()
}
