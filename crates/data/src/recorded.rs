//! Bars read once and handed over again, as often as wanted, with exactly the effects of
//! reading the source itself: the same bars in the same batches' order, the same symbols
//! interned at the same moments, the same rows counted as skipped, outside the session or
//! quoteless, and the same stop after a time window's end. A sweep decodes its data once
//! this way instead of once per point.

use lockstep_core::{Bar, BarSource, Quote, Scale, SourceError, SymbolId, SymbolTable, UnixNanos};
use std::sync::Arc;

/// The source's counters after some bars were handed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Counts {
    skipped: u64,
    outside: u64,
    quoteless: u64,
    /// Symbols interned so far.
    symbols: usize,
}

impl Counts {
    fn of(source: &dyn BarSource, symbols: &SymbolTable) -> Self {
        Counts {
            skipped: source.skipped_rows(),
            outside: source.outside_session_rows(),
            quoteless: source.quoteless_rows(),
            symbols: symbols.len(),
        }
    }
}

/// A bar without its quote (kept apart: most bars have none), 64 bytes instead of 136.
#[derive(Debug, Clone, Copy)]
struct Plain {
    ts: UnixNanos,
    end: UnixNanos,
    symbol: SymbolId,
    scale: Scale,
    open: i64,
    high: i64,
    low: i64,
    close: i64,
    volume: f64,
}

impl Plain {
    fn of(b: &Bar) -> Self {
        Plain {
            ts: b.ts,
            end: b.end,
            symbol: b.symbol,
            scale: b.scale,
            open: b.open,
            high: b.high,
            low: b.low,
            close: b.close,
            volume: b.volume,
        }
    }

    fn bar(&self, symbol: SymbolId, quote: Option<Quote>) -> Bar {
        Bar {
            ts: self.ts,
            end: self.end,
            symbol,
            scale: self.scale,
            open: self.open,
            high: self.high,
            low: self.low,
            close: self.close,
            volume: self.volume,
            quote,
        }
    }
}

/// Every bar of a source, with what its reading did (symbols interned, rows counted),
/// bar by bar. Bars carry indexes into the recorded symbol names.
#[derive(Debug)]
pub struct RecordedBars {
    bars: Vec<Plain>,
    /// `(bar index, quote)` of the quote bars, in order.
    quotes: Vec<(usize, Quote)>,
    names: Vec<String>,
    /// `(bars handed over, counts then)` wherever the counts changed, in order.
    changes: Vec<(usize, Counts)>,
    /// `(bars handed over, symbols then)` wherever the symbol count grew, in order.
    symbol_steps: Vec<(usize, usize)>,
    /// The counts once the source said it had no more bars.
    at_end: Counts,
}

impl RecordedBars {
    /// Reads `source` to its end, bar by bar; `None` when it has more than `max_bars` bars
    /// (too many to keep), and the source's error when reading fails (the caller then reads
    /// the source itself, which meets the same error at the same bar).
    pub fn record(
        source: &mut dyn BarSource,
        max_bars: usize,
    ) -> Result<Option<Self>, SourceError> {
        let mut symbols = SymbolTable::new();
        let mut bars = Vec::new();
        let mut quotes = Vec::new();
        let mut last = Counts::of(source, &symbols);
        let mut changes = vec![(0, last)];
        while let Some(bar) = source.next_bar(&mut symbols)? {
            if bars.len() == max_bars {
                return Ok(None);
            }
            if let Some(q) = bar.quote {
                quotes.push((bars.len(), q));
            }
            bars.push(Plain::of(&bar));
            let now = Counts::of(source, &symbols);
            if now != last {
                changes.push((bars.len(), now));
                last = now;
            }
        }
        let at_end = Counts::of(source, &symbols);
        let names = (0..symbols.len())
            .map(|i| symbols.name(SymbolId(i as u32)).to_string())
            .collect();
        let mut symbol_steps: Vec<(usize, usize)> = Vec::new();
        for (n, c) in &changes {
            if symbol_steps.last().is_none_or(|(_, s)| c.symbols > *s) {
                symbol_steps.push((*n, c.symbols));
            }
        }
        Ok(Some(RecordedBars {
            bars,
            quotes,
            names,
            changes,
            symbol_steps,
            at_end,
        }))
    }

    /// Bars recorded.
    pub fn len(&self) -> usize {
        self.bars.len()
    }

    /// Whether no bar was recorded.
    pub fn is_empty(&self) -> bool {
        self.bars.is_empty()
    }

    fn counts_after(&self, handed: usize) -> Counts {
        let i = self.changes.partition_point(|(n, _)| *n <= handed);
        self.changes[i.saturating_sub(1)].1
    }
}

/// A reading of [`RecordedBars`]: a [`BarSource`] with the recorded source's effects.
#[derive(Debug)]
pub struct Replay {
    rec: Arc<RecordedBars>,
    /// Bars handed over.
    pos: usize,
    /// The caller takes no bar delivered after this.
    limit: Option<i64>,
    /// The recorded source said it had no more bars.
    ended: bool,
    /// A bar past the limit was handed over: the reading stops there.
    stopped: bool,
    /// Recorded symbols interned into the caller's table so far, by recorded index.
    ids: Vec<SymbolId>,
    /// The next recorded quote to hand over.
    next_quote: usize,
}

impl Replay {
    /// Reads `rec` from its start.
    pub fn new(rec: Arc<RecordedBars>) -> Self {
        Replay {
            rec,
            pos: 0,
            limit: None,
            ended: false,
            stopped: false,
            ids: Vec::new(),
            next_quote: 0,
        }
    }

    fn counts(&self) -> Counts {
        if self.ended {
            self.rec.at_end
        } else {
            self.rec.counts_after(self.pos)
        }
    }

    /// Interns the recorded symbols the source had interned by now into `symbols`.
    fn intern_up_to(&mut self, visible: usize, symbols: &mut SymbolTable) {
        while self.ids.len() < visible.min(self.rec.names.len()) {
            let id = symbols.intern(&self.rec.names[self.ids.len()]);
            self.ids.push(id);
        }
    }

    /// Whether handing over the next bar (or saying there is none) interns symbols.
    fn would_intern(&self) -> bool {
        let visible = if self.pos < self.rec.bars.len() {
            self.rec.counts_after(self.pos + 1).symbols
        } else {
            self.rec.at_end.symbols
        };
        visible > self.ids.len()
    }

    /// The index of the first bar from `pos` on whose handing over makes more symbols
    /// visible than are interned now (or the number of bars): bars before it need no
    /// interning.
    fn quiet_until(&self) -> usize {
        let known = self.ids.len();
        let steps = &self.rec.symbol_steps;
        let i = steps.partition_point(|(n, s)| *n <= self.pos || *s <= known);
        steps
            .get(i)
            .map_or(self.rec.bars.len(), |(n, _)| n.saturating_sub(1))
    }

    /// The quote of the bar at `pos`, if it is a quote bar (taking it from the recording).
    fn quote_here(&mut self) -> Option<Quote> {
        match self.rec.quotes.get(self.next_quote) {
            Some(&(at, q)) if at == self.pos => {
                self.next_quote += 1;
                Some(q)
            }
            _ => None,
        }
    }

    /// Hands over bars up to index `end` (fewer when one is delivered after the limit):
    /// [`Replay::take`] for bars that intern nothing, without its look-ups per bar.
    fn take_quiet(&mut self, end: usize, out: &mut Vec<Bar>) {
        while self.pos < end {
            let plain = self.rec.bars[self.pos];
            let Some(symbol) = self.ids.get(plain.symbol.index()).copied() else {
                return;
            };
            let quote = self.quote_here();
            self.pos += 1;
            out.push(plain.bar(symbol, quote));
            if self.limit.is_some_and(|l| plain.end.0 > l) {
                self.stopped = true;
                return;
            }
        }
    }

    /// The next bar, its symbol mapped into `symbols`; `None` at the end.
    fn take(&mut self, symbols: &mut SymbolTable) -> Option<Bar> {
        if self.stopped {
            return None;
        }
        let Some(plain) = self.rec.bars.get(self.pos).copied() else {
            self.ended = true;
            let visible = self.rec.at_end.symbols;
            self.intern_up_to(visible, symbols);
            return None;
        };
        let quote = self.quote_here();
        self.pos += 1;
        let visible = self.rec.counts_after(self.pos).symbols;
        self.intern_up_to(visible, symbols);
        let symbol = self.ids.get(plain.symbol.index()).copied()?;
        self.stopped = self.limit.is_some_and(|l| plain.end.0 > l);
        Some(plain.bar(symbol, quote))
    }
}

impl BarSource for Replay {
    fn next_bar(&mut self, symbols: &mut SymbolTable) -> Result<Option<Bar>, SourceError> {
        Ok(self.take(symbols))
    }

    fn next_bars(
        &mut self,
        symbols: &mut SymbolTable,
        out: &mut Vec<Bar>,
        max: usize,
    ) -> Result<(), SourceError> {
        let before = out.len();
        let Some(first) = self.take(symbols) else {
            return Ok(());
        };
        out.push(first);
        if !self.stopped {
            let end = self.quiet_until().min(self.pos + max.max(1) - 1);
            self.take_quiet(end, out);
        }
        for n in out.len() - before..max.max(1) {
            if self.stopped {
                break;
            }
            // A bar whose reading interned symbols starts a batch: the caller sees the
            // table after the batch, so no symbol may appear inside one.
            if n > 0 && self.would_intern() {
                break;
            }
            let Some(bar) = self.take(symbols) else {
                break;
            };
            out.push(bar);
            if self.stopped {
                break;
            }
        }
        Ok(())
    }

    fn stop_after(&mut self, limit: i64) {
        self.limit = Some(limit);
    }

    fn outside_session_rows(&self) -> u64 {
        self.counts().outside
    }

    fn quoteless_rows(&self) -> u64 {
        self.counts().quoteless
    }

    fn skipped_rows(&self) -> u64 {
        self.counts().skipped
    }
}
