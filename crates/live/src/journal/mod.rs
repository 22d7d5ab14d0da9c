//! The SQLite write-ahead journal: one file per session, every input the loop consumes and
//! every decision it makes, in order, each record sealed by a chained checksum.
//!
//! [`JournalStore`] is the single writer (one transaction and one fsync per
//! [`append`](JournalStore::append)); [`JournalReader`] reads and verifies, also while the
//! writer appends. The schema is documented in [`store`]. Damage is never a panic: a bad
//! tail is cut back to the longest valid prefix, a file SQLite reports damaged is salvaged
//! ([`salvage`]), and a torn write-ahead log is reported ([`wal`]).

#![warn(missing_docs)]

mod db;
pub mod error;
pub mod inspect;
pub mod record;
pub mod salvage;
pub mod store;
pub mod verify;
pub mod wal;

pub use error::*;
pub use inspect::*;
pub use record::*;
pub use salvage::*;
pub use store::*;
pub use verify::*;
pub use wal::*;
