//! lockstep engine
