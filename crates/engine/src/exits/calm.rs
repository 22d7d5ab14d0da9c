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
}

/// A watched position by its key, as a quiet run moves it.
pub(super) type Watch = ((SymbolId, StrategyId), Calm);
