//! The shadow book of a paper or live session (`run.shadow = true`): the session's config
//! with every strategy that has a role flipped to `role = "shadow"`, on its own SimVenue and
//! report folder, fed the session's bars, ticks and signals. At the end its report becomes
//! the session report's `shadow_*` tables and `summary.shadow`, as in a backtest.

use crate::error::AppError;
use crate::run::{engine_parts, run_facts, shadow_config, shadow_scratch};
use lockstep_core::UnixNanos;
use lockstep_engine::{Engine, Input, SimClock, SimVenue};
use lockstep_report::{ReportJournal, ShadowBook};
use std::path::Path;
use std::time::Instant;

/// The simulated engine of a session's shadow book.
pub struct SessionShadow {
    engine: Engine<SimVenue, SimClock, ReportJournal>,
}

impl SessionShadow {
    /// The shadow of the session configured by `cfg` (run id `run_id`), reporting into a
    /// scratch folder beside `dir`; its strategies are started.
    pub fn new(cfg: &crate::config::Config, run_id: &str, dir: &Path) -> Result<Self, AppError> {
        let shadow = shadow_config(cfg)?;
        let mut parts = engine_parts(&shadow, &format!("{run_id}-shadow"))?;
        let journal = parts.report(&shadow_scratch(dir))?;
        let venue = std::mem::take(&mut parts.venue);
        let mut engine = parts.engine_on(venue, journal);
        engine
            .begin()
            .map_err(|e| AppError::Runtime(format!("shadow book: {e}")))?;
        Ok(SessionShadow { engine })
    }
}

impl lockstep_live::shadow::Shadow for SessionShadow {
    fn push(&mut self, input: &Input) -> Result<(), String> {
        self.engine.push(input.clone()).map_err(|e| e.to_string())
    }

    fn next_due(&self) -> Option<UnixNanos> {
        self.engine.next_due()
    }

    fn finish(self: Box<Self>) -> Result<Box<dyn std::any::Any>, String> {
        let (outcome, journal) = self.engine.conclude(0).map_err(|e| e.to_string())?;
        let paths = journal
            .finish(&outcome, || {
                run_facts(Instant::now(), String::new(), 0, Vec::new())
            })
            .map_err(|e| e.to_string())?;
        Ok(Box::new(ShadowBook {
            dir: paths.dir,
            summary: paths.summary,
        }))
    }
}

/// The session report with its shadow book, when the session had one: a shadow that
/// failed at the end is an error naming it (the real report is still written by the
/// caller without it).
pub fn attach(
    report: ReportJournal,
    shadow: Option<Result<Box<dyn std::any::Any>, String>>,
) -> (ReportJournal, Option<String>) {
    match shadow {
        None => (report, None),
        Some(Err(why)) => (report, Some(format!("shadow book: {why}"))),
        Some(Ok(any)) => match any.downcast::<ShadowBook>() {
            Ok(book) => (report.with_shadow(*book), None),
            Err(_) => (report, Some("shadow book: unexpected result".into())),
        },
    }
}
