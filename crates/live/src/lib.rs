//! Paper and live trading for lockstep: the async world (tokio, HTTP, websockets, SQLite)
//! adapted to the engine's synchronous loop. Nothing in here decides a trade: strategies,
//! risk, executor, exits, EOD and ledger are the engine's, unchanged.
//!
//! Find the parts by name: [`time_source`] (wall and test clocks), [`wire`] (Alpaca's JSON
//! shapes), [`journal`] (the SQLite write-ahead journal), [`records`] (what a session
//! journals), [`session`] (the engine driven one input at a time, journaled), [`replay`]
//! (journal -> replay parity), [`resume`] (a session rebuilt from its journal after a
//! restart), [`recorded_venue`] (the venue of a live journal's replay), [`alpaca`] (the
//! broker venue, its task and reconciliation), [`driver`] (the clock-driven driver, its
//! control file and its watch), [`health`] (readiness, metrics and the kill/lift endpoint),
//! [`alerts`] (the non-blocking outbound alert webhook), [`shadow`] (a simulated book fed
//! the session's market inputs), [`crash`] (named crash points for
//! fault campaigns), [`fake`] (a loopback Alpaca fake for tests and demos), [`webhook`]
//! (signal intake: `POST /webhook`, authenticated, deduplicated, journaled).

pub mod alerts;
pub mod alpaca;
pub mod crash;
pub mod driver;
pub mod fake;
pub mod feed;
pub mod health;
pub mod journal;
pub mod recorded_venue;
pub mod records;
pub mod replay;
pub mod resume;
pub mod session;
pub mod shadow;
pub mod time_source;
pub mod webhook;
pub mod wire;
