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
        for b in &out[start..] {
            self.record(b, symbols);
        }
        result
    }

    fn next_buffered_bar(&mut self, symbols: &mut SymbolTable) -> Result<Option<Bar>, SourceError> {
        let bar = self.inner.next_buffered_bar(symbols)?;
        if let Some(b) = &bar {
            self.record(b, symbols);
        }
        Ok(bar)
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
