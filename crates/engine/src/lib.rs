//! The lockstep engine: one clock-driven event loop shared by replay, paper and live.
//!
//! Find the parts by folder and file name:
//! - [`event_loop`]: the loop (replay pulls bars, paper/live push inputs), its EOD steps
//!   and order routing; [`queue`] (event order) and [`clock`];
//! - [`risk`]: the risk engine, its limits and the approvals it hands the executor;
//! - [`executor`]: the OMS and order state machine; [`ledger`]: the FIFO ledger;
//! - [`exits`]: the exit manager, its rules, and the EOD guard;
//! - [`venue`]: the venue seam (broker part and simulator part); [`sim`]: the simulated
//!   venue, its matching rules and faults; [`commission`];
//! - [`options`]: instruments, Black–Scholes and chain selection;
//! - [`market`] (latest bars), [`strategy`] (the strategy API), [`journal`] (what a run
//!   records).
//!
//! The engine has no I/O, never tests a mode, and reads time only from its
//! [`clock::Clock`].

pub mod clock;
pub mod commission;
pub mod event_loop;
pub mod executor;
pub mod exits;
pub mod journal;
pub mod ledger;
pub mod market;
pub mod options;
pub mod qty_book;
pub mod queue;
pub mod risk;
pub mod sim;
pub mod strategy;
pub mod venue;

pub use clock::{Clock, SimClock};
pub use commission::CommissionModel;
pub use event_loop::{Command, Engine, EngineError, EngineSettings, EquityMode, Input};
pub use exits::eod_guard::{EodGuard, EodSettings};
pub use exits::exit_manager::{ExitManager, ExitSettings};
pub use exits::exit_rules::{ExitRules, Intrabar, PartialTier, TrailDistance, Trailing};
pub use journal::{
    Alert, Entry, EquityPoint, Journal, JournalError, MemoryJournal, Names, OpenPosition,
    Rejection, RunOutcome,
};
pub use ledger::{Allocation, Ledger};
pub use risk::{
    AccountLimits, EngineExit, EntryBlackout, EntryCutoff, EntryPatterns, EntryScore, RiskEngine,
    RiskLimits, VenueBreaker,
};
pub use sim::settings::{FillModel, QuoteFill, SimSettings};
pub use sim::sim_faults::FaultSettings;
pub use sim::sim_matching::Slippage;
pub use sim::sim_venue::SimVenue;
pub use strategy::{Context, NamedStrategy, Strategy};
pub use venue::{SimulatedVenue, Venue, VenueReport};
