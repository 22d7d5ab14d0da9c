//! Exits: the exit manager (every open position, every bar, whoever opened it), its rules
//! and their priority, and the EOD guard (the session's flatten and close timers).

pub mod calm;
pub mod eod_guard;
pub mod exit_manager;
pub mod exit_rules;
mod trail_math;
