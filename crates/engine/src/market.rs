//! Market state: the latest delivered bar of every instrument, and (when entry features
//! are judged) its recent closes.

use lockstep_core::{Bar, Price, SymbolId};
use std::collections::VecDeque;

/// Latest bar per symbol, and the last `history` closes when asked for. Updated first in
/// every data step.
#[derive(Debug, Default, Clone)]
pub struct MarketState {
    last: Vec<Option<Bar>>,
    history: usize,
    closes: Vec<VecDeque<f64>>,
}

impl MarketState {
    /// A market state that also keeps each symbol's last `history` closes.
    pub fn with_history(history: usize) -> Self {
        MarketState {
            history,
            ..MarketState::default()
        }
    }

    /// True when recent closes are kept ([`MarketState::with_history`]).
    pub fn keeps_history(&self) -> bool {
        self.history > 0
    }

    /// Records `bar` as the latest of its symbol.
    #[inline]
    pub fn update(&mut self, bar: &Bar) {
        let i = bar.symbol.index();
        match self.last.get_mut(i) {
            Some(last) => *last = Some(*bar),
            None => self.first_of(i, bar),
        }
        if self.history > 0 {
            self.keep_close(i, bar);
        }
    }

    /// [`MarketState::update`] with the first bar of a symbol beyond those seen.
    #[inline(never)]
    fn first_of(&mut self, i: usize, bar: &Bar) {
        self.last.resize(i + 1, None);
        self.last[i] = Some(*bar);
    }

    /// [`MarketState::update`]'s kept history of closes.
    #[inline(never)]
    fn keep_close(&mut self, i: usize, bar: &Bar) {
        if i >= self.closes.len() {
            self.closes.resize(i + 1, VecDeque::new());
        }
        let c = &mut self.closes[i];
        if c.len() == self.history {
            c.pop_front();
        }
        c.push_back(bar.scale.to_f64(bar.close));
    }

    /// The recent closes of `symbol`, oldest first (empty unless history is kept).
    pub fn closes(&self, symbol: SymbolId) -> Vec<f64> {
        self.closes
            .get(symbol.index())
            .map(|c| c.iter().copied().collect())
            .unwrap_or_default()
    }

    /// The latest bar of `symbol`, if any was delivered.
    pub fn last_bar(&self, symbol: SymbolId) -> Option<&Bar> {
        self.last.get(symbol.index()).and_then(Option::as_ref)
    }

    /// The latest close of `symbol`: the mark used for equity and risk.
    pub fn mark(&self, symbol: SymbolId) -> Option<Price> {
        self.last_bar(symbol).map(Bar::close_price)
    }
}
