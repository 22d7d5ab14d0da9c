//! Seeded stream-gap campaign against the broker task ([`run_broker`]) and the loopback
//! Alpaca fake, on 127.0.0.1 only. Every step is bounded by a timeout.
//!
//! Stream gaps (`stream_gaps_book_exactly_what_the_broker_filled`): 50 sessions,
//! seeds 1..=50, each drawn from a 64-bit LCG. A session is a fresh fake and a fresh broker
//! task on a manual clock starting at 2013-10-04 09:45 ET, stepped by the test (at most 10 s
//! a step); 5..=8 market buys of 1..=20 SPY are submitted at seeded times 5..=240 s in (each
//! fills at the open of the next bar). At a seeded time while a seeded order waits for that
//! open, `Fault::TradeStreamDownFor` closes the trade-updates socket and refuses reconnects
//! for a seeded 1..=300 s of clock time, during which the clock keeps moving: fills happen
//! with nobody listening, and orders may be submitted. The broker task reconnects (real-time
//! backoff) once the window is over, catches up every open order over REST and goes on.
//! Every order of more than one share executes in two parts a cent apart
//! (`Fault::SplitFills`). Once the clock is past the last fill: for every order of every
//! session, the quantity booked from the broker task's fill reports equals the fake's
//! `filled_qty` (which must be the ordered quantity), and the booked fills are the fake's
//! executions, one by one at their prices (missed ones read from the account's `FILL`
//! activities); at least 40 sessions dropped the stream while one of their orders
//! was unfilled or its fill not yet booked, at least 40 had fills made during the gap, and
//! the catch-up booked exactly those fills. The clock is manual because the reconnect
//! backoff is real time (0.5 s at least): on a warped clock a gap could not be shorter than
//! 0.5 s × the speed, and 50 sessions would not fit in a minute.

#[path = "broker_campaigns/support.rs"]
mod support;

use support::*;

/// A 64-bit LCG (Knuth's MMIX constants); the high bits are the draws.
struct Lcg(u64);

impl Lcg {
    fn new(seed: u64) -> Lcg {
        let mut l = Lcg(seed ^ 0x9E37_79B9_7F4A_7C15);
        l.next();
        l
    }

    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
}

/// One session's draws: orders (seconds after the start, quantity), the drop and the gap.
#[derive(Debug)]
struct Plan {
    orders: Vec<(i64, u64)>,
    drop_at: i64,
    gap: i64,
}

impl Plan {
    fn draw(seed: u64) -> Plan {
        let mut r = Lcg::new(seed);
        let n = r.range(5, 8);
        let mut orders: Vec<(i64, u64)> = (0..n)
            .map(|_| (r.range(5, 240), r.range(1, 20) as u64))
            .collect();
        orders.sort();
        // The drop falls while an order waits for its fill: after a submit at `s` seconds
        // (more than the 5 s grace into its minute), before the next bar opens.
        let waiting: Vec<i64> = orders
            .iter()
            .map(|o| o.0)
            .filter(|s| (6..=58).contains(&(s % 60)))
            .collect();
        let drop_at = if waiting.is_empty() {
            r.range(orders[0].0 + 1, orders[orders.len() - 1].0 + 60)
        } else {
            let s = waiting[r.range(0, waiting.len() as i64 - 1) as usize];
            r.range(s + 1, (s / 60 + 1) * 60 - 1)
        };
        Plan {
            drop_at,
            gap: r.range(1, 300),
            orders,
        }
    }

    /// When the clock has passed every fill and the gap.
    fn end(&self) -> i64 {
        let last = self.orders[self.orders.len() - 1].0;
        (last + 120).max(self.drop_at + self.gap + 60)
    }
}

/// What one session saw and booked.
#[derive(Debug, Default)]
struct Seen {
    booked: BTreeMap<OrderId, Decimal>,
    /// Each booked fill's (quantity, price), per order.
    fills: BTreeMap<OrderId, Vec<(Decimal, Decimal)>>,
    downs: u32,
    ready_after_down: u32,
    in_gap: bool,
    catch_up_fills: u32,
    alerts: Vec<String>,
    errors: Vec<String>,
}

impl Seen {
    fn absorb(&mut self, ev: BrokerEvent) {
        match ev {
            BrokerEvent::Report(
                _,
                VenueReport::Fill {
                    order_id,
                    qty,
                    price,
                    ..
                },
            ) => {
                *self.booked.entry(order_id).or_default() += qty;
                self.fills.entry(order_id).or_default().push((qty, price));
                if self.in_gap {
                    self.catch_up_fills += 1;
                }
            }
            BrokerEvent::Down(_) => {
                self.downs += 1;
                self.in_gap = true;
            }
            BrokerEvent::Ready if self.in_gap => {
                self.in_gap = false;
                self.ready_after_down += 1;
            }
            BrokerEvent::Alert(a) => self.alerts.push(a),
            BrokerEvent::Error(e) => self.errors.push(e),
            _ => {}
        }
    }

    fn drain(&mut self, rx: &mut mpsc::Receiver<BrokerEvent>) {
        while let Ok(ev) = rx.try_recv() {
            self.absorb(ev);
        }
    }

    /// Absorbs events until `done` holds (bounded).
    async fn until(
        &mut self,
        rx: &mut mpsc::Receiver<BrokerEvent>,
        what: &str,
        done: impl Fn(&Seen) -> bool,
    ) {
        while !done(self) {
            let ev = timeout(STEP, rx.recv())
                .await
                .unwrap_or_else(|_| panic!("timed out waiting for {what}: {self:?}"))
                .expect("broker task ended");
            self.absorb(ev);
        }
    }
}

/// One session's outcome.
struct Outcome {
    orders: usize,
    /// At the drop, an order was at the fake unfilled, or filled but not yet booked.
    dropped_while_pending: bool,
    /// Fills the fake made while nobody listened.
    fills_in_gap: usize,
    catch_up_fills: u32,
    refused: u64,
}

async fn session(seed: u64) -> Outcome {
    let plan = Plan::draw(seed);
    let run_id = format!("gap{seed}");
    let start = et("09:45:00");
    let at = |s: i64| start.plus(s * SEC);
    let manual = ManualClock::new(start);
    let clock: SharedTime = Arc::new(manual.clone());
    let h = start_fake(clock.clone(), Vec::new()).await;
    let mut broker = Broker::start(&h, &run_id, clock, None).await;
    let (drop_at, gap_end) = (plan.drop_at, plan.drop_at + plan.gap);
    h.inject(Fault::TradeStreamDownFor {
        at: at(drop_at),
        clock_ns: plan.gap * SEC,
    });
    h.inject(Fault::SplitFills);
    let mut seen = Seen::default();
    let mut next_order = 0usize;
    let mut dropped_while_pending = None;
    let mut t = 0i64;
    while t < plan.end() {
        // The next stop: a submit, the drop, the end of the gap, or 10 s on.
        let mut to = (t + 10).min(plan.end());
        if let Some(&(s, _)) = plan.orders.get(next_order) {
            to = to.min(s.max(t));
        }
        for mark in [drop_at, gap_end] {
            if mark > t {
                to = to.min(mark);
            }
        }
        t = to;
        manual.advance_to(at(t));
        while let Some(&(_, qty)) = plan.orders.get(next_order).filter(|o| o.0 <= t) {
            next_order += 1;
            let n = next_order as u64;
            broker.send(buy(&run_id, n, qty, OrderKind::Market)).await;
            // The fake stamps the order with this clock time; the broker then knows its id.
            let cid = format!("{run_id}-{n}");
            timeout(STEP, async {
                while !h.stats().client_order_ids.contains(&cid) {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            })
            .await
            .expect("the submit never reached the fake");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        if t == drop_at {
            seen.until(&mut broker.events, "the drop", |s| s.downs > 0)
                .await;
            let fake = h.orders();
            let pending = fake.iter().any(|o| {
                let id = engine_order_id(&o.client_order_id, &run_id).unwrap();
                o.status != OrderStatus::Filled
                    || seen.booked.get(&id).copied().unwrap_or_default() < o.filled_qty
            });
            dropped_while_pending = Some(pending);
        }
        if t == gap_end {
            seen.until(&mut broker.events, "the reconnect", |s| {
                s.ready_after_down > 0
            })
            .await;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
        seen.drain(&mut broker.events);
    }
    // Settle: every order filled at the fake and booked by the broker task.
    let want = plan.orders.len();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        seen.drain(&mut broker.events);
        let fake = h.orders();
        let settled = fake.len() == want
            && fake.iter().all(|o| {
                let id = engine_order_id(&o.client_order_id, &run_id).unwrap();
                o.status == OrderStatus::Filled
                    && seen.booked.get(&id).copied().unwrap_or_default() == o.filled_qty
            });
        if settled || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let fake = h.orders();
    assert_eq!(fake.len(), want, "seed {seed}: {plan:?}");
    for o in &fake {
        let id = engine_order_id(&o.client_order_id, &run_id).expect("our order");
        let (_, qty) = plan.orders[(id.0 - 1) as usize];
        assert_eq!(
            (o.status.clone(), o.filled_qty),
            (OrderStatus::Filled, Decimal::from(qty)),
            "seed {seed}: {} at the fake",
            o.client_order_id
        );
        assert_eq!(
            seen.booked.get(&id).copied().unwrap_or_default(),
            o.filled_qty,
            "seed {seed}: {} booked vs filled at the fake; plan {plan:?}; seen {seen:?}",
            o.client_order_id
        );
    }
    assert!(
        seen.alerts.is_empty(),
        "seed {seed}: alerts {:?}",
        seen.alerts
    );
    assert!(
        seen.errors.is_empty(),
        "seed {seed}: errors {:?}",
        seen.errors
    );
    let stats = h.stats();
    assert_eq!(stats.trade_stream_drops, 1, "seed {seed}: one drop");
    assert_eq!(stats.duplicate_client_order_ids, 0);
    // A fill at the drop instant still reaches the socket (the fake fills, then drops);
    // fills after it, up to the end of the gap, reach nobody.
    let (from, until) = (at(drop_at), at(gap_end));
    let executions = h.activities();
    let fills_in_gap = executions
        .iter()
        .filter(|a| from < a.transaction_time && a.transaction_time <= until)
        .count();
    for o in &fake {
        let id = engine_order_id(&o.client_order_id, &run_id).expect("our order");
        let executed: Vec<(Decimal, Decimal)> = executions
            .iter()
            .filter(|a| a.order_id == o.id)
            .map(|a| (a.qty, a.price))
            .collect();
        assert_eq!(
            seen.fills.get(&id).cloned().unwrap_or_default(),
            executed,
            "seed {seed}: {} booked execution by execution, at the broker's prices",
            o.client_order_id
        );
    }
    broker.stop().await;
    h.shutdown().await;
    Outcome {
        orders: want,
        dropped_while_pending: dropped_while_pending.expect("the drop happened"),
        fills_in_gap,
        catch_up_fills: seen.catch_up_fills,
        refused: stats.trade_stream_refused,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_gaps_book_exactly_what_the_broker_filled() {
    bounded(Duration::from_secs(240), async {
        let began = Instant::now();
        let mut compared = 0;
        let mut pending_drops = 0;
        let mut gap_sessions = 0;
        let mut gap_fills = 0;
        let mut catch_up = 0;
        let mut refused = 0;
        for seed in 1..=SESSIONS {
            let o = session(seed).await;
            compared += o.orders;
            pending_drops += u32::from(o.dropped_while_pending);
            gap_sessions += u32::from(o.fills_in_gap > 0);
            gap_fills += o.fills_in_gap;
            catch_up += o.catch_up_fills;
            refused += o.refused;
        }
        eprintln!(
            "campaign 2: {SESSIONS} sessions, {compared} orders compared, {pending_drops} \
             dropped with an order pending, {gap_sessions} with fills in the gap \
             ({gap_fills} fills, {catch_up} booked by catch-up), {refused} reconnects refused, \
             {:.1} s",
            began.elapsed().as_secs_f64()
        );
        assert!(
            pending_drops >= 40,
            "only {pending_drops} of {SESSIONS} sessions dropped the stream with an order pending"
        );
        assert!(
            gap_sessions >= 40,
            "only {gap_sessions} of {SESSIONS} sessions had fills while nobody listened"
        );
        assert_eq!(
            catch_up as usize, gap_fills,
            "every fill made while nobody listened was booked by the catch-up"
        );
    })
    .await;
}

/// The fault campaign 2 relies on: the socket is dropped at `at`, connections are refused
/// (503, no upgrade) until `at + clock_ns`, then admitted again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trade_stream_down_for_refuses_until_the_window_ends() {
    bounded(Duration::from_secs(30), async {
        use futures_util::{SinkExt, StreamExt};
        use tokio_tungstenite::tungstenite::{Error, Message};
        let start = et("10:00:00");
        let manual = ManualClock::new(start);
        let h = start_fake(Arc::new(manual.clone()), Vec::new()).await;
        let url = h.trade_stream_url();
        let listen = || async {
            let (mut ws, _) = timeout(STEP, tokio_tungstenite::connect_async(url.clone()))
                .await
                .unwrap()?;
            for text in [
                format!(
                    r#"{{"action":"authenticate","data":{{"key_id":"{KEY}","secret_key":"{SECRET}"}}}}"#
                ),
                r#"{"action":"listen","data":{"streams":["trade_updates"]}}"#.to_string(),
            ] {
                ws.send(Message::text(text)).await?;
                timeout(STEP, ws.next()).await.unwrap().unwrap()?;
            }
            Ok::<_, Error>(ws)
        };
        let mut ws = listen().await.expect("admitted before the window");
        h.inject(Fault::TradeStreamDownFor {
            at: start.plus(30 * SEC),
            clock_ns: 60 * SEC,
        });
        manual.advance_to(start.plus(30 * SEC));
        let closed = timeout(STEP, async {
            loop {
                match ws.next().await {
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => {}
                }
            }
        })
        .await;
        assert!(closed.is_ok(), "the socket is closed at `at`");
        for t in [30, 89] {
            manual.advance_to(start.plus(t * SEC));
            match listen().await {
                Err(Error::Http(resp)) => assert_eq!(resp.status().as_u16(), 503, "at +{t} s"),
                other => panic!("at +{t} s a connection was not refused: {:?}", other.is_ok()),
            }
        }
        manual.advance_to(start.plus(90 * SEC));
        listen().await.expect("admitted once the window is over");
        let stats = h.stats();
        assert_eq!(
            (stats.trade_stream_drops, stats.trade_stream_refused),
            (1, 2)
        );
        assert_eq!(stats.trade_stream_connections, 2);
        h.shutdown().await;
    })
    .await;
}
