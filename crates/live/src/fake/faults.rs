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
    /// From now on each valid order is created but its response is lost (504) with
    /// probability `percent` / 100: a pseudo-random draw from `seed` and the order's number
    /// (1 for the fake's first order) decides, so the same seed loses the same orders.
    LoseSubmitResponseRate {
        /// Chance of losing a response, 0..=100.
        percent: u32,
        /// Seed of the draws.
        seed: u64,
    },
    /// Closes the listening trade-updates socket once (at the next tick that finds one).
    /// Events while nobody listens are lost, as on Alpaca (no replay).
    DropTradeStream,
    /// Closes the listening trade-updates socket once the clock reaches this time.
    DropTradeStreamAt(UnixNanos),
    /// Closes the listening trade-updates socket once the clock reaches `at` (as
    /// [`Fault::DropTradeStreamAt`]) and answers every trade-updates connection attempt
    /// with HTTP 503 (no upgrade) while the clock is in `[at, at + clock_ns)`.
    TradeStreamDownFor {
        /// When the stream goes down.
        at: UnixNanos,
        /// For how long, in clock nanoseconds.
        clock_ns: i64,
    },
    /// The market-data sockets send no bar delivered at or after this clock time (a stale
    /// feed). REST bars are unaffected.
    StopBarsAt(UnixNanos),
    /// The market-data sockets send no bar delivered in `[at, at + clock_ns)` (a feed that
    /// stalls, then goes on with the next bar; the withheld ones are never sent). REST bars
    /// are unaffected.
    StallBarsFor {
        /// When the stall starts.
        at: UnixNanos,
        /// For how long, in clock nanoseconds.
        clock_ns: i64,
    },
    /// The market-data sockets send each bar delivered at or after `at` only once the clock
    /// is `clock_ns` past its delivery time (a feed that lags; bars stay in order).
    DelayBarsFrom {
        /// The first delivery time that lags.
        at: UnixNanos,
        /// By how much, in clock nanoseconds.
        clock_ns: i64,
    },
    /// This raw text is sent once on the trade-updates stream (binary frame, once a client
    /// listens) and once on a market-data stream (text frame, once a client subscribed).
    MalformedFrame(String),
    /// From now on every fill event is sent twice with the same `execution_id`.
    DuplicateEvents,
    /// From now on an order filling more than one share executes in two parts: half
    /// (rounded down) at the fill price (`partial_fill`), the rest one cent worse (`fill`).
    SplitFills,
    /// Sets the account's `trading_blocked` flag; while set, orders get 403.
    TradingBlocked(bool),
    /// Alpaca's request budget: at most `per_window` trading requests (account, clock,
    /// calendar, positions, orders) in each real-time window of `window_ms`, windows aligned
    /// to the Unix epoch. A request over the budget gets 429 with `X-RateLimit-Limit`,
    /// `X-RateLimit-Remaining: 0` and `X-RateLimit-Reset` (the window's end, Unix seconds,
    /// exact when `window_ms` is whole seconds). Alpaca's is 200 per 60,000 ms.
    RateLimit {
        /// Requests allowed per window.
        per_window: u32,
        /// Window length in real milliseconds (at least 1).
        window_ms: u64,
    },
    /// While the clock is in `[at, at + clock_ns)`, `GET /v2/clock` reads `offset_ms` ahead
    /// of the fake's clock (negative: behind): the broker's clock disagrees with ours.
    ClockOffsetFor {
        /// When the disagreement starts.
        at: UnixNanos,
        /// For how long, in clock nanoseconds.
        clock_ns: i64,
        /// How far the broker's clock is off, in milliseconds.
        offset_ms: i64,
    },
}

/// A fixed-window request budget on real time (see [`Fault::RateLimit`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RateWindow {
    per_window: u32,
    window_ms: u64,
    /// The window now counted (its index since the epoch) and its requests so far.
    current: (u64, u32),
}

impl RateWindow {
    /// A budget of `per_window` requests per `window_ms`.
    pub fn new(per_window: u32, window_ms: u64) -> Self {
        RateWindow {
            per_window,
            window_ms: window_ms.max(1),
            current: (0, 0),
        }
    }

    /// Counts a request at `now_ms` (real Unix milliseconds): `Ok(remaining)` if the budget
    /// allows it, else `Err(reset)`, the Unix second the window ends (rounded up).
    pub fn take(&mut self, now_ms: u64) -> Result<u32, u64> {
        let index = now_ms / self.window_ms;
        if self.current.0 != index {
            self.current = (index, 0);
        }
        if self.current.1 >= self.per_window {
            let end_ms = (index + 1) * self.window_ms;
            return Err(end_ms.div_ceil(1000));
        }
        self.current.1 += 1;
        Ok(self.per_window - self.current.1)
    }

    /// Requests allowed per window.
    pub fn limit(&self) -> u32 {
        self.per_window
    }
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
    /// Lose responses at random: (percent, seed).
    pub lose_rate: Option<(u32, u64)>,
    /// Trade-socket drops still to do.
    pub drop_trade_stream: u32,
    /// Clock times at which to drop the trade socket, earliest first.
    pub drop_trade_at: std::collections::BTreeSet<UnixNanos>,
    /// Clock windows `[from, until)` in which trade-updates connections are refused.
    pub trade_down: Vec<(UnixNanos, UnixNanos)>,
    /// No bar delivered at or after this time reaches a data socket.
    pub stop_bars_at: Option<UnixNanos>,
    /// Clock windows `[from, until)` whose bars never reach a data socket.
    pub bar_stalls: Vec<(UnixNanos, UnixNanos)>,
    /// Bars delivered at or after this time reach a data socket this much later.
    pub bar_delay: Option<(UnixNanos, i64)>,
    /// Raw frames still to send on the trade socket.
    pub malformed_trade: VecDeque<String>,
    /// Raw frames still to send on a data socket.
    pub malformed_data: VecDeque<String>,
    /// Send every fill event twice.
    pub duplicate_events: bool,
    /// Execute fills in two parts.
    pub split_fills: bool,
    /// The account's `trading_blocked` flag.
    pub trading_blocked: bool,
    /// The trading request budget, if limited.
    pub rate: Option<RateWindow>,
    /// Clock windows `[from, until)` in which the broker's clock reads off, with the offset
    /// in milliseconds.
    pub clock_offsets: Vec<(UnixNanos, UnixNanos, i64)>,
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
            Fault::LoseSubmitResponseRate { percent, seed } => {
                self.lose_rate = Some((percent.min(100), seed))
            }
            Fault::DropTradeStream => self.drop_trade_stream += 1,
            Fault::DropTradeStreamAt(t) => {
                self.drop_trade_at.insert(t);
            }
            Fault::TradeStreamDownFor { at, clock_ns } => {
                self.drop_trade_at.insert(at);
                self.trade_down.push((at, at.plus(clock_ns.max(0))));
            }
            Fault::StopBarsAt(t) => {
                self.stop_bars_at = Some(self.stop_bars_at.map_or(t, |x| x.min(t)))
            }
            Fault::StallBarsFor { at, clock_ns } => {
                self.bar_stalls.push((at, at.plus(clock_ns.max(0))))
            }
            Fault::DelayBarsFrom { at, clock_ns } => self.bar_delay = Some((at, clock_ns.max(0))),
            Fault::MalformedFrame(text) => {
                self.malformed_trade.push_back(text.clone());
                self.malformed_data.push_back(text);
            }
            Fault::DuplicateEvents => self.duplicate_events = true,
            Fault::SplitFills => self.split_fills = true,
            Fault::TradingBlocked(b) => self.trading_blocked = b,
            Fault::RateLimit {
                per_window,
                window_ms,
            } => self.rate = Some(RateWindow::new(per_window, window_ms)),
            Fault::ClockOffsetFor {
                at,
                clock_ns,
                offset_ms,
            } => self
                .clock_offsets
                .push((at, at.plus(clock_ns.max(0)), offset_ms)),
        }
    }

    /// How far the broker's clock reads off at clock time `now`, in milliseconds.
    pub fn clock_offset_ms(&self, now: UnixNanos) -> i64 {
        self.clock_offsets
            .iter()
            .filter(|(from, until, _)| *from <= now && now < *until)
            .map(|(_, _, off)| *off)
            .sum()
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

    /// Whether the response to the fake's `n`-th order is lost, by a counted
    /// [`Fault::LoseSubmitResponse`] (used up) or the draw of [`Fault::LoseSubmitResponseRate`].
    pub fn lose_response(&mut self, n: u64) -> bool {
        if Self::take(&mut self.lose_response) {
            return true;
        }
        self.lose_rate
            .is_some_and(|(percent, seed)| draw(seed, n) % 100 < u64::from(percent))
    }

    /// The clock time from which a bar delivered at `end` may be sent on a data socket.
    pub fn bar_due(&self, end: UnixNanos) -> UnixNanos {
        match self.bar_delay {
            Some((at, lag)) if end >= at => end.plus(lag),
            _ => end,
        }
    }

    /// Whether a bar delivered at clock time `end` is withheld from the data sockets.
    pub fn bar_withheld(&self, end: UnixNanos) -> bool {
        self.stop_bars_at.is_some_and(|t| end >= t)
            || self
                .bar_stalls
                .iter()
                .any(|(from, until)| *from <= end && end < *until)
    }

    /// Whether trade-updates connections are refused at clock time `now`.
    pub fn trade_stream_down(&self, now: UnixNanos) -> bool {
        self.trade_down
            .iter()
            .any(|(from, until)| *from <= now && now < *until)
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

/// A well-mixed 64-bit value from `seed` and `n` (SplitMix64's finalizer).
fn draw(seed: u64, n: u64) -> u64 {
    let mut z = seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
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
        b.add(Fault::DelayBarsFrom {
            at: UnixNanos(100),
            clock_ns: 7,
        });
        assert_eq!(b.bar_due(UnixNanos(99)), UnixNanos(99));
        assert_eq!(b.bar_due(UnixNanos(100)), UnixNanos(107), "from `at` on");
        b.add(Fault::StopBarsAt(UnixNanos(10)));
        b.add(Fault::StopBarsAt(UnixNanos(20)));
        assert_eq!(
            b.stop_bars_at,
            Some(UnixNanos(10)),
            "the earliest stop wins"
        );
    }

    #[test]
    fn the_rate_window_allows_its_budget_then_names_the_window_end() {
        let mut w = RateWindow::new(2, 3000);
        // 1_000_000_000_500 ms is in the window [999_999_999_000, 1_000_000_002_000).
        assert_eq!(w.take(1_000_000_000_500), Ok(1));
        assert_eq!(w.take(1_000_000_000_600), Ok(0));
        assert_eq!(w.take(1_000_000_001_999), Err(1_000_000_002));
        assert_eq!(w.take(1_000_000_002_000), Ok(1), "a new window");
        let mut odd = RateWindow::new(1, 1500);
        assert_eq!(odd.take(1500), Ok(0));
        assert_eq!(odd.take(1600), Err(3), "3000 ms is second 3");
        assert_eq!(odd.take(3000), Ok(0));
        assert_eq!(odd.take(3001), Err(5), "4500 ms rounds up to second 5");
    }

    #[test]
    fn lost_responses_by_rate_are_seeded_and_near_the_rate() {
        let lost = |seed: u64| -> Vec<u64> {
            let mut b = FaultBook::default();
            b.add(Fault::LoseSubmitResponseRate { percent: 30, seed });
            (1..=10_000).filter(|n| b.lose_response(*n)).collect()
        };
        let a = lost(7);
        assert_eq!(a, lost(7), "the same seed loses the same orders");
        assert_ne!(a, lost(8));
        assert!((2_800..=3_200).contains(&a.len()), "{} of 10000", a.len());
        let mut b = FaultBook::default();
        b.add(Fault::LoseSubmitResponse(1));
        assert!(
            b.lose_response(1) && !b.lose_response(2),
            "counted: used up"
        );
        b.add(Fault::TradeStreamDownFor {
            at: UnixNanos(100),
            clock_ns: 50,
        });
        assert_eq!(b.drop_trade_at.first(), Some(&UnixNanos(100)));
        let down: Vec<bool> = [99, 100, 149, 150]
            .map(|t| b.trade_stream_down(UnixNanos(t)))
            .to_vec();
        assert_eq!(down, [false, true, true, false]);
    }
}
