//! The replay fast path (quiet runs): a strategy that absorbs the bars on which it would do
//! nothing gives, event for event, the run it gives bar by bar, across working orders,
//! queued signals, session changes, several symbols, and positions the exit manager
//! watches (stops, targets, a trailing stop that moves inside a quiet run, a max hold).

mod common;

use common::{settings, HOUR};
use lockstep_core::{
    Bar, BarSource, Calendar, Decimal, Direction, ExitReason, OrderKind, Qty, Scale, Side, Signal,
    SourceError, SymbolId, SymbolTable, TimeInForce, UnixNanos,
};
use lockstep_engine::{
    Context, Engine, EngineSettings, EodSettings, ExitRules, ExitSettings, MemoryJournal, SimClock,
    SimVenue, Strategy, TrailDistance, Trailing,
};
use std::sync::{Arc, Mutex};

/// Bars of three symbols handed over as many at a time as the engine asks for.
struct Batches {
    bars: Vec<Bar>,
    at: usize,
}

impl BarSource for Batches {
    fn next_bar(&mut self, symbols: &mut SymbolTable) -> Result<Option<Bar>, SourceError> {
        let mut one = Vec::new();
        self.next_bars(symbols, &mut one, 1)?;
        Ok(one.pop())
    }

    fn next_bars(
        &mut self,
        symbols: &mut SymbolTable,
        out: &mut Vec<Bar>,
        max: usize,
    ) -> Result<(), SourceError> {
        for name in ["AAA", "BBB", "CCC"] {
            symbols.intern(name);
        }
        let end = (self.at + max).min(self.bars.len());
        out.extend_from_slice(&self.bars[self.at..end]);
        self.at = end;
        Ok(())
    }
}

/// Quarter-hour bars over three days: stretches where the three symbols alternate (also
/// across each midnight), then long runs of symbol 0; closes wander so that limit orders
/// work for a while.
fn bars(start: i64) -> Vec<Bar> {
    let scale = Scale::new(2).expect("scale");
    let mut x: u64 = 7;
    let mut close = [10_000i64; 3];
    (0..3 * 96)
        .map(|k: i64| {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let symbol = if (k / 40) % 2 == 1 { 0 } else { (k % 3) as u32 };
            let c = &mut close[symbol as usize];
            *c = (*c + ((x >> 33) % 41) as i64 - 20).max(100);
            let ts = start + k * HOUR / 4;
            Bar {
                ts: UnixNanos(ts),
                end: UnixNanos(ts + HOUR / 4),
                symbol: SymbolId(symbol),
                scale,
                open: *c,
                high: *c + 15,
                low: *c - 15,
                close: *c,
                volume: 100.0,
                quote: None,
            }
        })
        .collect()
}

/// Every `period`-th bar of a symbol places a limit order near its close (buy and sell in
/// turn, or only buys); a signal buys one share of the symbol it names at the market. With `absorb`, it
/// takes the bars before its next order at once.
struct Every {
    period: u32,
    /// Sell on every other order; otherwise only buy (exits close the positions).
    sells: bool,
    seen: Vec<u32>,
    absorb: bool,
    /// The bars it absorbed.
    absorbed: Arc<Mutex<Vec<Bar>>>,
}

impl Every {
    fn count(&mut self, symbol: SymbolId) -> &mut u32 {
        let i = symbol.0 as usize;
        if self.seen.len() <= i {
            self.seen.resize(i + 1, 0);
        }
        &mut self.seen[i]
    }
}

impl Strategy for Every {
    fn on_bar(&mut self, bar: &Bar, ctx: &mut Context<'_>) {
        let (period, sells) = (self.period, self.sells);
        let seen = self.count(bar.symbol);
        *seen += 1;
        if !(*seen).is_multiple_of(period) {
            return;
        }
        let buy = !sells || (*seen / period) % 2 == 1;
        let (side, offset) = if buy {
            (Side::Buy, -10)
        } else {
            (Side::Sell, 10)
        };
        let limit = bar.scale.to_decimal(bar.close + offset);
        let kind = OrderKind::Limit { limit };
        ctx.submit_order(bar.symbol, side, Qty::from(5), kind, TimeInForce::Gtc);
    }

    fn on_signal(&mut self, _signal: &Signal, symbol: SymbolId, ctx: &mut Context<'_>) {
        ctx.submit(symbol, Side::Buy, Qty::from(1), None);
    }

    fn absorb_quiet_bars(&mut self, bars: &[Bar]) -> usize {
        if !self.absorb {
            return 0;
        }
        let period = self.period;
        for (k, bar) in bars.iter().enumerate() {
            let seen = self.count(bar.symbol);
            if (*seen + 1).is_multiple_of(period) {
                if let Ok(mut log) = self.absorbed.lock() {
                    log.extend_from_slice(&bars[..k]);
                }
                return k;
            }
            *seen += 1;
        }
        if let Ok(mut log) = self.absorbed.lock() {
            log.extend_from_slice(bars);
        }
        bars.len()
    }
}

fn signal(ts: UnixNanos, symbol: &str) -> Signal {
    Signal {
        ts,
        symbol: symbol.into(),
        direction: Direction::Long,
        timeframe: None,
        id: None,
        price: None,
        extra: Default::default(),
    }
}

/// 2024-03-01 00:00 UTC, a Friday.
const FRIDAY: i64 = 1_709_251_200_000_000_000;
/// 2024-03-04 00:00 UTC, a Monday.
const MONDAY: i64 = 1_709_510_400_000_000_000;

/// The run's journal, its last progress count and the bars the strategy absorbed.
fn run(
    settings: EngineSettings,
    start: i64,
    every: (u32, bool),
    absorb: bool,
) -> (MemoryJournal, u64, Vec<Bar>) {
    let bars = bars(start);
    let signals = [5, 47, 48, 130, 200].map(|k| {
        let name = ["AAA", "BBB", "CCC"][bars[k].symbol.0 as usize];
        signal(UnixNanos(bars[k].end.0 + 60_000_000_000), name)
    });
    let strategy = Every {
        period: every.0,
        sells: every.1,
        seen: Vec::new(),
        absorb,
        absorbed: Arc::default(),
    };
    let absorbed = strategy.absorbed.clone();
    let mut engine = Engine::new(
        settings,
        SimVenue::default(),
        SimClock::default(),
        vec![("every".into(), Box::new(strategy) as Box<dyn Strategy>)],
        MemoryJournal::default(),
    );
    for s in signals {
        engine.enqueue_signal(s);
    }
    let mut progress = 0;
    let (outcome, journal) = engine
        .run(&mut Batches { bars, at: 0 }, &mut |n| progress = n)
        .expect("run");
    assert_eq!(outcome.bars, 288, "every bar counted");
    let absorbed = absorbed.lock().map(|l| l.clone()).unwrap_or_default();
    (journal, progress, absorbed)
}

/// Every table the two runs journaled is the same, named when it is not.
fn assert_same(by_bar: &MemoryJournal, absorbed: &MemoryJournal) {
    let tables = |j: &MemoryJournal| {
        [
            ("orders", format!("{:?}", j.orders)),
            ("fills", format!("{:?}", j.fills)),
            ("allocations", format!("{:?}", j.allocations)),
            ("equity", format!("{:?}", j.equity)),
            ("rejections", format!("{:?}", j.rejections)),
            ("eod runs", format!("{:?}", j.eod_ran_at)),
        ]
    };
    for ((name, want), (_, got)) in tables(by_bar).into_iter().zip(tables(absorbed)) {
        assert!(got == want, "{name} differ:\n{got}\n{want}");
    }
}

/// Orders, fills, allocations and equity rows (marks at each session's end) are the same
/// with and without absorbing; the run has orders that work across quiet stretches, fills
/// from signals between bars, and four sessions (UTC days of delivery).
#[test]
fn absorbing_quiet_runs_changes_nothing() {
    let (by_bar, progress, _) = run(settings(), FRIDAY, (9, true), false);
    let (absorbed, progress_absorbed, _) = run(settings(), FRIDAY, (9, true), true);
    assert!(by_bar.fills.len() > 20, "{} fills", by_bar.fills.len());
    assert!(
        by_bar
            .fills
            .iter()
            .filter(|f| f.qty == Qty::from(1))
            .count()
            == 5
    );
    assert_eq!(
        by_bar.equity.len(),
        4,
        "three days and the midnight of the last bar"
    );
    assert_same(&by_bar, &absorbed);
    assert_eq!(
        (progress, progress_absorbed),
        (288, 288),
        "the last progress call"
    );
}

/// The fills `journal` holds that close for one of `reasons`.
fn exit_fills(journal: &MemoryJournal, reasons: &[ExitReason]) -> usize {
    journal
        .fills
        .iter()
        .filter(|f| f.exit_reason.is_some_and(|r| reasons.contains(&r)))
        .count()
}

/// The test settings with the NYSE EOD guard (holding positions overnight) and `rules`.
fn under_the_guard(rules: ExitRules) -> EngineSettings {
    EngineSettings {
        eod: Some(EodSettings {
            calendar: Calendar::Nyse,
            before_close: 5 * 60 * 1_000_000_000,
            flatten: vec![false],
            flatten_expiring: true,
        }),
        exits: ExitSettings {
            rules: vec![rules],
            ..ExitSettings::default()
        },
        ..settings()
    }
}

/// With the safety core on (the NYSE EOD guard and its timers, a hard stop and a target
/// that close positions), absorbing changes nothing either: quiet runs stop where a
/// position is watched or a bar opens outside the guard's session.
#[test]
fn absorbing_under_the_eod_guard_and_exit_rules_changes_nothing() {
    let safety = || {
        under_the_guard(ExitRules {
            hard_stop_pct: Some(Decimal::new(3, 3)),
            take_profit_pct: Some(Decimal::new(3, 3)),
            ..ExitRules::default()
        })
    };
    let (by_bar, ..) = run(safety(), MONDAY, (40, false), false);
    let (absorbed, ..) = run(safety(), MONDAY, (40, false), true);
    let exits = exit_fills(&by_bar, &[ExitReason::HardStop, ExitReason::TakeProfit]);
    assert!(exits >= 2, "{exits} exits");
    assert_eq!(by_bar.eod_ran_at.len(), 3, "the guard ran each weekday");
    assert_same(&by_bar, &absorbed);
}

/// A trailing stop that starts at a gain, moves in steps and tightens inside quiet runs,
/// with a hard stop, a target and a max hold, under the NYSE guard: absorbing changes
/// nothing, and the absorbed bars include bars that made a new best price for a watched
/// position (so the trailing stop moved within a quiet run, not only between them).
#[test]
fn absorbing_while_a_trailing_stop_moves_changes_nothing() {
    let trailing = || {
        under_the_guard(ExitRules {
            hard_stop_pct: Some(Decimal::new(8, 3)),
            take_profit_pct: Some(Decimal::new(12, 3)),
            trailing: Some(Trailing {
                distance: TrailDistance::Pct(Decimal::new(3, 3)),
                activation_pct: Decimal::new(3, 3),
                step_pct: Decimal::new(5, 4),
                step_atr: Decimal::ZERO,
                min_pct: None,
                max_pct: None,
            }),
            max_hold_secs: Some(4 * 3_600),
            ..ExitRules::default()
        })
    };
    let (by_bar, ..) = run(trailing(), MONDAY, (30, false), false);
    let (absorbed, _, taken) = run(trailing(), MONDAY, (30, false), true);
    for reason in [ExitReason::Trailing, ExitReason::MaxHold] {
        let fired = exit_fills(&by_bar, &[reason]);
        assert!(fired >= 1, "{reason:?}: {fired} fills");
    }
    assert_same(&by_bar, &absorbed);
    let all = bars(MONDAY);
    let new_best = taken.iter().filter(|b| {
        by_bar.allocations.iter().any(|a| {
            let held = a.symbol == b.symbol && a.open_ts < b.ts && b.end <= a.close_ts;
            let best_before = all
                .iter()
                .filter(|x| x.symbol == b.symbol && x.ts >= a.open_ts && x.ts < b.ts)
                .map(|x| x.high)
                .max()
                .unwrap_or(i64::MIN);
            let entry = b.scale.from_decimal(a.open_price).unwrap_or(i64::MAX);
            held && b.high > best_before.max(entry)
        })
    });
    let new_best = new_best.count();
    eprintln!(
        "{new_best} of {} absorbed bars made a new best price",
        taken.len()
    );
    assert!(
        new_best >= 3,
        "{new_best} new best prices inside quiet runs"
    );
}
