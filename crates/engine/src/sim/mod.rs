//! The simulated venue (replay and paper): its settings, the bar matching rules and seeded
//! fault injection.

pub mod settings;
pub mod sim_faults;
pub mod sim_matching;
pub mod sim_venue;
