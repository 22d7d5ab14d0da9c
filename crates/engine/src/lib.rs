//! The lockstep engine: one clock-driven event loop shared by replay, paper and live.
//!
//! Find the parts by file name: [`event_loop`] (the loop), [`queue`] (event order),
//! [`clock`], [`risk`] (risk engine), [`executor`] (OMS, order state machine),
//! [`sim_venue`] (simulated venue and fill models), [`commission`], [`ledger`] (FIFO
//! ledger), [`market`] (latest bars), [`strategy`] (the strategy API), [`journal`]
//! (what a run records). The engine has no I/O and reads time only from its [`clock::Clock`].

pub mod clock;
pub mod commission;
pub mod eod_guard;
pub mod event_loop;
pub mod executor;
pub mod journal;
pub mod ledger;
pub mod market;
pub mod queue;
pub mod risk;
pub mod sim_venue;
pub mod strategy;
pub mod venue;

pub use clock::{Clock, SimClock};
pub use commission::CommissionModel;
pub use eod_guard::{EodGuard, EodSettings};
pub use event_loop::{Engine, EngineError, EngineSettings, EquityMode};
pub use journal::{
    Entry, EquityPoint, Journal, JournalError, MemoryJournal, Names, OpenPosition, Rejection,
    RunOutcome,
};
pub use ledger::{Allocation, Ledger};
pub use risk::{RiskEngine, RiskLimits};
pub use sim_venue::{FillModel, SimVenue};
pub use strategy::{Context, NamedStrategy, Strategy};
pub use venue::{Venue, VenueReport};
