//! The 429-burst campaign against the broker task ([`run_broker`]) and the loopback Alpaca
//! fake, on 127.0.0.1 only. Every step is bounded by a timeout.
//!
//! The fake enforces Alpaca's trading budget, 200 requests a window, on a window of 3 s of
//! real time instead of 60 s (Alpaca's minute compressed 20x, so five windows fit in a
//! test): a request over it gets 429 with `X-RateLimit-Reset` naming the window's end. The
//! broker task is given a budget of 100,000 a minute (it does not pace itself: a second
//! process on the same account, or a wrong budget, has used the broker's), so only the
//! broker's 429s hold it back. On a clock at real speed from 10:00 ET:
//!
//! 1. a market buy of 10 SPY fills;
//! 2. a burst of 1000 entry intents (DAY limit buys of 1 SPY at $1.00, far below the
//!    market) is queued at once, then the exit of the 10 SPY (a market sell that closes).
//!
//! Asserted: no client order id is an order twice or is refused as a duplicate; all 1002
//! orders are placed; each 429 is met by waiting for the reset the broker named (no more
//! 429s than windows the campaign spans, and every id reached the order handler once);
//! every 429 reaches the loop as a broker error (what `risk.venue_breaker` counts); the
//! exit jumps the queue of waiting entries (posted before at least 500 of them) and fills,
//! so the position is flat while entries still wait for the budget.

#[path = "broker_campaigns/support.rs"]
mod support;

use support::*;

/// Entry intents in the burst.
const BURST: u64 = 1000;
/// The fake's budget per window, as Alpaca's per minute.
const PER_WINDOW: u32 = 200;
/// The window, in real milliseconds (Alpaca's 60,000 compressed 20x).
const WINDOW_MS: u64 = 3000;

/// What the broker task reported.
#[derive(Debug, Default)]
struct Seen {
    rate_limited: u64,
    other_errors: Vec<String>,
    alerts: Vec<String>,
    acks: BTreeMap<OrderId, u32>,
    filled: BTreeMap<OrderId, Decimal>,
    clock_answered: bool,
}

impl Seen {
    fn absorb(&mut self, ev: BrokerEvent) {
        match ev {
            BrokerEvent::Error(e) if e.contains("rate limited (429)") => self.rate_limited += 1,
            BrokerEvent::Error(e) => self.other_errors.push(e),
            BrokerEvent::Alert(a) => self.alerts.push(a),
            BrokerEvent::Report(_, VenueReport::Accepted { order_id, .. }) => {
                *self.acks.entry(order_id).or_default() += 1;
            }
            BrokerEvent::Report(_, VenueReport::Fill { order_id, qty, .. }) => {
                *self.filled.entry(order_id).or_default() += qty;
            }
            BrokerEvent::Clock(_) => self.clock_answered = true,
            BrokerEvent::Down(why) => panic!("the update stream went down: {why}"),
            _ => {}
        }
    }

    async fn until(&mut self, broker: &mut Broker, limit: Duration, done: impl Fn(&Seen) -> bool) {
        let deadline = Instant::now() + limit;
        while !done(self) {
            let left = deadline.saturating_duration_since(Instant::now());
            match timeout(left, broker.events.recv()).await {
                Ok(Some(ev)) => self.absorb(ev),
                Ok(None) => panic!("broker task ended"),
                Err(_) => panic!("waited {limit:?}: {self:?}"),
            }
        }
    }
}

fn market(run_id: &str, n: u64, side: Side, closes: bool) -> Outgoing {
    Outgoing::Submit {
        order_id: OrderId(n),
        client_order_id: format!("{run_id}-{n}"),
        symbol: "SPY".into(),
        side,
        qty: Decimal::from(10),
        kind: OrderKind::Market,
        tif: TimeInForce::Day,
        after_restart: false,
        closes,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_1000_intents_under_the_rate_limit_places_each_once_and_exits_go_first() {
    bounded(Duration::from_secs(180), async {
        let run_id = "burst";
        let clock: SharedTime = Arc::new(WarpClock::new(et("10:00:00"), 1.0));
        let mut cfg = FakeConfig::new(KEY, SECRET, data_file(), clock.clone());
        // Market orders sent in the campaign's first minute fill at the 10:00 open.
        cfg.market_open_grace = 59 * SEC;
        cfg.faults = vec![Fault::RateLimit {
            per_window: PER_WINDOW,
            window_ms: WINDOW_MS,
        }];
        let h = timeout(STEP, spawn(cfg)).await.unwrap().unwrap();
        assert!(h.addr.ip().is_loopback());
        let budget = std::num::NonZeroU32::new(100_000);
        let mut broker = Broker::start(&h, run_id, clock, budget).await;
        let mut seen = Seen::default();

        let (first, exit) = (OrderId(1), OrderId(BURST + 2));
        broker.send(market(run_id, 1, Side::Buy, false)).await;
        seen.until(&mut broker, STEP, |s| {
            s.filled.get(&first) == Some(&Decimal::from(10))
        })
        .await;

        let began = Instant::now();
        let far = OrderKind::Limit {
            limit: Decimal::ONE,
        };
        for n in 2..=BURST + 1 {
            broker.send(buy(run_id, n, 1, far)).await;
        }
        broker.send(market(run_id, exit.0, Side::Sell, true)).await;
        broker.send(Outgoing::CheckClock).await;
        seen.until(&mut broker, Duration::from_secs(40), |s| {
            s.filled.contains_key(&exit)
        })
        .await;
        let exit_filled_after = began.elapsed();
        seen.until(&mut broker, Duration::from_secs(60), |s| s.clock_answered)
            .await;
        seen.until(&mut broker, STEP, |s| s.acks.len() as u64 == BURST + 2)
            .await;
        let spanned = began.elapsed();

        let stats = h.stats();
        let posts = stats
            .submits_by_client_id
            .values()
            .copied()
            .max()
            .unwrap_or(0);
        let exit_cid = format!("{run_id}-{}", exit.0);
        let exit_at = stats
            .client_order_ids
            .iter()
            .position(|c| *c == exit_cid)
            .expect("the exit was posted");
        let windows = spanned.as_millis() as u64 / WINDOW_MS + 2;
        eprintln!(
            "429 burst: {} orders, {} posts, {} 429s over {:.1} s ({} windows), exit posted \
             {}th and filled after {:.2} s, max {} posts per id, {} broker errors",
            stats.orders_accepted,
            stats.order_posts,
            stats.rate_limited,
            spanned.as_secs_f64(),
            windows,
            exit_at + 1,
            exit_filled_after.as_secs_f64(),
            posts,
            seen.rate_limited,
        );
        assert!(seen.alerts.is_empty(), "alerts: {:?}", seen.alerts);
        assert!(seen.other_errors.is_empty(), "{:?}", seen.other_errors);
        assert_eq!(stats.duplicate_client_order_ids, 0, "an id was re-sent");
        assert_eq!(stats.orders_accepted, BURST + 2, "every intent placed");
        assert!(
            stats.rate_limited >= 3,
            "1000 requests over a 200 budget meet the limit: {}",
            stats.rate_limited
        );
        assert!(
            stats.rate_limited <= windows,
            "the reset was not honoured: {} 429s in {windows} windows",
            stats.rate_limited
        );
        // The budget's 429s are answered before the order handler: each id reached it once.
        assert_eq!(posts, 1, "an id was posted {posts} times");
        assert_eq!(
            seen.rate_limited, stats.rate_limited,
            "every 429 reached the loop as a broker error"
        );
        assert!(
            seen.acks.values().all(|&n| n == 1),
            "an order acknowledged twice"
        );
        assert!(
            exit_at < 1 + 500,
            "the exit waited behind the entries: posted {}th",
            exit_at + 1
        );
        assert_eq!(seen.filled.get(&exit), Some(&Decimal::from(10)));
        assert!(exit_filled_after < spanned, "flat before the burst drained");
        let mut per_id: BTreeMap<&str, u32> = BTreeMap::new();
        let orders = h.orders();
        for o in &orders {
            *per_id.entry(o.client_order_id.as_str()).or_default() += 1;
        }
        assert_eq!(per_id.len() as u64, BURST + 2);
        assert!(per_id.values().all(|&c| c == 1), "an id is two orders");
        broker.stop().await;
        h.shutdown().await;
    })
    .await;
}
