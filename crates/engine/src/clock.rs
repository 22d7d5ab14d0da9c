//! The only source of time inside the engine.

use lockstep_core::UnixNanos;

/// Where the engine reads "now". Replay uses [`SimClock`]; paper/live use a wall clock
/// implemented outside the engine crate.
pub trait Clock {
    /// The current time.
    fn now(&self) -> UnixNanos;
    /// Moves time forward to `ts` (an event's time). Never moves backwards.
    fn advance_to(&mut self, ts: UnixNanos);
}

/// Simulated clock: time is the timestamp of the event being processed.
#[derive(Debug, Clone, Copy, Default)]
pub struct SimClock {
    now: UnixNanos,
}

impl SimClock {
    /// A clock at `start`.
    pub fn new(start: UnixNanos) -> Self {
        SimClock { now: start }
    }
}

impl Clock for SimClock {
    fn now(&self) -> UnixNanos {
        self.now
    }

    fn advance_to(&mut self, ts: UnixNanos) {
        if ts > self.now {
            self.now = ts;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_goes_back() {
        let mut c = SimClock::new(UnixNanos(10));
        c.advance_to(UnixNanos(5));
        assert_eq!(c.now(), UnixNanos(10));
        c.advance_to(UnixNanos(20));
        assert_eq!(c.now(), UnixNanos(20));
    }
}
