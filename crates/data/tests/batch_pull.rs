//! Handing bars over a batch at a time (`next_bars`) has exactly the effects of reading them
//! one by one (`next_bar`): the same bars, the same rows counted as skipped or outside the
//! session, and the same refusal, through a time window whose end stops the reading, from
//! one file or a merge of two. The files span several decoded chunks and hold bad rows and
//! rows outside the NYSE session. Bars recorded once and replayed (a sweep's shared data)
//! read the same.

use lockstep_core::{Bar, BarSource, Calendar, SymbolTable};
use lockstep_data::recorded::{RecordedBars, Replay};
use lockstep_data::time_window::TimeWindow;
use lockstep_data::{open_source, DataOptions, MergedSource};
use proptest::prelude::*;
use std::fmt::Write;
use std::path::PathBuf;

const MINUTE: i64 = 60_000_000_000;
/// 2024-01-02T13:00:00Z.
const START: i64 = 1_704_200_400 * 1_000_000_000;

/// A one-minute CSV of `rows` bars from [`START`], the rows split evenly among `symbols` in
/// that order (a symbol first seen part-way through). A row in `bad` breaks a rule chosen
/// by its index mod 3: 0 high below low, 1 a timestamp before the previous row's, 2 the
/// previous row's timestamp again (a duplicate).
fn write_csv(name: &str, symbols: &[&str], rows: usize, bad: &[usize]) -> PathBuf {
    let file = format!(
        "lockstep-batch-{name}-{}-{}.csv",
        symbols[0],
        std::process::id()
    );
    let path = std::env::temp_dir().join(file);
    let mut text = String::from("ts,symbol,open,high,low,close,volume\n");
    for i in 0..rows {
        let broken = bad.contains(&i);
        let back = match i % 3 {
            1 if broken => 2,
            2 if broken => 1,
            _ => 0,
        };
        let ts = lockstep_core::UnixNanos(START + (i as i64 - back) * MINUTE);
        let (high, low) = if broken && i % 3 == 0 {
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

/// A symbol table as a caller may hand it over: empty, or already holding a name the data
/// has too (a strategy's symbol is interned before any bar).
fn table(pre: bool) -> SymbolTable {
    let mut t = SymbolTable::new();
    if pre {
        t.intern("IWM");
    }
    t
}

fn one_by_one<S: BarSource>(s: S) -> Read {
    one_by_one_into(s, false)
}

fn one_by_one_into<S: BarSource>(mut s: S, pre: bool) -> Read {
    let mut symbols = table(pre);
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

fn batched<S: BarSource>(s: S, max: usize) -> Read {
    batched_into(s, max, false)
}

fn batched_into<S: BarSource>(mut s: S, max: usize, pre: bool) -> Read {
    let mut symbols = table(pre);
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
        // 8,192 and 8,193 begin the second decoded chunk, checked against the first's end.
        bad in prop::collection::vec(prop_oneof![0usize..20_000, 8_192usize..8_195], 0..4),
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Bars recorded once (what a sweep shares between its points) and replayed through any
    /// window, in any batch size, read exactly what the files read: the same bars, symbols
    /// interned at the same bars, the same counts up to the window's end.
    #[test]
    fn a_recorded_reading_replays_exactly_what_the_files_read(
        rows in 9_000usize..20_000,
        bad in prop::collection::vec(0usize..20_000, 0..4),
        from in prop::option::of(0i64..14_000),
        span in prop::option::of(1i64..9_000),
        max in prop_oneof![Just(1usize), 2usize..50, Just(1024usize)],
        merged in any::<bool>(),
        pre in any::<bool>(),
    ) {
        let mut paths = vec![write_csv("replay", &["XYZ"], rows, &bad)];
        if merged {
            paths.push(write_csv("replay", &["QQQ", "IWM"], 18_000, &[]));
        }
        let from_ns = from.map(|m| START + m * MINUTE);
        let to_ns = span.map(|s| START + (from.unwrap_or(0) + s) * MINUTE);
        let files = source(&paths, true, from_ns, to_ns);
        let mut whole = source(&paths, true, None, None);
        let rec = RecordedBars::record(&mut whole, usize::MAX).expect("reads").expect("fits");
        let rec = std::sync::Arc::new(rec);
        let replay = || TimeWindow::new(Replay::new(rec.clone()), from_ns, to_ns);
        let a = one_by_one_into(files, pre);
        let b = batched_into(replay(), max, pre);
        let c = one_by_one_into(replay(), pre);
        for p in &paths {
            let _ = std::fs::remove_file(p);
        }
        for (name, r) in [("batched", &b), ("one by one", &c)] {
            let first = (0..a.bars.len().max(r.bars.len())).find(|&i| {
                a.bars.get(i) != r.bars.get(i) || a.symbols_seen.get(i) != r.symbols_seen.get(i)
            });
            prop_assert!(
                first.is_none(),
                "{name}: bar {first:?} differs: {:?} {:?} vs {:?} {:?}",
                first.and_then(|i| a.bars.get(i)),
                first.and_then(|i| a.symbols_seen.get(i)),
                first.and_then(|i| r.bars.get(i)),
                first.and_then(|i| r.symbols_seen.get(i))
            );
            prop_assert_eq!((a.skipped, a.outside, &a.error), (r.skipped, r.outside, &r.error));
        }
    }
}

/// A reading that fails is not recorded (each reader then meets the error itself), and one
/// longer than the limit is not kept.
#[test]
fn a_failing_or_too_long_reading_is_not_recorded() {
    let path = write_csv("unrecorded", &["XYZ"], 9_000, &[100]);
    let err = RecordedBars::record(
        &mut source(std::slice::from_ref(&path), false, None, None),
        usize::MAX,
    )
    .expect_err("a bad row, not lenient");
    assert!(err.0.contains("row 101"), "{}", err.0);
    let long = RecordedBars::record(
        &mut source(std::slice::from_ref(&path), true, None, None),
        100,
    )
    .expect("reads");
    assert!(long.is_none(), "over 100 bars lie in the session");
    let _ = std::fs::remove_file(&path);
}

/// A batch whose first row repeats or steps back from the previous batch's last is read
/// row by row: the row is refused (strict) or skipped (lenient) as when read one by one.
#[test]
fn a_batch_is_checked_against_the_batch_before_it() {
    // Row index 8,192 begins the second decoded chunk: 8,192 % 3 == 2 repeats the time of
    // row 8,191, and 8,194 % 3 == 1 steps back inside the chunk.
    for (bad, what) in [(8_192, "duplicate timestamp"), (8_194, "is before row")] {
        let path = write_csv("boundary", &["XYZ"], 9_000, &[bad]);
        let strict = batched(source(std::slice::from_ref(&path), false, None, None), 1024);
        let error = strict.error.expect("refused");
        assert!(
            error.contains(&format!("row {}", bad + 1)) && error.contains(what),
            "{error}"
        );
        let lenient = batched(source(std::slice::from_ref(&path), true, None, None), 1024);
        assert_eq!(lenient.skipped, 1);
        assert_eq!(
            lenient,
            one_by_one(source(std::slice::from_ref(&path), true, None, None))
        );
        let _ = std::fs::remove_file(&path);
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

/// A refusal in one file of a merge, while the other holds bars made ahead of it (its rows
/// pass as a whole): the other's rows outside the session are counted only as its bars are
/// handed over, so the refusal leaves every count as reading row by row would. (The first
/// file's duplicate at row 8,193 is found on a Monday night after a weekend of such rows.)
#[test]
fn a_refusal_in_a_merge_counts_what_row_by_row_counts() {
    let paths = vec![
        write_csv("refusal", &["XYZ"], 9_000, &[8_192]),
        write_csv("refusal", &["QQQ", "IWM"], 18_000, &[]),
    ];
    let a = one_by_one(source(&paths, false, None, None));
    let b = batched(source(&paths, false, None, None), 1);
    for p in &paths {
        let _ = std::fs::remove_file(p);
    }
    assert!(
        a.error.as_deref().is_some_and(|e| e.contains("row 8193")),
        "{:?}",
        a.error
    );
    assert_eq!(a.outside, 9_872);
    assert_eq!(a, b);
}

/// Daily bars under NYSE, one file with a bar on a holiday (2024-01-15): a merge hands over
/// the bars before it, then refuses it (strict) or skips it (lenient), as row by row.
#[test]
fn a_holiday_bar_in_a_merge_is_refused_after_the_bars_before_it() {
    let daily = |symbol: &str, holiday: bool| {
        let path = std::env::temp_dir().join(format!(
            "lockstep-batch-daily-{symbol}-{}.csv",
            std::process::id()
        ));
        let mut text = String::from("ts,symbol,open,high,low,close,volume\n");
        for day in 2..=31 {
            let date = chrono::NaiveDate::from_ymd_opt(2024, 1, day).expect("a date");
            let weekday = chrono::Datelike::weekday(&date).number_from_monday();
            if weekday > 5 || (day == 15 && !holiday) {
                continue;
            }
            let _ = writeln!(text, "{date}T14:30:00Z,{symbol},10,11,9,10.{day:02},100");
        }
        std::fs::write(&path, text).expect("write csv");
        path
    };
    let paths = vec![daily("XYZ", true), daily("QQQ", false)];
    for lenient in [false, true] {
        let a = one_by_one(source(&paths, lenient, None, None));
        let b = batched(source(&paths, lenient, None, None), 1);
        assert_eq!(a, b, "lenient {lenient}");
        if lenient {
            assert_eq!((a.skipped, a.bars.len(), a.error), (1, 42, None));
        } else {
            let e = a.error.unwrap_or_default();
            assert!(e.contains("2024-01-15"), "{e}");
            // Nine sessions of XYZ and eight of QQQ: on a tie XYZ's bar goes first, and its
            // refill (the holiday) comes before QQQ's bar of 2024-01-12.
            assert_eq!(a.bars.len(), 17);
        }
    }
    for p in &paths {
        let _ = std::fs::remove_file(p);
    }
}
