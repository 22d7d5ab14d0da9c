//! The data seam: anything that yields bars in delivery-time order.

use crate::bar::Bar;
use crate::symbol::SymbolTable;

/// A bad-input or I/O problem in a bar source, already phrased for the user
/// (file, row, column, reason).
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct SourceError(pub String);

/// A stream of validated bars ordered by `(end, arrival)`. Replay reads Parquet/CSV through
/// it; live feeds implement it later. Symbols are interned into the caller's table.
pub trait BarSource {
    /// The next bar, `Ok(None)` at the end.
    fn next_bar(&mut self, symbols: &mut SymbolTable) -> Result<Option<Bar>, SourceError>;

    /// Appends up to `max` next bars to `out`; appends none only at the end. A source that
    /// can hand over several bars cheaply does so, with exactly the effects of as many
    /// [`BarSource::next_bar`] calls (no read-ahead the caller could notice, such as symbols
    /// interned earlier). On an error, `out` holds the bars before it, which the caller
    /// handles before the error, as it would have one bar at a time. The default hands over
    /// one bar, which suits any source.
    fn next_bars(
        &mut self,
        symbols: &mut SymbolTable,
        out: &mut Vec<Bar>,
        _max: usize,
    ) -> Result<(), SourceError> {
        if let Some(bar) = self.next_bar(symbols)? {
            out.push(bar);
        }
        Ok(())
    }

    /// Appends to `out` up to `max` next bars that the source already holds decoded, reading
    /// nothing and interning no symbol, and stops after a bar delivered after the
    /// [`BarSource::stop_after`] limit; appends none when it would have to read first (or is
    /// at its end). A merge takes a file's bars a few at a time this way, without effects the
    /// caller could notice. For each bar, `outside` gets the rows outside the session passed
    /// over just before it: the source counts them as it hands the bar over
    /// ([`BarSource::outside_session_rows`]), and a caller that holds bars back subtracts
    /// them until it hands each bar on. The default holds none.
    fn next_buffered_bars(
        &mut self,
        symbols: &mut SymbolTable,
        out: &mut Vec<Bar>,
        outside: &mut Vec<u64>,
        max: usize,
    ) -> Result<(), SourceError> {
        let _ = (symbols, out, outside, max);
        Ok(())
    }

    /// Says that the caller takes no bar delivered after `limit` (a time window's end): in
    /// [`BarSource::next_bars`], a source hands over the first such bar and reads no further,
    /// so what it counts (rows skipped, outside the session) is what bar-by-bar reading up
    /// to that bar would count. The default ignores it (a source that hands over one bar).
    fn stop_after(&mut self, limit: i64) {
        let _ = limit;
    }

    /// Bars held back because they lie outside the calendar's regular session.
    fn outside_session_rows(&self) -> u64 {
        0
    }

    /// Quote rows passed over because they had neither a bid nor an ask.
    fn quoteless_rows(&self) -> u64 {
        0
    }

    /// Rows skipped so far because `--lenient` was on (0 otherwise).
    fn skipped_rows(&self) -> u64 {
        0
    }
}
