//! `dual_engine`: seed 002's webhook-driven options platform as one strategy instance per
//! engine. Every signal on the underlying is assigned to engine A or B ([`ab::assign`]);
//! the instance whose `engine` it is trades it (`role = "real"`). A run with
//! `run.shadow = true` also replays every instance with `role = "shadow"` in a second,
//! simulated book: there each engine trades the signals the *other* engine was assigned,
//! so both engines' decisions on every signal are priced at the same prices, and only the
//! real book ever reaches a venue.
//!
//! Engine A ([`engine_a`]) is tiered rules: block, wait (judged again on the next bars
//! until `wait_max_secs`), enter in the signal's direction. Engine B ([`engine_b`]) is a
//! weighted meta decision of trend, momentum and signal scorers. An entry buys `contracts`
//! of the at-the-money call (long) or put (short) of the first Friday expiry at least
//! `expiry_min_days` ahead, at market. Exits are the exit manager's (`[exits]`: target,
//! stop, `max_hold_secs`, `min_dte`).

pub mod ab;
pub mod engine_a;
pub mod engine_b;

use ab::Engine;
use chrono::NaiveTime;
use lockstep_core::{dec_serde, Bar, Decimal, Direction, OptionRight, Qty, Side, Signal, SymbolId};
use lockstep_engine::options::chain::{AtmRequest, ExpiryRule};
use lockstep_engine::{Context, Strategy};
use serde::Deserialize;
use std::collections::VecDeque;

/// Whether an instance trades its own engine's signals or shadows the other's.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Trades the signals assigned to its engine (the real book).
    #[default]
    Real,
    /// Trades the signals assigned to the other engine (the shadow book).
    Shadow,
}

/// What an entry buys.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Trade {
    /// The ATM call (long) or put (short) of the configured expiry (seed 002).
    #[default]
    Option,
    /// The underlying itself: `contracts` shares long on a long decision; a short decision
    /// sells a long position to flat (for feeds without option data).
    Underlying,
}

/// Parameters (`[[strategies]]` entry).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DualEngineParams {
    /// Which engine this instance is: `a` or `b`. Required.
    pub engine: Engine,
    /// Fraction of signals assigned to engine A (0-1). Default 0.5.
    #[serde(default = "half")]
    pub split_to_a: f64,
    /// `real` (default) or `shadow` (set by the shadow run).
    #[serde(default)]
    pub role: Role,
    /// The underlying whose signals and bars it follows. Required.
    pub underlying: String,
    /// `option` (default) or `underlying`.
    #[serde(default)]
    pub trade: Trade,
    /// Contracts (or shares) per entry. Default 1.
    #[serde(default = "one", deserialize_with = "dec_serde::decimal")]
    pub contracts: Qty,
    /// The expiry: first Friday at least this many days ahead. Default 5.
    #[serde(default = "five")]
    pub expiry_min_days: u32,
    /// A contract is in the chain while its last bar ended this recently. Default 600 s.
    #[serde(default = "fresh")]
    pub fresh_secs: i64,
    /// Engine A: signals wait before this New York time. Default 09:45.
    #[serde(default = "start")]
    pub start: String,
    /// Engine A: signals are blocked from this New York time. Default 15:30.
    #[serde(default = "stop")]
    pub stop: String,
    /// Engine A: largest distance of a signal's price from the last close. Default 0.005.
    #[serde(default = "drift", deserialize_with = "dec_serde::decimal")]
    pub max_price_drift_pct: Decimal,
    /// Engine A: a wider last bar (range / close) makes a signal wait. Default 0.003.
    #[serde(default = "range", deserialize_with = "dec_serde::decimal")]
    pub max_bar_range_pct: Decimal,
    /// Engine A: how long a waiting signal is judged again before it is dropped. Default 1800 s.
    #[serde(default = "wait")]
    pub wait_max_secs: i64,
    /// Engine B: closes in the trend average. Default 20.
    #[serde(default = "twenty")]
    pub trend_bars: usize,
    /// Engine B: bars back of the momentum return. Default 5.
    #[serde(default = "five_bars")]
    pub momentum_bars: usize,
    /// Engine B: close-to-average distance scoring 100. Default 0.002.
    #[serde(default = "full", deserialize_with = "dec_serde::decimal")]
    pub trend_full_pct: Decimal,
    /// Engine B: return scoring 100. Default 0.002.
    #[serde(default = "full", deserialize_with = "dec_serde::decimal")]
    pub momentum_full_pct: Decimal,
    /// Engine B: winning weighted score that approves. Default 50.
    #[serde(default = "fifty", deserialize_with = "dec_serde::decimal")]
    pub approve_score: Decimal,
    /// Engine B: the signal scorer's score without a `confidence` field. Default 60.
    #[serde(default = "sixty", deserialize_with = "dec_serde::decimal")]
    pub default_confidence: Decimal,
}

fn half() -> f64 {
    0.5
}
fn one() -> Qty {
    Qty::ONE
}
fn five() -> u32 {
    5
}
fn five_bars() -> usize {
    5
}
fn twenty() -> usize {
    20
}
fn fresh() -> i64 {
    600
}
fn start() -> String {
    "09:45".into()
}
fn stop() -> String {
    "15:30".into()
}
fn drift() -> Decimal {
    Decimal::new(5, 3)
}
fn range() -> Decimal {
    Decimal::new(3, 3)
}
fn wait() -> i64 {
    1800
}
fn full() -> Decimal {
    Decimal::new(2, 3)
}
fn fifty() -> Decimal {
    Decimal::from(50)
}
fn sixty() -> Decimal {
    Decimal::from(60)
}

/// The strategy.
#[derive(Debug, Clone)]
pub struct DualEngine {
    p: DualEngineParams,
    tiers: engine_a::TierRules,
    scorers: engine_b::ScorerRules,
    closes: VecDeque<Decimal>,
    last_range: Option<Decimal>,
    /// The underlying's id, once a bar of it was seen.
    underlying: Option<SymbolId>,
    /// Engine A's waiting signals with their deadlines.
    waiting: Vec<(Signal, lockstep_core::UnixNanos)>,
}

fn hh_mm(key: &str, t: &str) -> Result<NaiveTime, String> {
    NaiveTime::parse_from_str(t, "%H:%M").map_err(|_| format!("{key}: `{t}` is not HH:MM"))
}

impl DualEngine {
    /// Validates the parameters.
    pub fn new(p: DualEngineParams) -> Result<Self, String> {
        if !(0.0..=1.0).contains(&p.split_to_a) {
            return Err(format!(
                "split_to_a must be in [0, 1], got {}",
                p.split_to_a
            ));
        }
        if p.contracts <= Qty::ZERO {
            return Err(format!("contracts must be positive, got {}", p.contracts));
        }
        if p.trend_bars == 0 || p.momentum_bars == 0 {
            return Err("trend_bars and momentum_bars must be at least 1".into());
        }
        let tiers = engine_a::TierRules {
            start: hh_mm("start", &p.start)?,
            stop: hh_mm("stop", &p.stop)?,
            max_price_drift_pct: p.max_price_drift_pct,
            max_bar_range_pct: p.max_bar_range_pct,
        };
        let scorers = engine_b::ScorerRules {
            trend_bars: p.trend_bars,
            momentum_bars: p.momentum_bars,
            trend_full_pct: p.trend_full_pct,
            momentum_full_pct: p.momentum_full_pct,
            approve_score: p.approve_score,
            default_confidence: p.default_confidence,
        };
        Ok(DualEngine {
            p,
            tiers,
            scorers,
            closes: VecDeque::new(),
            last_range: None,
            underlying: None,
            waiting: Vec::new(),
        })
    }

    /// Whether this instance trades `signal`: its engine's signals in the real book, the
    /// other engine's in the shadow book.
    fn acts_on(&self, signal: &Signal) -> bool {
        let tf = signal.timeframe.as_deref().unwrap_or("");
        let id = signal.id.as_deref().unwrap_or("");
        let assigned = ab::assign(&signal.symbol, tf, id, self.p.split_to_a);
        (assigned == self.p.engine) == (self.p.role == Role::Real)
    }

    fn view(&self, ctx: &Context<'_>) -> engine_a::View {
        engine_a::View {
            local: ctx
                .now()
                .to_datetime()
                .with_timezone(&chrono_tz::America::New_York)
                .time(),
            last_close: self.closes.back().copied(),
            last_range_pct: self.last_range,
        }
    }

    /// Buys the ATM call (long) or put (short) of the configured expiry, if listed; with
    /// `trade = "underlying"`, goes long the underlying or sells it to flat.
    fn enter(&self, dir: Direction, ctx: &mut Context<'_>) {
        if self.p.trade == Trade::Underlying {
            if let Some(under) = self.underlying {
                match dir {
                    Direction::Long => ctx.target_position(under, self.p.contracts, None),
                    Direction::Short => ctx.target_position(
                        under,
                        Qty::ZERO,
                        Some(lockstep_core::ExitReason::Signal),
                    ),
                }
            }
            return;
        }
        let right = match dir {
            Direction::Long => OptionRight::Call,
            Direction::Short => OptionRight::Put,
        };
        let req = AtmRequest {
            underlying: &self.p.underlying,
            right,
            expiry: ExpiryRule::FridayAtLeast(self.p.expiry_min_days),
            fresh_secs: self.p.fresh_secs,
        };
        if let Some(contract) = ctx.select_atm(&req) {
            ctx.submit(contract, Side::Buy, self.p.contracts, None);
        }
    }

    /// Engine A's tiers on `signal` now: enter, keep waiting (until `deadline`), or drop.
    fn judge_a(
        &mut self,
        signal: Signal,
        deadline: lockstep_core::UnixNanos,
        ctx: &mut Context<'_>,
    ) {
        match engine_a::decide(&self.tiers, &self.view(ctx), &signal) {
            engine_a::Verdict::Enter(dir) => self.enter(dir, ctx),
            engine_a::Verdict::Wait(_) if ctx.now() < deadline => {
                self.waiting.push((signal, deadline))
            }
            engine_a::Verdict::Wait(_) | engine_a::Verdict::Block(_) => {}
        }
    }
}

impl Strategy for DualEngine {
    fn on_bar(&mut self, bar: &Bar, ctx: &mut Context<'_>) {
        if ctx.symbol_name(bar.symbol) != self.p.underlying {
            return;
        }
        self.underlying = Some(bar.symbol);
        let close = bar.close_price();
        self.closes.push_back(close);
        let keep = self.p.trend_bars.max(self.p.momentum_bars + 1);
        while self.closes.len() > keep {
            self.closes.pop_front();
        }
        self.last_range =
            (close > Decimal::ZERO).then(|| (bar.high_price() - bar.low_price()) / close);
        for (signal, deadline) in std::mem::take(&mut self.waiting) {
            self.judge_a(signal, deadline, ctx);
        }
    }

    fn on_signal(&mut self, signal: &Signal, _symbol: SymbolId, ctx: &mut Context<'_>) {
        if signal.symbol != self.p.underlying || !self.acts_on(signal) {
            return;
        }
        match self.p.engine {
            Engine::A => {
                let deadline = ctx
                    .now()
                    .plus(self.p.wait_max_secs.saturating_mul(1_000_000_000));
                self.judge_a(signal.clone(), deadline, ctx);
            }
            Engine::B => {
                let closes: Vec<Decimal> = self.closes.iter().copied().collect();
                let scores = engine_b::scores(&self.scorers, &closes, signal);
                if let Ok((dir, _)) = engine_b::meta(&self.scorers, &scores) {
                    self.enter(dir, ctx);
                }
            }
        }
    }
}
