//! A journaled session: the engine driven one input at a time, with every input made
//! durable before the loop consumes it and every decision made durable before any request
//! it implies leaves the process (one transaction, so one fsync, per step).

use crate::journal::{JournalStore, JournalStoreError, NewRecord, RecordKind};
use crate::records::{decision_json, input_record};
use lockstep_core::{SymbolId, UnixNanos};
use lockstep_engine::{
    Engine, EngineError, Entry, Input, Journal, JournalError, Names, RunOutcome, SimClock, Venue,
};
use std::cell::RefCell;
use std::rc::Rc;

/// A journal that writes each decision as a canonical JSON line into a shared buffer and
/// passes the entry on to `inner` (the report writer).
pub struct Tee<J> {
    inner: J,
    out: Rc<RefCell<Vec<(i64, String)>>>,
}

impl<J> Tee<J> {
    /// A tee in front of `inner`; decisions collect in `out` as (engine time, JSON).
    pub fn new(inner: J, out: Rc<RefCell<Vec<(i64, String)>>>) -> Self {
        Tee { inner, out }
    }

    /// The journal behind the tee.
    pub fn into_inner(self) -> J {
        self.inner
    }
}

fn entry_ts(entry: &Entry<'_>) -> i64 {
    match entry {
        Entry::Submitted(o) => o.created_ts.0,
        Entry::Order(o) => o.updated_ts.0,
        Entry::Fill(f) => f.ts.0,
        Entry::Allocation(a) => a.close_ts.0,
        Entry::Rejection(r) => r.ts.0,
        Entry::Equity(e) => e.ts.0,
        Entry::Eod(_, t) => t.0,
        Entry::Alert(a) => a.ts.0,
    }
}

impl<J: Journal> Journal for Tee<J> {
    fn record(&mut self, entry: Entry<'_>, names: &Names<'_>) -> Result<(), JournalError> {
        self.out
            .borrow_mut()
            .push((entry_ts(&entry), decision_json(&entry, names)));
        self.inner.record(entry, names)
    }
}

/// Why a session step failed.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The journal could not be written (the session must stop: nothing unjournaled may
    /// happen).
    #[error(transparent)]
    Journal(#[from] JournalStoreError),
    /// The engine stopped.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The async runtime could not start.
    #[error("runtime: {0}")]
    Runtime(String),
}

/// The engine of a session with its write-ahead journal.
pub struct Session<V: Venue, J: Journal> {
    engine: Engine<V, SimClock, Tee<J>>,
    decisions: Rc<RefCell<Vec<(i64, String)>>>,
    store: Option<JournalStore>,
    inputs: u64,
    last_at: UnixNanos,
    last_bars: std::collections::BTreeMap<SymbolId, UnixNanos>,
    signals: Vec<lockstep_core::Signal>,
    shadow: Option<Box<dyn crate::shadow::Shadow>>,
}

impl<V: Venue, J: Journal> Session<V, J> {
    /// Wraps `make(tee)`, an engine built around the tee journal this session hands it;
    /// `store` is the journal (none for a replay, which only compares).
    pub fn new(
        make: impl FnOnce(Tee<J>) -> Engine<V, SimClock, Tee<J>>,
        inner: J,
        store: Option<JournalStore>,
    ) -> Self {
        let decisions = Rc::new(RefCell::new(Vec::new()));
        let engine = make(Tee::new(inner, decisions.clone()));
        Session {
            engine,
            decisions,
            store,
            inputs: 0,
            last_at: UnixNanos(i64::MIN),
            last_bars: std::collections::BTreeMap::new(),
            signals: Vec::new(),
            shadow: None,
        }
    }

    /// Feeds `shadow` the same market inputs from now on (set it before the session begins
    /// or resumes, so it sees every input).
    pub fn with_shadow(&mut self, shadow: Box<dyn crate::shadow::Shadow>) {
        self.shadow = Some(shadow);
    }

    /// Starts the strategies; their first decisions are journaled.
    pub fn begin(&mut self, at: UnixNanos) -> Result<Vec<(i64, String)>, SessionError> {
        self.append(&[NewRecord::new(
            at.0,
            RecordKind::Session,
            r#"{"event":"begin"}"#,
        )])?;
        self.engine.begin()?;
        self.flush_decisions()
    }

    /// The id of `name` in the engine's symbol table (interned on first use).
    pub fn symbol(&mut self, name: &str) -> SymbolId {
        self.engine.symbol(name)
    }

    /// Journals `input` (durably), hands it to the loop, then journals the decisions it
    /// produced (durably) and returns them. Requests to a broker are sent only after this
    /// returns.
    pub fn feed(&mut self, input: Input) -> Result<Vec<(i64, String)>, SessionError> {
        let record = input_record(&input, self.engine.symbols());
        self.append(&[record])?;
        // Crash points count only steps that are journaled (not a resume's rebuild).
        let live = self.store.is_some();
        if live {
            crate::crash::point("input_durable");
            if matches!(
                input,
                Input::Report(_, lockstep_engine::VenueReport::Fill { .. })
            ) {
                crate::crash::point("fill_durable");
            }
        }
        self.inputs += 1;
        self.last_at = self.last_at.max(input.ts());
        match &input {
            Input::Bar(b) => {
                self.last_bars.insert(b.symbol, b.ts);
            }
            Input::Signal(s) => self.signals.push((**s).clone()),
            _ => {}
        }
        let for_shadow =
            (self.shadow.is_some() && crate::shadow::feeds_shadow(&input)).then(|| input.clone());
        self.engine.push(input)?;
        if let (Some(shadow), Some(input)) = (self.shadow.as_mut(), for_shadow) {
            if let Err(why) = shadow.push(&input) {
                // The simulation failing never stops real trading: it is dropped, loudly.
                self.shadow = None;
                let body = serde_json::json!({"shadow": "stopped", "reason": why});
                self.note(input.ts(), RecordKind::Alert, body.to_string())?;
            }
        }
        if live {
            crate::crash::point("decided");
        }
        let made = self.flush_decisions()?;
        if live {
            crate::crash::point("decisions_durable");
            if made.iter().any(|(_, d)| d.starts_with("{\"eod\"")) {
                crate::crash::point("eod_flatten");
            }
        }
        Ok(made)
    }

    /// Every signal the loop was fed, in the order it was fed (a resumed session's include
    /// those of its journal): what `signals.jsonl` exports.
    pub fn signals(&self) -> &[lockstep_core::Signal] {
        &self.signals
    }

    /// Journals something the loop does not consume (a raw frame, a bar correction) so it
    /// is kept and counted.
    pub fn note(
        &mut self,
        ts: UnixNanos,
        kind: RecordKind,
        body: String,
    ) -> Result<(), SessionError> {
        self.append(&[NewRecord::new(ts.0, kind, body)])
    }

    /// Sets a journal meta key (no-op without a journal).
    pub fn set_meta(&mut self, key: &str, value: &str) -> Result<(), SessionError> {
        if let Some(store) = self.store.as_mut() {
            store.set_meta(key, value)?;
        }
        Ok(())
    }

    /// Starts writing to `store` from now on (a resumed session, rebuilt from the journal
    /// without writing, continues in it).
    pub fn attach(&mut self, store: JournalStore) {
        self.store = Some(store);
    }

    /// Journals decisions that were made while rebuilding but never became durable (the
    /// last input's, when the process died between its input and its decisions).
    pub(crate) fn append_decisions(
        &mut self,
        bodies: &[String],
        ts: i64,
    ) -> Result<(), SessionError> {
        let records: Vec<NewRecord> = bodies
            .iter()
            .map(|b| NewRecord::new(ts, RecordKind::Decision, b.clone()))
            .collect();
        self.append(&records)
    }

    /// How many orders the engine has created (the last order number).
    pub fn orders_created(&self) -> u64 {
        self.engine.orders_created()
    }

    /// The engine's working orders (not finished), in id order.
    pub fn working_orders(&self) -> Vec<lockstep_core::Order> {
        self.engine.working_orders()
    }

    /// The book's open positions by symbol name.
    pub fn open_positions(&self) -> std::collections::BTreeMap<String, lockstep_core::Qty> {
        self.engine.open_positions()
    }

    /// Whether the operator's kill switch is on.
    pub fn killed(&self) -> bool {
        self.engine.killed()
    }

    /// Until when the venue breaker blocks entries, if it is tripped now.
    pub fn breaker_until(&self) -> Option<UnixNanos> {
        self.engine.breaker_until()
    }

    /// When the loop must be ticked next (a queued timer), if ever.
    pub fn next_due(&self) -> Option<UnixNanos> {
        let shadow = self.shadow.as_ref().and_then(|s| s.next_due());
        match (self.engine.next_due(), shadow) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The latest time of an input consumed so far (inputs must not go back before it).
    pub fn last_input_at(&self) -> UnixNanos {
        self.last_at
    }

    /// Per symbol name, the open time of the last bar consumed.
    pub fn last_bars(&self) -> std::collections::BTreeMap<String, UnixNanos> {
        let names = self.engine.symbols();
        self.last_bars
            .iter()
            .map(|(s, t)| (names.name(*s).to_string(), *t))
            .collect()
    }

    /// Inputs consumed so far.
    pub fn inputs(&self) -> u64 {
        self.inputs
    }

    /// Ends the session at `at`: strategies' `on_end`, working orders expire, the last
    /// equity row; all journaled. Returns the totals, the report writer and the last
    /// decisions (the final ledger last).
    pub fn conclude(mut self, at: UnixNanos) -> Result<Concluded<J>, SessionError> {
        self.append(&[NewRecord::new(
            at.0,
            RecordKind::Session,
            r#"{"event":"end"}"#,
        )])?;
        let Session {
            engine,
            decisions,
            mut store,
            shadow,
            ..
        } = self;
        let (outcome, tee) = engine.conclude(0)?;
        let mut last: Vec<(i64, String)> = decisions.borrow_mut().drain(..).collect();
        last.push((at.0, outcome_json(&outcome)));
        let records: Vec<NewRecord> = last
            .iter()
            .map(|(ts, body)| NewRecord::new(*ts, RecordKind::Decision, body.clone()))
            .collect();
        if let Some(store) = store.as_mut() {
            store.append(&records)?;
        }
        Ok(Concluded {
            outcome,
            journal: tee.into_inner(),
            last: last.into_iter().map(|d| d.1).collect(),
            shadow: shadow.map(crate::shadow::Shadow::finish),
        })
    }

    fn flush_decisions(&mut self) -> Result<Vec<(i64, String)>, SessionError> {
        let made: Vec<(i64, String)> = self.decisions.borrow_mut().drain(..).collect();
        let records: Vec<NewRecord> = made
            .iter()
            .map(|(ts, body)| NewRecord::new(*ts, RecordKind::Decision, body.clone()))
            .collect();
        self.append(&records)?;
        Ok(made)
    }

    fn append(&mut self, records: &[NewRecord]) -> Result<(), SessionError> {
        if let (Some(store), false) = (self.store.as_mut(), records.is_empty()) {
            store.append(records)?;
        }
        Ok(())
    }
}

/// What a concluded session leaves.
pub struct Concluded<J> {
    /// The run's totals.
    pub outcome: RunOutcome,
    /// The report writer.
    pub journal: J,
    /// The decisions made while concluding, the final ledger last.
    pub last: Vec<String>,
    /// The shadow book's result, when the session had one.
    pub shadow: Option<Result<Box<dyn std::any::Any>, String>>,
}

/// The final ledger of a session as a canonical JSON line.
pub fn outcome_json(o: &RunOutcome) -> String {
    serde_json::json!({
        "final": {
            "orders": o.orders, "fills": o.fills, "cash": o.final_cash.to_string(),
            "equity": o.final_equity.to_string(), "realized_pnl": o.realized_pnl.to_string(),
            "fees": o.fees.to_string(),
            "open": o.open_positions.iter().map(|p| serde_json::json!([
                o.symbols.name(p.symbol), p.qty.to_string(), p.avg_price.to_string()
            ])).collect::<Vec<_>>(),
        }
    })
    .to_string()
}
