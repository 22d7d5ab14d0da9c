//! k-way merge of bar sources into one stream ordered by `(delivery time, source index)`.

use crate::head_queue::HeadQueue;
use lockstep_core::{Bar, BarSource, SourceError, SymbolTable};

/// Bars a merge takes from one source at a time when the source holds them decoded: enough
/// that a bar costs no call into its source, few enough that every source's bars stay in
/// cache (100 sources hold about 350 KiB).
const LANE_BARS: usize = 24;

/// The bars a merge holds from one source. The first not yet handed over is the source's
/// head, which takes its place in the merge order.
#[derive(Default)]
struct Lane {
    bars: Vec<Bar>,
    /// Per bar, the rows outside the session the source passed over before it.
    outside: Vec<u64>,
    /// Index of the head in `bars`; `bars.len()` when the lane is empty.
    next: usize,
}

impl Lane {
    fn head(&self) -> Option<&Bar> {
        self.bars.get(self.next)
    }

    fn clear(&mut self) {
        self.bars.clear();
        self.outside.clear();
        self.next = 0;
    }

    /// Rows outside the session before the bars held behind the head.
    fn outside_behind_head(&self) -> u64 {
        self.outside.iter().skip(self.next + 1).sum()
    }
}

/// Merges many time-ordered sources. Memory: a few dozen pending bars per source.
/// Ties on delivery time are broken by source index (the order the files were given).
///
/// A source whose held bars are used up is refilled from the bars it holds decoded when it
/// has some; otherwise it is left to be read at the start of the next call, not before
/// returning: a read may decode a batch and intern its symbols, and the caller handles the
/// bars handed over before that happens, whether it takes bars one at a time or in batches.
///
/// Counts match reading bar by bar: a source counts the rows outside the session before a
/// bar when it hands the bar to the merge, so the merge subtracts those of the bars it holds
/// behind each source's head (a bar-by-bar merge holds only the heads).
pub struct MergedSource {
    sources: Vec<Box<dyn BarSource>>,
    lanes: Vec<Lane>,
    /// The sources' heads by delivery time, built once every source has been read.
    order: Option<HeadQueue>,
    /// The source whose bar went out last and has no head yet (the next call takes it from
    /// the lane or reads it): it is still the order's winner, with the key of the bar that
    /// went out.
    unfilled: Option<usize>,
    /// Rows outside the session before bars held behind the heads (counted by their
    /// sources, not yet by the merge).
    held_outside: u64,
    /// The caller takes no bar delivered after this ([`BarSource::stop_after`]).
    stop_after: i64,
}

impl MergedSource {
    /// A merge of `sources` in the given order.
    pub fn new(sources: Vec<Box<dyn BarSource>>) -> Self {
        let lanes = sources.iter().map(|_| Lane::default()).collect();
        MergedSource {
            sources,
            lanes,
            order: None,
            unfilled: None,
            held_outside: 0,
            stop_after: i64::MAX,
        }
    }

    /// Reads the first bar of every source once, then the next bar of the source whose bar
    /// went out last: what has to be read before the next bar can be chosen.
    fn refill(&mut self, symbols: &mut SymbolTable) -> Result<(), SourceError> {
        let Some(order) = &mut self.order else {
            for (source, lane) in self.sources.iter_mut().zip(&mut self.lanes) {
                if let Some(bar) = source.next_bar(symbols)? {
                    lane.bars.push(bar);
                    lane.outside.push(0);
                }
            }
            let keys: Vec<Option<i64>> = self
                .lanes
                .iter()
                .map(|l| l.head().map(|b| b.end.0))
                .collect();
            self.order = Some(HeadQueue::new(&keys));
            return Ok(());
        };
        if let Some(i) = self.unfilled.take() {
            let lane = &mut self.lanes[i];
            if lane.head().is_some() {
                // A held bar becomes the head: it counts as read from now on.
                self.held_outside -= lane.outside[lane.next];
            } else {
                // On an error the source stays unfilled (the order still names it the winner).
                let next = self.sources[i].next_bar(symbols);
                let next = next.inspect_err(|_| self.unfilled = Some(i))?;
                lane.clear();
                if let Some(bar) = next {
                    lane.bars.push(bar);
                    lane.outside.push(0);
                }
            }
            order.replace_winner(lane.head().map(|b| b.end.0));
        }
        Ok(())
    }

    /// Hands over the earliest bar, leaving its source to be refilled.
    fn pop(&mut self) -> Option<Bar> {
        let i = self.order.as_ref()?.winner()?;
        let lane = &mut self.lanes[i];
        let bar = *lane.head()?;
        lane.next += 1;
        self.unfilled = Some(i);
        Some(bar)
    }
}

impl BarSource for MergedSource {
    /// One bar at a time, each source read bar by bar (the reference the batch path
    /// matches).
    fn next_bar(&mut self, symbols: &mut SymbolTable) -> Result<Option<Bar>, SourceError> {
        if let [only] = self.sources.as_mut_slice() {
            return only.next_bar(symbols);
        }
        self.refill(symbols)?;
        Ok(self.pop())
    }

    /// One source hands over its batch. A merge hands over bars as `next_bar` would while
    /// the source of each bar holds its next ones decoded; it stops before a read (which
    /// might intern symbols) and after a bar past the stop limit.
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
        let Some(order) = &mut self.order else {
            return Ok(());
        };
        for _ in 0..max {
            // The earliest source's next bar, when it has one held or decoded, replays its
            // path; else the source is left to be read by the next call.
            let Some(i) = order.winner() else {
                break;
            };
            let lane = &mut self.lanes[i];
            let Some(bar) = lane.bars.get(lane.next).copied() else {
                break;
            };
            out.push(bar);
            lane.next += 1;
            self.unfilled = Some(i);
            if bar.end.0 > self.stop_after {
                break;
            }
            if lane.head().is_some() {
                self.held_outside -= lane.outside[lane.next];
            } else {
                lane.clear();
                self.sources[i].next_buffered_bars(
                    symbols,
                    &mut lane.bars,
                    &mut lane.outside,
                    LANE_BARS,
                )?;
                self.held_outside += lane.outside_behind_head();
            }
            let Some(next) = lane.head() else {
                break;
            };
            self.unfilled = None;
            order.replace_winner(Some(next.end.0));
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
        let counted: u64 = self.sources.iter().map(|s| s.outside_session_rows()).sum();
        counted - self.held_outside
    }

    fn skipped_rows(&self) -> u64 {
        self.sources.iter().map(|s| s.skipped_rows()).sum()
    }

    fn quoteless_rows(&self) -> u64 {
        self.sources.iter().map(|s| s.quoteless_rows()).sum()
    }
}
