//! Risk: the pre-trade limits, the risk engine that judges every strategy intent, and the
//! approvals it hands the executor.

pub mod account;
pub mod approval;
pub mod engine;
pub mod limits;

pub use account::AccountLimits;
pub use approval::{ApprovedIntent, EngineExit, Reservation};
pub use engine::RiskEngine;
pub use limits::{EntryBlackout, EntryCutoff, EntryPatterns, EntryScore, RiskLimits, VenueBreaker};
