//! A session's shadow book: a second, simulated engine fed the same market inputs as the
//! session (bars, clock ticks, signals) in the same order, and nothing else: never a
//! venue's report, never an operator's command. It has no venue of its own to send to, so
//! nothing it decides can reach the broker. A resumed session rebuilds it by feeding the
//! journal again, as it rebuilds itself.

use lockstep_core::UnixNanos;
use lockstep_engine::Input;

/// A simulated book beside a session.
pub trait Shadow {
    /// Consumes one market input (the session calls it only for [`feeds_shadow`] inputs).
    fn push(&mut self, input: &Input) -> Result<(), String>;
    /// When its own earliest queued timer is due, if any.
    fn next_due(&self) -> Option<UnixNanos>;
    /// Ends it and hands back its result (the caller knows the concrete type).
    fn finish(self: Box<Self>) -> Result<Box<dyn std::any::Any>, String>;
}

/// Whether a shadow book sees `input`: bars, ticks and signals only.
pub fn feeds_shadow(input: &Input) -> bool {
    matches!(input, Input::Bar(_) | Input::Tick(_) | Input::Signal(_))
}
