//! Paper and live trading for lockstep: the async world (tokio, HTTP, websockets, SQLite)
//! adapted to the engine's synchronous loop. Nothing in here decides a trade: strategies,
//! risk, executor, exits, EOD and ledger are the engine's, unchanged.
//!
//! Find the parts by name: [`time_source`] (wall and test clocks), [`wire`] (Alpaca's JSON
//! shapes), [`journal`] (the SQLite write-ahead journal), [`fake`] (a loopback Alpaca fake
//! for tests and demos).

pub mod fake;
pub mod journal;
pub mod records;
pub mod replay;
pub mod session;
pub mod time_source;
pub mod wire;
