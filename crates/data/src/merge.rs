//! k-way merge of bar sources into one stream ordered by `(delivery time, source index)`.

use crate::loser_tree::LoserTree;
use lockstep_core::{Bar, BarSource, SourceError, SymbolTable};

/// Merges many time-ordered sources. Memory: one pending bar per source.
/// Ties on delivery time are broken by source index (the order the files were given).
///
/// The source whose bar was handed over is refilled at the start of the next call, not
/// before returning: a refill may decode a batch and intern its symbols, and the caller
/// handles the bar before that happens, whether it takes bars one at a time or in batches.
pub struct MergedSource {
    sources: Vec<Box<dyn BarSource>>,
    heads: Vec<Option<Bar>>,
    /// The sources' heads by delivery time, built once every source has been read.
    tree: Option<LoserTree>,
    /// The source whose bar went out last and still has to be refilled: it is still the
    /// tree's winner, with the key of the bar that went out.
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
            tree: None,
            unfilled: None,
            stop_after: i64::MAX,
        }
    }

    /// Reads the first bar of every source once, then the next bar of the source whose bar
    /// went out last: what has to be read before the next bar can be chosen.
    fn refill(&mut self, symbols: &mut SymbolTable) -> Result<(), SourceError> {
        let Some(tree) = &mut self.tree else {
            for i in 0..self.sources.len() {
                self.heads[i] = self.sources[i].next_bar(symbols)?;
            }
            let keys: Vec<Option<i64>> = self.heads.iter().map(|h| h.map(|b| b.end.0)).collect();
            self.tree = Some(LoserTree::new(&keys));
            return Ok(());
        };
        if let Some(i) = self.unfilled.take() {
            // On an error the source stays unfilled (the tree still names it the winner).
            let next = self.sources[i].next_bar(symbols);
            let next = next.inspect_err(|_| self.unfilled = Some(i))?;
            tree.replace_winner(next.map(|b| b.end.0));
            self.heads[i] = next;
        }
        Ok(())
    }

    /// Hands over the earliest bar, leaving its source to be refilled.
    fn pop(&mut self) -> Option<Bar> {
        let i = self.tree.as_ref()?.winner()?;
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
        let Some(tree) = &mut self.tree else {
            return Ok(());
        };
        for _ in 0..max {
            // The earliest source's next bar, when it has one decoded, replays its path;
            // else the source is left to be refilled by the next call.
            let Some(i) = tree.winner() else {
                break;
            };
            let Some(bar) = self.heads[i].take() else {
                break;
            };
            out.push(bar);
            self.unfilled = Some(i);
            if bar.end.0 > self.stop_after {
                break;
            }
            let Some(next) = self.sources[i].next_buffered_bar(symbols)? else {
                break;
            };
            self.unfilled = None;
            tree.replace_winner(Some(next.end.0));
            self.heads[i] = Some(next);
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
