//! Config sections of the safety core: `[risk]`, `[exits]` (also per strategy), slippage,
//! participation and injected venue faults under `[execution]`.

use lockstep_core::dec_serde;
use rust_decimal::Decimal;
use serde::Deserialize;

/// `[risk]`
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct RiskSection {
    /// Largest order notional at the latest close.
    #[serde(default, deserialize_with = "dec_serde::opt_decimal")]
    pub max_order_notional: Option<Decimal>,
    /// Largest absolute position per symbol.
    #[serde(default, deserialize_with = "dec_serde::opt_decimal")]
    pub max_position_qty: Option<Decimal>,
    /// Most symbols with an open position at once.
    #[serde(default)]
    pub max_open_positions: Option<u32>,
    /// Most entries per session.
    #[serde(default)]
    pub max_daily_trades: Option<u32>,
    /// Largest total entry notional per session.
    #[serde(default, deserialize_with = "dec_serde::opt_decimal")]
    pub max_daily_entry_notional: Option<Decimal>,
    /// Entries stop once the session's loss (realized + unrealized) reaches this.
    #[serde(default, deserialize_with = "dec_serde::opt_decimal")]
    pub daily_loss_limit: Option<Decimal>,
    /// Block every entry (exits still go through).
    #[serde(default)]
    pub kill_switch: bool,
    /// Refuse entries when the instrument's last bar is older than this many seconds.
    #[serde(default)]
    pub stale_after_secs: Option<u64>,
    /// After this many losing round trips in a row, pause entries for the session.
    #[serde(default)]
    pub loss_streak: Option<u32>,
    /// Pause length after a losing streak (default: rest of the session).
    #[serde(default)]
    pub loss_streak_pause_secs: Option<u64>,
    /// Consecutive venue errors that block entries.
    #[serde(default)]
    pub venue_breaker_errors: Option<u32>,
    /// How long the venue breaker blocks entries (default 300 s).
    #[serde(default)]
    pub venue_breaker_cooldown_secs: Option<u64>,
    /// No new entries from this exchange time ("HH:MM").
    #[serde(default)]
    pub entry_cutoff: Option<String>,
    /// Exchange-time ranges `HH:MM-HH:MM` in which no entry is approved.
    #[serde(default)]
    pub entry_blackout: Vec<String>,
    /// Length of the close-change patterns of `entry_pattern_blocked` (default 3).
    #[serde(default = "three")]
    pub entry_pattern_bars: usize,
    /// Patterns of `U`/`D`/`F` close changes in which no entry is approved.
    #[serde(default)]
    pub entry_pattern_blocked: Vec<String>,
    /// Weights of the 1-, 5- and 20-bar returns; entries scoring below
    /// `entry_score_min` are refused.
    #[serde(default)]
    pub entry_score_weights: Option<Vec<f64>>,
    /// Lowest entry score (default 0).
    #[serde(default)]
    pub entry_score_min: f64,
    /// `"safe_defaults"`: every limit left unset gets a conservative value (see
    /// `safety::safe_defaults`); keys set explicitly keep their values.
    #[serde(default)]
    pub profile: Option<String>,
    /// Buying power as a multiple of equity (1 = cash account): no entry the account
    /// cannot pay for.
    #[serde(default, deserialize_with = "dec_serde::opt_decimal")]
    pub buying_power: Option<Decimal>,
    /// No entry may go short (cash accounts, spot crypto).
    #[serde(default)]
    pub no_short: Option<bool>,
    /// Largest position per symbol, percent of equity.
    #[serde(default, deserialize_with = "dec_serde::opt_decimal")]
    pub max_position_pct: Option<Decimal>,
    /// Largest total exposure (open lots at marks + working entries + the entry).
    #[serde(default, deserialize_with = "dec_serde::opt_decimal")]
    pub max_total_exposure: Option<Decimal>,
    /// Most positions under one symbol (an option counts under its underlying).
    #[serde(default)]
    pub max_positions_per_symbol: Option<u32>,
    /// After an exit fill in a symbol, no entry in it for this many seconds (every
    /// strategy).
    #[serde(default)]
    pub reentry_cooldown_secs: Option<u64>,
}

fn three() -> usize {
    3
}

/// `exits.intrabar`
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum IntrabarSetting {
    /// Stop first when a bar holds both a stop and a target (default).
    #[default]
    Pessimistic,
    /// Target first.
    Optimistic,
}

/// `[exits]`, and `exits = { ... }` inside a `[[strategies]]` entry (whose keys override
/// the global ones for that strategy). Fractions are of the average entry price.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct ExitsSection {
    /// Hard stop: loss fraction, filled inside the bar that reaches it.
    #[serde(default, deserialize_with = "dec_serde::opt_decimal")]
    pub hard_stop_pct: Option<Decimal>,
    /// Soft stop: loss fraction judged on bar closes, closed with a market order.
    #[serde(default, deserialize_with = "dec_serde::opt_decimal")]
    pub soft_stop_pct: Option<Decimal>,
    /// Take profit: gain fraction, filled inside the bar that trades through it.
    #[serde(default, deserialize_with = "dec_serde::opt_decimal")]
    pub take_profit_pct: Option<Decimal>,
    /// Trailing stop distance as a fraction of the best price since entry.
    #[serde(default, deserialize_with = "dec_serde::opt_decimal")]
    pub trailing_pct: Option<Decimal>,
    /// Trailing stop distance as a multiple of the ATR (instead of `trailing_pct`).
    #[serde(default, deserialize_with = "dec_serde::opt_decimal")]
    pub trailing_atr: Option<Decimal>,
    /// Bars in the ATR (default 14).
    #[serde(default)]
    pub atr_period: Option<usize>,
    /// The trail starts once the best price is this fraction beyond the entry (default 0).
    #[serde(default, deserialize_with = "dec_serde::opt_decimal")]
    pub trailing_activation_pct: Option<Decimal>,
    /// The trail moves only by at least this fraction of the entry (default 0).
    #[serde(default, deserialize_with = "dec_serde::opt_decimal")]
    pub trailing_step_pct: Option<Decimal>,
    /// The trail moves only by at least this multiple of the ATR (with `trailing_atr`).
    #[serde(default, deserialize_with = "dec_serde::opt_decimal")]
    pub trailing_step_atr: Option<Decimal>,
    /// Smallest trailing distance, fraction of the best price.
    #[serde(default, deserialize_with = "dec_serde::opt_decimal")]
    pub trailing_min_pct: Option<Decimal>,
    /// Largest trailing distance, fraction of the best price.
    #[serde(default, deserialize_with = "dec_serde::opt_decimal")]
    pub trailing_max_pct: Option<Decimal>,
    /// Close with a market order after this many seconds open.
    #[serde(default)]
    pub max_hold_secs: Option<u64>,
    /// Hold a strategy's own exits while the position's P&L is below zero.
    #[serde(default)]
    pub signal_only_in_profit: Option<bool>,
    /// Stop or target first inside one bar (global only).
    #[serde(default)]
    pub intrabar: Option<IntrabarSetting>,
    /// Close option positions at market once expiry is this many days away or fewer.
    #[serde(default)]
    pub min_dte: Option<u32>,
    /// Tiered take profit: `[{ gain_pct = 0.5, fraction = 0.5 }, ...]`, in order.
    #[serde(default)]
    pub partials: Option<Vec<PartialSection>>,
    /// While the trailing stop is active, hold the strategy's signal exits.
    #[serde(default)]
    pub trailing_suppresses_signal: Option<bool>,
}

/// One tier of `exits.partials`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PartialSection {
    /// Gain fraction of the entry price that takes the slice.
    #[serde(deserialize_with = "dec_serde::decimal")]
    pub gain_pct: Decimal,
    /// Fraction of the largest position held that the slice closes.
    #[serde(deserialize_with = "dec_serde::decimal")]
    pub fraction: Decimal,
}

impl ExitsSection {
    /// These settings with every key `over` sets replacing ours. A trailing distance in
    /// `over` (`trailing_pct` or `trailing_atr`) replaces both of ours.
    pub fn overridden_by(&self, over: &ExitsSection) -> ExitsSection {
        let own_trail = over.trailing_pct.is_some() || over.trailing_atr.is_some();
        let (trailing_pct, trailing_atr) = if own_trail {
            (over.trailing_pct, over.trailing_atr)
        } else {
            (self.trailing_pct, self.trailing_atr)
        };
        ExitsSection {
            hard_stop_pct: over.hard_stop_pct.or(self.hard_stop_pct),
            soft_stop_pct: over.soft_stop_pct.or(self.soft_stop_pct),
            take_profit_pct: over.take_profit_pct.or(self.take_profit_pct),
            trailing_pct,
            trailing_atr,
            atr_period: over.atr_period.or(self.atr_period),
            trailing_activation_pct: over
                .trailing_activation_pct
                .or(self.trailing_activation_pct),
            trailing_step_pct: over.trailing_step_pct.or(self.trailing_step_pct),
            trailing_step_atr: if own_trail {
                over.trailing_step_atr
            } else {
                over.trailing_step_atr.or(self.trailing_step_atr)
            },
            trailing_min_pct: over.trailing_min_pct.or(self.trailing_min_pct),
            trailing_max_pct: over.trailing_max_pct.or(self.trailing_max_pct),
            max_hold_secs: over.max_hold_secs.or(self.max_hold_secs),
            signal_only_in_profit: over.signal_only_in_profit.or(self.signal_only_in_profit),
            intrabar: self.intrabar,
            min_dte: over.min_dte.or(self.min_dte),
            partials: over.partials.clone().or_else(|| self.partials.clone()),
            trailing_suppresses_signal: over
                .trailing_suppresses_signal
                .or(self.trailing_suppresses_signal),
        }
    }
}

/// `[execution.slippage]`: `bps`, or `ticks` with `tick_size`.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct SlippageSection {
    /// Basis points of the price against the order.
    #[serde(default, deserialize_with = "dec_serde::opt_decimal")]
    pub bps: Option<Decimal>,
    /// Ticks against the order.
    #[serde(default, deserialize_with = "dec_serde::opt_decimal")]
    pub ticks: Option<Decimal>,
    /// Size of one tick (default 0.01).
    #[serde(default, deserialize_with = "dec_serde::opt_decimal")]
    pub tick_size: Option<Decimal>,
}

/// `[execution.faults]`: seeded faults of the simulated venue.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct FaultsSection {
    /// Reject every Nth order.
    #[serde(default)]
    pub reject_every: Option<u32>,
    /// Reject each order with this probability.
    #[serde(default)]
    pub reject_probability: Option<f64>,
    /// Time out each order with this probability.
    #[serde(default)]
    pub timeout_probability: Option<f64>,
    /// Seed of the draws (default 0).
    #[serde(default)]
    pub seed: u64,
}
