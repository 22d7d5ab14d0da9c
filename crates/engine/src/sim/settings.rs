//! What shapes the simulated venue's fills: the fill model, quote-bar pricing, commission,
//! slippage, the volume cap and injected faults.

use crate::commission::CommissionModel;
use crate::sim::sim_faults::FaultSettings;
use crate::sim::sim_matching::Slippage;
use rust_decimal::Decimal;

/// When a market order fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FillModel {
    /// At the open of the first bar of the instrument that opens at or after submission
    /// (default; realistic for orders decided on a bar's close).
    #[default]
    NextOpen,
    /// At the close of the latest bar of the instrument, immediately (optimistic: assumes
    /// the decision and the fill both happen exactly at the close).
    Close,
}

/// What a market order pays on a quote bar (options).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QuoteFill {
    /// Buys at the ask, sells at the bid (default; what a market order really gets).
    #[default]
    BidAsk,
    /// At the mid of bid and ask; a one-sided quote fills nothing (`no_quote`).
    Mid,
}

/// Everything that shapes the simulated venue's fills.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SimSettings {
    /// Market order fill model.
    pub model: FillModel,
    /// Commission per fill.
    pub commission: CommissionModel,
    /// Slippage on taker fills.
    pub slippage: Slippage,
    /// Largest fraction of a bar's volume the venue fills (shared by the bar's orders in
    /// submission order); the rest keeps working. `None` = no cap.
    pub max_participation: Option<Decimal>,
    /// Injected faults.
    pub faults: FaultSettings,
    /// Market-order price on quote bars. Limit and stop orders always face the side they
    /// trade against (a buy's levels are judged on the ask, a sell's on the bid).
    pub quote_fill: QuoteFill,
}
