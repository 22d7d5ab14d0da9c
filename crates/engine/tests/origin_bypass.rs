//! Only the engine's own exit machinery skips the entry checks: a strategy that labels an
//! opening order with a managed exit reason is judged like any entry.

mod common;

use common::{bars, fills, settings, HOUR};
use lockstep_core::{Bar, ExitReason, Qty, RejectCode, Side};
use lockstep_engine::{
    Context, Engine, EngineSettings, ExitRules, ExitSettings, MemoryJournal, RiskLimits, SimClock,
    SimSettings, SimVenue, Strategy,
};

/// Buys `qty` on the bars opening at the listed hours, labelling each order with `reason`.
struct Labelled {
    hours: Vec<i64>,
    reason: Option<ExitReason>,
}

impl Strategy for Labelled {
    fn on_bar(&mut self, bar: &Bar, ctx: &mut Context<'_>) {
        if self.hours.contains(&(bar.ts.0 / HOUR)) {
            ctx.submit(bar.symbol, Side::Buy, Qty::from(100), self.reason);
        }
    }
}

fn run(settings: EngineSettings, strategy: Labelled) -> MemoryJournal {
    let data = bars(
        0,
        &[
            (0, "10.00", "10.00", "10.00", "10.00", 1e6),
            (1, "10.00", "10.10", "9.90", "10.00", 1e6),
            (2, "10.00", "10.10", "9.95", "10.00", 1e6),
            (3, "9.80", "9.90", "9.40", "9.60", 1e6),
            (4, "9.60", "9.70", "9.50", "9.60", 1e6),
        ],
    );
    let engine = Engine::new(
        settings,
        SimVenue::with_settings(SimSettings::default()),
        SimClock::default(),
        vec![("s0".into(), Box::new(strategy) as Box<dyn Strategy>)],
        MemoryJournal::default(),
    );
    let mut data = data;
    engine.run(&mut data, &mut |_| {}).expect("runs").1
}

fn codes(j: &MemoryJournal) -> Vec<RejectCode> {
    j.rejections.iter().map(|r| r.code).collect()
}

#[test]
fn an_opening_order_labelled_hard_stop_is_refused_by_the_kill_switch() {
    for reason in [
        Some(ExitReason::HardStop),
        Some(ExitReason::Eod),
        Some(ExitReason::Risk),
        None,
    ] {
        let s = EngineSettings {
            risk: RiskLimits {
                kill_switch: true,
                ..RiskLimits::default()
            },
            ..settings()
        };
        let j = run(
            s,
            Labelled {
                hours: vec![0],
                reason,
            },
        );
        assert_eq!(codes(&j), vec![RejectCode::KillSwitch], "label {reason:?}");
        assert!(j.fills.is_empty(), "label {reason:?}: nothing may fill");
        assert!(j.submitted.is_empty());
    }
}

#[test]
fn the_exit_managers_stop_still_passes_when_entries_are_blocked() {
    let blocked = || EngineSettings {
        risk: RiskLimits {
            max_daily_trades: Some(1),
            ..RiskLimits::default()
        },
        exits: ExitSettings {
            rules: vec![ExitRules {
                hard_stop_pct: Some(lockstep_core::Decimal::new(5, 2)),
                ..ExitRules::default()
            }],
            ..ExitSettings::default()
        },
        ..settings()
    };
    // One entry, then a buy that would double the position, unlabelled or labelled as an
    // exit: either way it is an entry and the daily limit refuses it.
    for reason in [None, Some(ExitReason::HardStop)] {
        let j = run(
            blocked(),
            Labelled {
                hours: vec![0, 1],
                reason,
            },
        );
        assert_eq!(
            codes(&j),
            vec![RejectCode::MaxDailyTrades],
            "label {reason:?}"
        );
        assert_eq!(
            fills(&j, 0),
            vec![
                (1, 0, "100".into(), "10.00".into(), ""),
                (4, 0, "100".into(), "9.50".into(), "hard_stop"),
            ],
            "the engine's own stop closes the position although entries are blocked"
        );
        let exits: Vec<_> = j.orders.iter().filter(|o| o.is_engine_exit()).collect();
        assert_eq!(
            exits.len(),
            1,
            "only the exit manager's order is an engine exit"
        );
        assert_eq!(exits[0].exit_reason, Some(ExitReason::HardStop));
    }
}
