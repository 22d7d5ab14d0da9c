//! The lockstep engine: one clock-driven event loop shared by replay, paper and live.
//!
//! Find the parts by file name: [`event_loop`] (the loop), [`queue`] (event order),
//! [`clock`], [`risk`] (risk engine), [`executor`] (OMS, order state machine),
//! [`exit_manager`] and [`exit_rules`] (the exit manager), [`eod_guard`] (the EOD guard),
//! [`sim_venue`], [`sim_matching`] and [`sim_faults`] (simulated venue, fill rules,
//! injected faults), [`commission`], [`ledger`] (FIFO ledger), [`market`] (latest bars), [`strategy`] (the strategy API), [`journal`]
//! (what a run records). The engine has no I/O and reads time only from its [`clock::Clock`].

pub mod black_scholes;
pub mod chain;
pub mod clock;
pub mod commission;
pub mod eod_guard;
pub mod event_loop;
pub mod executor;
pub mod exit_manager;
pub mod exit_rules;
pub mod instruments;
pub mod journal;
pub mod ledger;
pub mod market;
pub mod queue;
pub mod risk;
pub mod sim_faults;
pub mod sim_matching;
pub mod sim_venue;
pub mod strategy;
pub mod venue;

pub use clock::{Clock, SimClock};
pub use commission::CommissionModel;
pub use eod_guard::{EodGuard, EodSettings};
pub use event_loop::{Engine, EngineError, EngineSettings, EquityMode};
pub use exit_manager::{ExitManager, ExitSettings};
pub use exit_rules::{ExitRules, Intrabar, TrailDistance, Trailing};
pub use journal::{
    Entry, EquityPoint, Journal, JournalError, MemoryJournal, Names, OpenPosition, Rejection,
    RunOutcome,
};
pub use ledger::{Allocation, Ledger};
pub use risk::{
    EntryBlackout, EntryCutoff, EntryPatterns, EntryScore, RiskEngine, RiskLimits, VenueBreaker,
};
pub use sim_faults::FaultSettings;
pub use sim_matching::Slippage;
pub use sim_venue::{FillModel, QuoteFill, SimSettings, SimVenue};
pub use strategy::{Context, NamedStrategy, Strategy};
pub use venue::{Venue, VenueReport};
