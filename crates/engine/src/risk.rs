//! The risk engine: every intent passes here before the executor may act on it.
//!
//! [`ApprovedIntent`] can only be made by [`RiskEngine::check`], and the executor accepts
//! nothing else: an unchecked order is unrepresentable.

use crate::executor::Executor;
use crate::journal::Rejection;
use crate::ledger::Ledger;
use crate::market::MarketState;
use lockstep_core::{Money, OrderIntent, Qty, RejectCode, Side, UnixNanos};

/// Pre-trade limits (all optional; `None` = no limit). They block entries only: an order
/// that only reduces or closes a position is always approved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RiskLimits {
    /// Largest allowed notional (at the latest close) of the part of an order that opens or
    /// adds to a position.
    pub max_order_notional: Option<Money>,
    /// Largest allowed absolute position per symbol after the order.
    pub max_position_qty: Option<Qty>,
    /// Most symbols with an open position at once.
    pub max_open_positions: Option<u32>,
    /// Most entries per session.
    pub max_daily_trades: Option<u32>,
    /// Largest total entry notional per session.
    pub max_daily_entry_notional: Option<Money>,
    /// Entries stop once equity is this far below the session's starting equity
    /// (realized + unrealized).
    pub daily_loss_limit: Option<Money>,
    /// Blocks every entry.
    pub kill_switch: bool,
    /// Entries are refused when the instrument's last bar ended more than this many
    /// seconds ago.
    pub stale_after_secs: Option<u64>,
    /// After this many losing round trips in a row, entries pause for the rest of the session.
    pub loss_streak: Option<u32>,
}

/// What the risk engine counts per session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct SessionCounters {
    key: Option<i64>,
    start_equity: Money,
    entries: u32,
    entry_notional: Money,
    paused_by_streak: bool,
}

/// An intent the risk engine approved. Only this module can construct it.
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovedIntent {
    intent: OrderIntent,
}

impl ApprovedIntent {
    /// The approved intent.
    pub fn intent(&self) -> &OrderIntent {
        &self.intent
    }
}

/// Applies [`RiskLimits`] to intents.
#[derive(Debug, Clone, Default)]
pub struct RiskEngine {
    limits: RiskLimits,
    session: SessionCounters,
    entries_closed_until: Option<UnixNanos>,
    losing_streak: u32,
}

impl RiskEngine {
    /// A risk engine enforcing `limits`.
    pub fn new(limits: RiskLimits) -> Self {
        RiskEngine {
            limits,
            session: SessionCounters::default(),
            entries_closed_until: None,
            losing_streak: 0,
        }
    }

    /// Records a closed round trip (FIFO allocation): a loss extends the losing streak, a
    /// win ends it. Reaching `loss_streak` pauses entries for the rest of the session.
    pub fn on_round_trip(&mut self, net_pnl: Money) {
        if net_pnl < Money::ZERO {
            self.losing_streak += 1;
            if self
                .limits
                .loss_streak
                .is_some_and(|n| self.losing_streak >= n)
            {
                self.session.paused_by_streak = true;
                self.losing_streak = 0;
            }
        } else if net_pnl > Money::ZERO {
            self.losing_streak = 0;
        }
    }

    /// Refuses entries until `until` (the EOD guard closes the session's entries).
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

    /// Approves `intent` or says why not; approved entries count toward the session limits.
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
        let reject = |code: RejectCode, detail: String| Rejection {
            ts: now,
            strategy: intent.strategy,
            symbol: intent.symbol,
            side: intent.side,
            qty: intent.qty,
            code,
            detail,
        };
        if intent.qty <= Qty::ZERO {
            return Err(reject(
                RejectCode::InvalidQty,
                format!("quantity {} is not positive", intent.qty),
            ));
        }
        let Some(mark) = market.mark(intent.symbol) else {
            return Err(reject(
                RejectCode::NoMarketData,
                "no bar seen for this symbol yet".into(),
            ));
        };
        let before = ledger.position(intent.symbol) + executor.book_working_qty(intent.symbol);
        let after = match intent.side {
            Side::Buy => before + intent.qty,
            Side::Sell => before - intent.qty,
        };
        let flips = !before.is_zero()
            && !after.is_zero()
            && before.is_sign_negative() != after.is_sign_negative();
        let opening = if flips {
            after.abs()
        } else {
            (after.abs() - before.abs()).max(Qty::ZERO)
        };
        if opening.is_zero() {
            // Exits and reductions always go through: limits block entries only.
            return Ok(ApprovedIntent { intent });
        }
        let notional = opening * mark;
        if self.entries_closed_until.is_some_and(|t| now < t) {
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
        self.session.entries += 1;
        self.session.entry_notional += notional;
        Ok(ApprovedIntent { intent })
    }
}
