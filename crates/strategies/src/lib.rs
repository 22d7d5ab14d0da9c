//! lockstep strategies
