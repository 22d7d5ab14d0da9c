//! A watched position through a quiet run of bars ([`crate::ExitManager::quiet_prefix`]):
//! each bar judged as [`crate::ExitManager::on_bar`] judges it, in the same mantissas and
//! with the same trailing-stop arithmetic, without touching the manager. A bar that might
//! fire an exit ends the run; a bar that makes a new best price moves the position (its
//! best price, its trailing stop and the band of its levels), which the manager takes over
//! for the bars the run finally has ([`crate::ExitManager::absorb_quiet`]).

use crate::exits::exit_rules::{next_trail, Band, Direction, Levels, Trailing};
use lockstep_core::{Bar, Price, StrategyId, SymbolId, UnixNanos};

/// A settled watched position (levels fixed, best price known, nothing to ask again) as a
/// quiet run moves it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Calm {
    /// Long or short.
    pub dir: Direction,
    /// The average entry price.
    pub entry: Price,
    /// When the position opened (bars opening before it are not judged).
    pub opened: UnixNanos,
    /// The max hold in nanoseconds, if the rules set one.
    pub max_hold_ns: Option<i64>,
    /// A percentage trailing stop (an ATR stop keeps no position calm).
    pub trailing: Option<Trailing>,
    /// Hard stop, soft stop and target.
    pub fixed: [Option<Price>; 3],
    /// What the run has moved so far.
    pub moved: Moved,
}

/// A watched position's state that bars move without firing an exit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Moved {
    /// The best price since entry.
    pub best: Price,
    /// `best` as a mantissa at the bars' scale.
    pub best_m: i64,
    /// The trailing stop, once activated.
    pub trail: Option<Price>,
    /// The band of the levels in force.
    pub band: Band,
    /// The best price moved since the trailing stop was computed (only ever true without
    /// a trailing rule, as after [`crate::ExitManager::on_bar`]).
    pub trail_stale: bool,
}

impl Calm {
    /// Takes `bar` as [`crate::ExitManager::on_bar`] would when nothing fires: `None` when
    /// the bar might fire an exit, is not judged (a quote bar, or one that opened before
    /// the position) or reaches the max hold; `Some(true)` when it moved the position
    /// (a new best price), `Some(false)` when it left it as it was.
    #[inline]
    pub fn take(&mut self, bar: &Bar) -> Option<bool> {
        let m = &mut self.moved;
        let held_out = self
            .max_hold_ns
            .is_some_and(|ns| bar.end.0 - self.opened.0 >= ns);
        if bar.quote.is_some() || self.opened > bar.ts || held_out || m.band.may_fire(self.dir, bar)
        {
            return None;
        }
        let favourable = if self.dir.long { bar.high } else { bar.low };
        let improves = if self.dir.long {
            favourable > m.best_m
        } else {
            favourable < m.best_m
        };
        if !improves {
            return Some(false);
        }
        m.best = self.dir.extremes(bar).1;
        m.best_m = favourable;
        let Some(rule) = self.trailing else {
            m.trail_stale = true;
            return Some(true);
        };
        let trail = next_trail(
            m.trail,
            &rule,
            self.dir,
            self.entry,
            m.best,
            None,
            bar.scale.dp(),
        );
        if trail != m.trail {
            let [hard, soft, target] = self.fixed;
            let levels = Levels {
                hard,
                soft,
                trail,
                target,
                ..Levels::default()
            };
            m.trail = trail;
            m.band = Band::of(&levels, self.dir, bar.scale);
        }
        m.trail_stale = false;
        Some(true)
    }
}

/// The moves a quiet run would make to watched positions, bar by bar, kept until the run's
/// length is known ([`crate::ExitManager::absorb_quiet`]). Reused from run to run.
#[derive(Debug, Clone, Default)]
pub struct QuietMoves {
    /// (index of the bar in the run, position, its state after that bar), in bar order.
    pub(super) moves: Vec<(usize, (SymbolId, StrategyId), Moved)>,
    /// The symbols met so far in the run, with their watched position as the run moves it.
    pub(super) met: Vec<(SymbolId, Option<Watch>)>,
    /// Each symbol's index in `met` (by symbol index; [`NOT_MET`] when not met yet), so a
    /// run interleaving many symbols finds each in one step.
    slot: Vec<u32>,
}

/// A symbol not met yet in the run ([`QuietMoves`]).
const NOT_MET: u32 = u32::MAX;

impl QuietMoves {
    /// Forgets the run: no moves, no symbol met.
    pub(super) fn clear(&mut self) {
        self.moves.clear();
        for (symbol, _) in self.met.drain(..) {
            if let Some(slot) = self.slot.get_mut(symbol.index()) {
                *slot = NOT_MET;
            }
        }
    }

    /// The index in `met` of `symbol`, when the run has met it.
    #[inline]
    pub(super) fn slot_of(&self, symbol: SymbolId) -> Option<usize> {
        match self.slot.get(symbol.index()) {
            Some(&k) if k != NOT_MET => Some(k as usize),
            _ => None,
        }
    }

    /// Meets `symbol` with its watched position (if any); returns its index in `met`.
    pub(super) fn meet(&mut self, symbol: SymbolId, watch: Option<Watch>) -> usize {
        let i = symbol.index();
        if self.slot.len() <= i {
            self.slot.resize(i + 1, NOT_MET);
        }
        // A run is a slice of bars, far fewer than u32::MAX symbols.
        self.slot[i] = self.met.len() as u32;
        self.met.push((symbol, watch));
        self.met.len() - 1
    }
}

/// A watched position by its key, as a quiet run moves it.
pub(super) type Watch = ((SymbolId, StrategyId), Calm);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::executor::Executor;
    use crate::exits::exit_rules::{ExitRules, TrailDistance};
    use crate::{ExitManager, ExitSettings};
    use lockstep_core::{
        ClientOrderId, Decimal, Fill, FillId, Liquidity, OrderId, Qty, Scale, Side,
    };

    /// A bar of `symbol` at minute `minute`, prices in cents (at the equity scale).
    fn bar(symbol: u32, minute: i64, low: i64, high: i64) -> Bar {
        let ts = UnixNanos(minute * 60_000_000_000);
        let (low, high) = (low * 100, high * 100);
        Bar {
            ts,
            end: UnixNanos(ts.0 + 60_000_000_000),
            symbol: SymbolId(symbol),
            scale: Scale::EQUITY,
            open: low,
            high,
            low,
            close: low,
            volume: 0.0,
            quote: None,
        }
    }

    /// A bought fill of 10 of `symbol` at `price` cents.
    fn bought(symbol: u32, price: i64) -> Fill {
        Fill {
            fill_id: FillId(u64::from(symbol)),
            order_id: OrderId(u64::from(symbol)),
            client_order_id: ClientOrderId(format!("t-{symbol}")),
            strategy: StrategyId(0),
            ts: UnixNanos(0),
            symbol: SymbolId(symbol),
            side: Side::Buy,
            qty: Qty::from(10),
            price: Decimal::new(price, 2),
            fee: Decimal::ZERO,
            liquidity: Liquidity::Taker,
            exit_reason: None,
            stale_price: false,
        }
    }

    /// Long 10 of symbols 0 (at 100.00) and 1 (at 50.00) under a 1 % trailing stop that
    /// trails at once, each settled by a first judged bar: the stops stand at 99.00 and
    /// 49.50.
    fn two_watched() -> ExitManager {
        let mut exits = ExitManager::new(ExitSettings {
            rules: vec![ExitRules {
                trailing: Some(Trailing {
                    distance: TrailDistance::Pct(Decimal::new(1, 2)),
                    activation_pct: Decimal::ZERO,
                    step_pct: Decimal::ZERO,
                    step_atr: Decimal::ZERO,
                    min_pct: None,
                    max_pct: None,
                }),
                ..ExitRules::default()
            }],
            ..ExitSettings::default()
        });
        let (executor, mut out) = (Executor::new("t"), Vec::new());
        for (symbol, price) in [(0, 10_000), (1, 5_000)] {
            exits.on_fill(&bought(symbol, price), Qty::from(10));
            exits.on_bar(&bar(symbol, 1, price, price), &executor, &mut out);
        }
        assert!(out.is_empty(), "{out:?}");
        exits
    }

    /// A symbol met again later in a run is judged by the levels the run moved: symbol 0
    /// makes a new best of 110.00 (its stop moves from 99.00 to 108.90), symbol 1 comes
    /// between, and symbol 0's next bar reaching 108.00 might fire, so the run ends before
    /// it. Judged by the stop the manager still holds (99.00) it would look quiet.
    #[test]
    fn a_symbol_met_again_is_judged_by_the_levels_the_run_moved() {
        let exits = two_watched();
        let run = [
            bar(0, 2, 10_950, 11_000),
            bar(1, 2, 5_000, 5_000),
            bar(0, 3, 10_800, 10_900),
            bar(1, 3, 5_000, 5_000),
        ];
        let mut moves = QuietMoves::default();
        assert_eq!(exits.quiet_prefix(&run, &mut moves), 2);
        let moved: Vec<_> = moves
            .moves
            .iter()
            .map(|(k, key, m)| (*k, key.0, m.trail))
            .collect();
        assert_eq!(moved, vec![(0, SymbolId(0), Some(Decimal::new(10_890, 2)))]);
        // Without that bar the run is quiet to its end, and a second run starts afresh.
        let quiet = [run[0], run[1], run[3]];
        assert_eq!(exits.quiet_prefix(&quiet, &mut moves), 3);
        assert_eq!(exits.quiet_prefix(&run[2..], &mut moves), 2);
    }
}
