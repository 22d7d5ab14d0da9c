//! The live venue's side of the driver: the broker task's requests and events, the
//! reconciliation that must finish before entries go out, the clock-skew guard, and the
//! venue breaker's count of real broker errors. Everything the loop learns here reaches it
//! as a journaled input, so a replay of the journal decides the same.

use super::DriverStats;
use crate::alpaca::{AlpacaVenue, Book, BrokerEvent, Outgoing};
use crate::health::Reconcile;
use crate::journal::RecordKind;
use crate::session::{Session, SessionError};
use lockstep_core::{Order, OrderStatus, UnixNanos};
use lockstep_engine::{Command, Input, Journal};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use tokio::sync::mpsc;

/// What to do with a broker position the journal cannot explain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExternalPositions {
    /// Stop before any new order, with a difference report (exit 1).
    #[default]
    Stop,
    /// Journal the difference and trade on beside it (the engine never touches the
    /// external quantity: it only closes what it opened).
    Ignore,
}

/// How many times the book is read again before a difference counts (updates in flight
/// can make the first read disagree for a moment).
const BOOK_READS: u32 = 5;

/// The live venue's side of the driver.
pub struct BrokerSide {
    /// The engine's venue (shares its outbox and names).
    pub venue: AlpacaVenue,
    /// Requests to the broker task.
    pub requests: mpsc::Sender<Outgoing>,
    /// Reports and alerts from it.
    pub events: mpsc::Receiver<BrokerEvent>,
    /// Whether the update stream has listened yet (requests queue until then).
    pub ready: bool,
    /// Whether the update stream is down now.
    pub down: bool,
    /// Reconciliation state; entries wait until `Done`.
    pub reconcile: Reconcile,
    /// Policy for positions the journal cannot explain.
    pub external: ExternalPositions,
    /// Largest allowed clock skew against the broker (ms).
    pub max_skew_ms: i64,
    /// Last measured skew (ms), ours minus the broker's.
    pub skew_ms: Option<i64>,
    /// Whether entries are held for clock skew.
    pub skewed: bool,
    /// Whether entries are paused (`PauseEntries` fed, no `ResumeEntries` yet).
    pub paused: bool,
    /// The broker's positions at the last book read.
    pub broker_positions: Option<BTreeMap<String, Decimal>>,
    /// Open orders at the broker that this session did not place.
    pub foreign_orders: Vec<String>,
    /// Broker errors seen (each counted toward the venue breaker).
    pub errors: u64,
}

impl BrokerSide {
    /// A side for a new or resumed session; entries wait for reconciliation.
    pub fn new(
        venue: AlpacaVenue,
        requests: mpsc::Sender<Outgoing>,
        events: mpsc::Receiver<BrokerEvent>,
        external: ExternalPositions,
        max_skew_ms: i64,
    ) -> Self {
        BrokerSide {
            venue,
            requests,
            events,
            ready: false,
            down: false,
            reconcile: Reconcile::Pending,
            external,
            max_skew_ms,
            skew_ms: None,
            skewed: false,
            paused: false,
            broker_positions: None,
            foreign_orders: Vec::new(),
            errors: 0,
        }
    }

    /// Sends what the last step queued, in order (it is journaled by now); returns how
    /// many requests went.
    pub(super) async fn flush(&mut self) -> usize {
        let queued: Vec<Outgoing> = self.venue.outbox().borrow_mut().drain(..).collect();
        let n = queued.len();
        for q in queued {
            if self.requests.send(q).await.is_err() {
                return 0;
            }
        }
        n
    }

    /// Queues a request for the next flush.
    pub fn queue(&self, request: Outgoing) {
        self.venue.outbox().borrow_mut().push(request);
    }

    /// Queues the start of reconciliation: every working order of a resumed session is
    /// looked up by its client id (one never acknowledged is posted, under that same id,
    /// only if the broker never took it), a cancel still pending is asked again, then the
    /// book and the clock are read.
    pub fn start_reconcile(&self, working: &[Order]) {
        self.venue.outbox().borrow_mut().clear();
        for o in working {
            let cid = o.client_order_id.0.clone();
            if o.status() == OrderStatus::New {
                self.queue(Outgoing::submit(o, self.venue.name_of(o.symbol), true));
            } else {
                self.queue(Outgoing::Reconcile {
                    order_id: o.id,
                    client_order_id: cid.clone(),
                });
                if o.status() == OrderStatus::PendingCancel {
                    self.queue(Outgoing::Cancel {
                        order_id: o.id,
                        client_order_id: cid,
                    });
                }
            }
        }
        self.queue(Outgoing::CheckBook { attempt: 0 });
        self.queue(Outgoing::CheckClock);
    }

    /// Whether entries may go out: reconciled, stream up, clock agreeing.
    fn may_enter(&self) -> bool {
        self.reconcile == Reconcile::Done && !self.down && self.ready
    }

    /// Feeds `PauseEntries` or `ResumeEntries` if the state calls for a change.
    fn settle_pause<V, J: Journal>(
        &mut self,
        session: &mut Session<V, J>,
        at: UnixNanos,
    ) -> Result<(), SessionError>
    where
        V: lockstep_engine::Venue,
    {
        let pause = !self.may_enter();
        if pause != self.paused {
            self.paused = pause;
            let c = if pause {
                Command::PauseEntries
            } else {
                Command::ResumeEntries
            };
            session.feed(Input::Command(at, c))?;
        }
        Ok(())
    }

    /// Pauses entries at the start (before reconciliation).
    pub fn pause_at_start<V: lockstep_engine::Venue, J: Journal>(
        &mut self,
        session: &mut Session<V, J>,
        at: UnixNanos,
    ) -> Result<(), SessionError> {
        self.settle_pause(session, at)
    }

    /// Handles one broker event at clock time `now` (inputs stamped `at`); returns a
    /// reason to stop when reconciliation failed.
    pub(super) fn handle<V: lockstep_engine::Venue, J: Journal>(
        &mut self,
        event: BrokerEvent,
        session: &mut Session<V, J>,
        stats: &mut DriverStats,
        now: UnixNanos,
        at: UnixNanos,
    ) -> Result<Option<String>, SessionError> {
        match event {
            BrokerEvent::Ready => {
                self.ready = true;
                self.down = false;
            }
            BrokerEvent::Down(why) => {
                stats.disconnects += 1;
                let body = serde_json::json!({"broker": why});
                session.note(now, RecordKind::Alert, body.to_string())?;
                self.down = true;
            }
            BrokerEvent::Report(_, report) => {
                crate::crash::point("report_received");
                let made = session.feed(Input::Report(at, report))?;
                stats.count(&made);
            }
            BrokerEvent::Raw { text, reason } => {
                stats.malformed += 1;
                let body = serde_json::json!({"text": text, "reason": reason});
                session.note(now, RecordKind::Raw, body.to_string())?;
            }
            BrokerEvent::Alert(text) => {
                let body = serde_json::json!({"broker": text});
                session.note(now, RecordKind::Alert, body.to_string())?;
            }
            BrokerEvent::Error(text) => {
                self.errors += 1;
                let body = serde_json::json!({"broker_error": text});
                session.note(now, RecordKind::Alert, body.to_string())?;
                session.feed(Input::Command(at, Command::BrokerError))?;
            }
            BrokerEvent::Clock(skew) => {
                self.skew_ms = Some(skew);
                let skewed = skew.abs() > self.max_skew_ms;
                if skewed != self.skewed {
                    self.skewed = skewed;
                    let body =
                        serde_json::json!({"clock_skew_ms": skew, "max_ms": self.max_skew_ms});
                    session.note(now, RecordKind::Alert, body.to_string())?;
                    let c = if skewed {
                        Command::ClockSkewed
                    } else {
                        Command::ClockAgrees
                    };
                    session.feed(Input::Command(at, c))?;
                }
            }
            BrokerEvent::Book(book) => {
                if let Some(stop) = self.on_book(book, session, now)? {
                    return Ok(Some(stop));
                }
            }
        }
        self.settle_pause(session, at)?;
        Ok(None)
    }

    /// Compares the broker's book with the engine's; reads again while they differ (up to
    /// [`BOOK_READS`] reads), then records the difference and applies the policy.
    fn on_book<V: lockstep_engine::Venue, J: Journal>(
        &mut self,
        book: Book,
        session: &mut Session<V, J>,
        now: UnixNanos,
    ) -> Result<Option<String>, SessionError> {
        if book.failed.is_some() {
            // Read again soon; after the last try the periodic check reads it again.
            if book.attempt + 1 < BOOK_READS {
                self.queue(Outgoing::CheckBook {
                    attempt: book.attempt + 1,
                });
            }
            return Ok(None);
        }
        let ours = session.open_positions();
        let diff = differences(&ours, &book.positions);
        if !diff.is_empty() && book.attempt + 1 < BOOK_READS {
            self.queue(Outgoing::CheckBook {
                attempt: book.attempt + 1,
            });
            return Ok(None);
        }
        if book.foreign_orders != self.foreign_orders && !book.foreign_orders.is_empty() {
            let body = serde_json::json!({"reconcile": "foreign_orders",
                "reason": "open orders at the broker that this session did not place",
                "client_order_ids": book.foreign_orders});
            session.note(now, RecordKind::Alert, body.to_string())?;
        }
        self.foreign_orders = book.foreign_orders;
        self.broker_positions = Some(book.positions);
        let first = self.reconcile == Reconcile::Pending;
        if diff.is_empty() {
            if first {
                self.reconcile = Reconcile::Done;
                let body = serde_json::json!({"event": "reconciled", "positions": ours.len()});
                session.note(now, RecordKind::Session, body.to_string())?;
            }
            return Ok(None);
        }
        let rows: Vec<serde_json::Value> = diff
            .iter()
            .map(|(s, j, b)| serde_json::json!({"symbol": s, "journal": j.to_string(), "broker": b.to_string()}))
            .collect();
        let text = diff
            .iter()
            .map(|(s, j, b)| format!("{s}: journal {j}, broker {b}"))
            .collect::<Vec<_>>()
            .join("; ");
        let stop = first && self.external == ExternalPositions::Stop;
        let body = serde_json::json!({"reconcile": "difference",
            "reason": "positions at the broker that the journal cannot explain",
            "positions": rows, "action": if stop { "stop" } else if first { "ignore" } else { "alert" }});
        session.note(now, RecordKind::Alert, body.to_string())?;
        if stop {
            self.reconcile = Reconcile::Failed(text.clone());
            return Ok(Some(text));
        }
        if first {
            self.reconcile = Reconcile::Done;
        }
        Ok(None)
    }
}

/// Symbols whose quantity differs: (symbol, journal's, broker's), in symbol order.
pub fn differences(
    ours: &BTreeMap<String, Decimal>,
    broker: &BTreeMap<String, Decimal>,
) -> Vec<(String, Decimal, Decimal)> {
    let mut symbols: Vec<&String> = ours.keys().chain(broker.keys()).collect();
    symbols.sort();
    symbols.dedup();
    symbols
        .into_iter()
        .filter_map(|s| {
            let a = ours.get(s).copied().unwrap_or_default();
            let b = broker.get(s).copied().unwrap_or_default();
            (a != b).then(|| (s.clone(), a, b))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_name_every_symbol_either_side_holds() {
        let d = |v: i64| Decimal::from(v);
        let ours = BTreeMap::from([("SPY".to_string(), d(10)), ("QQQ".to_string(), d(5))]);
        let broker = BTreeMap::from([("SPY".to_string(), d(10)), ("AAPL".to_string(), d(-3))]);
        assert_eq!(
            differences(&ours, &broker),
            vec![
                ("AAPL".to_string(), d(0), d(-3)),
                ("QQQ".to_string(), d(5), d(0)),
            ]
        );
        assert!(differences(&ours, &ours).is_empty());
    }
}
