//! Criterion benchmarks of the loop: sma_cross over in-memory bars (engine only, with and
//! without the safety core: risk limits, exit manager, EOD guard) and over a synthetic
//! Parquet file (reader + validation + engine).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use lockstep_core::{
    Bar, BarSource, Decimal, Scale, SourceError, SymbolId, SymbolTable, UnixNanos,
};
use lockstep_data::synth::{write_synth, SynthSpec};
use lockstep_data::{open_source, DataOptions};
use lockstep_engine::{
    CommissionModel, Engine, EngineSettings, EodSettings, EquityMode, ExitRules, ExitSettings,
    FillModel, MemoryJournal, RiskLimits, SimClock, SimVenue, TrailDistance, Trailing,
};
use lockstep_strategies::build;

/// Bars already in memory: the benchmark measures the loop, not copying or interning.
struct SliceSource<'a> {
    bars: &'a [Bar],
    i: usize,
}

impl BarSource for SliceSource<'_> {
    fn next_bar(&mut self, symbols: &mut SymbolTable) -> Result<Option<Bar>, SourceError> {
        if self.i == 0 {
            symbols.intern("SYN");
        }
        let b = self.bars.get(self.i).copied();
        self.i += 1;
        Ok(b)
    }
}

fn synthetic_bars(n: usize) -> Vec<Bar> {
    let mut px: i64 = 1_000_000;
    let mut state: u64 = 42;
    (0..n)
        .map(|i| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let step = ((state >> 33) % 51) as i64 - 25;
            let open = px;
            px = (px + step * 100).max(10_000);
            // From 2020-01-02 14:30 UTC (09:30 New York), so the NYSE guard has sessions.
            let ts = 1_577_975_400_000_000_000 + i as i64 * 60_000_000_000;
            Bar {
                ts: UnixNanos(ts),
                end: UnixNanos(ts + 60_000_000_000),
                symbol: SymbolId(0),
                scale: Scale::EQUITY,
                open,
                high: open.max(px) + 100,
                low: open.min(px) - 100,
                close: px,
                volume: 1.0,
                quote: None,
            }
        })
        .collect()
}

/// The safety core as a cautious user would set it: every risk limit that reads state,
/// hard stop, take profit, a trailing stop and max hold, and the NYSE EOD guard (hold).
fn safety_core() -> (RiskLimits, ExitSettings, Option<EodSettings>) {
    let pct = |n: i64| Decimal::new(n, 3);
    let risk = RiskLimits {
        max_order_notional: Some(Decimal::from(1_000_000)),
        max_position_qty: Some(Decimal::from(1_000)),
        max_open_positions: Some(5),
        max_daily_trades: Some(10_000),
        max_daily_entry_notional: Some(Decimal::from(100_000_000)),
        daily_loss_limit: Some(Decimal::from(50_000)),
        stale_after_secs: Some(600),
        loss_streak: Some(50),
        ..RiskLimits::default()
    };
    let exits = ExitSettings {
        rules: vec![ExitRules {
            hard_stop_pct: Some(pct(20)),
            take_profit_pct: Some(pct(40)),
            trailing: Some(Trailing {
                distance: TrailDistance::Pct(pct(10)),
                activation_pct: pct(5),
                step_pct: Decimal::ZERO,
                step_atr: Decimal::ZERO,
                min_pct: None,
                max_pct: None,
            }),
            max_hold_secs: Some(86_400),
            ..ExitRules::default()
        }],
        ..ExitSettings::default()
    };
    let eod = EodSettings {
        calendar: lockstep_core::Calendar::Nyse,
        before_close: 5 * 60 * 1_000_000_000,
        flatten: vec![false],
        flatten_expiring: true,
    };
    (risk, exits, Some(eod))
}

fn engine(safety: bool) -> Engine<SimVenue, SimClock, MemoryJournal> {
    let (risk, exits, eod) = if safety {
        safety_core()
    } else {
        (RiskLimits::default(), ExitSettings::default(), None)
    };
    let settings = EngineSettings {
        run_id: "bench".into(),
        initial_cash: Decimal::from(100_000),
        equity: EquityMode::Session,
        risk,
        eod,
        exits,
        indexes: Vec::new(),
    };
    let strategy = build("sma_cross", toml::Table::new()).expect("default sma_cross");
    Engine::new(
        settings,
        SimVenue::new(FillModel::NextOpen, CommissionModel::Zero),
        SimClock::default(),
        vec![("sma_cross".into(), strategy)],
        MemoryJournal::default(),
    )
}

fn bench_loop(c: &mut Criterion) {
    let n = 1_000_000;
    let bars = synthetic_bars(n);
    let mut g = c.benchmark_group("loop");
    g.sample_size(10);
    g.throughput(Throughput::Elements(n as u64));
    for (name, safety) in [
        ("sma_cross_in_memory", false),
        ("sma_cross_safety_core", true),
    ] {
        g.bench_with_input(BenchmarkId::new(name, n), &bars, |b, bars| {
            b.iter(|| {
                let mut src = SliceSource { bars, i: 0 };
                engine(safety).run(&mut src, &mut |_| {}).expect("runs")
            })
        });
    }
    let dir = std::env::temp_dir().join("lockstep-bench");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(format!("synth-{n}.parquet"));
    if !path.exists() {
        write_synth(
            &path,
            &SynthSpec {
                rows: n as u64,
                seed: 1,
                symbol: "SYN".into(),
            },
        )
        .expect("synth");
    }
    g.bench_function(BenchmarkId::new("sma_cross_parquet", n), |b| {
        b.iter(|| {
            let mut src = open_source(&path, &DataOptions::default()).expect("opens");
            engine(false).run(src.as_mut(), &mut |_| {}).expect("runs")
        })
    });
    g.finish();
}

criterion_group!(benches, bench_loop);
criterion_main!(benches);
