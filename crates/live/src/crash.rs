//! Named crash points for fault campaigns: with `LOCKSTEP_CRASH_AT=<point>:<n>` in the
//! environment, the process kills itself with SIGKILL (no destructor, no flush, exactly as
//! an operator's `kill -9` or a power cut) the `n`-th time it passes `point`. Unset (the
//! normal case) a crash point costs one atomic load.
//!
//! Points, in the order a decision travels: `bar_received` (the driver has a bar from the
//! feed, not journaled: the restarted feed must backfill it), `input_durable` (an input is journaled, the
//! loop has not seen it), `decided` (the loop decided, nothing journaled yet),
//! `decisions_durable` (the step's decisions are journaled, no request sent),
//! `before_post` (about to POST an order), `after_post` (the broker took it, the answer
//! is not reported), `before_cancel` (about to DELETE), `update_received` (a trade update
//! is translated, not yet handed to the loop), `report_received` (the driver has a broker
//! report, not journaled), `fill_durable` (a fill is journaled, not booked in the ledger),
//! `eod_flatten` (the EOD flatten's closes are journaled, not sent), `reconcile` (an
//! order is looked up at the broker: a restarted session reconciling, or a catch-up), `resumed` (a restarted session is
//! rebuilt, reconciliation not started).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// Every crash point, for campaigns and `--help`.
pub const POINTS: [&str; 13] = [
    "bar_received",
    "input_durable",
    "decided",
    "decisions_durable",
    "before_post",
    "after_post",
    "before_cancel",
    "update_received",
    "report_received",
    "fill_durable",
    "eod_flatten",
    "reconcile",
    "resumed",
];

struct Target {
    point: String,
    at: u64,
    hits: AtomicU64,
}

fn target() -> Option<&'static Target> {
    static TARGET: OnceLock<Option<Target>> = OnceLock::new();
    TARGET
        .get_or_init(|| {
            let v = std::env::var("LOCKSTEP_CRASH_AT").ok()?;
            let (point, n) = v.split_once(':').unwrap_or((v.as_str(), "1"));
            Some(Target {
                point: point.to_string(),
                at: n.parse().ok().filter(|n| *n > 0)?,
                hits: AtomicU64::new(0),
            })
        })
        .as_ref()
}

/// Passes crash point `point`: kills the process (SIGKILL) if the environment asks for it
/// here, this time.
pub fn point(point: &str) {
    let Some(t) = target() else { return };
    if t.point == point && t.hits.fetch_add(1, Ordering::SeqCst) + 1 == t.at {
        kill_now();
    }
}

#[cfg(unix)]
fn kill_now() {
    // SAFETY: getpid and kill have no preconditions; SIGKILL ends the process here.
    unsafe {
        libc::kill(libc::getpid(), libc::SIGKILL);
    }
    std::process::abort();
}

#[cfg(not(unix))]
fn kill_now() {
    std::process::abort();
}
