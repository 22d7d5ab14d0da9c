//! Reports of a run, written while it runs: the loop journals into [`ReportJournal`], which
//! streams the CSV tables (hashing as it writes) and their Parquet twins, and accumulates
//! `summary.json`; at the end `run.json` records timings (not hashed), and the folder is
//! renamed into place. Memory is bounded by live state, not by the number of trades.

pub mod csv_table;
pub mod fmt;
pub mod hash;
pub mod heap;
pub mod metrics;
pub mod parquet_twin;
pub mod shadow;
pub mod sink;
pub mod summary;
pub mod tables;

pub use shadow::ShadowBook;
pub use sink::{ReportError, ReportJournal, ReportPaths, RunFacts};
pub use summary::Summary;
