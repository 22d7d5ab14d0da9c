//! The Alpaca trading venue: a synchronous [`venue::AlpacaVenue`] the engine plugs in
//! (it only queues requests), and an asynchronous broker task ([`broker`]) that sends them
//! over REST once the step that decided them is journaled, and turns the `trade_updates`
//! stream into venue reports ([`updates`]); after a restart it looks up what the journal
//! knows and reads the broker's book ([`reconcile`]). [`rest`] is the REST client with its shared
//! rate budget and no automatic retries of order submission.

pub mod broker;
pub mod lanes;
pub mod reconcile;
pub mod rest;
pub mod updates;
pub mod venue;

pub use broker::{run_broker, BrokerConfig, BrokerEvent};
pub use reconcile::Book;
pub use updates::KnownOrder;
pub use venue::{AlpacaVenue, Outgoing};
