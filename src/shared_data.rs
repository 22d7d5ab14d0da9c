//! Data read once and shared by the many runs of a sweep or a walk-forward: each run
//! replays the recorded bars through its own time window, with the effects of reading the
//! files itself (`lockstep_data::recorded`), so its report is the same byte for byte.

use crate::config;
use crate::run::open_merged;
use lockstep_data::recorded::RecordedBars;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The most bars read once and shared by the runs of a sweep or walk-forward (64 bytes
/// each, quotes apart); larger data is read by every run.
pub const MAX_SHARED_BARS: usize = 2_000_000;

/// The data of the config at `config` (with `sets`, or `data` from the command line) read
/// once, for runs that differ in no `data.*` key but the time window; `None` when the
/// config does not load, the data does not read cleanly or holds more than
/// [`MAX_SHARED_BARS`] bars (each run then reads the files and meets any error itself).
pub fn read_once(config: &Path, sets: &[String], data: &[PathBuf]) -> Option<Arc<RecordedBars>> {
    let cfg = config::load(Some(config), sets, |_| Ok(())).ok()?;
    let paths = config::data_paths(&cfg, Some(config), data);
    if lockstep_data::open::row_count_hint(&paths).is_some_and(|n| n > MAX_SHARED_BARS as u64) {
        return None;
    }
    let mut merged = open_merged(&cfg, Some(config), data).ok()?;
    RecordedBars::record(&mut merged, MAX_SHARED_BARS)
        .ok()
        .flatten()
        .map(Arc::new)
}

/// Whether a `--set KEY=VALUE` changes how data is read (a `data.*` key).
pub fn sets_data(set: &str) -> bool {
    set.trim_start().starts_with("data.")
}
