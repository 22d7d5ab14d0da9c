//! Options: instrument classification (OCC contracts, multipliers, expiry), Black–Scholes
//! and chain selection for strategies.

pub mod black_scholes;
pub mod chain;
pub mod instruments;
