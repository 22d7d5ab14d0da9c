//! The exit manager: watches every open position on every bar of its instrument, whoever
//! opened it, and closes it when an exit rule fires. Rules and their priority are in
//! [`crate::exits::exit_rules`].
//!
//! Levels for a bar are fixed from what was known before it (entry price, best price and
//! trailing stop up to the previous bar), so nothing looks ahead. A position is judged on a
//! bar only if it was open when that bar opened (a `close`-model entry is judged from the
//! next bar). Hard stops, trailing stops and targets fill inside the bar that crosses them,
//! as resting orders would; soft stops and max hold send market orders.

use crate::executor::Executor;
use crate::exits::calm::{Calm, Moved, QuietMoves, Watch};
use crate::exits::exit_rules::TrailDistance;
use crate::exits::exit_rules::{
    decide, next_trail, partial_fill, timed, Band, Direction, ExitRules, Fired, Intrabar, Levels,
};
use crate::market::MarketState;
use crate::risk::EngineExit;
use lockstep_core::{
    Bar, ExitReason, Fill, Liquidity, OrderIntent, OrderKind, Price, Qty, Side, StrategyId,
    SymbolId, UnixNanos,
};
use std::collections::{BTreeMap, VecDeque};

/// Exit settings of a run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExitSettings {
    /// Rules per strategy, by strategy index (missing = no rules).
    pub rules: Vec<ExitRules>,
    /// Stop or target first when both are inside one bar.
    pub intrabar: Intrabar,
}

/// An exit the manager wants submitted.
#[derive(Debug, Clone, PartialEq)]
pub struct ExitOrder {
    /// The closing intent, with its reason: a stop order for hard and trailing stops, a
    /// limit order for a target, a market order otherwise. An engine exit: approved
    /// without entry checks.
    pub exit: EngineExit,
    /// Fill inside the current bar at this price and liquidity; `None` = market order.
    pub at: Option<(Price, Liquidity)>,
}

#[derive(Debug, Clone, PartialEq)]
struct Watched {
    dir: Direction,
    qty: Qty,
    entry: Price,
    opened: UnixNanos,
    best: Price,
    trail: Option<Price>,
    /// Hard, soft and target levels for the current entry price (they change only when a
    /// fill changes the entry), computed on the first bar that needs them.
    fixed: Option<[Option<Price>; 3]>,
    /// The best price moved since the trail was last computed.
    trail_stale: bool,
    /// The levels in force as mantissas (reset whenever a level moves).
    band: Option<Band>,
    /// `best` as a mantissa at the bar's scale, once known.
    best_m: Option<i64>,
    /// An exit the venue refused: asked again at market on the next bar.
    retry: Option<ExitReason>,
    /// The largest position held (partial tiers are fractions of it).
    peak: Qty,
    /// Partial tiers already taken.
    tiers_done: usize,
}

impl Watched {
    fn new(dir: Direction, qty: Qty, entry: Price, opened: UnixNanos) -> Self {
        Watched {
            dir,
            qty,
            entry,
            opened,
            best: entry,
            trail: None,
            fixed: None,
            trail_stale: true,
            band: None,
            best_m: None,
            retry: None,
            peak: qty,
            tiers_done: 0,
        }
    }
}

/// Average true range over a fixed number of bars, in exact fixed-point mantissas.
#[derive(Debug, Clone, Default)]
struct Atr {
    ranges: VecDeque<i64>,
    sum: i128,
    prev_close: Option<i64>,
}

impl Atr {
    fn update(&mut self, bar: &Bar, period: usize) {
        let high = self.prev_close.map_or(bar.high, |c| bar.high.max(c));
        let low = self.prev_close.map_or(bar.low, |c| bar.low.min(c));
        self.prev_close = Some(bar.close);
        self.ranges.push_back(high - low);
        self.sum += i128::from(high - low);
        if self.ranges.len() > period {
            if let Some(old) = self.ranges.pop_front() {
                self.sum -= i128::from(old);
            }
        }
    }

    fn value(&self, bar: &Bar, period: usize) -> Option<Price> {
        if self.ranges.len() < period || period == 0 {
            return None;
        }
        let sum = i64::try_from(self.sum).ok()?;
        Some(bar.scale.to_decimal(sum) / Price::from(period as u64))
    }
}

/// Watches positions and fires exits. Holds no orders itself: it only asks.
#[derive(Debug, Clone, Default)]
pub struct ExitManager {
    settings: ExitSettings,
    active: bool,
    atr_periods: Vec<usize>,
    positions: BTreeMap<(SymbolId, StrategyId), Watched>,
    /// Per symbol (by index), how many of `positions` it has: a bar of a symbol with none
    /// skips the search of `positions`.
    watched_in: Vec<u32>,
    atr: BTreeMap<(SymbolId, usize), Atr>,
    /// Each option's expiry session (minimum days to expiry).
    expiries: BTreeMap<SymbolId, chrono::NaiveDate>,
}

impl ExitManager {
    /// A manager applying `settings`.
    pub fn new(settings: ExitSettings) -> Self {
        let mut atr_periods: Vec<usize> = settings
            .rules
            .iter()
            .filter_map(|r| match r.trailing.map(|t| t.distance) {
                Some(TrailDistance::Atr { period, .. }) => Some(period),
                _ => None,
            })
            .collect();
        atr_periods.sort_unstable();
        atr_periods.dedup();
        ExitManager {
            active: settings.rules.iter().any(ExitRules::any),
            settings,
            atr_periods,
            positions: BTreeMap::new(),
            watched_in: Vec::new(),
            atr: BTreeMap::new(),
            expiries: BTreeMap::new(),
        }
    }

    /// Counts a position of `symbol` that starts (`true`) or stops being watched.
    fn count_watched(&mut self, symbol: SymbolId, starts: bool) {
        let i = symbol.index();
        if self.watched_in.len() <= i {
            self.watched_in.resize(i + 1, 0);
        }
        let n = &mut self.watched_in[i];
        *n = if starts { *n + 1 } else { n.saturating_sub(1) };
    }

    /// `symbol` is an option expiring at the close of session `date`.
    pub fn set_expiry(&mut self, symbol: SymbolId, date: chrono::NaiveDate) {
        self.expiries.insert(symbol, date);
    }

    /// False when no strategy has a rule: the loop skips the manager entirely.
    pub fn is_active(&self) -> bool {
        self.active
    }

    /// How many leading bars of `bars` [`ExitManager::on_bar`] would fire no exit on,
    /// with `moves` (cleared first) holding what they would do to watched positions; all
    /// of them when no rule is set, none while an ATR is kept (it takes every bar). A bar
    /// is quiet when its symbol has no watched position, or one settled position that the
    /// bar is judged on, inside its max hold and outside every level's reach
    /// ([`Band::may_fire`]); a bar beyond the best price moves the position as `on_bar`
    /// would (its best price, its trailing stop) and the bars after it are judged by the
    /// moved levels ([`crate::exits::calm`]).
    pub fn quiet_prefix(&self, bars: &[Bar], moves: &mut QuietMoves) -> usize {
        moves.clear();
        if !self.active {
            return bars.len();
        }
        if !self.atr_periods.is_empty() {
            return 0;
        }
        let mut k = 0;
        // Run by run of one symbol's bars, its position (if any) judged bar by bar.
        while let Some(first) = bars.get(k) {
            let symbol = first.symbol;
            let slot = match moves.slot_of(symbol) {
                Some(i) => i,
                None => match self.calm_in(symbol) {
                    Some(calm) => moves.meet(symbol, calm),
                    None => return k,
                },
            };
            let run = bars[k..].iter().take_while(|b| b.symbol == symbol);
            match &mut moves.met[slot].1 {
                None => k += run.count(),
                Some((key, calm)) => {
                    for bar in run {
                        match calm.take(bar) {
                            None => return k,
                            Some(true) => moves.moves.push((k, *key, calm.moved)),
                            Some(false) => {}
                        }
                        k += 1;
                    }
                }
            }
        }
        bars.len()
    }

    /// Books the first `taken` bars of the run `moves` was made for (as many as
    /// [`ExitManager::quiet_prefix`] allowed, or fewer): each position they moved takes its
    /// state after the last of them that moved it.
    pub fn absorb_quiet(&mut self, moves: &QuietMoves, taken: usize) {
        for (_, key, moved) in moves.moves.iter().take_while(|(k, ..)| *k < taken) {
            if let Some(w) = self.positions.get_mut(key) {
                w.best = moved.best;
                w.best_m = Some(moved.best_m);
                w.trail = moved.trail;
                w.band = Some(moved.band);
                w.trail_stale = moved.trail_stale;
            }
        }
    }

    /// `Some(None)` when no position in `symbol` is watched (or none has rules); the one
    /// position watched, settled, as a [`Calm`]; `None` when a bar of `symbol` might change
    /// something whatever its prices: several positions, an exit to ask again, a partial
    /// tier left, a trailing stop still to compute or kept by the ATR, an expiry rule, or
    /// levels and best price not yet fixed by a first judged bar.
    fn calm_in(&self, symbol: SymbolId) -> Option<Option<Watch>> {
        if self.watched_in.get(symbol.index()).is_none_or(|n| *n == 0) {
            return Some(None);
        }
        let mut watched = self
            .positions
            .range((symbol, StrategyId(0))..=(symbol, StrategyId(u32::MAX)));
        let (&key, w) = watched.next()?;
        if watched.next().is_some() {
            return None;
        }
        let Some(rules) = self.rules(key.1) else {
            return Some(None);
        };
        let trailing = match rules.trailing {
            Some(t) if matches!(t.distance, TrailDistance::Pct(_)) && !w.trail_stale => Some(t),
            Some(_) => return None,
            None => None,
        };
        let settled = w.retry.is_none()
            && rules.partials.get(w.tiers_done).is_none()
            && rules.min_dte.is_none();
        let fixed = w.fixed.filter(|_| settled)?;
        let band = w.band.filter(|b| !b.always_fires())?;
        let best_m = w.best_m.filter(|m| *m != i64::MIN)?;
        Some(Some((
            key,
            Calm {
                dir: w.dir,
                entry: w.entry,
                opened: w.opened,
                max_hold_ns: rules.max_hold_secs.map(|s| s.saturating_mul(1_000_000_000)),
                trailing,
                fixed,
                moved: Moved {
                    best: w.best,
                    best_m,
                    trail: w.trail,
                    band,
                    trail_stale: w.trail_stale,
                },
            },
        )))
    }

    fn rules(&self, strategy: StrategyId) -> Option<&ExitRules> {
        self.settings.rules.get(strategy.0 as usize)
    }

    /// Books a fill of `fill.strategy`, whose position in the symbol is now `position`.
    /// A new or flipped position starts with the fill's price and time; adding averages
    /// the entry; reducing keeps it.
    pub fn on_fill(&mut self, fill: &Fill, position: Qty) {
        if !self.active {
            return;
        }
        let key = (fill.symbol, fill.strategy);
        if position.is_zero() {
            if self.positions.remove(&key).is_some() {
                self.count_watched(fill.symbol, false);
            }
            return;
        }
        let dir = Direction {
            long: position.is_sign_positive(),
        };
        let qty = position.abs();
        match self.positions.get_mut(&key) {
            Some(w) if w.dir == dir && qty > w.qty => {
                let added = qty - w.qty;
                w.entry = (w.entry * w.qty + fill.price * added) / qty;
                w.qty = qty;
                w.peak = w.peak.max(qty);
                w.fixed = None;
                w.trail_stale = true;
                w.band = None;
            }
            Some(w) if w.dir == dir => w.qty = qty,
            _ => {
                let replaced = self
                    .positions
                    .insert(key, Watched::new(dir, qty, fill.price, fill.ts));
                if replaced.is_none() {
                    self.count_watched(fill.symbol, true);
                }
            }
        }
    }

    /// Judges every watched position in `bar.symbol` and appends the exits to submit, each
    /// sized by the strategy's filled position. A position with a working engine exit is
    /// not asked twice; one whose exit the venue refused is asked again.
    pub fn on_bar(&mut self, bar: &Bar, executor: &Executor, out: &mut Vec<ExitOrder>) {
        for &period in &self.atr_periods {
            self.atr
                .entry((bar.symbol, period))
                .or_default()
                .update(bar, period);
        }
        if self
            .watched_in
            .get(bar.symbol.index())
            .is_none_or(|n| *n == 0)
        {
            return;
        }
        let from = (bar.symbol, StrategyId(0));
        let to = (bar.symbol, StrategyId(u32::MAX));
        let intrabar = self.settings.intrabar;
        let dp = bar.scale.dp();
        for (&(symbol, strategy), w) in self.positions.range_mut(from..=to) {
            let Some(rules) = self.settings.rules.get(strategy.0 as usize) else {
                continue;
            };
            if w.opened > bar.ts {
                continue;
            }
            // On a quote bar a position is judged on the side its exit trades against (a
            // long's stop and target on the bid), so a level fires only where the exit
            // could fill. With no quote on that side no level can be judged; max hold and
            // retries still ask, and the venue withdraws the order (`no_quote`) until a
            // quote comes.
            let exit_side = if w.dir.long { Side::Sell } else { Side::Buy };
            let facing = bar.facing(exit_side);
            let quoted = facing.is_some();
            let judged = facing.unwrap_or(*bar);
            let bar = &judged;
            let [hard, soft, target] = *w.fixed.get_or_insert_with(|| {
                let at = |p: Option<lockstep_core::Decimal>, sign| {
                    p.map(|p| w.dir.offset(w.entry, p * sign, dp))
                };
                let minus = -lockstep_core::Decimal::ONE;
                [
                    at(rules.hard_stop_pct, minus),
                    at(rules.soft_stop_pct, minus),
                    at(rules.take_profit_pct, lockstep_core::Decimal::ONE),
                ]
            });
            let min_dte_reached = match (rules.min_dte, self.expiries.get(&symbol)) {
                (Some(days), Some(expiry)) => {
                    let today = bar
                        .ts
                        .to_datetime()
                        .with_timezone(&chrono_tz::America::New_York)
                        .date_naive();
                    (*expiry - today).num_days() <= i64::from(days)
                }
                _ => false,
            };
            let levels = Levels {
                hard,
                soft,
                trail: w.trail,
                target,
                max_hold_reached: rules
                    .max_hold_secs
                    .is_some_and(|s| bar.end.0 - w.opened.0 >= s.saturating_mul(1_000_000_000)),
                min_dte_reached,
            };
            let band = *w
                .band
                .get_or_insert_with(|| Band::of(&levels, w.dir, bar.scale));
            let timed_out = levels.max_hold_reached || levels.min_dte_reached;
            let quiet = !timed_out && !band.may_fire(w.dir, bar);
            let fired = if !quoted {
                timed(&levels)
            } else if quiet {
                None
            } else {
                decide(&levels, w.dir, bar, intrabar)
            };
            let retry = w.retry.take().map(|reason| Fired { reason, at: None });
            // The next partial tier, when nothing closes the whole position on this bar.
            let partial = match rules.partials.get(w.tiers_done) {
                Some(tier) if quoted && fired.is_none() && retry.is_none() => {
                    let level = w.dir.offset(w.entry, tier.gain_pct, dp);
                    partial_fill(level, w.dir, bar).map(|at| {
                        // In the position's own units: whole shares stay whole.
                        let slice = (w.peak * tier.fraction).round_dp_with_strategy(
                            w.peak.scale(),
                            rust_decimal::RoundingStrategy::ToZero,
                        );
                        (
                            Fired {
                                reason: ExitReason::PartialTakeProfit,
                                at: Some(at),
                            },
                            level,
                            slice,
                        )
                    })
                }
                _ => None,
            };
            let slice = partial.map(|(_, _, q)| q);
            let partial_level = partial.map(|(_, l, _)| l);
            if let Some(Fired { reason, at }) = fired.or(retry).or(partial.map(|(f, _, _)| f)) {
                // Sized by the filled position; the loop withdraws the strategy's other
                // working orders in the symbol first, so the close cannot over- or
                // under-shoot. A position already being closed is not asked twice.
                let open = executor.strategy_position(strategy, symbol);
                let closing = executor.closing(strategy, symbol);
                let sized = slice.is_none_or(|s| s > Qty::ZERO);
                let sends =
                    sized && !closing && !open.is_zero() && open.is_sign_positive() == w.dir.long;
                // A tier is taken once: when its slice goes out, or when it rounds to nothing;
                // while another exit is closing the position it waits for a later bar.
                if slice.is_some() && (sends || !sized) {
                    w.tiers_done += 1;
                }
                if sends {
                    let side = exit_side;
                    // The order is recorded as what it stands for: a stop at the stop's
                    // level, a limit at the target (both filled inside this bar), a market
                    // order otherwise (soft stop, max hold, a retry).
                    let kind = match reason {
                        _ if at.is_none() => None,
                        ExitReason::HardStop => levels.hard.map(|stop| OrderKind::Stop { stop }),
                        ExitReason::Trailing => levels.trail.map(|stop| OrderKind::Stop { stop }),
                        ExitReason::TakeProfit => {
                            levels.target.map(|limit| OrderKind::Limit { limit })
                        }
                        ExitReason::PartialTakeProfit => {
                            partial_level.map(|limit| OrderKind::Limit { limit })
                        }
                        _ => None,
                    };
                    let qty = slice.map_or(open.abs(), |s| s.min(open.abs()));
                    let intent = OrderIntent::market(strategy, symbol, side, qty, Some(reason));
                    out.push(ExitOrder {
                        exit: EngineExit::new(OrderIntent {
                            kind: kind.unwrap_or_default(),
                            ..intent
                        }),
                        at,
                    });
                }
            }
            if !quoted {
                continue;
            }
            let best_m = *w
                .best_m
                .get_or_insert_with(|| bar.scale.from_decimal(w.best).unwrap_or(i64::MIN));
            let favourable_m = if w.dir.long { bar.high } else { bar.low };
            let improves = if best_m == i64::MIN {
                let (_, favourable) = w.dir.extremes(bar);
                w.dir.worse(w.best, favourable) && w.best != favourable
            } else if w.dir.long {
                favourable_m > best_m
            } else {
                favourable_m < best_m
            };
            if improves {
                // The bar's favourable price is `favourable_m` at the bar's scale: its
                // mantissa needs no conversion back from the decimal.
                w.best = w.dir.extremes(bar).1;
                w.best_m = Some(favourable_m);
                w.trail_stale = true;
            }
            let Some(rule) = rules.trailing else {
                continue;
            };
            let atr = match rule.distance {
                TrailDistance::Atr { period, .. } => self
                    .atr
                    .get(&(symbol, period))
                    .and_then(|a| a.value(bar, period)),
                TrailDistance::Pct(_) if !w.trail_stale => continue,
                TrailDistance::Pct(_) => None,
            };
            let trail = next_trail(w.trail, &rule, w.dir, w.entry, w.best, atr, dp);
            if trail != w.trail {
                // The band of the moved stop, ready for the next bar (or a quiet run).
                w.trail = trail;
                w.band = Some(Band::of(&Levels { trail, ..levels }, w.dir, bar.scale));
            }
            w.trail_stale = false;
        }
    }

    /// Why a strategy's own exit must wait, under `signal_only_in_profit`: the intent
    /// closes or reduces the strategy's watched position while its P&L at the latest mark
    /// is below zero (break-even exits pass). `None` lets it through.
    pub fn held_signal_exit(
        &self,
        intent: &OrderIntent,
        market: &MarketState,
    ) -> Option<(lockstep_core::RejectCode, String)> {
        if !matches!(intent.exit_reason, None | Some(ExitReason::Signal)) {
            return None;
        }
        let rules = self.rules(intent.strategy)?;
        let w = self.positions.get(&(intent.symbol, intent.strategy))?;
        let closes = (intent.side == Side::Sell) == w.dir.long;
        if let Some(trail) = w
            .trail
            .filter(|_| rules.trailing_suppresses_signal && closes)
        {
            return Some((
                lockstep_core::RejectCode::ExitHeldTrailing,
                format!("signal exit held: the trailing stop at {trail} is active and decides"),
            ));
        }
        if !rules.signal_only_in_profit {
            return None;
        }
        let mark = market.mark(intent.symbol)?;
        let losing = w.dir.worse(mark, w.entry) && mark != w.entry;
        (closes && losing).then(|| {
            let why = format!(
                "signal exit held: mark {mark} is at a loss against entry {}",
                w.entry.round_dp(8).normalize()
            );
            (lockstep_core::RejectCode::ExitNotInProfit, why)
        })
    }

    /// The venue refused `order`: if it was one of the manager's exits, the position is
    /// asked to close again (at market) on its next bar.
    pub fn on_rejected(&mut self, order: &lockstep_core::Order) {
        let Some(reason) = order.exit_reason.filter(|r| {
            order.is_engine_exit() && !matches!(r, ExitReason::Eod | ExitReason::PartialTakeProfit)
        }) else {
            return;
        };
        if let Some(w) = self.positions.get_mut(&(order.symbol, order.strategy)) {
            w.retry = Some(reason);
        }
    }

    /// The trailing stop of `strategy`'s position in `symbol`, if one is set.
    pub fn trailing_level(&self, strategy: StrategyId, symbol: SymbolId) -> Option<Price> {
        self.positions.get(&(symbol, strategy))?.trail
    }
}
