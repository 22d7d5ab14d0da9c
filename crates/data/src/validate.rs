//! Row rules of DESIGN "Market data": positive prices, high >= low, open/close inside
//! [low, high], timestamps strictly increasing per symbol (no duplicates), file in time order.

use crate::error::DataError;
use lockstep_core::{SymbolId, SymbolTable, UnixNanos};
use std::path::PathBuf;

/// One row's values in engine units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RowValues {
    /// Bar open time, UTC nanoseconds.
    pub ts: i64,
    /// Symbol.
    pub symbol: SymbolId,
    /// Open mantissa.
    pub open: i64,
    /// High mantissa.
    pub high: i64,
    /// Low mantissa.
    pub low: i64,
    /// Close mantissa.
    pub close: i64,
    /// Volume.
    pub volume: f64,
    /// Bid and ask sides of a quote row (already checked side by side); `None` for trades.
    pub quote: Option<lockstep_core::Quote>,
}

/// Whether a row's prices pass every price rule: positive, high >= low, open and close
/// inside [low, high], volume a non-negative number. Branch-free, so a whole batch can be
/// checked in one pass.
#[inline]
pub fn price_rules_hold(open: i64, high: i64, low: i64, close: i64, volume: f64) -> bool {
    (low > 0)
        & (high >= low)
        & (open >= low)
        & (open <= high)
        & (close >= low)
        & (close <= high)
        & (volume >= 0.0)
}

/// How many lenient-mode errors are kept as samples.
const SAMPLE_ERRORS: usize = 5;

/// Applies the row rules; strict mode fails on the first bad row, lenient mode skips and counts.
#[derive(Debug)]
pub struct Validator {
    file: PathBuf,
    cols: [String; 6],
    lenient: bool,
    require_time_order: bool,
    last_per_symbol: Vec<Option<(i64, u64)>>,
    last_ts: Option<(i64, u64)>,
    skipped: u64,
    samples: Vec<DataError>,
}

impl Validator {
    /// A validator for `file` whose (ts, open, high, low, close, volume) come from `cols`.
    /// `require_time_order` demands rows in time order (strictly increasing per symbol, never
    /// decreasing in the file), as streaming needs; `import` turns it off because it sorts.
    pub fn new(file: PathBuf, cols: [String; 6], lenient: bool, require_time_order: bool) -> Self {
        Validator {
            file,
            cols,
            lenient,
            require_time_order,
            last_per_symbol: Vec::new(),
            last_ts: None,
            skipped: 0,
            samples: Vec::new(),
        }
    }

    /// Records a bad row: an error in strict mode, a counted skip in lenient mode.
    pub fn reject(&mut self, e: DataError) -> Result<(), DataError> {
        if !self.lenient {
            return Err(e);
        }
        self.skipped += 1;
        if self.samples.len() < SAMPLE_ERRORS {
            self.samples.push(e);
        }
        Ok(())
    }

    /// Checks one row. `Ok(true)` keep it, `Ok(false)` skipped (lenient), `Err` strict failure.
    pub fn check(
        &mut self,
        v: &RowValues,
        row: u64,
        symbols: &SymbolTable,
    ) -> Result<bool, DataError> {
        let problem = self.problem(v, row, symbols);
        self.judge(problem, v, row)
    }

    /// Checks the time order of a row whose prices are known to pass the price rules
    /// ([`price_rules_hold`]); the same outcomes as [`Validator::check`] for such a row.
    pub fn check_order(
        &mut self,
        v: &RowValues,
        row: u64,
        symbols: &SymbolTable,
    ) -> Result<bool, DataError> {
        let problem = self.order_problem(v, symbols);
        self.judge(problem, v, row)
    }

    /// Keeps the row when it has no `problem`, else rejects it naming the column.
    fn judge(
        &mut self,
        problem: Option<(usize, String)>,
        v: &RowValues,
        row: u64,
    ) -> Result<bool, DataError> {
        match problem {
            None => {
                self.accept(v, row);
                Ok(true)
            }
            Some((col, reason)) => {
                let e = DataError::cell(&self.file, row, &self.cols[col], reason);
                self.reject(e)?;
                Ok(false)
            }
        }
    }

    /// True when rows with these timestamps, in this order, all pass the time-order rules
    /// from the current state: strictly increasing, the first after every row accepted so
    /// far (so no symbol can see a duplicate or a step back). A row of a batch this holds
    /// for needs only [`Validator::accept_run`] once its prices are known to be good.
    pub fn accepts_in_order(&self, ts: &[i64]) -> bool {
        if !self.require_time_order {
            return true;
        }
        let after_last = match (self.last_ts, ts.first()) {
            (Some((prev, _)), Some(first)) => *first > prev,
            _ => true,
        };
        after_last && ts.windows(2).fold(true, |ok, w| ok & (w[0] < w[1]))
    }

    /// Records a run of rows as accepted, as [`Validator::check_order`] would one by one:
    /// `ts[k]` and `symbols[k]` are file row `first_row + k`. Only for rows that
    /// [`Validator::accepts_in_order`] cleared.
    pub fn accept_run(&mut self, ts: &[i64], symbols: &[SymbolId], first_row: u64) {
        for (k, (t, s)) in ts.iter().zip(symbols).enumerate() {
            let slot = s.index();
            if self.last_per_symbol.len() <= slot {
                self.last_per_symbol.resize(slot + 1, None);
            }
            self.last_per_symbol[slot] = Some((*t, first_row + k as u64));
        }
        if let Some(last) = ts.len().checked_sub(1) {
            self.last_ts = Some((ts[last], first_row + last as u64));
        }
    }

    fn accept(&mut self, v: &RowValues, row: u64) {
        self.accept_run(&[v.ts], &[v.symbol], row);
    }

    fn problem(&self, v: &RowValues, _row: u64, symbols: &SymbolTable) -> Option<(usize, String)> {
        if price_rules_hold(v.open, v.high, v.low, v.close, v.volume) {
            return self.order_problem(v, symbols);
        }
        let prices = [v.open, v.high, v.low, v.close];
        for (k, p) in prices.iter().enumerate() {
            if *p <= 0 {
                return Some((k + 1, "price must be positive".to_string()));
            }
        }
        if v.high < v.low {
            return Some((2, "high is below low".to_string()));
        }
        if v.open < v.low || v.open > v.high {
            return Some((1, "open is outside [low, high]".to_string()));
        }
        if v.close < v.low || v.close > v.high {
            return Some((4, "close is outside [low, high]".to_string()));
        }
        if v.volume.is_nan() || v.volume < 0.0 {
            return Some((5, "volume must be a non-negative number".to_string()));
        }
        self.order_problem(v, symbols)
    }

    fn order_problem(&self, v: &RowValues, symbols: &SymbolTable) -> Option<(usize, String)> {
        if !self.require_time_order {
            return None;
        }
        if let Some(Some((prev, prev_row))) = self.last_per_symbol.get(v.symbol.index()) {
            let name = symbols.name(v.symbol);
            if v.ts == *prev {
                return Some((
                    0,
                    format!(
                        "duplicate timestamp {} for symbol {name} (first at row {prev_row})",
                        UnixNanos(v.ts)
                    ),
                ));
            }
            if v.ts < *prev {
                return Some((
                    0,
                    format!(
                        "timestamp {} for symbol {name} is before row {prev_row} ({}); timestamps must increase per symbol",
                        UnixNanos(v.ts),
                        UnixNanos(*prev)
                    ),
                ));
            }
        }
        if let Some((prev, prev_row)) = self.last_ts {
            if v.ts < prev {
                return Some((
                    0,
                    format!(
                        "rows are not in time order: {} is before row {prev_row} ({}); sort the file with `lockstep data import`",
                        UnixNanos(v.ts),
                        UnixNanos(prev)
                    ),
                ));
            }
        }
        None
    }

    /// Rows skipped so far.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// The first few skipped rows' errors.
    pub fn sample_errors(&self) -> &[DataError] {
        &self.samples
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validator(require_time_order: bool) -> Validator {
        let cols = ["ts", "open", "high", "low", "close", "volume"].map(String::from);
        Validator::new(PathBuf::from("f.csv"), cols, false, require_time_order)
    }

    /// A run passes as a whole only when strictly increasing and after every accepted row;
    /// after `accept_run`, the rows it took are the ones later rows are checked against.
    #[test]
    fn a_run_is_in_order_only_after_what_was_accepted() {
        let mut v = validator(true);
        assert!(v.accepts_in_order(&[1, 2, 3]));
        assert!(!v.accepts_in_order(&[1, 2, 2]), "a duplicate");
        assert!(!v.accepts_in_order(&[1, 3, 2]), "a step back");
        v.accept_run(&[1, 2, 3], &[SymbolId(0), SymbolId(1), SymbolId(0)], 10);
        assert!(
            !v.accepts_in_order(&[3, 4]),
            "repeats the last accepted time"
        );
        assert!(v.accepts_in_order(&[4, 5]));
        let mut symbols = SymbolTable::new();
        symbols.intern("A");
        symbols.intern("B");
        let row = |ts, symbol| RowValues {
            ts,
            symbol: SymbolId(symbol),
            open: 1,
            high: 1,
            low: 1,
            close: 1,
            volume: 0.0,
            quote: None,
        };
        let err = v
            .check_order(&row(3, 0), 20, &symbols)
            .expect_err("duplicate");
        assert!(err.to_string().contains("(first at row 12)"), "{err}");
        let err = v.check_order(&row(1, 1), 20, &symbols).expect_err("before");
        assert!(err.to_string().contains("before row 11"), "{err}");
        assert!(
            validator(false).accepts_in_order(&[3, 1, 1]),
            "import sorts"
        );
    }
}
