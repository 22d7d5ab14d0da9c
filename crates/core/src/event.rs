//! Event classes and their fixed tie-break order.

/// The class of an event. At equal timestamps events pop in this order, then by sequence,
/// so ties resolve identically on every run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventClass {
    /// Market data (bars).
    Data = 0,
    /// Reports from a venue (acks, fills, rejects).
    VenueReport = 1,
    /// Clock timers (EOD guard, schedules).
    Timer = 2,
    /// External signals (webhooks).
    Signal = 3,
}
