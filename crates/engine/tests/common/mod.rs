//! Helpers for loop tests: hourly bars, a scripted strategy and a run with a memory journal.

#![allow(dead_code)]

use lockstep_core::{
    Bar, BarSource, Decimal, OrderKind, Qty, Scale, Side, SourceError, SymbolId, SymbolTable,
    TimeInForce, UnixNanos,
};
use lockstep_engine::{
    Context, Engine, EngineError, EngineSettings, EquityMode, ExitSettings, MemoryJournal,
    RiskLimits, SimClock, SimSettings, SimVenue, Strategy,
};

/// One hour in nanoseconds.
pub const HOUR: i64 = 3_600_000_000_000;

/// 2024-03-01 14:30 UTC (09:30 in New York, a Friday session).
pub const NYSE_FRIDAY_OPEN: i64 = 1_709_303_400_000_000_000;

/// Hourly bars of one symbol, `XYZ`, from `start`.
pub struct Bars(Vec<Bar>, usize);

impl BarSource for Bars {
    fn next_bar(&mut self, symbols: &mut SymbolTable) -> Result<Option<Bar>, SourceError> {
        symbols.intern("XYZ");
        self.1 += 1;
        Ok(self.0.get(self.1 - 1).copied())
    }
}

/// These bars, in order (symbol id 0 is `XYZ`).
pub fn from_bars(v: Vec<Bar>) -> Bars {
    Bars(v, 0)
}

/// Bars `(hour, open, high, low, close, volume)`; bar `h` opens at `start + h` hours and
/// is delivered an hour later.
pub fn bars(start: i64, rows: &[(usize, &str, &str, &str, &str, f64)]) -> Bars {
    let scale = Scale::new(2).expect("scale");
    let p = |s: &str| scale.parse(s).expect("price");
    Bars(
        rows.iter()
            .map(|&(hour, o, h, l, c, volume)| Bar {
                ts: UnixNanos(start + hour as i64 * HOUR),
                end: UnixNanos(start + (hour as i64 + 1) * HOUR),
                symbol: SymbolId(0),
                scale,
                open: p(o),
                high: p(h),
                low: p(l),
                close: p(c),
                volume,
                quote: None,
            })
            .collect(),
        0,
    )
}

/// side, quantity, kind, time in force.
pub type Order = (Side, i64, OrderKind, TimeInForce);

/// Submits the listed orders on the bar opening at the given hour after `start`.
pub struct Script {
    /// Hour 0.
    pub start: i64,
    /// (hour, order).
    pub orders: Vec<(usize, Order)>,
}

impl Strategy for Script {
    fn on_bar(&mut self, bar: &Bar, ctx: &mut Context<'_>) {
        let hour = ((bar.ts.0 - self.start) / HOUR) as usize;
        for (_, (side, qty, kind, tif)) in self.orders.iter().filter(|(h, _)| *h == hour) {
            ctx.submit_order(bar.symbol, *side, Qty::from(*qty), *kind, *tif);
        }
    }
}

/// Settings with nothing switched on.
pub fn settings() -> EngineSettings {
    EngineSettings {
        run_id: "t".into(),
        initial_cash: Decimal::from(100_000),
        equity: EquityMode::Session,
        risk: RiskLimits::default(),
        eod: None,
        exits: ExitSettings::default(),
        indexes: Vec::new(),
    }
}

/// Runs `scripts` (named s0, s1, ...) over `data`.
pub fn run(
    settings: EngineSettings,
    sim: SimSettings,
    scripts: Vec<Script>,
    data: Bars,
) -> Result<MemoryJournal, EngineError> {
    let strategies = scripts
        .into_iter()
        .map(|s| Box::new(s) as Box<dyn Strategy>)
        .collect();
    run_strategies(settings, sim, strategies, data)
}

/// Runs `strategies` (named s0, s1, ...) over `data`.
pub fn run_strategies(
    settings: EngineSettings,
    sim: SimSettings,
    strategies: Vec<Box<dyn Strategy>>,
    mut data: Bars,
) -> Result<MemoryJournal, EngineError> {
    let strategies = strategies
        .into_iter()
        .enumerate()
        .map(|(k, s)| (format!("s{k}"), s))
        .collect();
    let engine = Engine::new(
        settings,
        SimVenue::with_settings(sim),
        SimClock::default(),
        strategies,
        MemoryJournal::default(),
    );
    Ok(engine.run(&mut data, &mut |_| {})?.1)
}

/// Fills as (hours after `start`, strategy, qty, price, exit reason).
pub fn fills(j: &MemoryJournal, start: i64) -> Vec<(i64, u32, String, String, &'static str)> {
    j.fills
        .iter()
        .map(|f| {
            (
                (f.ts.0 - start) / HOUR,
                f.strategy.0,
                f.qty.to_string(),
                f.price.to_string(),
                f.exit_reason.map_or("", |r| r.as_str()),
            )
        })
        .collect()
}

/// A decimal from text.
pub fn d(s: &str) -> Decimal {
    s.parse().expect("decimal")
}
