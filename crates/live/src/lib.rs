//! Paper and live trading for lockstep: the async world (tokio, HTTP, websockets, SQLite)
//! adapted to the engine's synchronous loop. Nothing in here decides a trade: strategies,
//! risk, executor, exits, EOD and ledger are the engine's, unchanged.
//!
//! Find the parts by name: [`time_source`] (wall and test clocks), [`wire`] (Alpaca's JSON
//! shapes), [`journal`] (the SQLite write-ahead journal), [`records`] (what a session journals), [`session`]
//! (the engine driven one input at a time, journaled), [`replay`] (journal -> replay
//! parity), [`recorded_venue`] (the venue of a live journal's replay), [`fake`] (a loopback
//! Alpaca fake for tests and demos).

pub mod alpaca;
pub mod driver;
pub mod fake;
pub mod feed;
pub mod journal;
pub mod recorded_venue;
pub mod records;
pub mod replay;
pub mod session;
pub mod time_source;
pub mod wire;
