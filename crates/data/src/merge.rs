//! k-way merge of bar sources into one stream ordered by `(delivery time, source index)`.

use lockstep_core::{Bar, BarSource, SourceError, SymbolTable};
use std::cmp::Reverse;
use std::collections::binary_heap::PeekMut;
use std::collections::BinaryHeap;

/// Merges many time-ordered sources. Memory: one pending bar per source.
/// Ties on delivery time are broken by source index (the order the files were given).
///
/// The source whose bar was handed over is refilled at the start of the next call, not
/// before returning: a refill may decode a batch and intern its symbols, and the caller
/// handles the bar before that happens, whether it takes bars one at a time or in batches.
pub struct MergedSource {
    sources: Vec<Box<dyn BarSource>>,
    heads: Vec<Option<Bar>>,
    heap: BinaryHeap<Reverse<(i64, usize)>>,
    primed: bool,
    /// The source whose bar went out last and still has to be refilled.
    unfilled: Option<usize>,
    /// The caller takes no bar delivered after this ([`BarSource::stop_after`]).
    stop_after: i64,
}

impl MergedSource {
    /// A merge of `sources` in the given order.
    pub fn new(sources: Vec<Box<dyn BarSource>>) -> Self {
        let n = sources.len();
        MergedSource {
            sources,
            heads: vec![None; n],
            heap: BinaryHeap::with_capacity(n),
            primed: false,
            unfilled: None,
            stop_after: i64::MAX,
        }
    }

    /// Puts `bar` of source `i` in line.
    fn queue(&mut self, i: usize, bar: Bar) {
        self.heap.push(Reverse((bar.end.0, i)));
        self.heads[i] = Some(bar);
    }

    /// Reads the first bar of every source once, then the next bar of the source whose bar
    /// went out last: what has to be read before the next bar can be chosen.
    fn refill(&mut self, symbols: &mut SymbolTable) -> Result<(), SourceError> {
        if !self.primed {
            self.primed = true;
            for i in 0..self.sources.len() {
                self.read_next(i, symbols)?;
            }
        } else if let Some(i) = self.unfilled.take() {
            self.read_next(i, symbols)?;
        }
        Ok(())
    }

    /// Reads source `i`'s next bar into line, if it has one.
    fn read_next(&mut self, i: usize, symbols: &mut SymbolTable) -> Result<(), SourceError> {
        if let Some(bar) = self.sources[i].next_bar(symbols)? {
            self.queue(i, bar);
        }
        Ok(())
    }

    /// Hands over the earliest bar, leaving its source to be refilled.
    fn pop(&mut self) -> Option<Bar> {
        let Reverse((_, i)) = self.heap.pop()?;
        self.unfilled = Some(i);
        self.heads[i].take()
    }
}

impl BarSource for MergedSource {
    fn next_bar(&mut self, symbols: &mut SymbolTable) -> Result<Option<Bar>, SourceError> {
        if let [only] = self.sources.as_mut_slice() {
            return only.next_bar(symbols);
        }
        self.refill(symbols)?;
        Ok(self.pop())
    }

    /// One source hands over its batch. A merge hands over bars as `next_bar` would while
    /// the source of each bar holds its next one decoded; it stops before a refill that
    /// would read (and might intern symbols) and after a bar past the stop limit.
    fn next_bars(
        &mut self,
        symbols: &mut SymbolTable,
        out: &mut Vec<Bar>,
        max: usize,
    ) -> Result<(), SourceError> {
        if let [only] = self.sources.as_mut_slice() {
            return only.next_bars(symbols, out, max);
        }
        self.refill(symbols)?;
        for _ in 0..max {
            // The earliest source's next bar takes its place at the top (one sift down),
            // or, when it has none decoded, the source leaves the heap to be refilled.
            let Some(mut top) = self.heap.peek_mut() else {
                break;
            };
            let Reverse((_, i)) = *top;
            let Some(bar) = self.heads[i].take() else {
                break;
            };
            out.push(bar);
            let next = if bar.end.0 > self.stop_after {
                Ok(None)
            } else {
                self.sources[i].next_buffered_bar(symbols)
            };
            match next {
                Ok(Some(next)) => {
                    *top = Reverse((next.end.0, i));
                    self.heads[i] = Some(next);
                }
                other => {
                    PeekMut::pop(top);
                    self.unfilled = Some(i);
                    other?;
                    break;
                }
            }
        }
        Ok(())
    }

    fn stop_after(&mut self, limit: i64) {
        self.stop_after = self.stop_after.min(limit);
        for s in &mut self.sources {
            s.stop_after(limit);
        }
    }

    fn outside_session_rows(&self) -> u64 {
        self.sources.iter().map(|s| s.outside_session_rows()).sum()
    }

    fn skipped_rows(&self) -> u64 {
        self.sources.iter().map(|s| s.skipped_rows()).sum()
    }

    fn quoteless_rows(&self) -> u64 {
        self.sources.iter().map(|s| s.quoteless_rows()).sum()
    }
}
