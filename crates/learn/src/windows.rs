//! Train/test windows over the data's bar times: rolling (a fixed-length train window moves
//! forward by `step`) or anchored (the train window always starts at the first bar and
//! grows). Test windows follow their train window and never overlap each other.

use lockstep_core::{Interval, UnixNanos};
use std::str::FromStr;

/// A window length: a duration (`90d`, `12h`) or a number of bars (`500`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span {
    /// A calendar duration.
    Duration(Interval),
    /// A count of distinct bar times.
    Bars(usize),
}

impl FromStr for Span {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if let Ok(n) = t.parse::<usize>() {
            return if n == 0 {
                Err(format!("`{s}`: a window needs at least one bar"))
            } else {
                Ok(Span::Bars(n))
            };
        }
        t.parse::<Interval>()
            .map(Span::Duration)
            .map_err(|_| format!("`{s}` is neither a duration (90d, 12h, 30m) nor a bar count"))
    }
}

/// How the train window moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Fixed length, moving forward by `step`.
    Rolling,
    /// Always from the first bar, growing by `step`.
    Anchored,
}

/// The `[walkforward]` window settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowSpec {
    /// Train window length.
    pub train: Span,
    /// Test window length.
    pub test: Span,
    /// How far each next window moves (at least `test`, so test windows never overlap).
    pub step: Span,
    /// Rolling or anchored.
    pub mode: Mode,
}

/// One window: half-open `[start, end)` bar-open-time ranges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Window number, from 0.
    pub index: usize,
    /// Train range.
    pub train: (UnixNanos, UnixNanos),
    /// Test range (starts where the train range ends).
    pub test: (UnixNanos, UnixNanos),
}

/// The windows of `spec` over `bar_times` (sorted, distinct bar open times), until a test
/// range would start after the last bar. Errors: mixed duration and bar spans, a step
/// shorter than the test window, or no complete train window.
pub fn windows(spec: &WindowSpec, bar_times: &[i64]) -> Result<Vec<Window>, String> {
    let (Some(&first), Some(&last)) = (bar_times.first(), bar_times.last()) else {
        return Err("no bars to make windows from".into());
    };
    let out = match (spec.train, spec.test, spec.step) {
        (Span::Duration(tr), Span::Duration(te), Span::Duration(st)) => {
            if st.nanos() < te.nanos() {
                return Err(format!(
                    "step {st} is shorter than test {te}: test windows would overlap"
                ));
            }
            let mut out = Vec::new();
            for k in 0.. {
                let shift = st.nanos().saturating_mul(k as i64);
                let train_start = match spec.mode {
                    Mode::Rolling => first.saturating_add(shift),
                    Mode::Anchored => first,
                };
                let train_end = first.saturating_add(tr.nanos()).saturating_add(shift);
                let test_end = train_end.saturating_add(te.nanos());
                if train_end > last {
                    break;
                }
                out.push(Window {
                    index: k,
                    train: (UnixNanos(train_start), UnixNanos(train_end)),
                    test: (UnixNanos(train_end), UnixNanos(test_end)),
                });
            }
            out
        }
        (Span::Bars(tr), Span::Bars(te), Span::Bars(st)) => {
            if st < te {
                return Err(format!(
                    "step {st} bars is shorter than test {te} bars: test windows would overlap"
                ));
            }
            let at = |i: usize| bar_times.get(i).copied().unwrap_or(last.saturating_add(1));
            let mut out = Vec::new();
            for k in 0.. {
                let Some(shift) = st.checked_mul(k) else {
                    break;
                };
                let Some(train_end) = tr.checked_add(shift) else {
                    break;
                };
                if train_end >= bar_times.len() {
                    break;
                }
                let train_start = match spec.mode {
                    Mode::Rolling => shift,
                    Mode::Anchored => 0,
                };
                out.push(Window {
                    index: k,
                    train: (UnixNanos(at(train_start)), UnixNanos(at(train_end))),
                    test: (
                        UnixNanos(at(train_end)),
                        UnixNanos(at(train_end.saturating_add(te))),
                    ),
                });
            }
            out
        }
        _ => return Err("train, test and step must all be durations or all bar counts".into()),
    };
    // A test range with no bar (a data gap) is no window: nothing could be traded in it.
    let has_bar = |w: &Window| {
        let i = bar_times.partition_point(|t| *t < w.test.0 .0);
        bar_times.get(i).is_some_and(|t| *t < w.test.1 .0)
    };
    let out: Vec<Window> = out
        .into_iter()
        .filter(has_bar)
        .enumerate()
        .map(|(index, w)| Window { index, ..w })
        .collect();
    if out.is_empty() {
        return Err("the data is shorter than one train window plus a test bar".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000_000_000;

    fn spec(train: &str, test: &str, step: &str, mode: Mode) -> WindowSpec {
        WindowSpec {
            train: train.parse().unwrap(),
            test: test.parse().unwrap(),
            step: step.parse().unwrap(),
            mode,
        }
    }

    fn days(w: &Window) -> [i64; 4] {
        [
            w.train.0 .0 / DAY,
            w.train.1 .0 / DAY,
            w.test.0 .0 / DAY,
            w.test.1 .0 / DAY,
        ]
    }

    #[test]
    fn rolling_and_anchored_boundaries_by_hand() {
        // Bars on days 0..=9; train 4 days, test 2, step 2.
        let times: Vec<i64> = (0..10).map(|d| d * DAY).collect();
        let rolling = windows(&spec("4d", "2d", "2d", Mode::Rolling), &times).unwrap();
        assert_eq!(
            rolling.iter().map(days).collect::<Vec<_>>(),
            vec![[0, 4, 4, 6], [2, 6, 6, 8], [4, 8, 8, 10]]
        );
        let anchored = windows(&spec("4d", "2d", "2d", Mode::Anchored), &times).unwrap();
        assert_eq!(
            anchored.iter().map(days).collect::<Vec<_>>(),
            vec![[0, 4, 4, 6], [0, 6, 6, 8], [0, 8, 8, 10]]
        );
        // The same in bar counts; the last test window ends just after the last bar (day 9).
        let bars = windows(&spec("4", "2", "2", Mode::Rolling), &times).unwrap();
        assert_eq!(
            bars.iter().map(days).collect::<Vec<_>>(),
            vec![[0, 4, 4, 6], [2, 6, 6, 8], [4, 8, 8, 9]]
        );
        assert_eq!(bars[2].test.1 .0, 9 * DAY + 1);
    }

    #[test]
    fn test_windows_tile_the_data_after_the_first_train_window() {
        let times: Vec<i64> = (0..100).map(|d| d * DAY + 3).collect();
        for mode in [Mode::Rolling, Mode::Anchored] {
            let w = windows(&spec("30d", "7d", "7d", mode), &times).unwrap();
            for pair in w.windows(2) {
                assert_eq!(pair[0].test.1, pair[1].test.0, "no gap, no overlap");
            }
            assert_eq!(w[0].test.0, w[0].train.1);
            let last = w.last().unwrap();
            assert!(
                last.test.0 .0 <= times[99] && last.test.1 .0 > times[99],
                "to the end"
            );
        }
        // A test range falling in a gap of the data is no window; the rest are renumbered.
        let gappy: Vec<i64> = (0..100)
            .filter(|d| !(44..=50).contains(d))
            .map(|d| d * DAY)
            .collect();
        let w = windows(&spec("30d", "7d", "7d", Mode::Rolling), &gappy).unwrap();
        assert!(
            w.iter().all(|x| x.test.0 .0 / DAY != 44),
            "the empty week 44..51 is skipped"
        );
        assert_eq!(
            w.iter().map(|x| x.index).collect::<Vec<_>>(),
            (0..w.len()).collect::<Vec<_>>()
        );
        assert_eq!(w.len(), 9);
        let e = windows(&spec("30d", "7d", "5d", Mode::Rolling), &times).unwrap_err();
        assert!(e.contains("overlap"), "{e}");
        let e = windows(&spec("30d", "7", "7d", Mode::Rolling), &times).unwrap_err();
        assert!(e.contains("all be durations or all bar counts"), "{e}");
        let e = windows(&spec("300d", "7d", "7d", Mode::Rolling), &times).unwrap_err();
        assert!(e.contains("shorter than one train window"), "{e}");
    }
}
