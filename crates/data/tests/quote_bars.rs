//! Quote-bar files (bid/ask columns, no trades) read as bars that carry both sides, checked
//! against rows of the bundled samples read by hand from their text columns.

use arrow_array::{ArrayRef, RecordBatch, StringArray, TimestampNanosecondArray};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use lockstep_core::{Bar, Scale, SymbolTable};
use lockstep_data::{open_source, DataOptions};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data")
        .join(name)
}

fn read_all(path: &Path) -> (Vec<Bar>, SymbolTable, u64) {
    let mut src = open_source(path, &DataOptions::default()).expect("opens");
    let mut symbols = SymbolTable::new();
    let mut bars = Vec::new();
    while let Some(b) = src.next_bar(&mut symbols).expect("valid") {
        bars.push(b);
    }
    (bars, symbols, src.quoteless_rows())
}

#[test]
fn spxw_quotes_carry_bid_and_ask_and_mark_at_the_mid() {
    let (bars, symbols, quoteless) = read_all(&sample("lean_spxw_0dte_quotes_1m_20210104.parquet"));
    assert_eq!((bars.len(), quoteless), (1325, 0));
    // SPXW 210104 3700 C at 09:30 ET: bid 65.10 -> 64.90, ask 69.20 -> 67.90.
    let first = bars
        .iter()
        .find(|b| symbols.name(b.symbol) == "SPXW  210104C03700000")
        .expect("the 3700 call");
    let q = first.quote.expect("a quote bar");
    let p = |m: i64| first.scale.to_decimal(m).to_string();
    let (bid, ask) = (q.bid.unwrap(), q.ask.unwrap());
    assert_eq!(
        (p(bid.open), p(bid.close)),
        ("65.1000".into(), "64.9000".into())
    );
    assert_eq!(
        (p(ask.open), p(ask.close)),
        ("69.2000".into(), "67.9000".into())
    );
    assert_eq!(
        (p(first.open), p(first.close)),
        ("67.1500".into(), "66.4000".into())
    );
    assert_eq!(first.volume, 0.0);
}

#[test]
fn one_sided_quotes_keep_their_side_and_rows_with_neither_are_counted() {
    let (bars, _, quoteless) = read_all(&sample("lean_goog_option_quotes_1m_20151224.parquet"));
    // 5,118 rows: 48 with neither side, 1,229 without a bid, 412 without an ask (polars).
    assert_eq!((bars.len(), quoteless), (5070, 48));
    let no_bid = bars
        .iter()
        .filter(|b| b.quote.unwrap().bid.is_none())
        .count();
    let no_ask = bars
        .iter()
        .filter(|b| b.quote.unwrap().ask.is_none())
        .count();
    assert_eq!((no_bid, no_ask), (1181, 364));
    for b in bars.iter().filter(|b| !b.two_sided()) {
        let q = b.quote.unwrap();
        let side = q.bid.or(q.ask).unwrap();
        assert_eq!(
            (b.open, b.close),
            (side.open, side.close),
            "mark is the side present"
        );
    }
}

type Side4 = [Option<&'static str>; 4];

fn quote_file(dir: &Path, bid: Side4, ask: Side4) -> PathBuf {
    let text = |v: Option<&str>| Arc::new(StringArray::from(vec![v])) as ArrayRef;
    let mut fields = vec![
        Field::new(
            "ts",
            DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
            false,
        ),
        Field::new("symbol", DataType::Utf8, false),
    ];
    let mut cols: Vec<ArrayRef> = vec![
        Arc::new(
            TimestampNanosecondArray::from(vec![1_609_770_600_000_000_000]).with_timezone("UTC"),
        ),
        text(Some("SPXW  210104C03700000")),
    ];
    for (side, values) in [("bid", bid), ("ask", ask)] {
        for (f, v) in ["open", "high", "low", "close"].iter().zip(values) {
            fields.push(Field::new(format!("{side}_{f}_text"), DataType::Utf8, true));
            cols.push(text(v));
        }
    }
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).unwrap();
    let path = dir.join("q.parquet");
    let f = std::fs::File::create(&path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(f, batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    path
}

fn one_minute() -> DataOptions {
    DataOptions {
        price_scale: lockstep_data::PriceScale::Fixed(Scale::new(2).unwrap()),
        interval: Some(lockstep_core::Interval::from_nanos(60_000_000_000).unwrap()),
        ..DataOptions::default()
    }
}

const ONE: Side4 = [Some("1.00"); 4];

#[test]
fn a_partly_missing_or_bad_side_is_an_error_naming_row_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let err = |bid_open| {
        let bid = [bid_open, Some("1.00"), Some("1.00"), Some("1.00")];
        let path = quote_file(dir.path(), bid, ONE);
        let mut src = open_source(&path, &one_minute()).unwrap();
        src.next_bar(&mut SymbolTable::new())
            .unwrap_err()
            .to_string()
    };
    let e = err(None);
    assert!(
        e.contains("row 1") && e.contains("bid_open_text") && e.contains("partly missing"),
        "{e}"
    );
    let e = err(Some("2.00"));
    assert!(
        e.contains("bid_open_text") && e.contains("open is outside [low, high]"),
        "{e}"
    );
    let e = err(Some("-1"));
    assert!(e.contains("bid_open_text") && e.contains("positive"), "{e}");
}

#[test]
fn a_zero_side_is_no_quote_and_a_crossed_row_has_no_market() {
    let dir = tempfile::tempdir().unwrap();
    let read = |bid: Side4, ask: Side4| {
        let path = quote_file(dir.path(), bid, ask);
        let mut src = open_source(&path, &one_minute()).unwrap();
        let bar = src.next_bar(&mut SymbolTable::new()).unwrap();
        (bar.map(|b| b.quote.unwrap()), src.quoteless_rows())
    };
    let (q, quoteless) = read([Some("0"); 4], ONE);
    let q = q.expect("the ask is there");
    assert_eq!((q.bid, q.ask.map(|a| a.close)), (None, Some(100)));
    assert_eq!(quoteless, 0);
    // Bid 1.20 over ask 1.00: no trustworthy market, passed over and counted.
    let (q, quoteless) = read([Some("1.20"); 4], ONE);
    assert_eq!((q, quoteless), (None, 1));
}

#[test]
fn inspect_counts_quoteless_rows_and_shortens_long_symbol_lists() {
    let path = sample("lean_goog_option_quotes_1m_20151224.parquet");
    let i = lockstep_data::inspect(&path, &DataOptions::default()).expect("inspects");
    assert_eq!((i.rows, i.quoteless_rows, i.bad_rows), (5118, 48, 0));
    assert_eq!(i.symbols.len(), 34);
    let text = i.to_string();
    assert!(text.contains("quoteless: 48 "), "{text}");
    assert!(text.contains(", ... 34 symbols in all"), "{text}");
    assert!(text.contains("verdict:   OK"), "{text}");
}
