//! Bars made straight from a batch whose rows pass as a whole
//! ([`FileSource`]'s `in_order`), without the per-row checks: handed over at once
//! (`next_bars`), or a few dozen at a time to a merge (`next_buffered_bars`), which holds
//! them until their turn. Either way the caller sees the same bars, counts and refusals,
//! at the same moments, as reading row by row.

use super::{BatchReader, FileSource};
use crate::delivery::Delivered;
use crate::error::DataError;
use lockstep_core::{Bar, UnixNanos};

/// Where made bars go.
pub(super) trait MadeBars {
    /// Bars held.
    fn made(&self) -> usize;
    /// Takes `bar`, after `outside` rows outside the session were passed over before it.
    /// `counted` is the source's count of such rows: a bar handed over now counts them now.
    fn put(&mut self, bar: Bar, outside: u64, counted: &mut u64);
}

/// Bars handed over now.
impl MadeBars for Vec<Bar> {
    fn made(&self) -> usize {
        self.len()
    }

    fn put(&mut self, bar: Bar, outside: u64, counted: &mut u64) {
        *counted += outside;
        self.push(bar);
    }
}

/// Bars handed over now to a caller that may hold them back, each with the rows outside
/// the session passed over before it (counted now, for the caller to subtract while it
/// holds the bar).
pub(super) struct Held<'a> {
    /// The bars.
    pub(super) bars: &'a mut Vec<Bar>,
    /// Per bar, the rows outside the session before it.
    pub(super) outside: &'a mut Vec<u64>,
}

impl MadeBars for Held<'_> {
    fn made(&self) -> usize {
        self.bars.len()
    }

    fn put(&mut self, bar: Bar, outside: u64, counted: &mut u64) {
        *counted += outside;
        self.bars.push(bar);
        self.outside.push(outside);
    }
}

impl<R: BatchReader> FileSource<R> {
    /// Bars from the rest of an in-order batch, until `out` holds `full` bars or a bar is
    /// delivered after the stop: the same bars, counts and refusals as
    /// [`FileSource::bar_from`] row by row. Returns true when it stopped after such a bar.
    ///
    /// Once a bar is made, what follows it up to the next bar is left for the next call:
    /// rows outside the session at the batch's end, and a row whose delivery time is an
    /// error (refused only after the bars before it are handed over, as row by row).
    pub(super) fn bars_in_order<O: MadeBars>(
        &mut self,
        out: &mut O,
        full: usize,
    ) -> Result<bool, DataError> {
        let b = &self.batch;
        let start = self.pos;
        let before = out.made();
        let (mut i, mut after_last, mut outside) = (start, start, 0u64);
        let mut stopped = false;
        // Every column cut to the batch's length once, so a row's cells need no bounds
        // check of their own (a batch's columns all hold its rows).
        let n = b.len();
        let (ts, symbol, volume) = (&b.ts[..n], &b.symbol[..n], &b.volume[..n]);
        let [open, high, low, close] = &b.price;
        let (open, high, low, close) = (&open[..n], &high[..n], &low[..n], &close[..n]);
        while i < n && out.made() < full {
            let k = i;
            i += 1;
            match self.delivery.end(ts[k]) {
                Ok(Delivered::At(end)) => {
                    let bar = Bar {
                        ts: UnixNanos(ts[k]),
                        end,
                        symbol: symbol[k],
                        scale: self.scale,
                        open: open[k],
                        high: high[k],
                        low: low[k],
                        close: close[k],
                        volume: volume[k],
                        quote: None,
                    };
                    out.put(bar, outside, &mut self.outside_session);
                    (outside, after_last) = (0, i);
                    if end.0 > self.stop_after {
                        stopped = true;
                        break;
                    }
                }
                Ok(Delivered::OutsideSession) => outside += 1,
                Err(_) if out.made() > before => break,
                Err(reason) => {
                    self.outside_session += std::mem::take(&mut outside);
                    let row = b.first_row + k as u64;
                    let col = self.reader.column_names()[0].clone();
                    self.validator
                        .reject(DataError::cell(&self.file, row, &col, reason))?;
                }
            }
        }
        if out.made() > before {
            i = after_last;
        } else {
            self.outside_session += outside;
        }
        self.validator.accept_run(
            &b.ts[start..i],
            &b.symbol[start..i],
            b.first_row + start as u64,
        );
        self.pos = i;
        Ok(stopped)
    }
}
