//! lockstep report
