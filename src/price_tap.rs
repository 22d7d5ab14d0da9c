//! A bar source that passes every bar through unchanged and keeps a decimated copy of the
//! closes for the run's price charts (`prices.csv`), in memory bounded by the bucket count.

use lockstep_analytics::decimate::PriceDecimator;
use lockstep_core::{Bar, BarSource, SourceError, SymbolTable};

/// Wraps the source the engine reads; it sees exactly the bars the engine is handed.
pub struct PriceTap<'a, S: BarSource + ?Sized> {
    inner: &'a mut S,
    prices: &'a mut PriceDecimator,
}

impl<'a, S: BarSource + ?Sized> PriceTap<'a, S> {
    /// Taps `inner`, recording into `prices`.
    pub fn new(inner: &'a mut S, prices: &'a mut PriceDecimator) -> Self {
        PriceTap { inner, prices }
    }

    #[inline]
    fn record(&mut self, bar: &Bar, symbols: &SymbolTable) {
        self.prices.push_slot(
            bar.symbol.index(),
            || symbols.name(bar.symbol).to_string(),
            bar.end.0,
            bar.scale.to_f64(bar.close),
        );
    }

    /// Records `bars` (in delivery order) as [`PriceTap::record`] of each would. After a
    /// bar, the bars of the same symbol and scale that follow it inside its bucket change
    /// only that bucket's low, high and last: they are taken as one run, extremes found on
    /// the mantissas. A scale's conversion to a double is monotone, so the double of the
    /// lowest mantissa is the lowest double.
    fn record_all(&mut self, bars: &[Bar], symbols: &SymbolTable) {
        let mut rest = bars;
        while let Some((first, tail)) = rest.split_first() {
            self.record(first, symbols);
            let slot = first.symbol.index();
            let end = self.prices.bucket_end(slot);
            let same = |b: &&Bar| b.symbol == first.symbol && b.scale == first.scale;
            let run = tail.iter().take_while(|b| same(b) && b.end.0 < end).count();
            let (inside, after) = tail.split_at(run);
            if let Some(last) = inside.last() {
                let (low, high) = inside.iter().fold((i64::MAX, i64::MIN), |(l, h), b| {
                    (l.min(b.close), h.max(b.close))
                });
                let s = first.scale;
                let (low, high, close) = (s.to_f64(low), s.to_f64(high), s.to_f64(last.close));
                if !self.prices.absorb_run(slot, last.end.0, low, high, close) {
                    inside.iter().for_each(|b| self.record(b, symbols));
                }
            }
            rest = after;
        }
    }
}

impl<S: BarSource + ?Sized> BarSource for PriceTap<'_, S> {
    fn next_bar(&mut self, symbols: &mut SymbolTable) -> Result<Option<Bar>, SourceError> {
        let bar = self.inner.next_bar(symbols)?;
        if let Some(b) = &bar {
            self.record(b, symbols);
        }
        Ok(bar)
    }

    fn next_bars(
        &mut self,
        symbols: &mut SymbolTable,
        out: &mut Vec<Bar>,
        max: usize,
    ) -> Result<(), SourceError> {
        let start = out.len();
        let result = self.inner.next_bars(symbols, out, max);
        self.record_all(&out[start..], symbols);
        result
    }

    fn next_buffered_bars(
        &mut self,
        symbols: &mut SymbolTable,
        out: &mut Vec<Bar>,
        outside: &mut Vec<u64>,
        max: usize,
    ) -> Result<(), SourceError> {
        let start = out.len();
        let result = self.inner.next_buffered_bars(symbols, out, outside, max);
        self.record_all(&out[start..], symbols);
        result
    }

    fn stop_after(&mut self, limit: i64) {
        self.inner.stop_after(limit);
    }

    fn outside_session_rows(&self) -> u64 {
        self.inner.outside_session_rows()
    }

    fn quoteless_rows(&self) -> u64 {
        self.inner.quoteless_rows()
    }

    fn skipped_rows(&self) -> u64 {
        self.inner.skipped_rows()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockstep_core::{Scale, UnixNanos};

    /// A source with no bars: the tests record through the tap directly.
    struct Empty;

    impl BarSource for Empty {
        fn next_bar(&mut self, _: &mut SymbolTable) -> Result<Option<Bar>, SourceError> {
            Ok(None)
        }
    }

    /// Bars of two symbols every 250 ms, in runs of 37 (four bars to a 1 s price bucket),
    /// with a gap, and a scale change inside one of BBB's runs and buckets.
    fn bars(symbols: &mut SymbolTable) -> Vec<Bar> {
        let (a, b) = (symbols.intern("AAA"), symbols.intern("BBB"));
        (0..3_000i64)
            .map(|i| {
                let symbol = if (i / 37) % 3 == 2 { b } else { a };
                let dp = if i > 1_980 && symbol == b { 2 } else { 4 };
                let close = 1_000_000 + (i * 7_919) % 50_000;
                let ts = i * 250_000_000 + if i > 1_500 { 3_600_000_000_000 } else { 0 };
                Bar {
                    ts: UnixNanos(ts),
                    end: UnixNanos(ts + 250_000_000),
                    symbol,
                    scale: Scale::new(dp).unwrap_or(Scale::EQUITY),
                    open: close,
                    high: close,
                    low: close,
                    close,
                    volume: 1.0,
                    quote: None,
                }
            })
            .collect()
    }

    #[test]
    fn runs_of_bars_record_the_same_prices_as_bars_one_by_one() {
        let mut symbols = SymbolTable::new();
        let all = bars(&mut symbols);
        let mut none = Empty;
        let mut one = PriceDecimator::new(100_000);
        let mut tap = PriceTap::new(&mut none, &mut one);
        all.iter().for_each(|b| tap.record(b, &symbols));
        let mut batched = PriceDecimator::new(100_000);
        let mut tap = PriceTap::new(&mut none, &mut batched);
        all.chunks(100).for_each(|c| tap.record_all(c, &symbols));
        assert!(one.csv().lines().count() > 700);
        assert_eq!(one.csv(), batched.csv());
    }
}
