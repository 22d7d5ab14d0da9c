//! Config sections of the safety core: `[exits]` (also per strategy), slippage,
//! participation and injected venue faults under `[execution]`.

use lockstep_core::dec_serde;
use rust_decimal::Decimal;
use serde::Deserialize;

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
