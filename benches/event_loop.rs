//! Criterion benchmarks of the loop: sma_cross over in-memory bars (engine only) and over a
//! synthetic Parquet file (reader + validation + engine).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use lockstep_core::{
    Bar, BarSource, Decimal, Scale, SourceError, SymbolId, SymbolTable, UnixNanos,
};
use lockstep_data::synth::{write_synth, SynthSpec};
use lockstep_data::{open_source, DataOptions};
use lockstep_engine::{
    CommissionModel, Engine, EngineSettings, EquityMode, FillModel, MemoryJournal, RiskLimits,
    SimClock, SimVenue,
};
use lockstep_strategies::build;

struct VecSource {
    bars: Vec<Bar>,
    i: usize,
}

impl BarSource for VecSource {
    fn next_bar(&mut self, symbols: &mut SymbolTable) -> Result<Option<Bar>, SourceError> {
        symbols.intern("SYN");
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
            let ts = i as i64 * 60_000_000_000;
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
            }
        })
        .collect()
}

fn engine() -> Engine<SimVenue, SimClock, MemoryJournal> {
    let settings = EngineSettings {
        run_id: "bench".into(),
        initial_cash: Decimal::from(100_000),
        equity: EquityMode::Session,
        risk: RiskLimits::default(),
        eod: None,
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
    g.bench_with_input(
        BenchmarkId::new("sma_cross_in_memory", n),
        &bars,
        |b, bars| {
            b.iter(|| {
                let mut src = VecSource {
                    bars: bars.clone(),
                    i: 0,
                };
                engine().run(&mut src, &mut |_| {}).expect("runs")
            })
        },
    );
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
            engine().run(src.as_mut(), &mut |_| {}).expect("runs")
        })
    });
    g.finish();
}

criterion_group!(benches, bench_loop);
criterion_main!(benches);
