//! Scripted faults: a plain list of [`Fault`]s given at start ([`FaultScript`]) or injected
//! at runtime (`FakeHandle::inject`). Counted faults are used up; switches stay on.

use lockstep_core::UnixNanos;
use std::collections::VecDeque;

/// One scripted misbehaviour of the fake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// The next `n` valid orders are answered 200 (`accepted`) and then rejected
    /// asynchronously: a `rejected` event, status `rejected`, no `new`.
    RejectNextOrders(u32),
    /// The next `count` `POST /v2/orders` get HTTP `status` (e.g. 429 with `X-RateLimit-*`
    /// headers, 500, 502, 503, 504) and an error body; no order is created. Several `Http`
    /// faults are served in the order given.
    Http(u16, u32),
    /// The next `n` valid orders are created (and go on to work and fill) but the response
    /// is lost: 504, so the client must look the order up by its client order id.
    LoseSubmitResponse(u32),
    /// Closes the listening trade-updates socket once (at the next tick that finds one).
    /// Events while nobody listens are lost, as on Alpaca (no replay).
    DropTradeStream,
    /// Closes the listening trade-updates socket once the clock reaches this time.
    DropTradeStreamAt(UnixNanos),
    /// The market-data sockets send no bar delivered at or after this clock time (a stale
    /// feed). REST bars are unaffected.
    StopBarsAt(UnixNanos),
    /// This raw text is sent once on the trade-updates stream (binary frame, once a client
    /// listens) and once on a market-data stream (text frame, once a client subscribed).
    MalformedFrame(String),
    /// From now on every fill event is sent twice with the same `execution_id`.
    DuplicateEvents,
    /// Sets the account's `trading_blocked` flag; while set, orders get 403.
    TradingBlocked(bool),
}

/// The faults a fake starts with.
pub type FaultScript = Vec<Fault>;

/// The pending faults, as counters and queues.
#[derive(Debug, Default)]
pub(crate) struct FaultBook {
    /// Orders still to reject after accepting them.
    pub reject_next: u32,
    /// HTTP statuses still to serve, with their remaining counts, in order.
    pub http: VecDeque<(u16, u32)>,
    /// Order responses still to lose.
    pub lose_response: u32,
    /// Trade-socket drops still to do.
    pub drop_trade_stream: u32,
    /// Clock times at which to drop the trade socket, earliest first.
    pub drop_trade_at: std::collections::BTreeSet<UnixNanos>,
    /// No bar delivered at or after this time reaches a data socket.
    pub stop_bars_at: Option<UnixNanos>,
    /// Raw frames still to send on the trade socket.
    pub malformed_trade: VecDeque<String>,
    /// Raw frames still to send on a data socket.
    pub malformed_data: VecDeque<String>,
    /// Send every fill event twice.
    pub duplicate_events: bool,
    /// The account's `trading_blocked` flag.
    pub trading_blocked: bool,
}

impl FaultBook {
    /// Adds a fault.
    pub fn add(&mut self, f: Fault) {
        match f {
            Fault::RejectNextOrders(n) => self.reject_next = self.reject_next.saturating_add(n),
            Fault::Http(status, count) => {
                if count > 0 {
                    self.http.push_back((status, count));
                }
            }
            Fault::LoseSubmitResponse(n) => {
                self.lose_response = self.lose_response.saturating_add(n)
            }
            Fault::DropTradeStream => self.drop_trade_stream += 1,
            Fault::DropTradeStreamAt(t) => {
                self.drop_trade_at.insert(t);
            }
            Fault::StopBarsAt(t) => {
                self.stop_bars_at = Some(self.stop_bars_at.map_or(t, |x| x.min(t)))
            }
            Fault::MalformedFrame(text) => {
                self.malformed_trade.push_back(text.clone());
                self.malformed_data.push_back(text);
            }
            Fault::DuplicateEvents => self.duplicate_events = true,
            Fault::TradingBlocked(b) => self.trading_blocked = b,
        }
    }

    /// Takes one HTTP fault for a `POST /v2/orders`, if any is pending.
    pub fn take_http(&mut self) -> Option<u16> {
        let front = self.http.front_mut()?;
        let status = front.0;
        front.1 -= 1;
        if front.1 == 0 {
            self.http.pop_front();
        }
        Some(status)
    }

    /// Takes one unit of a counter; true if there was one.
    pub fn take(counter: &mut u32) -> bool {
        if *counter > 0 {
            *counter -= 1;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_faults_are_used_up_in_order() {
        let mut b = FaultBook::default();
        for f in [
            Fault::Http(429, 2),
            Fault::Http(503, 1),
            Fault::RejectNextOrders(1),
        ] {
            b.add(f);
        }
        assert_eq!(b.take_http(), Some(429));
        assert_eq!(b.take_http(), Some(429));
        assert_eq!(b.take_http(), Some(503));
        assert_eq!(b.take_http(), None);
        assert!(FaultBook::take(&mut b.reject_next));
        assert!(!FaultBook::take(&mut b.reject_next));
        b.add(Fault::StopBarsAt(UnixNanos(10)));
        b.add(Fault::StopBarsAt(UnixNanos(20)));
        assert_eq!(
            b.stop_bars_at,
            Some(UnixNanos(10)),
            "the earliest stop wins"
        );
    }
}
