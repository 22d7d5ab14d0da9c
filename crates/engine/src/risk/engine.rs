//! The risk engine: every intent passes here before the executor may act on it.
//!
//! [`ApprovedIntent`] can only be made here, and the executor accepts nothing else: an
//! unchecked order is unrepresentable. A strategy's intent is always judged
//! ([`RiskEngine::check`]); only an [`EngineExit`] skips the entry checks
//! ([`RiskEngine::approve_exit`]).

use super::account::{AccountLimits, AccountState, EntryView};
use super::approval::{opened_by, ApprovedIntent, EngineExit, Reservation};
use super::limits::RiskLimits;
use crate::executor::Executor;
use crate::journal::Rejection;
use crate::ledger::Ledger;
use crate::market::MarketState;
use lockstep_core::{Money, OrderIntent, Origin, Qty, RejectCode, Side, UnixNanos};

/// What the risk engine counts per session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct SessionCounters {
    key: Option<i64>,
    start_equity: Money,
    entries: u32,
    entry_notional: Money,
    paused_by_streak: bool,
}

/// Applies [`RiskLimits`] to intents.
#[derive(Debug, Clone, Default)]
pub struct RiskEngine {
    limits: RiskLimits,
    session: SessionCounters,
    entries_closed_until: Option<UnixNanos>,
    losing_streak: u32,
    streak_paused_until: Option<UnixNanos>,
    venue_errors: u32,
    venue_blocked_until: Option<UnixNanos>,
    reservations: std::collections::BTreeMap<lockstep_core::OrderId, Reservation>,
    venue_down: Option<String>,
    clock_skew: Option<String>,
    killed: Option<String>,
    /// When each symbol last had a closing fill (re-entry cooldown).
    last_exit: std::collections::BTreeMap<lockstep_core::SymbolId, UnixNanos>,
    /// The symbol each instrument counts under for positions per symbol: its own name,
    /// an option's underlying.
    groups: std::collections::BTreeMap<lockstep_core::SymbolId, String>,
}

impl RiskEngine {
    /// A risk engine enforcing `limits`.
    pub fn new(limits: RiskLimits) -> Self {
        RiskEngine {
            limits,
            session: SessionCounters::default(),
            entries_closed_until: None,
            losing_streak: 0,
            streak_paused_until: None,
            venue_errors: 0,
            venue_blocked_until: None,
            reservations: std::collections::BTreeMap::new(),
            venue_down: None,
            clock_skew: None,
            killed: None,
            last_exit: std::collections::BTreeMap::new(),
            groups: std::collections::BTreeMap::new(),
        }
    }

    /// A fill in `symbol` closed (part of) a position at `now`: the re-entry cooldown of
    /// `risk.reentry_cooldown_secs` starts, for every strategy.
    pub fn on_exit_fill(&mut self, symbol: lockstep_core::SymbolId, now: UnixNanos) {
        self.last_exit.insert(symbol, now);
    }

    /// `symbol` counts under the symbol named `group` (its own name; an option's
    /// underlying) for `risk.max_positions_per_symbol`.
    pub fn set_group(&mut self, symbol: lockstep_core::SymbolId, group: &str) {
        self.groups.insert(symbol, group.to_string());
    }

    /// The group of `symbol`: its registered name, or itself by id when never registered.
    fn group(
        &self,
        symbol: lockstep_core::SymbolId,
    ) -> (Option<&str>, Option<lockstep_core::SymbolId>) {
        match self.groups.get(&symbol) {
            Some(name) => (Some(name.as_str()), None),
            None => (None, Some(symbol)),
        }
    }

    /// Positions (a strategy's holding or working entry in an instrument) under `symbol`'s
    /// group, other than `except`'s own.
    fn positions_in_group(
        &self,
        symbol: lockstep_core::SymbolId,
        except: lockstep_core::StrategyId,
        executor: &Executor,
    ) -> u32 {
        let group = self.group(symbol);
        let mut held: std::collections::BTreeSet<_> = executor
            .strategy_positions()
            .into_iter()
            .filter(|(_, _, q)| !q.is_zero())
            .map(|(k, s, _)| (k, s))
            .collect();
        held.extend(
            executor
                .live_where(|o| o.exit_reason.is_none())
                .into_iter()
                .map(|o| (o.strategy, o.symbol)),
        );
        let n = held
            .into_iter()
            .filter(|(k, s)| self.group(*s) == group && !(*k == except && *s == symbol))
            .count();
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    /// `order` was created from an approved entry holding `reserved`.
    pub fn track(&mut self, order: lockstep_core::OrderId, reserved: Reservation) {
        self.reservations.insert(order, reserved);
    }

    /// `order` filled `qty` at `price` x `multiplier`: the session's entry exposure counts
    /// the fill's notional instead of the estimate it reserved.
    pub fn on_fill(
        &mut self,
        order: lockstep_core::OrderId,
        qty: Qty,
        price: lockstep_core::Price,
        multiplier: Money,
    ) {
        let Some(r) = self.reservations.get_mut(&order) else {
            return;
        };
        let filled = qty.min(r.qty);
        if r.session == self.session.key {
            self.session.entry_notional += filled * (price * multiplier - r.unit);
        }
        r.qty -= filled;
        r.filled = true;
        if r.qty <= Qty::ZERO {
            self.reservations.remove(&order);
        }
    }

    /// `order` ended without filling the rest (expired, withdrawn, refused, cancelled):
    /// the exposure it still held is released.
    pub fn on_unfilled(&mut self, order: lockstep_core::OrderId) {
        if let Some(r) = self.reservations.remove(&order) {
            if r.session == self.session.key {
                self.session.entry_notional -= r.qty * r.unit;
                if !r.filled {
                    self.session.entries = self.session.entries.saturating_sub(1);
                }
            }
        }
    }

    /// The venue acknowledged an order: the run of venue errors ends.
    pub fn on_venue_ok(&mut self) {
        self.venue_errors = 0;
    }

    /// The venue refused an order or did not answer at `now`. Reaching the breaker's count
    /// blocks entries for its cool-down.
    pub fn on_venue_error(&mut self, now: UnixNanos) {
        self.venue_errors += 1;
        if let Some(b) = self.limits.venue_breaker {
            if self.venue_errors >= b.errors {
                let cooldown = i64::try_from(b.cooldown_secs).unwrap_or(i64::MAX / 2);
                self.venue_blocked_until = Some(now.plus(cooldown.saturating_mul(1_000_000_000)));
                self.venue_errors = 0;
            }
        }
    }

    /// Records a closed round trip (FIFO allocation) at `now`: a loss extends the losing
    /// streak, a win ends it. Reaching `loss_streak` pauses entries.
    pub fn on_round_trip(&mut self, net_pnl: Money, now: UnixNanos) {
        if net_pnl < Money::ZERO {
            self.losing_streak += 1;
            if self
                .limits
                .loss_streak
                .is_some_and(|n| self.losing_streak >= n)
            {
                match self.limits.loss_streak_pause_secs {
                    None => self.session.paused_by_streak = true,
                    Some(secs) => {
                        let secs = i64::try_from(secs).unwrap_or(i64::MAX / 2);
                        self.streak_paused_until =
                            Some(now.plus(secs.saturating_mul(1_000_000_000)));
                    }
                }
                self.losing_streak = 0;
            }
        } else if net_pnl > Money::ZERO {
            self.losing_streak = 0;
        }
    }

    /// The venue cannot confirm orders (`Some(why)`: its update stream is down) or can again
    /// (`None`). While it cannot, entries are refused `venue_down`; closes still pass.
    pub fn set_venue_down(&mut self, why: Option<String>) {
        self.venue_down = why;
    }

    /// Our clock disagrees with the broker's by too much (`Some(why)`) or agrees again
    /// (`None`). While it disagrees, entries are refused `clock_skew`; closes still pass.
    pub fn set_clock_skew(&mut self, why: Option<String>) {
        self.clock_skew = why;
    }

    /// An operator's run-time kill switch (`Some(why)`) or its lift (`None`). While it is
    /// on, entries are refused `kill_switch`; closes still pass.
    pub fn set_killed(&mut self, why: Option<String>) {
        self.killed = why;
    }

    /// Until when the venue breaker blocks entries, if it is tripped at `now`.
    pub fn breaker_until(&self, now: UnixNanos) -> Option<UnixNanos> {
        self.venue_blocked_until.filter(|t| now < *t)
    }

    /// Whether the run-time kill switch is on.
    pub fn killed(&self) -> bool {
        self.killed.is_some()
    }

    /// Refuses entries until and at `until` (the EOD guard closes the session's entries;
    /// an entry decided on the bar delivered at the close is refused too).
    pub fn close_entries_until(&mut self, until: UnixNanos) {
        self.entries_closed_until = Some(until);
    }

    /// Starts the session `key` (resets the daily counters) with the book at `equity`.
    pub fn start_session(&mut self, key: i64, equity: Money) {
        if self.session.key != Some(key) {
            self.session = SessionCounters {
                key: Some(key),
                start_equity: equity,
                ..SessionCounters::default()
            };
        }
    }

    /// Approves an engine exit (exit manager, EOD guard, settlement): a close, so no entry
    /// limit applies, but its quantity, levels and market data must still make sense.
    pub fn approve_exit(
        &mut self,
        exit: EngineExit,
        now: UnixNanos,
        market: &MarketState,
    ) -> Result<ApprovedIntent, Rejection> {
        let intent = exit.into_intent();
        sane(&intent, now, market)?;
        Ok(ApprovedIntent {
            intent,
            reserved: None,
            origin: Origin::Engine,
        })
    }

    /// Approves a strategy's `intent` or says why not; approved entries count toward the
    /// session limits. The intent's exit reason is only a label: an intent that opens or
    /// adds to a position is an entry and meets every entry check, whatever reason it
    /// carries.
    /// Positions are judged as they will be once every working order fills, so entries
    /// decided on the same step cannot slip past a limit together.
    pub fn check(
        &mut self,
        intent: OrderIntent,
        now: UnixNanos,
        market: &MarketState,
        ledger: &Ledger,
        executor: &Executor,
    ) -> Result<ApprovedIntent, Rejection> {
        let reject = |code: RejectCode, detail: String| Rejection::of(&intent, now, code, detail);
        let mark = sane(&intent, now, market)?;
        let signed = |q: Qty| match intent.side {
            Side::Buy => q,
            Side::Sell => -q,
        };
        // Entry or exit is the strategy's own view (its filled and working quantity), so
        // one strategy closing while another holds the opposite side is still an exit.
        let own = executor.strategy_position(intent.strategy, intent.symbol)
            + executor.working_qty(intent.strategy, intent.symbol);
        let opening = opened_by(own, own + signed(intent.qty));
        if opening.is_zero() {
            // Exits and reductions always go through: limits block entries only.
            return Ok(ApprovedIntent {
                intent,
                reserved: None,
                origin: Origin::Strategy,
            });
        }
        // Position limits judge the whole book as it will be once every working order fills.
        let after = ledger.position(intent.symbol)
            + executor.book_working_qty(intent.symbol)
            + signed(intent.qty);
        // An entry is priced where it would trade: on a quote bar the ask for a buy, the
        // bid for a sell; with no quote on that side it cannot fill at all.
        let facing = market
            .last_bar(intent.symbol)
            .map(|b| b.facing(intent.side));
        let price = match facing {
            // A buy limit can fill up to its limit: that is its worst case.
            Some(Some(view)) => match (intent.side, intent.kind.limit_price()) {
                (Side::Buy, Some(limit)) => limit,
                _ => view.close_price(),
            },
            Some(None) => {
                let missing = match intent.side {
                    Side::Buy => "no ask to buy at",
                    Side::Sell => "no bid to sell at",
                };
                return Err(reject(
                    RejectCode::NoQuote,
                    format!("{missing} in the last quote bar"),
                ));
            }
            None => mark,
        };
        let unit = price * ledger.multiplier(intent.symbol);
        let notional = opening * unit;
        if executor.closing(intent.strategy, intent.symbol) {
            return Err(reject(
                RejectCode::ExitPending,
                "an engine exit is closing this position; no entry until it is done".into(),
            ));
        }
        if self.entries_closed_until.is_some_and(|t| now <= t) {
            return Err(reject(
                RejectCode::EodCutoff,
                "the EOD guard ran; entries resume next session".into(),
            ));
        }
        if self.session.paused_by_streak {
            return Err(reject(
                RejectCode::LossStreak,
                "losing streak: entries paused until the next session".into(),
            ));
        }
        if let Some(until) = self.streak_paused_until.filter(|t| now < *t) {
            return Err(reject(
                RejectCode::LossStreak,
                format!("losing streak: entries paused until {}", until.to_iso()),
            ));
        }
        if let Some(until) = self.venue_blocked_until.filter(|t| now < *t) {
            return Err(reject(
                RejectCode::VenueBreaker,
                format!(
                    "venue errors tripped the breaker: entries blocked until {}",
                    until.to_iso()
                ),
            ));
        }
        if let Some(c) = self.limits.entry_cutoff {
            let local = now.to_datetime().with_timezone(&c.tz).time();
            if local >= c.at {
                return Err(reject(
                    RejectCode::EntryCutoff,
                    format!(
                        "no new entries after {} exchange time (now {})",
                        c.at.format("%H:%M"),
                        local.format("%H:%M")
                    ),
                ));
            }
        }
        if let Some(b) = &self.limits.entry_blackout {
            let local = now.to_datetime().with_timezone(&b.tz).time();
            if let Some((s, e)) = b.ranges.iter().find(|(s, e)| *s <= local && local < *e) {
                return Err(reject(
                    RejectCode::EntryBlackout,
                    format!(
                        "no entries in {}-{} exchange time (now {})",
                        s.format("%H:%M"),
                        e.format("%H:%M"),
                        local.format("%H:%M")
                    ),
                ));
            }
        }
        if let Some(p) = &self.limits.entry_patterns {
            let closes = market.closes(intent.symbol);
            if let Some(seen) = lockstep_core::features::pattern(&closes, p.bars) {
                if p.blocked.contains(&seen) {
                    return Err(reject(
                        RejectCode::EntryPattern,
                        format!("the last {} closes moved {seen}, a blocked pattern", p.bars),
                    ));
                }
            }
        }
        if let Some(s) = self.limits.entry_score {
            let closes = market.closes(intent.symbol);
            if let Some(x) = lockstep_core::features::returns(&closes) {
                let score: f64 = x.iter().zip(s.weights).map(|(a, w)| a * w).sum();
                if score < s.min {
                    return Err(reject(
                        RejectCode::EntryScore,
                        format!("feature score {score:.6} is below {}", s.min),
                    ));
                }
            }
        }
        if let Some(why) = &self.venue_down {
            return Err(reject(RejectCode::VenueDown, why.clone()));
        }
        if let Some(why) = &self.clock_skew {
            return Err(reject(RejectCode::ClockSkew, why.clone()));
        }
        if let Some(why) = &self.killed {
            return Err(reject(RejectCode::KillSwitch, why.clone()));
        }
        if self.limits.kill_switch {
            return Err(reject(RejectCode::KillSwitch, "kill switch is on".into()));
        }
        if let Some(max) = self.limits.max_order_notional {
            if notional > max {
                return Err(reject(
                    RejectCode::MaxOrderNotional,
                    format!("entry notional {notional} exceeds max_order_notional {max}"),
                ));
            }
        }
        if let Some(max) = self.limits.max_position_qty {
            if after.abs() > max {
                return Err(reject(
                    RejectCode::MaxPositionQty,
                    format!(
                        "position {} would exceed max_position_qty {max}",
                        after.abs()
                    ),
                ));
            }
        }
        if let Some(max) = self.limits.stale_after_secs {
            let last_end = market.last_bar(intent.symbol).map_or(now, |b| b.end);
            let age = (now.0 - last_end.0).max(0) / 1_000_000_000;
            if age as u64 > max {
                return Err(reject(
                    RejectCode::StaleData,
                    format!("last bar ended {age} s ago, stale_after_secs {max}"),
                ));
            }
        }
        if let Some(max) = self.limits.max_open_positions {
            let mut symbols = executor.working_symbols();
            symbols.extend(ledger.open_symbols());
            let open = symbols.len() as u32;
            if !symbols.contains(&intent.symbol) && open >= max {
                return Err(reject(
                    RejectCode::MaxOpenPositions,
                    format!("{open} positions open, max_open_positions {max}"),
                ));
            }
        }
        if let Some(max) = self.limits.max_daily_trades {
            if self.session.entries >= max {
                return Err(reject(
                    RejectCode::MaxDailyTrades,
                    format!(
                        "{} entries this session, max_daily_trades {max}",
                        self.session.entries
                    ),
                ));
            }
        }
        if let Some(max) = self.limits.max_daily_entry_notional {
            let total = self.session.entry_notional + notional;
            if total > max {
                return Err(reject(
                    RejectCode::MaxDailyExposure,
                    format!("entry notional this session would be {total}, max_daily_entry_notional {max}"),
                ));
            }
        }
        if let Some(limit) = self.limits.daily_loss_limit {
            let loss = self.session.start_equity - ledger.equity(|s| market.mark(s));
            if loss >= limit {
                return Err(reject(
                    RejectCode::DailyLossLimit,
                    format!("session loss {loss} reached daily_loss_limit {limit}"),
                ));
            }
        }
        let account = &self.limits.account;
        if *account != AccountLimits::default() {
            let view = EntryView {
                symbol: intent.symbol,
                side: intent.side,
                account_after: after,
                own_after: own + signed(intent.qty),
                own_before: !own.is_zero(),
                unit,
                notional,
                now,
            };
            let state = AccountState {
                ledger,
                market,
                working_exposure: self.reservations.values().map(|r| r.qty * r.unit).sum(),
                positions_in_group: match account.max_positions_per_symbol {
                    Some(_) => self.positions_in_group(intent.symbol, intent.strategy, executor),
                    None => 0,
                },
                last_exit: &self.last_exit,
            };
            if let Err((code, detail)) = super::account::check(account, &view, &state) {
                return Err(reject(code, detail));
            }
        }
        self.session.entries += 1;
        self.session.entry_notional += notional;
        let reserved = Some(Reservation {
            session: self.session.key,
            qty: opening,
            unit,
            filled: false,
        });
        Ok(ApprovedIntent {
            intent,
            reserved,
            origin: Origin::Strategy,
        })
    }
}

/// Checks every order must pass, entry or exit: a positive quantity, levels that can work,
/// and a price seen for the instrument (returned: its mark).
fn sane(
    intent: &OrderIntent,
    now: UnixNanos,
    market: &MarketState,
) -> Result<lockstep_core::Price, Rejection> {
    let reject = |code: RejectCode, detail: String| Rejection::of(intent, now, code, detail);
    if intent.qty <= Qty::ZERO {
        return Err(reject(
            RejectCode::InvalidQty,
            format!("quantity {} is not positive", intent.qty),
        ));
    }
    if let Err(why) = intent.kind.check(intent.side) {
        return Err(reject(RejectCode::InvalidPrice, why));
    }
    market.mark(intent.symbol).ok_or_else(|| {
        reject(
            RejectCode::NoMarketData,
            "no bar seen for this symbol yet".into(),
        )
    })
}
