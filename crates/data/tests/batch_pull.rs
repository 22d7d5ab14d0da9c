//! Handing bars over a batch at a time (`next_bars`) has exactly the effects of reading them
//! one by one (`next_bar`): the same bars, the same rows counted as skipped or outside the
//! session, and the same refusal, through a time window whose end stops the reading, from
//! one file or a merge of two. The files span several decoded chunks and hold bad rows and
//! rows outside the NYSE session.

use lockstep_core::{Bar, BarSource, Calendar, SymbolTable};
use lockstep_data::time_window::TimeWindow;
use lockstep_data::{open_source, DataOptions, MergedSource};
use proptest::prelude::*;
use std::fmt::Write;
use std::path::PathBuf;

const MINUTE: i64 = 60_000_000_000;
/// 2024-01-02T13:00:00Z.
const START: i64 = 1_704_200_400 * 1_000_000_000;

/// A one-minute CSV of `rows` bars from [`START`], the rows split evenly among `symbols` in
/// that order (a symbol first seen part-way through); rows in `bad` have high below low.
fn write_csv(name: &str, symbols: &[&str], rows: usize, bad: &[usize]) -> PathBuf {
    let file = format!(
        "lockstep-batch-{name}-{}-{}.csv",
        symbols[0],
        std::process::id()
    );
    let path = std::env::temp_dir().join(file);
    let mut text = String::from("ts,symbol,open,high,low,close,volume\n");
    for i in 0..rows {
        let ts = lockstep_core::UnixNanos(START + i as i64 * MINUTE);
        let (high, low) = if bad.contains(&i) {
            ("9.00", "11.00")
        } else {
            ("11.00", "9.00")
        };
        let symbol = symbols[i * symbols.len() / rows];
        let _ = writeln!(
            text,
            "{ts},{symbol},10.00,{high},{low},10.{:02},100",
            i % 100
        );
    }
    std::fs::write(&path, text).expect("write csv");
    path
}

/// Bars, counters and the refusal (if any) of one way of reading.
#[derive(Debug, PartialEq)]
struct Read {
    /// For each bar, how many symbols the table held when the caller got it.
    symbols_seen: Vec<usize>,
    bars: Vec<Bar>,
    skipped: u64,
    outside: u64,
    error: Option<String>,
}

fn source(
    paths: &[PathBuf],
    lenient: bool,
    from: Option<i64>,
    to: Option<i64>,
) -> TimeWindow<MergedSource> {
    let opts = DataOptions {
        lenient,
        calendar: Calendar::Nyse,
        ..DataOptions::default()
    };
    let files = paths
        .iter()
        .map(|p| open_source(p, &opts).expect("opens"))
        .collect();
    TimeWindow::new(MergedSource::new(files), from, to)
}

fn one_by_one(mut s: TimeWindow<MergedSource>) -> Read {
    let mut symbols = SymbolTable::new();
    let mut bars = Vec::new();
    let mut symbols_seen = Vec::new();
    let error = loop {
        match s.next_bar(&mut symbols) {
            Ok(Some(b)) => {
                bars.push(b);
                symbols_seen.push(symbols.len());
            }
            Ok(None) => break None,
            Err(e) => break Some(e.0),
        }
    };
    Read {
        symbols_seen,
        bars,
        skipped: s.skipped_rows(),
        outside: s.outside_session_rows(),
        error,
    }
}

fn batched(mut s: TimeWindow<MergedSource>, max: usize) -> Read {
    let mut symbols = SymbolTable::new();
    let mut bars = Vec::new();
    let mut symbols_seen = Vec::new();
    let error = loop {
        let before = bars.len();
        let pulled = s.next_bars(&mut symbols, &mut bars, max);
        assert!(bars.len() - before <= max, "at most max bars per call");
        symbols_seen.resize(bars.len(), symbols.len());
        if let Err(e) = pulled {
            break Some(e.0);
        }
        if bars.len() == before {
            break None;
        }
    };
    Read {
        symbols_seen,
        bars,
        skipped: s.skipped_rows(),
        outside: s.outside_session_rows(),
        error,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn batches_read_exactly_what_single_bars_read(
        rows in 9_000usize..20_000,
        bad in prop::collection::vec(0usize..20_000, 0..4),
        lenient in any::<bool>(),
        from in prop::option::of(0i64..14_000),
        span in prop::option::of(1i64..9_000),
        max in prop_oneof![Just(1usize), 2usize..50, Just(1024usize)],
        merged in any::<bool>(),
    ) {
        let mut paths = vec![write_csv("equal", &["XYZ"], rows, &bad)];
        if merged {
            // IWM first appears in the second decoded chunk (8,192 rows), as the merge reads.
            paths.push(write_csv("equal", &["QQQ", "IWM"], 18_000, &[]));
        }
        let from_ns = from.map(|m| START + m * MINUTE);
        let to_ns = span.map(|s| START + (from.unwrap_or(0) + s) * MINUTE);
        let a = one_by_one(source(&paths, lenient, from_ns, to_ns));
        let b = batched(source(&paths, lenient, from_ns, to_ns), max);
        for p in &paths {
            let _ = std::fs::remove_file(p);
        }
        prop_assert_eq!(a.bars.len(), b.bars.len());
        prop_assert_eq!(&a, &b);
    }
}

/// The window's end stops the reading, of one file or a merge: rows after it are neither
/// counted nor checked.
#[test]
fn reading_stops_at_the_window_end() {
    // The window takes bars delivered up to 8 days (a bar's longest span) after its end:
    // 10 days (14,400 minutes) from the start. Bad rows lie shortly and long after that.
    let one = write_csv("stop", &["XYZ"], 20_000, &[19_000]);
    let other = write_csv("stop", &["QQQ"], 20_000, &[14_500]);
    let to = Some(START + 2 * 24 * 60 * MINUTE);
    for paths in [vec![one.clone()], vec![one.clone(), other.clone()]] {
        let a = one_by_one(source(&paths, false, None, to));
        let b = batched(source(&paths, false, None, to), 1024);
        let whole = batched(source(&paths, true, None, None), 1024);
        assert_eq!(a.error, None, "the bad rows lie after the window");
        assert_eq!(a, b, "{} file(s)", paths.len());
        assert_eq!(whole.skipped, paths.len() as u64, "the bad rows are there");
        assert!(
            a.outside > 0 && a.outside < whole.outside,
            "outside rows counted up to the end only: {} of {}",
            a.outside,
            whole.outside
        );
    }
    let _ = std::fs::remove_file(&one);
    let _ = std::fs::remove_file(&other);
}
