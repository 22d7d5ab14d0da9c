//! A backtest's page without reading its tables back: a journal that passes every entry
//! on and digests each fill and allocation for the page as it goes by, with the values
//! and texts its `fills` and `lots` rows hold ([`lockstep_report`]'s `fill_row` and
//! `lot_row`).

use lockstep_analytics::digest::TradeDigest;
use lockstep_analytics::run_folder::{FillRow, Label, LotRow};
use lockstep_core::{ExitReason, Fill, Side, StrategyId, SymbolId};
use lockstep_engine::{Allocation, Entry, Journal, JournalError, Names};

/// `inner`, digesting the trades it records when asked to ([`DigestTap::into_parts`]).
pub struct DigestTap<J> {
    inner: J,
    digesting: Option<(TradeDigest, Labels)>,
}

impl<J> DigestTap<J> {
    /// Taps `inner`; with `digest` false it only passes entries on.
    pub fn new(inner: J, digest: bool) -> Self {
        DigestTap {
            inner,
            digesting: digest.then(Default::default),
        }
    }

    /// The journal, and the trades digested from what it recorded (when asked for).
    pub fn into_parts(self) -> (J, Option<TradeDigest>) {
        (self.inner, self.digesting.map(|(trades, _)| trades))
    }
}

impl<J: Journal> Journal for DigestTap<J> {
    fn record(&mut self, entry: Entry<'_>, names: &Names<'_>) -> Result<(), JournalError> {
        self.inner.record(entry, names)?;
        let Some((trades, labels)) = self.digesting.as_mut() else {
            return Ok(());
        };
        match entry {
            Entry::Fill(f) => trades.fill(labels.fill_row(f, names)),
            Entry::Allocation(a) => trades.lot(&labels.lot_row(a, names)),
            _ => {}
        }
        Ok(())
    }
}

/// Each text made once and shared: strategy and symbol names by id, sides and exit reasons
/// (empty for none) by variant.
#[derive(Default)]
struct Labels {
    strategies: Vec<Option<Label>>,
    symbols: Vec<Option<Label>>,
    sides: Vec<Option<Label>>,
    reasons: Vec<Option<Label>>,
}

/// The label at `index` of `kept`, made from `text` the first time.
fn by_index(kept: &mut Vec<Option<Label>>, index: usize, text: &str) -> Label {
    if kept.len() <= index {
        kept.resize(index + 1, None);
    }
    kept[index].get_or_insert_with(|| Label::from(text)).clone()
}

impl Labels {
    fn strategy(&mut self, id: StrategyId, names: &Names<'_>) -> Label {
        by_index(&mut self.strategies, id.0 as usize, names.strategy(id))
    }

    fn symbol(&mut self, id: SymbolId, names: &Names<'_>) -> Label {
        by_index(&mut self.symbols, id.index(), names.symbols.name(id))
    }

    fn side(&mut self, side: Side) -> Label {
        by_index(&mut self.sides, side as usize, side.as_str())
    }

    fn reason(&mut self, reason: Option<ExitReason>) -> Label {
        let index = reason.map_or(0, |r| r as usize + 1);
        by_index(&mut self.reasons, index, reason.map_or("", |r| r.as_str()))
    }

    fn fill_row(&mut self, f: &Fill, names: &Names<'_>) -> FillRow {
        FillRow {
            fill_id: f.fill_id.0,
            strategy: self.strategy(f.strategy, names),
            ts: f.ts.0,
            symbol: self.symbol(f.symbol, names),
            side: self.side(f.side),
            qty: f.qty,
            price: f.price,
            fee: f.fee,
            exit_reason: self.reason(f.exit_reason),
        }
    }

    fn lot_row(&mut self, a: &Allocation, names: &Names<'_>) -> LotRow {
        LotRow {
            symbol: self.symbol(a.symbol, names),
            close_fill_id: a.close_fill_id.0,
            qty: if a.long { a.qty } else { -a.qty },
            open_ts: a.open_ts.0,
            close_ts: a.close_ts.0,
            net_pnl: a.net_pnl,
            exit_reason: self.reason(Some(a.exit_reason)),
        }
    }
}
