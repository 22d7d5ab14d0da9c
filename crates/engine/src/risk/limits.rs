//! Pre-trade limits: what the risk engine enforces on entries (all optional).

use lockstep_core::{Money, Qty};

/// Pre-trade limits (all optional; `None` = no limit). They block entries only: an order
/// that only reduces or closes a position is always approved.
#[derive(Debug, Clone, Default, PartialEq)]
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
    /// After this many losing round trips in a row, entries pause for the rest of the
    /// session, or for `loss_streak_pause_secs` when set.
    pub loss_streak: Option<u32>,
    /// How long a loss-streak pause lasts (default: the rest of the session).
    pub loss_streak_pause_secs: Option<u64>,
    /// After this many venue errors in a row (rejections, timeouts), entries are blocked
    /// for `cooldown_secs`.
    pub venue_breaker: Option<VenueBreaker>,
    /// No new entries at or after this exchange-local time of day.
    pub entry_cutoff: Option<EntryCutoff>,
    /// No new entries inside these exchange-local ranges `[start, end)` of the day.
    pub entry_blackout: Option<EntryBlackout>,
    /// No new entries whose close-change pattern is listed.
    pub entry_patterns: Option<EntryPatterns>,
    /// No new entries whose feature score is below a minimum.
    pub entry_score: Option<EntryScore>,
    /// Account-level limits (buying power, no shorts, % of equity, exposure, positions per
    /// symbol, re-entry cooldown).
    pub account: super::account::AccountLimits,
}

/// Patterns of the last `bars` close changes (`U`/`D`/`F`, see
/// [`lockstep_core::features::pattern`]) in which entries are refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryPatterns {
    /// Pattern length.
    pub bars: usize,
    /// Refused patterns.
    pub blocked: std::collections::BTreeSet<String>,
}

/// A linear score of the 1-, 5- and 20-bar returns ([`lockstep_core::features::returns`]);
/// entries scoring below `min` are refused. Without 21 closes yet, entries pass.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EntryScore {
    /// Weights of the three returns.
    pub weights: [f64; 3],
    /// Lowest score an entry may have.
    pub min: f64,
}

impl RiskLimits {
    /// Closes per symbol the market state must keep for these limits (0: none).
    pub fn history_needed(&self) -> usize {
        let patterns = self.entry_patterns.as_ref().map_or(0, |p| p.bars + 1);
        let score = self
            .entry_score
            .map_or(0, |_| lockstep_core::features::HISTORY);
        patterns.max(score)
    }
}

/// Times of day in which entries are refused (`entry_blackout`), in the exchange's zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryBlackout {
    /// Exchange time zone.
    pub tz: chrono_tz::Tz,
    /// `[start, end)` ranges.
    pub ranges: Vec<(chrono::NaiveTime, chrono::NaiveTime)>,
}

/// The venue-failure breaker's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VenueBreaker {
    /// Consecutive venue errors that trip it (> 0).
    pub errors: u32,
    /// How long entries stay blocked once it trips.
    pub cooldown_secs: u64,
}

/// The entry cutoff: a time of day in the exchange's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryCutoff {
    /// Exchange time zone.
    pub tz: chrono_tz::Tz,
    /// Time of day from which entries are refused (until the local day ends).
    pub at: chrono::NaiveTime,
}
