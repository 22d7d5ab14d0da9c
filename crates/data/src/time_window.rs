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
    /// A bar past the end was seen: nothing more is read.
    ended: bool,
}

impl<S: BarSource> TimeWindow<S> {
    /// Clips `inner` to `[from, to)` (UTC nanoseconds).
    pub fn new(mut inner: S, from: Option<i64>, to: Option<i64>) -> Self {
        if let Some(t) = to {
            inner.stop_after(t.saturating_add(MAX_BAR_SPAN));
        }
        TimeWindow {
            inner,
            from,
            to,
            delivered_by: None,
            ended: false,
        }
    }

    /// Also drops bars delivered after `at` (a bar that opened in the range but closes
    /// later carries information from after it: a walk-forward train window).
    pub fn delivered_by(mut self, at: Option<i64>) -> Self {
        self.delivered_by = at;
        self
    }
}

impl<S: BarSource> TimeWindow<S> {
    /// Whether `b` lies past every bar the window can still take (the replay ends there).
    fn past_end(&self, b: &Bar) -> bool {
        self.to
            .is_some_and(|t| b.end.0 > t.saturating_add(MAX_BAR_SPAN))
    }

    /// Keeps, of `out[from..]`, the bars the window takes, in order.
    fn keep_from(&self, out: &mut Vec<Bar>, from: usize) {
        if self.from.is_none() && self.to.is_none() && self.delivered_by.is_none() {
            return;
        }
        let mut kept = from;
        for i in from..out.len() {
            if self.takes(&out[i]) {
                if kept != i {
                    out[kept] = out[i];
                }
                kept += 1;
            }
        }
        out.truncate(kept);
    }

    /// Whether the window takes `b`.
    fn takes(&self, b: &Bar) -> bool {
        let after_start = self.from.is_none_or(|f| b.ts.0 >= f);
        let before_end = self.to.is_none_or(|t| b.ts.0 < t);
        let known = self.delivered_by.is_none_or(|t| b.end.0 <= t);
        after_start && before_end && known
    }
}

impl<S: BarSource> BarSource for TimeWindow<S> {
    fn next_bar(&mut self, symbols: &mut SymbolTable) -> Result<Option<Bar>, SourceError> {
        while !self.ended {
            let Some(b) = self.inner.next_bar(symbols)? else {
                break;
            };
            if self.past_end(&b) {
                self.ended = true;
                return Ok(None);
            }
            if self.takes(&b) {
                return Ok(Some(b));
            }
        }
        Ok(None)
    }

    fn stop_after(&mut self, limit: i64) {
        self.inner.stop_after(limit);
    }

    /// The inner source's bars that the window takes, stopping (as `next_bar` does) at the
    /// first bar past its end.
    fn next_bars(
        &mut self,
        symbols: &mut SymbolTable,
        out: &mut Vec<Bar>,
        max: usize,
    ) -> Result<(), SourceError> {
        let start = out.len();
        while !self.ended {
            let from = out.len();
            let pulled = self.inner.next_bars(symbols, out, max - (from - start));
            let got = out.len() - from;
            if let Some(k) = out[from..].iter().position(|b| self.past_end(b)) {
                out.truncate(from + k);
                self.keep_from(out, from);
                self.ended = true;
                return pulled;
            }
            self.keep_from(out, from);
            pulled?;
            if got == 0 || out.len() > start {
                return Ok(());
            }
        }
        Ok(())
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
