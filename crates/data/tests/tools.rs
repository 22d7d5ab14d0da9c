//! data synth / import / inspect and the k-way merge.

use lockstep_core::{BarSource, Interval, SymbolTable, UnixNanos};
use lockstep_data::import::import;
use lockstep_data::synth::{write_synth, SynthSpec};
use lockstep_data::{inspect, open_source, DataOptions, MergedSource};
use std::path::Path;

fn spec(rows: u64, seed: u64, symbol: &str) -> SynthSpec {
    SynthSpec {
        rows,
        seed,
        symbol: symbol.into(),
    }
}

fn all_bars(paths: &[&Path]) -> (Vec<lockstep_core::Bar>, SymbolTable) {
    let sources = paths
        .iter()
        .map(|p| open_source(p, &DataOptions::default()).unwrap())
        .collect();
    let mut m = MergedSource::new(sources);
    let mut t = SymbolTable::new();
    let mut out = Vec::new();
    while let Some(b) = m.next_bar(&mut t).unwrap() {
        out.push(b);
    }
    (out, t)
}

#[test]
fn synth_is_byte_identical_for_a_seed_and_valid() {
    let d = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        d.path().join("a.parquet"),
        d.path().join("b.parquet"),
        d.path().join("c.parquet"),
    );
    write_synth(&a, &spec(100_000, 7, "SYN")).unwrap();
    write_synth(&b, &spec(100_000, 7, "SYN")).unwrap();
    write_synth(&c, &spec(100_000, 8, "SYN")).unwrap();
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert_ne!(std::fs::read(&a).unwrap(), std::fs::read(&c).unwrap());
    let report = inspect(&a, &DataOptions::default()).unwrap();
    assert!(report.is_valid(), "{report}");
    assert_eq!(report.rows, 100_000);
    assert_eq!(report.interval, Ok("1m".parse::<Interval>().unwrap()));
    let (bars, _) = all_bars(&[&a]);
    for w in bars.windows(2) {
        assert_eq!(w[1].open % 100, 0, "whole cents at 4 dp");
        assert!(
            (w[1].open - w[0].close).abs() <= 200,
            "open = previous close + small gap"
        );
    }
}

#[test]
fn merge_orders_by_delivery_time_then_file_order() {
    let d = tempfile::tempdir().unwrap();
    let (a, b) = (d.path().join("a.parquet"), d.path().join("b.parquet"));
    write_synth(&a, &spec(50, 1, "AAA")).unwrap();
    write_synth(&b, &spec(30, 2, "BBB")).unwrap();
    let (bars, t) = all_bars(&[&b, &a]);
    assert_eq!(bars.len(), 80);
    for w in bars.windows(2) {
        assert!(w[0].end <= w[1].end);
        if w[0].end == w[1].end {
            assert_eq!(
                t.name(w[0].symbol),
                "BBB",
                "ties follow the order the files were given"
            );
        }
    }
    assert_eq!(bars[0].end, UnixNanos(bars[0].ts.0 + 60_000_000_000));
}

#[test]
fn import_sorts_and_keeps_exact_prices() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("raw.csv");
    std::fs::write(
        &src,
        "ts,open,high,low,close,volume\n2024-01-03 09:31:00,1.2345,1.3,1.2,1.25,5\n2024-01-03 09:30:00,1.1,1.3,1.0,1.2345,7\n",
    )
    .unwrap();
    let dst = d.path().join("out.parquet");
    let opts = DataOptions {
        symbol: Some("EURUSD".into()),
        tz: Some("America/New_York".parse().unwrap()),
        ..DataOptions::default()
    };
    let s = import(&src, &dst, &opts).unwrap();
    assert_eq!(s.rows, 2);
    let (bars, t) = all_bars(&[&dst]);
    assert_eq!(t.name(bars[0].symbol), "EURUSD");
    assert_eq!(bars[0].ts.to_iso(), "2024-01-03T14:30:00Z");
    assert_eq!(bars[0].close_price().to_string(), "1.2345");
    assert_eq!(bars[1].open_price().to_string(), "1.2345");
}

/// `inspect` counts valid rows per symbol and their time range whether a chunk passes as a
/// whole or row by row: 20,000 one-minute rows over two symbols (AAA then BBB from row
/// 12,000), one row with high below low and one repeating the time before it, both in the
/// second chunk; the last row is out of order too.
#[test]
fn inspect_counts_rows_per_symbol_across_whole_and_checked_chunks() {
    use std::fmt::Write;
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("two.csv");
    let mut text = String::from("ts,symbol,open,high,low,close,volume\n");
    let start = 1_704_200_400i64;
    for i in 0..20_000i64 {
        let minute = match i {
            9_001 => 9_000,
            19_999 => 5,
            _ => i,
        };
        let ts = UnixNanos((start + minute * 60) * 1_000_000_000);
        let symbol = if i < 12_000 { "AAA" } else { "BBB" };
        let (high, low) = if i == 9_500 { (9, 11) } else { (11, 9) };
        writeln!(text, "{ts},{symbol},10,{high},{low},10,1").unwrap();
    }
    std::fs::write(&path, text).unwrap();
    let report = inspect(&path, &DataOptions::default()).unwrap();
    assert_eq!((report.rows, report.bad_rows), (20_000, 3), "{report}");
    let counts: Vec<(&str, u64)> = report
        .symbols
        .iter()
        .map(|(s, n)| (s.as_str(), *n))
        .collect();
    assert_eq!(counts, [("AAA", 11_998), ("BBB", 7_999)]);
    let (first, last) = report.range.expect("rows");
    assert_eq!(first, UnixNanos(start * 1_000_000_000));
    assert_eq!(last, UnixNanos((start + 19_998 * 60) * 1_000_000_000));
}

/// Each column's (non-RLE) encodings and codec in the first row group of `path`.
fn column_layout(path: &Path) -> Vec<(String, Vec<parquet::basic::Encoding>, String)> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let reader = SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap();
    let group = reader.metadata().row_group(0).clone();
    group
        .columns()
        .iter()
        .map(|c| {
            let mut used: Vec<_> = c.encodings().collect();
            used.retain(|e| *e != parquet::basic::Encoding::RLE);
            let codec = match c.compression() {
                parquet::basic::Compression::ZSTD(_) => "zstd".to_string(),
                other => other.to_string(),
            };
            (c.column_path().string(), used, codec)
        })
        .collect()
}

/// `data synth` and `data import` write integer columns delta-encoded and uncompressed,
/// floats byte-stream-split with zstd, and text dictionary-encoded with zstd.
#[test]
fn bar_files_are_laid_out_for_fast_replay() {
    use parquet::basic::Encoding::{
        BYTE_STREAM_SPLIT as SPLIT, DELTA_BINARY_PACKED as DELTA, PLAIN, RLE_DICTIONARY,
    };
    let d = tempfile::tempdir().unwrap();
    let synth = d.path().join("synth.parquet");
    write_synth(&synth, &spec(1_000, 3, "SYN")).unwrap();
    let raw = d.path().join("raw.csv");
    std::fs::write(
        &raw,
        "ts,symbol,open,high,low,close,volume\n2024-01-03T14:30:00Z,EURUSD,1.1,1.3,1.0,1.2345,7\n",
    )
    .unwrap();
    let imported = d.path().join("imported.parquet");
    import(&raw, &imported, &DataOptions::default()).unwrap();
    let int = |name: &str| (name.to_string(), vec![DELTA], "UNCOMPRESSED".to_string());
    let float = |name: &str| (name.to_string(), vec![SPLIT], "zstd".to_string());
    let text = |name: &str| {
        (
            name.to_string(),
            vec![PLAIN, RLE_DICTIONARY],
            "zstd".to_string(),
        )
    };
    let prices = ["open", "high", "low", "close"];
    let mut want = vec![int("ts"), text("symbol")];
    want.extend(prices.map(int));
    want.push(float("volume"));
    assert_eq!(column_layout(&synth), want, "synth");
    let mut want = vec![int("ts"), text("symbol")];
    want.extend(prices.map(float));
    want.push(float("volume"));
    want.extend(prices.map(|p| text(&format!("{p}_text"))));
    assert_eq!(column_layout(&imported), want, "import");
}
