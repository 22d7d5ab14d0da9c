//! Where live code reads the time: a wall clock that may run from a chosen start at a chosen
//! speed (so a recorded day can be served in minutes), or a manual clock a test steps.
//!
//! Both the driver and the loopback fake read the same [`TimeSource`], so everything
//! time-based (bar delivery, EOD, day-order expiry, stale feeds) follows one clock.

use lockstep_core::UnixNanos;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// A source of "now" shared by threads and tasks.
pub trait TimeSource: Send + Sync + std::fmt::Debug {
    /// The current time.
    fn now(&self) -> UnixNanos;
}

/// The wall clock, optionally warped: it reads `start` at construction and then advances
/// `speed` times faster than real time. `speed = 1` from the real now is the plain wall clock.
#[derive(Debug, Clone)]
pub struct WarpClock {
    start: UnixNanos,
    speed: f64,
    anchor: Instant,
}

impl WarpClock {
    /// A clock reading `start` now and running at `speed` (> 0) times real speed.
    pub fn new(start: UnixNanos, speed: f64) -> Self {
        WarpClock {
            start,
            speed: if speed.is_finite() && speed > 0.0 {
                speed
            } else {
                1.0
            },
            anchor: Instant::now(),
        }
    }

    /// A clock that reads `start` at the real instant `anchor_unix_nanos` (system time) and
    /// runs at `speed` from then: two processes given the same three values agree on the
    /// time (a fake broker and a session under test). An anchor still to come holds the
    /// clock at `start` until it (a test lets a restarted session start up while the
    /// market stands still).
    pub fn since(start: UnixNanos, speed: f64, anchor_unix_nanos: i64) -> Self {
        let c = WarpClock::new(start, speed);
        let since_anchor = system_nanos().saturating_sub(anchor_unix_nanos);
        if since_anchor < 0 {
            let wait = std::time::Duration::from_nanos(since_anchor.unsigned_abs());
            return WarpClock {
                anchor: c.anchor + wait,
                ..c
            };
        }
        WarpClock {
            start: start.plus((since_anchor as f64 * c.speed) as i64),
            ..c
        }
    }

    /// The real wall clock (from the system time, at speed 1).
    pub fn real() -> Self {
        WarpClock::new(UnixNanos(system_nanos()), 1.0)
    }

    /// How many clock nanoseconds pass per real nanosecond.
    pub fn speed(&self) -> f64 {
        self.speed
    }
}

impl TimeSource for WarpClock {
    fn now(&self) -> UnixNanos {
        let real = self.anchor.elapsed().as_nanos() as f64;
        self.start.plus((real * self.speed) as i64)
    }
}

/// The system time in nanoseconds since the epoch.
pub fn system_nanos() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A clock that moves only when told: tests step it and both sides see the same time.
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    now: Arc<AtomicI64>,
}

impl ManualClock {
    /// A clock reading `start`.
    pub fn new(start: UnixNanos) -> Self {
        ManualClock {
            now: Arc::new(AtomicI64::new(start.0)),
        }
    }

    /// Sets the time to `to` if that is later (the clock never goes back).
    pub fn advance_to(&self, to: UnixNanos) {
        self.now.fetch_max(to.0, Ordering::SeqCst);
    }
}

impl TimeSource for ManualClock {
    fn now(&self) -> UnixNanos {
        UnixNanos(self.now.load(Ordering::SeqCst))
    }
}

/// A shared time source.
pub type SharedTime = Arc<dyn TimeSource>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_never_goes_back() {
        let c = ManualClock::new(UnixNanos(10));
        c.advance_to(UnixNanos(5));
        assert_eq!(c.now(), UnixNanos(10));
        c.advance_to(UnixNanos(20));
        assert_eq!(c.clone().now(), UnixNanos(20));
    }

    #[test]
    fn a_clock_anchored_ahead_stands_until_its_anchor() {
        let ahead = system_nanos() + 1_000_000_000;
        let c = WarpClock::since(UnixNanos(1_000), 1000.0, ahead);
        let early = c.now();
        if system_nanos() < ahead {
            assert_eq!(early, UnixNanos(1_000), "still before the anchor");
        }
        std::thread::sleep(std::time::Duration::from_millis(1_200));
        // Runs at 1000x from the anchor (1 ms of slack each side), not from construction.
        let before = (system_nanos() - ahead) as f64;
        let ran = (c.now().0 - 1_000) as f64;
        let after = (system_nanos() - ahead) as f64;
        assert!(ran >= (before - 1e6) * 1000.0, "{ran} vs {before}");
        assert!(ran <= (after + 1e6) * 1000.0, "{ran} vs {after}");
    }

    #[test]
    fn warp_clock_runs_faster() {
        let c = WarpClock::new(UnixNanos(0), 1000.0);
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert!(c.now().0 >= 5_000_000_000, "5 ms at 1000x is at least 5 s");
    }
}
