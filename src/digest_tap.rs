//! A backtest's page without reading its tables back: a journal that passes every entry
//! on and digests each fill and allocation for the page as it goes by, with the values
//! and texts its `fills` and `lots` rows hold ([`lockstep_report`]'s `fill_row` and
//! `lot_row`).

use lockstep_analytics::digest::{FillRef, TradeDigest};
use lockstep_analytics::run_folder::{Label, LotRow};
use lockstep_core::{ExitReason, Fill, SymbolId};
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
            Entry::Fill(f) => {
                if let Some(fill) = labels.fill_ref(f, names) {
                    trades.fill(fill);
                }
            }
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
    kept_at(kept, index, text).clone()
}

/// [`by_index`], borrowed.
fn kept_at<'k>(kept: &'k mut Vec<Option<Label>>, index: usize, text: &str) -> &'k Label {
    if kept.len() <= index {
        kept.resize(index + 1, None);
    }
    kept[index].get_or_insert_with(|| Label::from(text))
}

/// The label at `index` of `kept`, once made.
fn made(kept: &[Option<Label>], index: usize) -> Option<&Label> {
    kept.get(index)?.as_ref()
}

impl Labels {
    fn symbol(&mut self, id: SymbolId, names: &Names<'_>) -> Label {
        by_index(&mut self.symbols, id.index(), names.symbols.name(id))
    }

    fn reason(&mut self, reason: Option<ExitReason>) -> Label {
        let index = Self::reason_index(reason);
        by_index(&mut self.reasons, index, reason.map_or("", |r| r.as_str()))
    }

    fn reason_index(reason: Option<ExitReason>) -> usize {
        reason.map_or(0, |r| r as usize + 1)
    }

    /// `f` with its texts borrowed from the labels (made the first time each is met).
    fn fill_ref(&mut self, f: &Fill, names: &Names<'_>) -> Option<FillRef<'_>> {
        let (strategy, symbol) = (f.strategy.0 as usize, f.symbol.index());
        let (side, reason) = (f.side as usize, Self::reason_index(f.exit_reason));
        kept_at(&mut self.strategies, strategy, names.strategy(f.strategy));
        kept_at(&mut self.symbols, symbol, names.symbols.name(f.symbol));
        kept_at(&mut self.sides, side, f.side.as_str());
        kept_at(
            &mut self.reasons,
            reason,
            f.exit_reason.map_or("", |r| r.as_str()),
        );
        Some(FillRef {
            fill_id: f.fill_id.0,
            strategy: made(&self.strategies, strategy)?,
            ts: f.ts.0,
            symbol: made(&self.symbols, symbol)?,
            side: made(&self.sides, side)?,
            qty: f.qty,
            price: f.price,
            fee: f.fee,
            exit_reason: made(&self.reasons, reason)?,
        })
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
