//! The analysis layer: reads finished run, sweep and walk-forward folders and writes their
//! self-contained HTML pages (`report.html`, `sweep.html`, `walkforward.html`) and the
//! comparison of two runs. It never runs the engine: it reads what a run wrote, or takes a
//! backtest's fills and allocations as they are journaled ([`digest::TradeDigest`]).

pub mod breakdown;
pub mod compare;
pub mod decimate;
pub mod digest;
pub mod error;
pub mod html;
pub mod run_folder;
pub mod series;
pub mod svg;
pub mod sweep_page;
pub mod tearsheet;
pub mod time;
pub mod twin_rows;
pub mod walkforward_page;

pub use error::AnalyticsError;
pub use run_folder::RunFolder;

/// Writes `bytes` to `path` through a temporary sibling and a rename.
pub fn write_atomic(
    path: &std::path::Path,
    bytes: &[u8],
) -> Result<std::path::PathBuf, AnalyticsError> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(|e| AnalyticsError::file(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        AnalyticsError::file(path, e)
    })?;
    Ok(path.to_path_buf())
}
