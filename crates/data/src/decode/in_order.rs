//! Bars made straight from a batch whose rows pass as a whole
//! ([`FileSource`]'s `in_order`), without the per-row checks: handed over at once
//! (`next_bars`), or made a few dozen ahead for a caller that takes one bar at a time (a
//! merge), which then reads each file's bars from one small row buffer instead of from
//! seven column buffers. Either way the caller sees the same bars, counts and refusals,
//! at the same moments, as reading row by row.

use super::{BatchReader, FileSource};
use crate::delivery::Delivered;
use crate::error::DataError;
use lockstep_core::{Bar, Scale, SymbolId, UnixNanos};

/// Bars made ahead at once for a caller that takes them one at a time.
pub(super) const READY_BARS: usize = 64;

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

/// A bar made ahead from an in-order batch (a trade bar: no quote; the file's scale), in
/// 64 bytes instead of a `Bar`'s 136, so a merge of many files keeps its made-ahead bars in
/// cache; with the rows outside the session passed over before it.
#[derive(Debug, Clone, Copy)]
pub(super) struct AheadBar {
    ts: i64,
    end: i64,
    open: i64,
    high: i64,
    low: i64,
    close: i64,
    volume: f64,
    symbol: SymbolId,
    /// Rows outside the session before this bar: at most a decoded batch's rows.
    outside: u32,
}

const _: () = assert!(std::mem::size_of::<AheadBar>() == 64);

impl AheadBar {
    fn bar(&self, scale: Scale) -> Bar {
        Bar {
            ts: UnixNanos(self.ts),
            end: UnixNanos(self.end),
            symbol: self.symbol,
            scale,
            open: self.open,
            high: self.high,
            low: self.low,
            close: self.close,
            volume: self.volume,
            quote: None,
        }
    }
}

/// Bars made ahead: the rows outside the session before each are counted when the bar is
/// handed over, so a reading that ends early (a refusal in another file of a merge) counts
/// what row by row would have.
impl MadeBars for Vec<AheadBar> {
    fn made(&self) -> usize {
        self.len()
    }

    fn put(&mut self, bar: Bar, outside: u64, counted: &mut u64) {
        // A decoded batch has far fewer than 2^32 rows; count any excess now rather than lose it.
        let kept = u32::try_from(outside).unwrap_or(u32::MAX);
        *counted += outside - u64::from(kept);
        self.push(AheadBar {
            ts: bar.ts.0,
            end: bar.end.0,
            open: bar.open,
            high: bar.high,
            low: bar.low,
            close: bar.close,
            volume: bar.volume,
            symbol: bar.symbol,
            outside: kept,
        });
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
        while i < b.len() && out.made() < full {
            let k = i;
            i += 1;
            match self.delivery.end(b.ts[k]) {
                Ok(Delivered::At(end)) => {
                    let bar = Bar {
                        ts: UnixNanos(b.ts[k]),
                        end,
                        symbol: b.symbol[k],
                        scale: self.scale,
                        open: b.price[0][k],
                        high: b.price[1][k],
                        low: b.price[2][k],
                        close: b.price[3][k],
                        volume: b.volume[k],
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

    /// The next bar made ahead, if one is ready; the one after it is asked into the cache
    /// (in a merge, this file's next turn comes after every other file's).
    pub(super) fn take_ready(&mut self) -> Option<Bar> {
        let ahead = self.ready.get(self.ready_pos)?;
        if let Some(after) = self.ready.get(self.ready_pos + 1) {
            crate::prefetch::prefetch(after);
        }
        self.ready_pos += 1;
        self.outside_session += u64::from(ahead.outside);
        Some(ahead.bar(self.scale))
    }

    /// The next bar made ahead, first making up to [`READY_BARS`] more when none is ready
    /// and the decoded batch is in order; `None` when the next bar needs the row-by-row
    /// path. For [`lockstep_core::BarSource::next_buffered_bar`]; `next_bar` takes what is
    /// ready, then reads row by row (the reference the batch tests compare with).
    pub(super) fn ready_bar(&mut self) -> Result<Option<Bar>, DataError> {
        if self.ready_pos == self.ready.len() && self.in_order && self.pos < self.batch.len() {
            let mut ready = std::mem::take(&mut self.ready);
            ready.clear();
            self.ready_pos = 0;
            let made = self.bars_in_order(&mut ready, READY_BARS);
            self.ready = ready;
            made?;
        }
        Ok(self.take_ready())
    }
}
