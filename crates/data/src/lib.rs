//! Market data for lockstep: Parquet/CSV bar readers with validation, the k-way time merge,
//! and the `data inspect | import | synth` tools.
//!
//! Every reader streams (Parquet batch by batch, CSV record by record): memory is bounded
//! by the batch size, never by the dataset. Every validation error names the file, the
//! 1-based data row (header excluded), the column and the reason.

pub mod columns;
pub mod csv_source;
pub mod decode;
pub mod delivery;
pub mod error;
mod head_queue;
pub mod import;
pub mod inspect;
pub mod merge;
pub mod open;
pub mod parquet_source;
mod price_columns;
pub mod price_scale;
pub mod quote_decode;
pub mod recorded;
pub mod signals;
pub mod synth;
pub mod time_window;
pub mod timeparse;
pub mod validate;
pub mod writer;

pub use error::DataError;
pub use inspect::{inspect, Inspection};
pub use merge::MergedSource;
pub use open::{infer_interval, open_source, DataOptions};
pub use price_scale::PriceScale;
