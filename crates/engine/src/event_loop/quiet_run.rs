//! The replay fast path. After a bar is stepped, the bars that follow it may form a quiet
//! run: bars on which [`Engine::step`] could do nothing but update the market state and
//! hand the bar to the one strategy, because no order works for their symbols, no exit
//! can fire on them (a watched position's best price and trailing stop move along), the
//! EOD guard has nothing to do at their open times, no per-bar equity row is asked for,
//! no queued event falls due and the UTC day does not change. Such a run goes to
//! [`Strategy::absorb_quiet_bars`] at once; the strategy takes the bars on which it would
//! ask for nothing, and the engine books them as `step` would have. The first bar the
//! strategy does not take is stepped as usual, so a run's outcome is the same, event for
//! event, as bar by bar.
//!
//! [`Strategy::absorb_quiet_bars`]: crate::strategy::Strategy::absorb_quiet_bars

use super::{Engine, EquityMode};
use crate::clock::Clock;
use crate::journal::Journal;
use crate::venue::Venue;
use lockstep_core::{Bar, UnixNanos};

/// Bars in the first window of a quiet run ([`Engine::absorb_quiet_run`]).
const FIRST_WINDOW: usize = 16;

impl<V: Venue, C: Clock, J: Journal> Engine<V, C, J> {
    /// Absorbs the quiet run at the head of `bars` (the bars after the one just stepped)
    /// and returns how many bars it took: 0 when the engine's state allows no quiet run.
    /// The run is looked at in windows that double from [`FIRST_WINDOW`] bars, so a run the
    /// strategy ends early costs a look at about as many bars as it took, not at the whole
    /// batch.
    pub(super) fn absorb_quiet_run(&mut self, bars: &[Bar]) -> usize {
        let (mut taken, mut window) = (0, FIRST_WINDOW);
        while self.may_run_quiet() {
            let rest = &bars[taken..];
            let ahead = &rest[..rest.len().min(window)];
            let (len, one_symbol) = self.quiet_len(ahead);
            if len == 0 {
                break;
            }
            let absorbed = self.strategies[0].absorb_quiet_bars(&ahead[..len]).min(len);
            self.exits.absorb_quiet(&self.quiet_moves, absorbed);
            self.book_absorbed(&ahead[..absorbed], one_symbol);
            taken += absorbed;
            if absorbed < ahead.len() {
                break;
            }
            window *= 2;
        }
        taken
    }

    /// Books bars a strategy absorbed as [`Engine::step`] would have: the market's latest
    /// bars (only the last one when they are `one_symbol`'s), the clock and the counts.
    fn book_absorbed(&mut self, absorbed: &[Bar], one_symbol: bool) {
        let Some(last) = absorbed.last() else {
            return;
        };
        if one_symbol {
            self.market.update(last);
        } else {
            for bar in absorbed {
                self.market.update(bar);
            }
        }
        self.clock.advance_to(last.end);
        self.bars += absorbed.len() as u64;
        self.last_ts = Some(last.ts);
    }

    /// True when nothing but bars' own symbols and times can make a bar do more than update
    /// the market and reach the strategy: one strategy, nothing pending, no EOD close under
    /// way, equity per session, no kept closes, and a session begun.
    fn may_run_quiet(&self) -> bool {
        self.strategies.len() == 1
            && self.pending.is_empty()
            && !self.eod_closing
            && self.settings.equity == EquityMode::Session
            && !self.market.keeps_history()
            && self.session.is_some()
    }

    /// How many leading bars of `bars` are quiet on the engine's side, and whether they are
    /// all of one symbol. A quiet bar is delivered in the session (UTC day) of the bar just
    /// stepped and no later than the next queued event, opens inside the EOD guard's quiet
    /// window ([`crate::exits::eod_guard::EodGuard::quiet_window`]), is of a symbol
    /// already classified with no order working at the simulated venue (checked once per
    /// change of symbol), and fires no exit ([`crate::ExitManager::quiet_prefix`], which
    /// keeps in `quiet_moves` how the bars move watched positions).
    fn quiet_len(&mut self, bars: &[Bar]) -> (usize, bool) {
        let (Some((from, until)), Some(first)) = (self.days.kept(), bars.first()) else {
            return (0, false);
        };
        let due = self.queue.peek_key().map_or(UnixNanos(i64::MAX), |k| k.ts);
        let (open, close) = match &mut self.eod {
            None => (UnixNanos(i64::MIN), UnixNanos(i64::MAX)),
            Some(guard) => match guard.quiet_window(first.ts) {
                Some(window) => window,
                None => return (0, false),
            },
        };
        let (instruments, exits, moves) = (&self.instruments, &self.exits, &mut self.quiet_moves);
        let Some(sim) = self.venue.simulator() else {
            return (0, false);
        };
        let idle = |b: &Bar| instruments.is_classified(b.symbol) && !sim.has_working(b);
        if !idle(first) {
            return (0, false);
        }
        let (mut checked, mut one_symbol) = (first.symbol, true);
        let len = bars
            .iter()
            .take_while(|b| {
                if b.end < from || b.end >= until || b.end > due || b.ts < open || b.ts >= close {
                    return false;
                }
                if b.symbol == checked {
                    return true;
                }
                one_symbol = false;
                checked = b.symbol;
                idle(b)
            })
            .count();
        (exits.quiet_prefix(&bars[..len], moves), one_symbol)
    }
}
