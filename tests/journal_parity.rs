//! Paper = replay, and journal -> replay parity, at the session level: the SPY one-minute
//! week through `exits_two_strategies_spy`, fed one input at a time into a journaled
//! session (as a live feed would deliver it, with the clock ticking at every bar's close),
//! gives the backtest's fills, lots and P&L; replaying its journal reproduces every
//! decision; a tampered decision is found by its sequence number.

use lockstep::config;
use lockstep::run::{data_options, engine_parts};
use lockstep_core::{BarSource, SymbolTable};
use lockstep_data::{open_source, MergedSource};
use lockstep_engine::{Input, MemoryJournal, SimVenue};
use lockstep_live::journal::{JournalReader, JournalStore};
use lockstep_live::replay::replay;
use lockstep_live::session::Session;
use std::path::Path;

const CONFIG: &str = "scenarios/exits_two_strategies_spy.toml";
const DATA: &str = "data/lean_spy_1m_7days.parquet";

fn cfg() -> config::Config {
    config::load(Some(Path::new(CONFIG)), &[], |_| Ok(())).expect("config")
}

fn bars() -> Vec<(String, lockstep_core::Bar)> {
    let cfg = cfg();
    let opts = data_options(&cfg).expect("options");
    let mut src = MergedSource::new(vec![open_source(Path::new(DATA), &opts).expect("open")]);
    let mut symbols = SymbolTable::new();
    let mut out = Vec::new();
    while let Some(b) = src.next_bar(&mut symbols).expect("bar") {
        out.push((symbols.name(b.symbol).to_string(), b));
    }
    out
}

fn session(store: Option<JournalStore>) -> Session<SimVenue, MemoryJournal> {
    engine_parts(&cfg(), "paper")
        .expect("parts")
        .session(MemoryJournal::default(), store)
}

fn backtest() -> MemoryJournal {
    let mut parts = engine_parts(&cfg(), "paper").expect("parts");
    let cfg = cfg();
    let opts = data_options(&cfg).expect("options");
    let mut src = MergedSource::new(vec![open_source(Path::new(DATA), &opts).expect("open")]);
    let venue = std::mem::take(&mut parts.venue);
    let engine = parts.engine_on(venue, MemoryJournal::default());
    engine.run(&mut src, &mut |_| {}).expect("backtest").1
}

/// Feeds every bar, ticking the clock at each bar's close; `stop_after(bar)` drops bars
/// (a stalled feed) while the clock keeps ticking each minute.
fn paper(store: Option<JournalStore>, drop: impl Fn(&lockstep_core::Bar) -> bool) -> MemoryJournal {
    let mut s = session(store);
    let all = bars();
    let first = all.first().map(|b| b.1.ts).expect("bars");
    s.begin(first).expect("begin");
    let mut last = first;
    for (name, mut bar) in all {
        // The clock ticks every minute up to this bar's close, as a wall clock would (over
        // a gap of more than a day in the data it jumps: no session ran in between).
        if bar.end.0 - last.0 > 86_400_000_000_000 {
            last = bar.ts;
        }
        while last.0 + 60_000_000_000 < bar.end.0 {
            last = last.plus(60_000_000_000);
            s.feed(Input::Tick(last)).expect("tick");
        }
        if !drop(&bar) {
            bar.symbol = s.symbol(&name);
            s.feed(Input::Bar(bar)).expect("bar");
        }
        s.feed(Input::Tick(bar.end)).expect("tick at close");
        last = bar.end;
    }
    s.conclude(last).expect("conclude").journal
}

type FillRow = (String, String, String, String, &'static str);

fn fill_rows(j: &MemoryJournal) -> Vec<FillRow> {
    j.fills
        .iter()
        .map(|f| {
            (
                f.ts.to_iso(),
                f.side.to_string(),
                f.qty.to_string(),
                f.price.to_string(),
                f.exit_reason.map_or("", |r| r.as_str()),
            )
        })
        .collect()
}

#[test]
fn paper_on_a_recorded_feed_equals_the_backtest_and_its_journal_replays_exactly() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("journal.db");
    let store = JournalStore::create(&db, &[("mode", "paper")]).expect("journal");
    let paper = paper(Some(store), |_| false);
    let back = backtest();
    assert!(back.fills.len() > 100, "{} fills", back.fills.len());
    assert_eq!(fill_rows(&paper), fill_rows(&back), "same fills");
    let lots = |j: &MemoryJournal| -> Vec<String> {
        j.allocations
            .iter()
            .map(|a| format!("{} {} {} {}", a.qty, a.open_price, a.close_price, a.net_pnl))
            .collect()
    };
    assert_eq!(lots(&paper), lots(&back), "same lots");
    let pnl = |j: &MemoryJournal| {
        j.allocations
            .iter()
            .map(|a| a.net_pnl)
            .sum::<lockstep_core::Decimal>()
    };
    assert_eq!(pnl(&paper), pnl(&back));
    assert_eq!(paper.eod_ran_at, back.eod_ran_at);

    let (records, integrity) = JournalReader::open(&db)
        .expect("open")
        .read_all()
        .expect("read");
    assert!(integrity.is_intact(), "{integrity}");
    let (report, done) = replay(&records, session(None)).expect("replay");
    assert_eq!(report.divergence, None);
    assert!(
        report.decisions > 500,
        "{} decisions compared",
        report.decisions
    );
    let replayed = done.expect("replay reached the end").1;
    assert_eq!(fill_rows(&replayed), fill_rows(&paper));

    // A decision changed after the fact is found by its sequence number.
    let mut tampered = records.clone();
    let k = tampered
        .iter()
        .position(|r| r.body.contains("\"fill\"") && r.body.contains("hard_stop"))
        .expect("a stop fill");
    tampered[k].body = tampered[k]
        .body
        .replacen("\"qty\":\"10\"", "\"qty\":\"11\"", 1);
    let (report, _) = replay(&tampered, session(None)).expect("replay");
    let d = report.divergence.expect("a difference");
    assert_eq!(d.seq, tampered[k].seq);
    assert_eq!(d.recorded.as_deref(), Some(tampered[k].body.as_str()));
    assert_eq!(d.replayed.as_deref(), Some(records[k].body.as_str()));
}

#[test]
fn the_flatten_happens_on_the_clock_when_the_feed_stops_at_1550() {
    // The feed of the first session stops at 15:50 ET (19:50 UTC in winter, 20:50 in summer).
    let all = bars();
    let day = all[0].1.ts.utc_day();
    let cut = |b: &lockstep_core::Bar| {
        let et =
            b.ts.to_datetime()
                .with_timezone(&chrono_tz::America::New_York);
        b.ts.utc_day() == day && et.time() >= chrono::NaiveTime::from_hms_opt(15, 50, 0).expect("t")
    };
    let stalled = paper(None, cut);
    let (first, _) = stalled.eod_ran_at[0];
    let ran = stalled.eod_ran_at[0]
        .1
        .to_datetime()
        .with_timezone(&chrono_tz::America::New_York);
    assert_eq!(
        ran.format("%H:%M:%S").to_string(),
        "15:55:00",
        "session {first}"
    );
    let eod: Vec<_> = stalled
        .fills
        .iter()
        .filter(|f| f.exit_reason == Some(lockstep_core::ExitReason::Eod) && f.ts.utc_day() == day)
        .collect();
    assert!(!eod.is_empty(), "positions were flattened");
    assert!(
        eod.iter().all(|f| f.stale_price),
        "no bar came: closed at the last price, marked stale"
    );
    let close = eod[0]
        .ts
        .to_datetime()
        .with_timezone(&chrono_tz::America::New_York);
    assert_eq!(close.format("%H:%M").to_string(), "16:00");
}
