//! Helpers for end-to-end tests of the `lockstep` binary.

#![allow(dead_code)]

pub mod crash;
pub mod sessions;
pub mod webhook;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A scratch folder for sessions paced by a fake's clock: in memory (`/dev/shm`) when the
/// machine has it. A session makes each decision durable (fsync) before it sends the
/// order, and on a disk that fsync can wait behind unrelated writeback (right after a
/// build, longer than the 240 ms a bar lasts at 250x), which made orders a bar late in
/// CI. What these tests check survives a SIGKILL either way: the page cache outlives the
/// process; only a power cut needs the disk.
pub fn session_tempdir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        if let Ok(dir) = tempfile::tempdir_in(shm) {
            return dir;
        }
    }
    tempfile::tempdir().expect("tmp")
}

/// Runs the binary with `args` in `cwd`.
pub fn lockstep(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lockstep"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the lockstep binary runs")
}

/// The repository root (where `data/` lives).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Parses `dir/summary.json`.
pub fn summary(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("summary.json")).expect("summary.json exists");
    serde_json::from_str(&text).expect("summary.json is JSON")
}

/// Reads `dir/<name>.csv` as header-keyed rows.
pub fn csv_rows(dir: &Path, name: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(dir.join(format!("{name}.csv"))).expect("csv exists");
    let headers = r.headers().expect("header").clone();
    r.records()
        .map(|rec| {
            let rec = rec.expect("record");
            headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}
