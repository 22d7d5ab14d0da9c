//! The ambiguous-submit campaign against the broker task ([`run_broker`]) and the loopback Alpaca
//! fake, on 127.0.0.1 only. Every step is bounded by a timeout.
//!
//! Ambiguous submits (`ambiguous_submits_place_each_order_once`): the fake
//! creates every order but loses its reply (504) with a 30 % chance
//! (`Fault::LoseSubmitResponseRate { percent: 30, seed: LOST_SEED }`; the draw for the fake's
//! `n`-th order depends only on the seed and `n`, so the same orders are lost on every run:
//! 147 of the 500). One broker task sends 500 DAY limit buys of 1 SPY at $1.00 (far below
//! the market: nothing fills, nothing moves) on a clock that runs at real speed from
//! 2013-10-04 10:00 ET. Asserted: no client order id reaches the fake twice, each of the 500
//! ids is exactly one order (one POST each), 120..=180 replies were lost, exactly the
//! orders whose reply was lost were looked up by client order id and none more than 3 times,
//! every order was acknowledged once, and the broker raised no alert (it never gave up on an
//! order). The broker task is given a budget of 100,000 requests a minute
//! (`BrokerConfig::budget_per_minute`): at Alpaca's 180 the ~650 requests take 2.6 minutes.

#[path = "broker_campaigns/support.rs"]
mod support;

use support::*;

/// What the broker task reported in campaign 1.
#[derive(Debug, Default)]
struct Ambiguous {
    /// Client ids the broker said it was looking up.
    looked_up: BTreeSet<String>,
    alerts: Vec<String>,
    /// Acknowledgements per order.
    acks: BTreeMap<OrderId, u32>,
    /// The `CheckClock` sent after the last submit was answered.
    clock_answered: bool,
}

impl Ambiguous {
    fn absorb(&mut self, ev: BrokerEvent) {
        match ev {
            BrokerEvent::Error(e) if e.contains("looking it up by client order id") => {
                let cid = e.strip_prefix("order ").and_then(|r| r.split(':').next());
                self.looked_up
                    .insert(cid.expect("an order id in the error").to_string());
            }
            BrokerEvent::Error(e) => panic!("unexpected broker error: {e}"),
            BrokerEvent::Alert(a) => self.alerts.push(a),
            BrokerEvent::Report(_, VenueReport::Accepted { order_id, .. }) => {
                *self.acks.entry(order_id).or_default() += 1;
            }
            BrokerEvent::Report(_, r) => panic!("nothing should fill or end: {r:?}"),
            BrokerEvent::Clock(_) => self.clock_answered = true,
            BrokerEvent::Down(why) => panic!("the update stream went down: {why}"),
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ambiguous_submits_place_each_order_once() {
    bounded(Duration::from_secs(420), async {
        let began = Instant::now();
        let run_id = "amb";
        let clock: SharedTime = Arc::new(WarpClock::new(et("10:00:00"), 1.0));
        let faults = vec![Fault::LoseSubmitResponseRate {
            percent: 30,
            seed: LOST_SEED,
        }];
        let h = start_fake(clock.clone(), faults).await;
        // The loopback fake has no rate limit: a budget of 100k a minute lets 500 submits
        // run in a fraction of a second (Alpaca's own budget is tested elsewhere).
        let budget = std::num::NonZeroU32::new(100_000);
        let mut broker = Broker::start(&h, run_id, clock, budget).await;
        let far = OrderKind::Limit {
            limit: Decimal::ONE,
        };
        for n in 1..=SUBMITS {
            broker.send(buy(run_id, n, 1, far)).await;
        }
        // Requests are served in order: the clock answer comes after the last submit.
        broker.send(Outgoing::CheckClock).await;
        let mut seen = Ambiguous::default();
        while !seen.clock_answered {
            let ev = timeout(Duration::from_secs(300), broker.events.recv())
                .await
                .expect("the broker did not get through 500 submits")
                .expect("broker task ended");
            seen.absorb(ev);
        }
        // The `new` events of the last orders may still be on their way.
        let deadline = Instant::now() + STEP;
        while seen.acks.len() < SUBMITS as usize && Instant::now() < deadline {
            if let Ok(Some(ev)) = timeout(Duration::from_millis(100), broker.events.recv()).await {
                seen.absorb(ev);
            }
        }
        let Ambiguous {
            looked_up,
            alerts,
            acks,
            ..
        } = seen;
        let stats = h.stats();
        let orders = h.orders();
        let max_lookups = stats
            .lookups_by_client_id
            .values()
            .copied()
            .max()
            .unwrap_or(0);
        eprintln!(
            "campaign 1: {} posts, {} orders, {} lost replies, {} ids looked up, \
             max {} lookups per id, {} duplicates, {} alerts, {:.1} s",
            stats.order_posts,
            stats.orders_accepted,
            stats.lost_responses,
            stats.lookups_by_client_id.len(),
            max_lookups,
            stats.duplicate_client_order_ids,
            alerts.len(),
            began.elapsed().as_secs_f64()
        );
        assert!(
            alerts.is_empty(),
            "the broker gave up on (or lost track of) orders: {alerts:?}"
        );
        assert_eq!(
            stats.duplicate_client_order_ids, 0,
            "a client id was re-sent"
        );
        assert_eq!(stats.orders_accepted, SUBMITS);
        assert_eq!(stats.order_posts, SUBMITS, "one POST per order");
        let sent: Vec<String> = (1..=SUBMITS).map(|n| format!("{run_id}-{n}")).collect();
        assert_eq!(
            stats.client_order_ids, sent,
            "every id reached the fake, in order"
        );
        assert!(
            stats.submits_by_client_id.values().all(|&c| c == 1),
            "an id was posted more than once"
        );
        let mut per_id: BTreeMap<&str, u32> = BTreeMap::new();
        for o in &orders {
            *per_id.entry(o.client_order_id.as_str()).or_default() += 1;
        }
        assert_eq!(per_id.len(), SUBMITS as usize, "every id is an order");
        assert!(per_id.values().all(|&c| c == 1), "an id is two orders");
        assert!(
            (120..=180).contains(&stats.lost_responses),
            "about 30 % of 500 replies lost: {}",
            stats.lost_responses
        );
        let asked: BTreeSet<String> = stats.lookups_by_client_id.keys().cloned().collect();
        assert_eq!(
            asked.len() as u64,
            stats.lost_responses,
            "exactly the orders whose reply was lost are looked up"
        );
        assert_eq!(asked, looked_up, "the lookups are the broker's");
        assert!(max_lookups <= 3, "an order needed {max_lookups} lookups");
        assert_eq!(acks.len(), SUBMITS as usize, "every order acknowledged");
        assert!(
            acks.values().all(|&c| c == 1),
            "an order acknowledged twice"
        );
        broker.stop().await;
        h.shutdown().await;
    })
    .await;
}
