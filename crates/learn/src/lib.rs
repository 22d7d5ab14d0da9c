//! Walk-forward learning evaluation: windows that only look back, learners that see only
//! their train window (through backtests the driver runs on it) and are frozen for the test
//! window, and the driver that runs the windows in parallel and stitches the out-of-sample
//! record. No learner has an API to read a bar after its train window.

pub mod driver;
pub mod feature_weights;
pub mod learner;
pub mod param_search;
pub mod pattern_memory;
pub mod time_of_day;
pub mod windows;

pub use driver::{walk_forward, RunRequest, WindowResult};
pub use learner::{BarPoint, Learned, Learner, LotOutcome, RunStats, TrainWindow};
pub use windows::{windows, Mode, Span, Window, WindowSpec};
