//! The broker task's side of reconciliation: after a restart, every order the journal knows
//! is looked up by its client id and what it missed is reported (each missed fill at its
//! own price from the account's `FILL` activities, cancels, expiries), booked once because
//! the translator sizes fills from the cumulative filled quantity. Then the broker's positions and open orders are read, and
//! its clock, so the driver can compare them with the engine's book.

use super::broker::{lock, BrokerConfig, BrokerEvent, Shared};
use super::rest::TradingClient;
use super::updates::{engine_order_id, Translator};
use lockstep_core::{OrderId, UnixNanos};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// How far before an order's submission its executions are searched for.
const EXECUTION_MARGIN_NS: i64 = 600 * 1_000_000_000;

/// Looks up order `id` (client id `cid`) and reports what it missed; remembers its broker id
/// for later cancels. `Ok(None)`: the broker never took it.
pub(super) async fn lookup(
    cfg: &BrokerConfig,
    client: &TradingClient,
    id: OrderId,
    cid: &str,
    translator: &Shared<Translator>,
    ids: &Shared<BTreeMap<OrderId, String>>,
) -> Result<Option<Vec<BrokerEvent>>, String> {
    crate::crash::point("reconcile");
    let Some(o) = client.by_client_id(cid).await? else {
        return Ok(None);
    };
    lock(ids).insert(id, o.id.clone());
    let mut out = Vec::new();
    let mut execs = Vec::new();
    if o.filled_qty > lock(translator).filled(id) {
        // Fills were missed: their executions, from ten minutes before the order's
        // submission on (an execution may be stamped with the time of the quote it took,
        // and the two clocks may disagree).
        let since = o.submitted_at.or(o.created_at).unwrap_or(UnixNanos(0));
        match client.fills_since(since.plus(-EXECUTION_MARGIN_NS)).await {
            Ok(all) => execs = all.into_iter().filter(|a| a.order_id == o.id).collect(),
            Err(e) => out.push(BrokerEvent::Error(format!(
                "activities for {cid}: {e}; its missed fills are booked at their average price"
            ))),
        }
    }
    let now = cfg.clock.now();
    out.extend(
        lock(translator)
            .catch_up(&o, id, now, &execs)
            .into_iter()
            .map(|r| BrokerEvent::Report(now, r)),
    );
    Ok(Some(out))
}

/// As [`lookup`], for an order the journal holds as acknowledged: unknown at the broker is
/// an alert, a failed lookup a broker error.
pub(super) async fn reconcile_order(
    cfg: &BrokerConfig,
    client: &TradingClient,
    id: OrderId,
    cid: &str,
    translator: &Shared<Translator>,
    ids: &Shared<BTreeMap<OrderId, String>>,
) -> Vec<BrokerEvent> {
    match lookup(cfg, client, id, cid, translator, ids).await {
        Ok(Some(events)) => events,
        Ok(None) => vec![BrokerEvent::Alert(format!(
            "reconcile: {cid} is in the journal as acknowledged but unknown at the broker"
        ))],
        Err(e) => vec![BrokerEvent::Error(format!("reconcile {cid}: {e}"))],
    }
}

/// The broker's book as the driver compares it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Book {
    /// Which read this is (0 first).
    pub attempt: u32,
    /// Signed quantity per symbol (shorts negative), flat symbols left out.
    pub positions: BTreeMap<String, Decimal>,
    /// Client ids of open orders this run did not place.
    pub foreign_orders: Vec<String>,
    /// Why the book could not be read (then it is empty and must be read again).
    pub failed: Option<String>,
}

/// Re-reads every order placed and not known to be finished, by client order id, and
/// reports what the stream has not (yet) delivered. An order whose submit was answered
/// while this ran is read too: it goes on until a pass finds no order it has not read.
pub(super) async fn catch_up_open(
    cfg: &BrokerConfig,
    client: &TradingClient,
    translator: &Shared<Translator>,
    ids: &Shared<BTreeMap<OrderId, String>>,
) -> Vec<BrokerEvent> {
    let mut read = BTreeSet::new();
    let mut out = Vec::new();
    loop {
        let open: Vec<OrderId> = {
            let t = lock(translator);
            lock(ids)
                .keys()
                .copied()
                .filter(|id| !t.is_done(*id) && !read.contains(id))
                .collect()
        };
        if open.is_empty() {
            return out;
        }
        read.extend(open.iter().copied());
        out.extend(catch_up_these(cfg, client, translator, ids, open).await);
    }
}

/// Catches up the orders `open`, one lookup each.
async fn catch_up_these(
    cfg: &BrokerConfig,
    client: &TradingClient,
    translator: &Shared<Translator>,
    ids: &Shared<BTreeMap<OrderId, String>>,
    open: Vec<OrderId>,
) -> Vec<BrokerEvent> {
    let mut out = Vec::new();
    for id in open {
        let cid = format!("{}-{}", cfg.run_id, id.0);
        match lookup(cfg, client, id, &cid, translator, ids).await {
            Ok(Some(events)) => out.extend(events),
            Ok(None) => out.push(BrokerEvent::Alert(format!(
                "catch-up: {cid} unknown at the broker"
            ))),
            Err(e) => out.push(BrokerEvent::Error(format!("catch-up: {cid}: {e}"))),
        }
    }
    out
}

/// Reads the broker's book: first the orders not known to be finished (their fills reach
/// the loop before the book does, so a fill the stream has not delivered yet is no
/// difference), then positions and open orders. The `attempt`-th read waits
/// `attempt` × 100 ms first.
pub(super) async fn check_book(
    cfg: &BrokerConfig,
    client: &TradingClient,
    attempt: u32,
    translator: &Shared<Translator>,
    ids: &Shared<BTreeMap<OrderId, String>>,
) -> Vec<BrokerEvent> {
    if attempt > 0 {
        tokio::time::sleep(Duration::from_millis(100) * attempt).await;
    }
    let mut out = catch_up_open(cfg, client, translator, ids).await;
    let positions = match client.positions().await {
        Ok(p) => p,
        Err(e) => return failed(out, attempt, format!("positions: {e}")),
    };
    let open = match client.open_orders().await {
        Ok(o) => o,
        Err(e) => return failed(out, attempt, format!("open orders: {e}")),
    };
    let positions = positions
        .into_iter()
        .filter(|p| !p.qty.is_zero())
        .map(|p| {
            let signed = match p.side {
                crate::wire::PositionSide::Short => -p.qty.abs(),
                crate::wire::PositionSide::Long => p.qty.abs(),
                crate::wire::PositionSide::Other(_) => p.qty,
            };
            (p.symbol, signed)
        })
        .collect();
    let foreign_orders = open
        .into_iter()
        .map(|o| o.client_order_id)
        .filter(|c| engine_order_id(c, &cfg.run_id).is_none())
        .collect();
    out.push(BrokerEvent::Book(Book {
        attempt,
        positions,
        foreign_orders,
        failed: None,
    }));
    out
}

/// The events of a book read that failed: the error (counted as a broker error) and a
/// book that says it must be read again.
fn failed(mut out: Vec<BrokerEvent>, attempt: u32, why: String) -> Vec<BrokerEvent> {
    out.push(BrokerEvent::Error(format!("reconcile {why}")));
    out.push(BrokerEvent::Book(Book {
        attempt,
        failed: Some(why),
        ..Book::default()
    }));
    out
}

/// Reads the broker's clock: our clock minus the broker's, in milliseconds, measured at
/// the middle of the request.
pub(super) async fn check_clock(cfg: &BrokerConfig, client: &TradingClient) -> Vec<BrokerEvent> {
    let before = cfg.clock.now();
    match client.clock().await {
        Ok(c) => {
            let after = cfg.clock.now();
            let mid = before.0 / 2 + after.0 / 2;
            vec![BrokerEvent::Clock((mid - c.timestamp.0) / 1_000_000)]
        }
        Err(e) => vec![BrokerEvent::Error(format!("clock: {e}"))],
    }
}
