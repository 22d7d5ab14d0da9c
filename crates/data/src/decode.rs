//! A decoded batch of rows, and the file source that validates and yields them as bars.

mod in_order;

use crate::delivery::{Delivered, Delivery};
use crate::error::DataError;
use crate::validate::{price_rules_hold, RowValues, Validator};
use in_order::Held;
use lockstep_core::{
    Bar, BarSource, Quote, QuoteSide, Scale, SourceError, SymbolId, SymbolTable, UnixNanos,
};
use std::path::PathBuf;

/// Bid and ask columns of a batch of quote bars, in engine units. A side is present in a
/// row only when all four of its prices are there and valid.
#[derive(Debug, Default)]
pub struct QuoteBatch {
    /// bid open, high, low, close mantissas.
    pub bid: [Vec<i64>; 4],
    /// ask open, high, low, close mantissas.
    pub ask: [Vec<i64>; 4],
    /// Rows with a bid side.
    pub has_bid: Vec<bool>,
    /// Rows with an ask side.
    pub has_ask: Vec<bool>,
}

impl QuoteBatch {
    fn clear(&mut self) {
        for v in self.bid.iter_mut().chain(self.ask.iter_mut()) {
            v.clear();
        }
        self.has_bid.clear();
        self.has_ask.clear();
    }

    /// Row `i`'s quote; `None` when neither side is there (no market that minute).
    pub fn row(&self, i: usize) -> Option<Quote> {
        let side = |v: &[Vec<i64>; 4], has: &[bool]| {
            has[i].then(|| QuoteSide {
                open: v[0][i],
                high: v[1][i],
                low: v[2][i],
                close: v[3][i],
            })
        };
        let q = Quote {
            bid: side(&self.bid, &self.has_bid),
            ask: side(&self.ask, &self.has_ask),
        };
        (q.bid.is_some() || q.ask.is_some()).then_some(q)
    }
}

/// Columns of up to one batch of rows, already converted to engine units.
/// Cells that could not be converted are listed in `bad` (sorted by row) and hold 0.
#[derive(Debug, Default)]
pub struct DecodedBatch {
    /// 1-based file row of index 0.
    pub first_row: u64,
    /// Bar open times, UTC nanoseconds.
    pub ts: Vec<i64>,
    /// Interned symbols.
    pub symbol: Vec<SymbolId>,
    /// open, high, low, close mantissas.
    pub price: [Vec<i64>; 4],
    /// Volumes.
    pub volume: Vec<f64>,
    /// Unconvertible cells: (index in batch, column, reason), sorted by index.
    pub bad: Vec<(usize, String, String)>,
    /// Bid and ask sides when the file holds quote bars (`price` is then the mark).
    pub quote: Option<QuoteBatch>,
}

impl DecodedBatch {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.ts.len()
    }

    /// True when the batch has no rows.
    pub fn is_empty(&self) -> bool {
        self.ts.is_empty()
    }

    /// Empties the batch for reuse, keeping its allocations (no page faults per batch).
    pub fn reset(&mut self, first_row: u64) {
        self.first_row = first_row;
        self.ts.clear();
        self.symbol.clear();
        for p in &mut self.price {
            p.clear();
        }
        self.volume.clear();
        self.bad.clear();
        if let Some(q) = &mut self.quote {
            q.clear();
        }
    }

    /// Row `i`'s values, with `quote`.
    fn values(&self, i: usize, quote: Option<Quote>) -> RowValues {
        RowValues {
            ts: self.ts[i],
            symbol: self.symbol[i],
            open: self.price[0][i],
            high: self.price[1][i],
            low: self.price[2][i],
            close: self.price[3][i],
            volume: self.volume[i],
            quote,
        }
    }

    /// True when the batch has no bad cell, no quotes, and every row passes the price
    /// rules: its rows need only the time-order check.
    pub fn is_clean(&self) -> bool {
        if !self.bad.is_empty() || self.quote.is_some() {
            return false;
        }
        let [o, h, l, c] = &self.price;
        let n = self.len();
        let (o, h, l, c, v) = (&o[..n], &h[..n], &l[..n], &c[..n], &self.volume[..n]);
        (0..n).fold(true, |ok, i| {
            ok & price_rules_hold(o[i], h[i], l[i], c[i], v[i])
        })
    }

    /// Sorts `bad` by row so the cursor can walk it.
    pub fn finish(&mut self) {
        self.bad.sort_by_key(|b| b.0);
    }
}

/// Valid rows handed over by [`FileSource::next_rows`].
#[derive(Debug)]
pub enum ValidRows<'a> {
    /// Consecutive valid rows of a batch: their open times and symbols.
    Run {
        /// Bar open times, UTC nanoseconds.
        ts: &'a [i64],
        /// Symbols.
        symbol: &'a [SymbolId],
    },
    /// One valid row and its file row number.
    One(RowValues, u64),
}

/// Something that produces decoded batches from one file.
pub trait BatchReader {
    /// The next batch, `None` at end of file. `recycled` is the previous batch, whose
    /// buffers may be reused.
    fn next_batch(
        &mut self,
        symbols: &mut SymbolTable,
        recycled: DecodedBatch,
    ) -> Result<Option<DecodedBatch>, DataError>;

    /// Source column names for (ts, open, high, low, close, volume), for messages.
    fn column_names(&self) -> [String; 6];
}

/// A validated stream of bars from one file.
pub struct FileSource<R: BatchReader> {
    reader: R,
    batch: DecodedBatch,
    pos: usize,
    bad_pos: usize,
    validator: Validator,
    delivery: Delivery,
    outside_session: u64,
    quoteless: u64,
    scale: Scale,
    file: PathBuf,
    done: bool,
    /// `next_bars` stops after handing over a bar delivered after this.
    stop_after: i64,
    /// The decoded batch is clean ([`DecodedBatch::is_clean`]).
    clean: bool,
    /// The decoded batch is clean and its rows pass the time-order rules as a run
    /// ([`Validator::accepts_in_order`]): bars are made from it without a check per row.
    in_order: bool,
}

impl<R: BatchReader> FileSource<R> {
    /// Wraps `reader`; `delivery` decides when each bar may be seen.
    pub fn new(
        reader: R,
        file: PathBuf,
        delivery: Delivery,
        scale: Scale,
        validator: Validator,
    ) -> Self {
        FileSource {
            reader,
            batch: DecodedBatch::default(),
            pos: 0,
            bad_pos: 0,
            validator,
            delivery,
            outside_session: 0,
            quoteless: 0,
            scale,
            file,
            done: false,
            stop_after: i64::MAX,
            clean: false,
            in_order: false,
        }
    }

    /// The next valid row as raw values plus its file row number.
    pub fn next_row(
        &mut self,
        symbols: &mut SymbolTable,
    ) -> Result<Option<(RowValues, u64)>, DataError> {
        self.row_from(symbols, true)
    }

    /// The next valid rows: the rest of a batch that passes as a whole at once, else one
    /// row checked alone. The same rows, counts and refusals as [`FileSource::next_row`].
    pub fn next_rows(
        &mut self,
        symbols: &mut SymbolTable,
    ) -> Result<Option<ValidRows<'_>>, DataError> {
        let (start, end) = (self.pos, self.batch.len());
        if self.in_order && start < end {
            let b = &self.batch;
            let first_row = b.first_row + start as u64;
            self.validator
                .accept_run(&b.ts[start..], &b.symbol[start..], first_row);
            self.pos = end;
            return Ok(Some(ValidRows::Run {
                ts: &self.batch.ts[start..],
                symbol: &self.batch.symbol[start..],
            }));
        }
        Ok(self
            .row_from(symbols, true)?
            .map(|(v, row)| ValidRows::One(v, row)))
    }

    /// The next valid row; with `load` false, `None` also when the decoded batch is used up
    /// (the next one is decoded only when asked with `load`).
    fn row_from(
        &mut self,
        symbols: &mut SymbolTable,
        load: bool,
    ) -> Result<Option<(RowValues, u64)>, DataError> {
        loop {
            if self.pos >= self.batch.len() {
                if self.done || !load {
                    return Ok(None);
                }
                let recycled = std::mem::take(&mut self.batch);
                match self.reader.next_batch(symbols, recycled)? {
                    Some(b) => {
                        self.clean = b.is_clean();
                        self.in_order = self.clean && self.validator.accepts_in_order(&b.ts);
                        self.batch = b;
                        self.pos = 0;
                        self.bad_pos = 0;
                        continue;
                    }
                    None => {
                        self.done = true;
                        self.in_order = false;
                        self.batch = DecodedBatch::default();
                        self.pos = 0;
                        return Ok(None);
                    }
                }
            }
            let i = self.pos;
            self.pos += 1;
            let row = self.batch.first_row + i as u64;
            if self.clean {
                let values = self.batch.values(i, None);
                if self.validator.check_order(&values, row, symbols)? {
                    return Ok(Some((values, row)));
                }
                continue;
            }
            let mut cell_error = None;
            while self.bad_pos < self.batch.bad.len() && self.batch.bad[self.bad_pos].0 <= i {
                if self.batch.bad[self.bad_pos].0 == i && cell_error.is_none() {
                    let (_, col, reason) = &self.batch.bad[self.bad_pos];
                    cell_error = Some(DataError::cell(&self.file, row, col, reason.clone()));
                }
                self.bad_pos += 1;
            }
            if let Some(e) = cell_error {
                self.validator.reject(e)?;
                continue;
            }
            let b = &self.batch;
            let quote = match &b.quote {
                Some(q) => match q.row(i) {
                    Some(q) => Some(q),
                    None => {
                        self.quoteless += 1;
                        continue;
                    }
                },
                None => None,
            };
            let values = b.values(i, quote);
            if self.validator.check(&values, row, symbols)? {
                return Ok(Some((values, row)));
            }
        }
    }

    /// The scale prices are read at.
    pub fn scale(&self) -> Scale {
        self.scale
    }

    /// Quote rows with neither a bid nor an ask (no market that minute), passed over.
    pub fn quoteless(&self) -> u64 {
        self.quoteless
    }

    /// Rows skipped by `--lenient`.
    pub fn skipped(&self) -> u64 {
        self.validator.skipped()
    }

    /// The first errors seen in lenient mode (at most a few), for reports.
    pub fn sample_errors(&self) -> &[DataError] {
        self.validator.sample_errors()
    }

    /// The reader's column names for (ts, open, high, low, close, volume).
    pub fn column_names(&self) -> [String; 6] {
        self.reader.column_names()
    }
}

impl<R: BatchReader> FileSource<R> {
    /// The next bar; with `load` false, only from the batch already decoded.
    fn bar_from(
        &mut self,
        symbols: &mut SymbolTable,
        load: bool,
    ) -> Result<Option<Bar>, DataError> {
        loop {
            let Some((v, row)) = self.row_from(symbols, load)? else {
                return Ok(None);
            };
            let end = match self.delivery.end(v.ts) {
                Ok(Delivered::At(end)) => end,
                Ok(Delivered::OutsideSession) => {
                    self.outside_session += 1;
                    continue;
                }
                Err(reason) => {
                    let col = self.reader.column_names()[0].clone();
                    self.validator
                        .reject(DataError::cell(&self.file, row, &col, reason))?;
                    continue;
                }
            };
            return Ok(Some(Bar {
                ts: UnixNanos(v.ts),
                end,
                symbol: v.symbol,
                scale: self.scale,
                open: v.open,
                high: v.high,
                low: v.low,
                close: v.close,
                volume: v.volume,
                quote: v.quote,
            }));
        }
    }
}

impl<R: BatchReader> BarSource for FileSource<R> {
    fn next_bar(&mut self, symbols: &mut SymbolTable) -> Result<Option<Bar>, SourceError> {
        Ok(self.bar_from(symbols, true)?)
    }

    /// The next bar (decoding the next batch if needed), then the rest of the decoded batch:
    /// a batch's symbols are interned when it is decoded, so nothing is read ahead.
    fn next_bars(
        &mut self,
        symbols: &mut SymbolTable,
        out: &mut Vec<Bar>,
        max: usize,
    ) -> Result<(), SourceError> {
        let before = out.len();
        let full = before + max;
        while out.len() < full {
            if self.in_order && self.pos < self.batch.len() {
                if self.bars_in_order(out, full)? {
                    break;
                }
                continue;
            }
            // A new batch is decoded only while no bar has been handed over yet.
            match self.bar_from(symbols, out.len() == before)? {
                Some(bar) if bar.end.0 > self.stop_after => {
                    out.push(bar);
                    break;
                }
                Some(bar) => out.push(bar),
                None => break,
            }
        }
        Ok(())
    }

    /// The rest of an in-order batch up to `max` bars, in one run that stops before a row
    /// it would refuse (refused by the next call, as row by row); from any other batch, one
    /// bar checked alone.
    fn next_buffered_bars(
        &mut self,
        symbols: &mut SymbolTable,
        out: &mut Vec<Bar>,
        outside: &mut Vec<u64>,
        max: usize,
    ) -> Result<(), SourceError> {
        if max == 0 {
            return Ok(());
        }
        if self.in_order && self.pos < self.batch.len() {
            let full = out.len() + max;
            self.bars_in_order(&mut Held { bars: out, outside }, full)?;
            return Ok(());
        }
        let counted = self.outside_session;
        if let Some(bar) = self.bar_from(symbols, false)? {
            out.push(bar);
            outside.push(self.outside_session - counted);
        }
        Ok(())
    }

    fn stop_after(&mut self, limit: i64) {
        self.stop_after = self.stop_after.min(limit);
    }

    fn outside_session_rows(&self) -> u64 {
        self.outside_session
    }

    fn skipped_rows(&self) -> u64 {
        self.skipped()
    }

    fn quoteless_rows(&self) -> u64 {
        self.quoteless
    }
}
