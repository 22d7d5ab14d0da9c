//! Why a position was closed and why an intent was refused.

use std::fmt;

/// Why a closing fill happened. Written on every closing fill, every FIFO allocation and in
/// the summary's breakdown, so "we could not tell which exit fired" never happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ExitReason {
    /// The strategy's own signal (e.g. a crossover).
    Signal,
    /// Hard stop loss.
    HardStop,
    /// Soft stop loss.
    SoftStop,
    /// Take profit target.
    TakeProfit,
    /// Trailing stop.
    Trailing,
    /// Maximum holding time.
    MaxHold,
    /// Minimum days to expiry reached.
    MinDte,
    /// End-of-day flatten.
    Eod,
    /// Option expiry settlement.
    Expiry,
    /// Risk engine: kill switch or circuit breaker.
    Risk,
    /// Manual intervention.
    Manual,
    /// One slice of a tiered take profit (the rest of the position stays open).
    PartialTakeProfit,
}

impl ExitReason {
    /// True for exits the engine's own machinery sends (exit manager, EOD guard, expiry,
    /// risk, manual); false for a strategy's own `signal`. Such exits close the sending
    /// strategy's position and are never judged as entries.
    pub fn is_managed(self) -> bool {
        self != ExitReason::Signal
    }

    /// The stable snake_case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            ExitReason::Signal => "signal",
            ExitReason::HardStop => "hard_stop",
            ExitReason::SoftStop => "soft_stop",
            ExitReason::TakeProfit => "take_profit",
            ExitReason::Trailing => "trailing",
            ExitReason::MaxHold => "max_hold",
            ExitReason::MinDte => "min_dte",
            ExitReason::Eod => "eod",
            ExitReason::Expiry => "expiry",
            ExitReason::Risk => "risk",
            ExitReason::Manual => "manual",
            ExitReason::PartialTakeProfit => "partial_take_profit",
        }
    }
}

impl fmt::Display for ExitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why the risk engine or a venue refused an intent or order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RejectCode {
    /// Quantity is zero or negative.
    InvalidQty,
    /// No bar has been seen for the instrument, so it cannot be priced.
    NoMarketData,
    /// Order notional above `risk.max_order_notional`.
    MaxOrderNotional,
    /// Position would exceed `risk.max_position_qty`.
    MaxPositionQty,
    /// The venue refused the order.
    VenueRejected,
    /// The kill switch is on: no entries.
    KillSwitch,
    /// Opening a position in another symbol would exceed `risk.max_open_positions`.
    MaxOpenPositions,
    /// Entries this session reached `risk.max_daily_trades`.
    MaxDailyTrades,
    /// Entry notional this session would exceed `risk.max_daily_entry_notional`.
    MaxDailyExposure,
    /// The session's loss (realized + unrealized) reached `risk.daily_loss_limit`.
    DailyLossLimit,
    /// The instrument's last bar is older than `risk.stale_after_secs`.
    StaleData,
    /// The EOD guard ran: no entries until the session closes.
    EodCutoff,
    /// `risk.loss_streak` losing round trips in a row: entries pause for the session.
    LossStreak,
    /// A limit or stop level that cannot work (not positive, or a stop-limit whose limit is
    /// on the wrong side of its stop).
    InvalidPrice,
    /// `risk.venue_breaker`: too many venue errors in a row; entries wait for the cool-down.
    VenueBreaker,
    /// `risk.entry_cutoff`: no new entries after this exchange time.
    EntryCutoff,
    /// `exits.signal_only_in_profit`: a strategy's signal exit is held while the position's
    /// P&L is below zero.
    ExitNotInProfit,
    /// The quote bar facing the order has no quote on its side (no ask to buy at, no bid
    /// to sell at): the order is not filled at a made-up price.
    NoQuote,
    /// The symbol is an index: a price source, not something that can be traded.
    NotTradable,
    /// The engine is closing this strategy's position in the symbol (an exit is working):
    /// no new entry until it is done, so a refused exit cannot leave a growing position.
    ExitPending,
    /// `risk.entry_blackout`: no entries in this time of day (a walk-forward learner found
    /// it weak, or the user blocked it).
    EntryBlackout,
    /// `risk.entry_pattern_blocked`: the recent close changes form a blocked pattern.
    EntryPattern,
    /// `risk.entry_score_weights`: the entry's feature score is below the minimum.
    EntryScore,
    /// The broker's order-update stream is down: entries wait until it is back (exits and
    /// the EOD flatten still go out).
    VenueDown,
    /// Our clock and the broker's disagree by more than the allowed skew: entries wait
    /// until they agree again (exits and the EOD flatten still go out).
    ClockSkew,
    /// `exits.trailing_suppresses_signal`: the position's trailing stop is active, so the
    /// strategy's signal exit is held and the trail decides (seed 004).
    ExitHeldTrailing,
    /// `risk.buying_power`: the account cannot pay for the entry (equity x leverage, less
    /// open and working exposure).
    BuyingPower,
    /// `risk.no_short`: a cash account or spot crypto cannot go short.
    ShortNotAllowed,
    /// `risk.max_position_pct`: the position would be a larger share of equity.
    MaxPositionPct,
    /// `risk.max_total_exposure`: open and working exposure would exceed the cap.
    MaxTotalExposure,
    /// `risk.max_positions_per_symbol`: the symbol (an option's underlying) already holds
    /// that many positions.
    MaxPositionsPerSymbol,
    /// `risk.reentry_cooldown_secs`: the symbol was exited too recently.
    ReentryCooldown,
}

impl RejectCode {
    /// Every code, in declaration order.
    pub const ALL: [RejectCode; 32] = [
        RejectCode::InvalidQty,
        RejectCode::NoMarketData,
        RejectCode::MaxOrderNotional,
        RejectCode::MaxPositionQty,
        RejectCode::VenueRejected,
        RejectCode::KillSwitch,
        RejectCode::MaxOpenPositions,
        RejectCode::MaxDailyTrades,
        RejectCode::MaxDailyExposure,
        RejectCode::DailyLossLimit,
        RejectCode::StaleData,
        RejectCode::EodCutoff,
        RejectCode::LossStreak,
        RejectCode::InvalidPrice,
        RejectCode::VenueBreaker,
        RejectCode::EntryCutoff,
        RejectCode::ExitNotInProfit,
        RejectCode::NoQuote,
        RejectCode::NotTradable,
        RejectCode::ExitPending,
        RejectCode::EntryBlackout,
        RejectCode::EntryPattern,
        RejectCode::EntryScore,
        RejectCode::VenueDown,
        RejectCode::ClockSkew,
        RejectCode::ExitHeldTrailing,
        RejectCode::BuyingPower,
        RejectCode::ShortNotAllowed,
        RejectCode::MaxPositionPct,
        RejectCode::MaxTotalExposure,
        RejectCode::MaxPositionsPerSymbol,
        RejectCode::ReentryCooldown,
    ];

    /// The code whose report name is `name`.
    pub fn parse(name: &str) -> Option<RejectCode> {
        RejectCode::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// The stable snake_case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectCode::InvalidQty => "invalid_qty",
            RejectCode::NoMarketData => "no_market_data",
            RejectCode::MaxOrderNotional => "max_order_notional",
            RejectCode::MaxPositionQty => "max_position_qty",
            RejectCode::VenueRejected => "venue_rejected",
            RejectCode::KillSwitch => "kill_switch",
            RejectCode::MaxOpenPositions => "max_open_positions",
            RejectCode::MaxDailyTrades => "max_daily_trades",
            RejectCode::MaxDailyExposure => "max_daily_exposure",
            RejectCode::DailyLossLimit => "daily_loss_limit",
            RejectCode::StaleData => "stale_data",
            RejectCode::EodCutoff => "eod_cutoff",
            RejectCode::LossStreak => "loss_streak",
            RejectCode::InvalidPrice => "invalid_price",
            RejectCode::VenueBreaker => "venue_breaker",
            RejectCode::EntryCutoff => "entry_cutoff",
            RejectCode::ExitNotInProfit => "exit_not_in_profit",
            RejectCode::NoQuote => "no_quote",
            RejectCode::NotTradable => "not_tradable",
            RejectCode::ExitPending => "exit_pending",
            RejectCode::EntryBlackout => "entry_blackout",
            RejectCode::EntryPattern => "entry_pattern",
            RejectCode::EntryScore => "entry_score",
            RejectCode::VenueDown => "venue_down",
            RejectCode::ClockSkew => "clock_skew",
            RejectCode::ExitHeldTrailing => "exit_held_trailing",
            RejectCode::BuyingPower => "buying_power",
            RejectCode::ShortNotAllowed => "short_not_allowed",
            RejectCode::MaxPositionPct => "max_position_pct",
            RejectCode::MaxTotalExposure => "max_total_exposure",
            RejectCode::MaxPositionsPerSymbol => "max_positions_per_symbol",
            RejectCode::ReentryCooldown => "reentry_cooldown",
        }
    }
}

impl fmt::Display for RejectCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
