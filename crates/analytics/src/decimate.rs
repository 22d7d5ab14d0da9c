//! Decimation for charts: a long series becomes at most a few thousand points that still
//! show every extreme (the first, lowest, highest and last value of each time bucket).
//! [`PriceDecimator`] does it while bars stream past, in memory bounded by the bucket count,
//! whatever the length of the run.

use std::collections::BTreeMap;

/// One time bucket of a series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    /// Time of the first value in it (UTC nanoseconds).
    pub ts: i64,
    /// Time of the last value in it.
    pub last_ts: i64,
    /// First value.
    pub first: f64,
    /// Lowest value.
    pub low: f64,
    /// Highest value.
    pub high: f64,
    /// Last value.
    pub last: f64,
}

impl Bucket {
    fn new(ts: i64, v: f64) -> Self {
        Bucket {
            ts,
            last_ts: ts,
            first: v,
            low: v,
            high: v,
            last: v,
        }
    }

    fn absorb(&mut self, other: &Bucket) {
        self.last_ts = other.last_ts;
        self.low = self.low.min(other.low);
        self.high = self.high.max(other.high);
        self.last = other.last;
    }

    /// The bucket as chart points in time order: first, the extremes in the order they
    /// are most likely to have occurred, last (duplicates dropped).
    pub fn points(&self) -> Vec<(i64, f64)> {
        let mid = self.ts + (self.last_ts - self.ts) / 2;
        let (a, b) = if self.first <= self.last {
            (self.low, self.high)
        } else {
            (self.high, self.low)
        };
        let mut out = vec![(self.ts, self.first)];
        for p in [(mid, a), (mid, b), (self.last_ts, self.last)] {
            if out.last() != Some(&p) {
                out.push(p);
            }
        }
        out
    }
}

/// A series decimated to at most `2 * buckets` buckets while it streams: each bucket spans
/// a power-of-two multiple of one second from the first value; when there are too many,
/// neighbours merge and the span doubles. Values must come in time order.
#[derive(Debug, Clone)]
pub struct StreamDecimator {
    origin: Option<i64>,
    span: i64,
    target: usize,
    buckets: Vec<(i64, Bucket)>,
    /// Where the last bucket ends: a value before it joins that bucket without a division.
    last_end: i64,
}

impl StreamDecimator {
    /// A decimator keeping between `target` and `2 * target` buckets once it has that many.
    pub fn new(target: usize) -> Self {
        StreamDecimator {
            origin: None,
            span: 1_000_000_000,
            target: target.max(1),
            buckets: Vec::new(),
            last_end: i64::MIN,
        }
    }

    /// Adds a value at `ts` (not earlier than the one before). Inlined: a value inside the
    /// last bucket (nearly every one) only updates it.
    #[inline]
    pub fn push(&mut self, ts: i64, v: f64) {
        if ts < self.last_end {
            if let Some((_, b)) = self.buckets.last_mut() {
                b.last_ts = ts;
                b.low = b.low.min(v);
                b.high = b.high.max(v);
                b.last = v;
                return;
            }
        }
        self.push_bucket(ts, v);
    }

    /// Adds a run of values that all lie inside the last bucket (each at a time before
    /// [`StreamDecimator::last_end`], in time order), given by the run's last time, lowest,
    /// highest and last value: the same buckets as pushing each value in turn. Returns
    /// false and adds nothing when `last_ts` is not inside the last bucket.
    pub fn absorb_run(&mut self, last_ts: i64, low: f64, high: f64, last: f64) -> bool {
        if last_ts >= self.last_end {
            return false;
        }
        let Some((_, b)) = self.buckets.last_mut() else {
            return false;
        };
        b.last_ts = last_ts;
        b.low = b.low.min(low);
        b.high = b.high.max(high);
        b.last = last;
        true
    }

    /// Where the last bucket ends: a value at an earlier time joins it. `i64::MIN` before
    /// the first value.
    pub fn last_end(&self) -> i64 {
        self.last_end
    }

    /// [`StreamDecimator::push`] of a value past the last bucket: opens a bucket, coarsening
    /// when there are too many.
    #[inline(never)]
    fn push_bucket(&mut self, ts: i64, v: f64) {
        let origin = *self.origin.get_or_insert(ts);
        let key = ts.saturating_sub(origin).max(0) / self.span;
        match self.buckets.last_mut() {
            Some((k, b)) if *k == key => b.absorb(&Bucket::new(ts, v)),
            _ => self.buckets.push((key, Bucket::new(ts, v))),
        }
        if self.buckets.len() > 2 * self.target {
            self.coarsen();
        }
        self.last_end = self.buckets.last().map_or(i64::MIN, |(k, _)| {
            origin.saturating_add(k.saturating_add(1).saturating_mul(self.span))
        });
    }

    fn coarsen(&mut self) {
        while self.buckets.len() > self.target {
            self.span = self.span.saturating_mul(2);
            let mut merged: Vec<(i64, Bucket)> = Vec::with_capacity(self.buckets.len() / 2 + 1);
            for (k, b) in self.buckets.drain(..) {
                let k = k / 2;
                match merged.last_mut() {
                    Some((mk, mb)) if *mk == k => mb.absorb(&b),
                    _ => merged.push((k, b)),
                }
            }
            self.buckets = merged;
        }
    }

    /// The buckets in time order.
    pub fn buckets(&self) -> impl Iterator<Item = &Bucket> {
        self.buckets.iter().map(|(_, b)| b)
    }
}

/// Closing prices per symbol, decimated while bars stream past. Symbols are kept in slots
/// by a dense index (the engine's symbol id), so a bar costs no name lookup.
#[derive(Debug, Clone, Default)]
pub struct PriceDecimator {
    slots: Vec<Option<(String, StreamDecimator)>>,
    target: usize,
}

impl PriceDecimator {
    /// Keeps between `target` and `2 * target` buckets per symbol.
    pub fn new(target: usize) -> Self {
        PriceDecimator {
            slots: Vec::new(),
            target,
        }
    }

    /// Adds a close at `ts` of the symbol in `slot`, named by `name` the first time.
    #[inline(always)]
    pub fn push_slot(&mut self, slot: usize, name: impl FnOnce() -> String, ts: i64, close: f64) {
        if let Some(Some((_, s))) = self.slots.get_mut(slot) {
            s.push(ts, close);
            return;
        }
        self.open_slot(slot, name(), ts, close);
    }

    /// Where the last bucket of the symbol in `slot` ends (`i64::MIN` for a symbol not seen).
    pub fn bucket_end(&self, slot: usize) -> i64 {
        match self.slots.get(slot) {
            Some(Some((_, s))) => s.last_end(),
            _ => i64::MIN,
        }
    }

    /// [`StreamDecimator::absorb_run`] on the symbol in `slot`; false (nothing added) for a
    /// symbol not seen or a run not inside its last bucket.
    pub fn absorb_run(
        &mut self,
        slot: usize,
        last_ts: i64,
        low: f64,
        high: f64,
        last: f64,
    ) -> bool {
        match self.slots.get_mut(slot) {
            Some(Some((_, s))) => s.absorb_run(last_ts, low, high, last),
            _ => false,
        }
    }

    /// [`PriceDecimator::push_slot`] of a symbol's first close.
    #[inline(never)]
    fn open_slot(&mut self, slot: usize, name: String, ts: i64, close: f64) {
        if self.slots.len() <= slot {
            self.slots.resize_with(slot + 1, || None);
        }
        let mut s = StreamDecimator::new(self.target);
        s.push(ts, close);
        self.slots[slot] = Some((name, s));
    }

    /// Adds a close of `symbol` at `ts` (looked up by name).
    pub fn push(&mut self, symbol: &str, ts: i64, close: f64) {
        let slot = self
            .slots
            .iter()
            .position(|s| s.as_ref().is_some_and(|(n, _)| n == symbol))
            .unwrap_or(self.slots.len());
        self.push_slot(slot, || symbol.to_string(), ts, close);
    }

    /// The decimated series by symbol name, in name order.
    pub fn series(&self) -> BTreeMap<&str, &StreamDecimator> {
        self.slots
            .iter()
            .flatten()
            .map(|(n, s)| (n.as_str(), s))
            .collect()
    }
}

/// The columns of `prices.csv`.
pub const PRICES_HEADER: &str = "symbol,ts,last_ts,first,low,high,last";

impl PriceDecimator {
    /// The series as `prices.csv` text: one row per bucket, symbols in name order, times
    /// ISO-8601 UTC, prices as the shortest text that reads back to the same float.
    pub fn csv(&self) -> String {
        let mut out = String::from(PRICES_HEADER);
        out.push('\n');
        for (symbol, s) in self.series() {
            let symbol = csv_field(symbol);
            for b in s.buckets() {
                out.push_str(&format!(
                    "{symbol},{},{},{},{},{},{}\n",
                    crate::time::iso(b.ts),
                    crate::time::iso(b.last_ts),
                    b.first,
                    b.low,
                    b.high,
                    b.last
                ));
            }
        }
        out
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// `points` (in time order) decimated to about `target` buckets of equal time.
pub fn decimate(points: &[(i64, f64)], target: usize) -> Vec<Bucket> {
    let mut d = StreamDecimator::new(target);
    for &(ts, v) in points {
        d.push(ts, v);
    }
    d.buckets().copied().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_series_keeps_its_extremes_in_few_buckets() {
        let pts: Vec<(i64, f64)> = (0..100_000)
            .map(|i| {
                (
                    i * 60_000_000_000,
                    ((i % 977) as f64) - if i == 54_321 { 5_000.0 } else { 0.0 },
                )
            })
            .collect();
        let b = decimate(&pts, 500);
        assert!(b.len() <= 1_000 && b.len() >= 250, "{}", b.len());
        let low = b.iter().map(|x| x.low).fold(f64::MAX, f64::min);
        let high = b.iter().map(|x| x.high).fold(f64::MIN, f64::max);
        assert_eq!((low, high), (54_321.0 % 977.0 - 5_000.0, 976.0));
        assert_eq!(b[0].first, 0.0);
        assert_eq!(b.last().map(|x| x.last), Some((99_999 % 977) as f64));
        assert!(b.windows(2).all(|w| w[0].last_ts < w[1].ts));
    }

    #[test]
    fn a_short_series_is_kept_whole() {
        let b = decimate(&[(0, 1.0), (2_000_000_000, 3.0), (4_000_000_000, 2.0)], 10);
        let values: Vec<f64> = b.iter().map(|x| x.first).collect();
        assert_eq!(values, vec![1.0, 3.0, 2.0]);
    }

    #[test]
    fn a_run_absorbed_at_once_equals_its_values_pushed_one_by_one() {
        let pts: Vec<(i64, f64)> = (0..5_000)
            .map(|i| (i * 7_000_000_000, ((i * 7_919) % 1_013) as f64 + 0.25))
            .collect();
        let mut one = StreamDecimator::new(16);
        let mut runs = StreamDecimator::new(16);
        let (mut k, mut absorbed) = (0, 0);
        while k < pts.len() {
            let (ts, v) = pts[k];
            one.push(ts, v);
            runs.push(ts, v);
            k += 1;
            let run: Vec<(i64, f64)> = pts[k..]
                .iter()
                .copied()
                .take_while(|(t, _)| *t < runs.last_end())
                .collect();
            for &(t, v) in &run {
                one.push(t, v);
            }
            if let Some(&(last_ts, last)) = run.last() {
                let low = run.iter().map(|p| p.1).fold(f64::MAX, f64::min);
                let high = run.iter().map(|p| p.1).fold(f64::MIN, f64::max);
                assert!(runs.absorb_run(last_ts, low, high, last));
                absorbed += run.len();
            }
            k += run.len();
            let a: Vec<Bucket> = one.buckets().copied().collect();
            let b: Vec<Bucket> = runs.buckets().copied().collect();
            assert_eq!(a, b, "after {k} values");
        }
        assert!(absorbed > 4_000, "{absorbed}");
        assert!(!runs.absorb_run(runs.last_end(), 0.0, 0.0, 0.0));
        assert!(!StreamDecimator::new(4).absorb_run(0, 1.0, 1.0, 1.0));
    }

    #[test]
    fn prices_are_kept_per_symbol() {
        let mut p = PriceDecimator::new(4);
        p.push("B", 0, 2.0);
        p.push("A", 0, 1.0);
        p.push("A", 60_000_000_000, 1.5);
        let names: Vec<&str> = p.series().keys().copied().collect();
        assert_eq!(names, ["A", "B"]);
        assert_eq!(p.series()["A"].buckets().count(), 2);
    }
}
