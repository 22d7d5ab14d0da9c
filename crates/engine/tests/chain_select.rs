//! A strategy asks the chain for "the ATM 0DTE call" and gets a contract, never building
//! an OCC string: GOOG on 2015-12-24 with a handful of contracts, checked by hand, by ATM
//! and by delta.

mod common;

use common::settings;
use lockstep_core::{
    Bar, BarSource, Calendar, OptionRight, Quote, QuoteSide, Scale, SourceError, SymbolTable,
    UnixNanos,
};
use lockstep_engine::options::chain::{AtmRequest, DeltaRequest, ExpiryRule};
use lockstep_engine::{
    Context, Engine, EngineSettings, EodSettings, MemoryJournal, SimClock, SimVenue, Strategy,
};
use std::cell::RefCell;
use std::rc::Rc;

/// 2015-12-24 14:30 UTC, 09:30 in New York (an early-close Thursday).
const OPEN: i64 = 1_450_967_400_000_000_000;
const MINUTE: i64 = 60_000_000_000;

struct Rows(Vec<(&'static str, i64, &'static str)>, usize);

impl BarSource for Rows {
    fn next_bar(&mut self, symbols: &mut SymbolTable) -> Result<Option<Bar>, SourceError> {
        let Some(&(name, minute, close)) = self.0.get(self.1) else {
            return Ok(None);
        };
        self.1 += 1;
        let scale = Scale::new(2).expect("scale");
        let px = scale.parse(close).expect("price");
        let ts = OPEN + minute * MINUTE;
        Ok(Some(Bar {
            ts: UnixNanos(ts),
            end: UnixNanos(ts + MINUTE),
            symbol: symbols.intern(name),
            scale,
            open: px,
            high: px,
            low: px,
            close: px,
            volume: 10.0,
            quote: None,
        }))
    }
}

type Picks = Rc<RefCell<Vec<(i64, Option<String>)>>>;

/// Asks for one contract on the bars opening at the given minutes.
struct Asker {
    at: Vec<i64>,
    right: OptionRight,
    expiry: ExpiryRule,
    picks: Picks,
}

impl Strategy for Asker {
    fn on_bar(&mut self, bar: &Bar, ctx: &mut Context<'_>) {
        let minute = (bar.ts.0 - OPEN) / MINUTE;
        if ctx.symbol_name(bar.symbol) != "GOOG" || !self.at.contains(&minute) {
            return;
        }
        let req = AtmRequest {
            underlying: "GOOG",
            right: self.right,
            expiry: self.expiry,
            fresh_secs: 600,
        };
        let pick = ctx.select_atm(&req).map(|s| ctx.symbol_name(s).to_string());
        self.picks.borrow_mut().push((minute, pick));
    }
}

fn ask(right: OptionRight, expiry: ExpiryRule) -> Vec<(i64, Option<String>)> {
    let rows = Rows(
        vec![
            ("GOOG  151224C00745000", 0, "3.10"),
            ("GOOG  151224C00747500", 0, "1.90"),
            ("GOOG  151224C00750000", 0, "0.90"),
            ("GOOG  151224P00745000", 0, "0.80"),
            ("GOOG  151224P00747500", 0, "1.70"),
            ("GOOG  151231C00750000", 0, "4.20"),
            ("GOOG", 0, "747.30"),
            // Twenty minutes later only the 750 call still trades; GOOG is at 749.10.
            ("GOOG  151224C00750000", 20, "1.40"),
            ("GOOG", 20, "749.10"),
        ],
        0,
    );
    let picks: Picks = Rc::default();
    let asker = Asker {
        at: vec![0, 20],
        right,
        expiry,
        picks: picks.clone(),
    };
    run_one(rows, Box::new(asker));
    let out = picks.borrow().clone();
    out
}

/// Runs `strategy` alone over `rows` with the NYSE EOD guard (hold policy).
fn run_one(mut rows: impl BarSource, strategy: Box<dyn Strategy>) {
    let settings = EngineSettings {
        eod: Some(EodSettings {
            calendar: Calendar::Nyse,
            before_close: 5 * MINUTE,
            flatten: vec![false],
            flatten_expiring: true,
        }),
        ..settings()
    };
    let engine = Engine::new(
        settings,
        SimVenue::default(),
        SimClock::default(),
        vec![("asker".into(), strategy)],
        MemoryJournal::default(),
    );
    engine.run(&mut rows, &mut |_| {}).expect("runs");
}

#[test]
fn atm_0dte_rounds_calls_up_and_puts_down_among_fresh_contracts() {
    let some = |s: &str| Some(s.to_string());
    assert_eq!(
        ask(OptionRight::Call, ExpiryRule::ZeroDte),
        vec![
            // 747.30 rounds up to the 747.5 strike.
            (0, some("GOOG  151224C00747500")),
            // At 749.10 the 750 call is ATM, and it is the only fresh one anyway.
            (20, some("GOOG  151224C00750000")),
        ]
    );
    assert_eq!(
        ask(OptionRight::Put, ExpiryRule::ZeroDte),
        vec![(0, some("GOOG  151224P00745000")), (20, None),],
        "747.30 rounds down to 745; twenty minutes on no put has traded in ten minutes"
    );
    assert_eq!(
        ask(OptionRight::Call, ExpiryRule::NearestAtLeast(3)).first(),
        Some(&(0, some("GOOG  151231C00750000"))),
        "three days out: next week's contract"
    );
}

/// Quote bars at minute 0 (`(name, bid, ask)`; GOOG as a trade bar at `bid`), then a delta
/// request on GOOG's bar for each target.
fn ask_by_delta(targets: &[f64]) -> Vec<Option<String>> {
    struct Quotes(Vec<(&'static str, &'static str, &'static str)>, usize);
    impl BarSource for Quotes {
        fn next_bar(&mut self, symbols: &mut SymbolTable) -> Result<Option<Bar>, SourceError> {
            let Some(&(name, bid, ask)) = self.0.get(self.1) else {
                return Ok(None);
            };
            self.1 += 1;
            let scale = Scale::new(2).expect("scale");
            let (b, a) = (scale.parse(bid).unwrap(), scale.parse(ask).unwrap());
            let side = |p| QuoteSide {
                open: p,
                high: p,
                low: p,
                close: p,
            };
            let quote = (name != "GOOG").then_some(Quote {
                bid: Some(side(b)),
                ask: Some(side(a)),
            });
            let mark = (b + a) / 2;
            Ok(Some(Bar {
                ts: UnixNanos(OPEN),
                end: UnixNanos(OPEN + MINUTE),
                symbol: symbols.intern(name),
                scale,
                open: mark,
                high: mark,
                low: mark,
                close: mark,
                volume: 0.0,
                quote,
            }))
        }
    }
    struct ByDelta(Vec<f64>, Rc<RefCell<Vec<Option<String>>>>);
    impl Strategy for ByDelta {
        fn on_bar(&mut self, bar: &Bar, ctx: &mut Context<'_>) {
            if ctx.symbol_name(bar.symbol) != "GOOG" {
                return;
            }
            for &delta in &self.0 {
                let req = DeltaRequest {
                    chain: AtmRequest {
                        underlying: "GOOG",
                        right: OptionRight::Call,
                        expiry: ExpiryRule::ZeroDte,
                        fresh_secs: 600,
                    },
                    delta,
                    rate: 0.0,
                };
                let pick = ctx.select_by_delta(&req);
                let name = pick.map(|s| ctx.symbol_name(s).to_string());
                self.1.borrow_mut().push(name);
            }
        }
    }
    let rows = Quotes(
        vec![
            ("GOOG  151224C00745000", "3.00", "3.20"),
            ("GOOG  151224C00747500", "1.80", "2.00"),
            ("GOOG  151224C00750000", "0.80", "1.00"),
            ("GOOG  151224C00752500", "0.30", "0.40"),
            ("GOOG", "747.30", "747.30"),
        ],
        0,
    );
    let picks = Rc::new(RefCell::new(Vec::new()));
    run_one(rows, Box::new(ByDelta(targets.to_vec(), picks.clone())));
    let out = picks.borrow().clone();
    out
}

#[test]
fn delta_selection_implies_volatility_from_each_mid() {
    // GOOG 747.30 at 09:31 ET on 2015-12-24; the contracts expire at the 13:00 early close,
    // 12,540 s away. Implied vol and delta per strike, computed independently (Python,
    // math.erf, bisection): 745: 0.288 / 0.7053; 747.5: 0.336 / 0.4854; 750: 0.329 / 0.2926;
    // 752.5: 0.324 / 0.1422.
    let some = |s: &str| Some(s.to_string());
    assert_eq!(
        ask_by_delta(&[0.30, 0.50, 0.15, 0.75]),
        vec![
            some("GOOG  151224C00750000"),
            some("GOOG  151224C00747500"),
            some("GOOG  151224C00752500"),
            some("GOOG  151224C00745000"),
        ]
    );
}
