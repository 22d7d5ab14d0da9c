//! Signed quantities per (strategy, symbol) and per symbol, held densely by the ids'
//! indexes (both are small integers handed out in order). A lookup is two index steps,
//! where an ordered map of a 100-symbol merge took about seven key comparisons, and a
//! strategy asks for its position and working quantity several times per order.

use lockstep_core::{Qty, StrategyId, SymbolId};

/// A signed quantity for every (strategy, symbol) pair, zero until changed. Iterates in
/// (strategy, symbol) order, the order of an ordered map keyed by the pair.
#[derive(Debug, Clone, Default)]
pub struct PairQty {
    by_strategy: Vec<SymbolQty>,
}

impl PairQty {
    /// The quantity of `strategy` in `symbol` (zero when never changed).
    #[inline]
    pub fn get(&self, strategy: StrategyId, symbol: SymbolId) -> Qty {
        self.by_strategy
            .get(strategy.0 as usize)
            .map_or(Qty::ZERO, |s| s.get(symbol))
    }

    /// Adds `delta` to the quantity of `strategy` in `symbol`.
    #[inline]
    pub fn add(&mut self, strategy: StrategyId, symbol: SymbolId, delta: Qty) {
        let at = strategy.0 as usize;
        if self.by_strategy.len() <= at {
            self.by_strategy.resize_with(at + 1, SymbolQty::default);
        }
        if let Some(s) = self.by_strategy.get_mut(at) {
            s.add(symbol, delta);
        }
    }

    /// Every non-zero quantity, in (strategy, symbol) order.
    pub fn non_zero(&self) -> impl Iterator<Item = (StrategyId, SymbolId, Qty)> + '_ {
        self.by_strategy.iter().enumerate().flat_map(|(k, s)| {
            let strategy = StrategyId(k as u32);
            s.non_zero().map(move |(symbol, q)| (strategy, symbol, q))
        })
    }
}

/// A signed quantity for every symbol, zero until changed.
#[derive(Debug, Clone, Default)]
pub struct SymbolQty {
    by_symbol: Vec<Qty>,
}

impl SymbolQty {
    /// The quantity in `symbol` (zero when never changed).
    #[inline]
    pub fn get(&self, symbol: SymbolId) -> Qty {
        self.by_symbol
            .get(symbol.index())
            .copied()
            .unwrap_or(Qty::ZERO)
    }

    /// Adds `delta` to the quantity in `symbol`: `Qty::ZERO + delta` the first time, as
    /// an ordered map's default entry would.
    #[inline]
    pub fn add(&mut self, symbol: SymbolId, delta: Qty) {
        let at = symbol.index();
        if self.by_symbol.len() <= at {
            self.by_symbol.resize(at + 1, Qty::ZERO);
        }
        if let Some(q) = self.by_symbol.get_mut(at) {
            *q += delta;
        }
    }

    /// Every non-zero quantity, in symbol order.
    pub fn non_zero(&self) -> impl Iterator<Item = (SymbolId, Qty)> + '_ {
        self.by_symbol
            .iter()
            .enumerate()
            .filter(|(_, q)| !q.is_zero())
            .map(|(k, q)| (SymbolId(k as u32), *q))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// The dense book holds what an ordered map keyed by the pair holds, decimal for
    /// decimal (scale included), and lists the non-zero pairs in the map's order.
    #[test]
    fn the_dense_book_matches_an_ordered_map() {
        let mut x: u64 = 0x2545_f491;
        let mut book = PairQty::default();
        let mut map: BTreeMap<(StrategyId, SymbolId), Qty> = BTreeMap::new();
        for _ in 0..5_000 {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let strategy = StrategyId((x >> 60) as u32 % 3);
            let symbol = SymbolId((x >> 40) as u32 % 40);
            let delta = Qty::new((x >> 20) as i64 % 2_000 - 1_000, (x >> 8) as u32 % 3);
            book.add(strategy, symbol, delta);
            *map.entry((strategy, symbol)).or_default() += delta;
            let got = book.get(strategy, symbol);
            let want = map[&(strategy, symbol)];
            assert_eq!((got, got.scale()), (want, want.scale()));
        }
        assert_eq!(book.get(StrategyId(7), SymbolId(0)), Qty::ZERO);
        assert_eq!(book.get(StrategyId(0), SymbolId(999)), Qty::ZERO);
        let listed: Vec<_> = book.non_zero().collect();
        let want: Vec<_> = map
            .iter()
            .filter(|(_, q)| !q.is_zero())
            .map(|((st, sy), q)| (*st, *sy, *q))
            .collect();
        assert_eq!(listed, want);
        assert!(listed.len() > 50, "{}", listed.len());
    }
}
