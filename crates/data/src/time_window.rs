//! A bar source clipped to a time range: only bars whose open time lies in `[from, to)`
//! pass (walk-forward train and test windows, `data.from` / `data.to`).

use lockstep_core::{Bar, BarSource, SourceError, SymbolTable};

/// The longest a bar may span from open to delivery (daily bars over a long weekend fit).
pub const MAX_BAR_SPAN: i64 = 8 * 86_400_000_000_000;

/// Passes on the bars of `inner` whose open time is in `[from, to)` (an open end is
/// unbounded). Bars outside are dropped without counting as skipped rows. Reading stops
/// once a bar is delivered more than [`MAX_BAR_SPAN`] after `to`: sources deliver in time
/// order and no bar spans longer, so no later bar can open before `to`.
pub struct TimeWindow<S> {
    inner: S,
    from: Option<i64>,
    to: Option<i64>,
    delivered_by: Option<i64>,
}

impl<S: BarSource> TimeWindow<S> {
    /// Clips `inner` to `[from, to)` (UTC nanoseconds).
    pub fn new(inner: S, from: Option<i64>, to: Option<i64>) -> Self {
        TimeWindow {
            inner,
            from,
            to,
            delivered_by: None,
        }
    }

    /// Also drops bars delivered after `at` (a bar that opened in the range but closes
    /// later carries information from after it: a walk-forward train window).
    pub fn delivered_by(mut self, at: Option<i64>) -> Self {
        self.delivered_by = at;
        self
    }
}

impl<S: BarSource> BarSource for TimeWindow<S> {
    fn next_bar(&mut self, symbols: &mut SymbolTable) -> Result<Option<Bar>, SourceError> {
        while let Some(b) = self.inner.next_bar(symbols)? {
            if self
                .to
                .is_some_and(|t| b.end.0 > t.saturating_add(MAX_BAR_SPAN))
            {
                return Ok(None);
            }
            let after_start = self.from.is_none_or(|f| b.ts.0 >= f);
            let before_end = self.to.is_none_or(|t| b.ts.0 < t);
            let known = self.delivered_by.is_none_or(|t| b.end.0 <= t);
            if after_start && before_end && known {
                return Ok(Some(b));
            }
        }
        Ok(None)
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
