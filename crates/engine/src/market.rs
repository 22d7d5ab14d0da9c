//! Market state: the latest delivered bar of every instrument.

use lockstep_core::{Bar, Price, SymbolId};

/// Latest bar per symbol. Updated first in every data step.
#[derive(Debug, Default, Clone)]
pub struct MarketState {
    last: Vec<Option<Bar>>,
}

impl MarketState {
    /// Records `bar` as the latest of its symbol.
    pub fn update(&mut self, bar: &Bar) {
        let i = bar.symbol.index();
        if i >= self.last.len() {
            self.last.resize(i + 1, None);
        }
        self.last[i] = Some(*bar);
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
