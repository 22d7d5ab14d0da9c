//! Reports of a run: tables (Parquet + CSV twins), `summary.json`, metrics, `report_hash`,
//! and `run.json` (timings; not hashed). Written to a temporary folder, renamed when complete.

pub mod fmt;
pub mod hash;
pub mod metrics;
pub mod summary;
pub mod table;
pub mod tables;
pub mod write;

pub use summary::Summary;
pub use write::{write_report, ReportError, ReportPaths, RunFacts};
