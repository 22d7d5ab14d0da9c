//! A strategy asks the chain for "the ATM 0DTE call" and gets a contract, never building
//! an OCC string: GOOG on 2015-12-24 with a handful of contracts, checked by hand.

mod common;

use common::settings;
use lockstep_core::{
    Bar, BarSource, Calendar, OptionRight, Scale, SourceError, SymbolTable, UnixNanos,
};
use lockstep_engine::chain::{AtmRequest, ExpiryRule};
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
    let settings = EngineSettings {
        eod: Some(EodSettings {
            calendar: Calendar::Nyse,
            before_close: 5 * MINUTE,
            flatten: vec![false],
            flatten_expiring: true,
        }),
        ..settings()
    };
    let asker = Asker {
        at: vec![0, 20],
        right,
        expiry,
        picks: picks.clone(),
    };
    let engine = Engine::new(
        settings,
        SimVenue::default(),
        SimClock::default(),
        vec![("asker".into(), Box::new(asker))],
        MemoryJournal::default(),
    );
    let mut rows = rows;
    engine.run(&mut rows, &mut |_| {}).expect("runs");
    let out = picks.borrow().clone();
    out
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
