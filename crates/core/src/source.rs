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
