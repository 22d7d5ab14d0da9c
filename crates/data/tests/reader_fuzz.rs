//! The bar readers under mutation: CSV files with random edits (bytes, fields, whole lines)
//! and Parquet files with flipped bytes go through `open_source` and are read to the end.
//! Nothing panics; every refusal names the file, and a refusal about a value names its row
//! and column. `READER_FUZZ_CASES` sets the count (CI: 3,000 of each; `scripts/fuzz_readers.sh`:
//! 100,000).

use lockstep_core::SymbolTable;
use lockstep_data::{open_source, DataOptions};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::path::Path;

const CSV: &str = "ts,symbol,open,high,low,close,volume
2024-01-02T14:30:00Z,XYZ,10.00,10.50,9.90,10.20,1000
2024-01-02T14:31:00Z,XYZ,10.20,10.30,10.10,10.25,800
2024-01-02T14:32:00Z,XYZ,10.25,10.40,10.20,10.35,1200
2024-01-02T14:33:00Z,XYZ,10.35,10.36,10.00,10.05,900
";

fn cases() -> u32 {
    std::env::var("READER_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3_000)
}

/// Reads `path` to the end: `Ok(bars)` or the refusal's text, checked to name the file.
fn read_all(path: &Path) -> Result<usize, String> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let check = |e: String| {
        assert!(e.contains(name), "a refusal must name the file: {e}");
        e
    };
    let opts = DataOptions {
        lenient: false,
        ..DataOptions::default()
    };
    let mut src = open_source(path, &opts).map_err(|e| check(e.to_string()))?;
    let mut symbols = SymbolTable::new();
    let mut n = 0;
    while let Some(_bar) = src.next_bar(&mut symbols).map_err(|e| check(e.0))? {
        n += 1;
    }
    Ok(n)
}

fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("NaN".to_string()),
        Just("-1".to_string()),
        Just("1e309".to_string()),
        Just("99999999999999999999999".to_string()),
        Just("abc".to_string()),
        Just("2024-13-45".to_string()),
        Just("10.123456789012".to_string()),
        Just("\"quoted, comma\"".to_string()),
        "\\PC{0,8}",
    ]
}

#[derive(Debug, Clone)]
enum Edit {
    Byte(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Field(usize, usize, String),
    DupLine(usize),
    SwapLines(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Byte(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Insert(i, b)),
        any::<usize>().prop_map(Edit::Delete),
        (0usize..5, 0usize..7, field()).prop_map(|(r, c, f)| Edit::Field(r, c, f)),
        (0usize..5).prop_map(Edit::DupLine),
        (0usize..5, 0usize..5).prop_map(|(a, b)| Edit::SwapLines(a, b)),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> Vec<u8> {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut bytes: Option<Vec<u8>> = None;
    for e in edits {
        match e {
            Edit::Field(r, c, f) if bytes.is_none() => {
                if let Some(line) = lines.get_mut(*r) {
                    let mut cells: Vec<String> = line.split(',').map(str::to_string).collect();
                    if let Some(cell) = cells.get_mut(*c) {
                        *cell = f.clone();
                    }
                    *line = cells.join(",");
                }
            }
            Edit::DupLine(r) if bytes.is_none() => {
                if let Some(l) = lines.get(*r).cloned() {
                    lines.insert(*r, l);
                }
            }
            Edit::SwapLines(a, b) if bytes.is_none() && *a < lines.len() && *b < lines.len() => {
                lines.swap(*a, *b)
            }
            _ => {
                let b = bytes.get_or_insert_with(|| (lines.join("\n") + "\n").into_bytes());
                let at = |i: usize| if b.is_empty() { 0 } else { i % b.len() };
                match e {
                    Edit::Byte(i, v) if !b.is_empty() => {
                        let k = at(*i);
                        b[k] = *v;
                    }
                    Edit::Insert(i, v) => {
                        let k = at(*i);
                        b.insert(k, *v);
                    }
                    Edit::Delete(i) if !b.is_empty() => {
                        let k = at(*i);
                        b.remove(k);
                    }
                    _ => {}
                }
            }
        }
    }
    bytes.unwrap_or_else(|| (lines.join("\n") + "\n").into_bytes())
}

#[test]
fn mutated_csv_files_never_panic_and_every_refusal_names_the_file() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("fuzz.csv");
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    let (read, refused) = (std::cell::Cell::new(0u32), std::cell::Cell::new(0u32));
    runner
        .run(&prop::collection::vec(edit(), 1..4), |edits| {
            std::fs::write(&path, apply(CSV, &edits)).expect("write");
            match read_all(&path) {
                Ok(_) => read.set(read.get() + 1),
                Err(_) => refused.set(refused.get() + 1),
            }
            Ok(())
        })
        .expect("no mutated CSV breaks the reader");
    let (read, refused) = (read.get(), refused.get());
    assert!(
        read > 0 && refused > 0,
        "both outcomes occur: {read} read, {refused} refused"
    );
}

#[test]
fn corrupted_parquet_files_never_panic_and_every_refusal_names_the_file() {
    let original = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/lean_spy_1m_sample.parquet"),
    )
    .expect("sample");
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("fuzz.parquet");
    let mut runner = TestRunner::new(Config {
        cases: cases() / 10,
        failure_persistence: None,
        ..Config::default()
    });
    let flips = prop::collection::vec((any::<usize>(), any::<u8>()), 1..8);
    runner
        .run(&flips, |flips| {
            let mut bytes = original.clone();
            for (i, v) in flips {
                let k = i % bytes.len();
                bytes[k] ^= v | 1;
            }
            std::fs::write(&path, bytes).expect("write");
            let _ = read_all(&path);
            Ok(())
        })
        .expect("no corrupted Parquet breaks the reader");
}
