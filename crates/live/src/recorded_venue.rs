//! The venue of a journal replay of a live session: it sends nothing, because the broker's
//! answers are in the journal and come back as recorded inputs. It has no simulator, so the
//! loop takes the same paths it took live (crossed levels at market, escalated closes).

use lockstep_core::{Order, UnixNanos};
use lockstep_engine::{market::MarketState, Venue, VenueReport};

/// Takes orders and answers nothing; the recorded broker reports drive the replay.
#[derive(Debug, Default, Clone)]
pub struct RecordedVenue {
    submitted: u64,
    cancelled: u64,
}

impl RecordedVenue {
    /// Orders handed to it so far.
    pub fn submitted(&self) -> u64 {
        self.submitted
    }

    /// Cancels asked so far.
    pub fn cancelled(&self) -> u64 {
        self.cancelled
    }
}

impl Venue for RecordedVenue {
    fn submit(
        &mut self,
        _order: &Order,
        _now: UnixNanos,
        _market: &MarketState,
        _out: &mut Vec<VenueReport>,
    ) {
        self.submitted += 1;
    }

    fn cancel(&mut self, _order: &Order) {
        self.cancelled += 1;
    }

    fn cancels_at_once(&self) -> bool {
        false
    }
}
