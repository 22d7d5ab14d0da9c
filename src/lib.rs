//! The lockstep application layer: configuration, `--set` overrides and the wiring that
//! turns a config into an engine run and a report. `src/main.rs` is only the CLI on top.

pub mod config;
pub mod config_live;
pub mod config_safety;
pub mod digest_tap;
pub mod error;
pub mod host;
pub mod journal_cmd;
pub mod live_cmd;
pub mod live_setup;
pub mod overrides;
pub mod pages;
pub mod parquet_out;
pub mod price_tap;
pub mod report_cmd;
pub mod risk_profile;
pub mod run;
pub mod safety;
pub mod scenario;
pub mod shadow_book;
pub mod shared_data;
pub mod sweep;
pub mod walkforward;

pub use error::AppError;
