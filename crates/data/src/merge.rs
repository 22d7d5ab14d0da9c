//! k-way merge of bar sources into one stream ordered by `(delivery time, source index)`.

use lockstep_core::{Bar, BarSource, SourceError, SymbolTable};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Merges many time-ordered sources. Memory: one pending bar per source.
/// Ties on delivery time are broken by source index (the order the files were given).
pub struct MergedSource {
    sources: Vec<Box<dyn BarSource>>,
    heads: Vec<Option<Bar>>,
    heap: BinaryHeap<Reverse<(i64, usize)>>,
    primed: bool,
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
        }
    }

    fn refill(&mut self, i: usize, symbols: &mut SymbolTable) -> Result<(), SourceError> {
        if let Some(bar) = self.sources[i].next_bar(symbols)? {
            self.heap.push(Reverse((bar.end.0, i)));
            self.heads[i] = Some(bar);
        }
        Ok(())
    }
}

impl BarSource for MergedSource {
    fn next_bar(&mut self, symbols: &mut SymbolTable) -> Result<Option<Bar>, SourceError> {
        if let [only] = self.sources.as_mut_slice() {
            return only.next_bar(symbols);
        }
        if !self.primed {
            self.primed = true;
            for i in 0..self.sources.len() {
                self.refill(i, symbols)?;
            }
        }
        let Some(Reverse((_, i))) = self.heap.pop() else {
            return Ok(None);
        };
        let out = self.heads[i].take();
        self.refill(i, symbols)?;
        Ok(out)
    }

    fn stop_after(&mut self, limit: i64) {
        for s in &mut self.sources {
            s.stop_after(limit);
        }
    }

    /// One source hands over its batch; a merge goes bar by bar.
    fn next_bars(
        &mut self,
        symbols: &mut SymbolTable,
        out: &mut Vec<Bar>,
        max: usize,
    ) -> Result<(), SourceError> {
        if let [only] = self.sources.as_mut_slice() {
            return only.next_bars(symbols, out, max);
        }
        if let Some(bar) = self.next_bar(symbols)? {
            out.push(bar);
        }
        Ok(())
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
