//! Account-level limits through the whole loop, one hand-computed case per rule: flat
//! hourly bars at 100.00, market orders filling at the next bar's open (100.00), a book of
//! 100,000. Every count of rejections below is worked out in the comments.

mod common;

use common::{bars, settings, Script};
use lockstep_core::{Decimal, OrderKind, RejectCode, Side, TimeInForce};
use lockstep_engine::{AccountLimits, MemoryJournal, RiskLimits, SimSettings};

/// Ten flat hours at 100.00.
fn flat() -> common::Bars {
    let rows: Vec<(usize, &str, &str, &str, &str, f64)> = (0..10)
        .map(|h| (h, "100.00", "100.00", "100.00", "100.00", 1e9))
        .collect();
    bars(0, &rows)
}

fn buy(q: i64) -> common::Order {
    (Side::Buy, q, OrderKind::Market, TimeInForce::Day)
}

fn sell(q: i64) -> common::Order {
    (Side::Sell, q, OrderKind::Market, TimeInForce::Day)
}

/// Runs one script per strategy under `account` limits.
fn run(account: AccountLimits, scripts: Vec<Vec<(usize, common::Order)>>) -> MemoryJournal {
    let risk = RiskLimits {
        account,
        ..RiskLimits::default()
    };
    let s = lockstep_engine::EngineSettings { risk, ..settings() };
    let scripts = scripts
        .into_iter()
        .map(|orders| Script { start: 0, orders })
        .collect();
    common::run(s, SimSettings::default(), scripts, flat()).expect("runs")
}

/// Rejections as (hour decided, strategy, code).
fn refused(j: &MemoryJournal) -> Vec<(i64, u32, RejectCode)> {
    j.rejections
        .iter()
        .map(|r| (r.ts.0 / common::HOUR - 1, r.strategy.0, r.code))
        .collect()
}

/// Fills as (hour of the bar they filled in, strategy, signed qty).
fn filled(j: &MemoryJournal) -> Vec<(i64, u32, String)> {
    common::fills(j, 0)
        .into_iter()
        .map(|(h, k, q, _, _)| (h, k, q))
        .collect()
}

#[test]
fn buying_power_refuses_what_a_cash_account_cannot_pay_for() {
    let j = run(
        AccountLimits {
            buying_power: Some(Decimal::ONE),
            ..AccountLimits::default()
        },
        vec![vec![
            (0, buy(600)),   // 60,000 of 100,000: approved
            (1, buy(300)),   // power 100,000 - 60,000 = 40,000: approved
            (2, buy(200)),   // power 10,000 < 20,000: buying_power
            (3, buy(100)),   // exactly 10,000: approved
            (4, buy(1)),     // power 0: buying_power
            (5, sell(1000)), // a close always passes
            (7, buy(600)),   // 60,000: approved
            (7, buy(500)),   // the first still works: power 40,000 < 50,000: buying_power
        ]],
    );
    let code = RejectCode::BuyingPower;
    assert_eq!(refused(&j), [(2, 0, code), (4, 0, code), (7, 0, code)]);
    assert!(
        j.rejections[0]
            .detail
            .contains("exceeds buying power 10000"),
        "{}",
        j.rejections[0].detail
    );
    let want: Vec<(i64, u32, String)> =
        [(1, "600"), (2, "300"), (4, "100"), (6, "1000"), (8, "600")]
            .into_iter()
            .map(|(h, q)| (h, 0, q.to_string()))
            .collect();
    assert_eq!(filled(&j), want);
}

#[test]
fn no_short_refuses_every_entry_that_would_go_short_and_never_a_close() {
    let j = run(
        AccountLimits {
            no_short: true,
            ..AccountLimits::default()
        },
        vec![vec![
            (0, sell(10)), // flat -> short: short_not_allowed
            (1, buy(10)),
            (2, sell(10)), // a close: passes
            (3, sell(20)), // flat -> short: short_not_allowed
            (4, buy(10)),
            (5, sell(20)), // 10 long -> 10 short: short_not_allowed
            (6, sell(10)), // a close: passes
        ]],
    );
    let code = RejectCode::ShortNotAllowed;
    assert_eq!(refused(&j), [(0, 0, code), (3, 0, code), (5, 0, code)]);
    assert_eq!(filled(&j).len(), 4);
}

#[test]
fn max_position_pct_caps_the_accounts_position_at_a_share_of_equity() {
    // 10 % of 100,000 at 100.00 is 100 shares, across strategies.
    let j = run(
        AccountLimits {
            max_position_pct: Some(Decimal::from(10)),
            ..AccountLimits::default()
        },
        vec![
            vec![
                (0, buy(100)), // 10,000: approved (equal to the cap)
                (1, buy(1)),   // 10,100: max_position_pct
                (3, buy(50)),  // 15,000: max_position_pct
            ],
            vec![(4, buy(50))], // the account would hold 150: max_position_pct
        ],
    );
    let code = RejectCode::MaxPositionPct;
    assert_eq!(refused(&j), [(1, 0, code), (3, 0, code), (4, 1, code)]);
    assert_eq!(filled(&j), [(1, 0, "100".to_string())]);
}

#[test]
fn max_total_exposure_counts_open_lots_and_working_entries() {
    let j = run(
        AccountLimits {
            max_total_exposure: Some(Decimal::from(25_000)),
            ..AccountLimits::default()
        },
        vec![vec![
            (0, buy(200)), // 20,000: approved
            (1, buy(60)),  // 26,000: max_total_exposure
            (1, buy(50)),  // 25,000: approved
            (2, buy(1)),   // 25,100: max_total_exposure
            (3, sell(250)),
            (4, buy(200)), // 20,000 working ...
            (4, buy(60)),  // ... + 6,000: max_total_exposure
        ]],
    );
    let code = RejectCode::MaxTotalExposure;
    assert_eq!(refused(&j), [(1, 0, code), (2, 0, code), (4, 0, code)]);
}

#[test]
fn max_positions_per_symbol_counts_each_strategys_holding_once() {
    let j = run(
        AccountLimits {
            max_positions_per_symbol: Some(2),
            ..AccountLimits::default()
        },
        vec![
            vec![(0, buy(10)), (1, buy(10))], // first position; adding to it passes
            vec![(0, buy(10)), (2, sell(10))], // second position; closed in hour 3's bar
            vec![(0, buy(10)), (2, buy(10)), (3, buy(10))],
            // hour 0: two held or working: refused; hour 2: s1's close still works:
            // refused; hour 3: s1 is flat: approved
        ],
    );
    let code = RejectCode::MaxPositionsPerSymbol;
    assert_eq!(refused(&j), [(0, 2, code), (2, 2, code)]);
    let s2: Vec<_> = filled(&j).into_iter().filter(|f| f.1 == 2).collect();
    assert_eq!(s2, [(4, 2, "10".to_string())]);
}

#[test]
fn reentry_cooldown_is_shared_by_every_strategy() {
    // s0's exit fills at hour 2's open; two hours of cooldown end at hour 4's open, which
    // is when hour 3's decision is made.
    let j = run(
        AccountLimits {
            reentry_cooldown_secs: Some(7200),
            ..AccountLimits::default()
        },
        vec![
            vec![(0, buy(10)), (1, sell(10)), (2, buy(10)), (3, buy(10))],
            vec![(2, buy(5))],
        ],
    );
    let code = RejectCode::ReentryCooldown;
    assert_eq!(refused(&j), [(2, 0, code), (2, 1, code)]);
    assert!(
        j.rejections[0].detail.contains("no re-entry until"),
        "{}",
        j.rejections[0].detail
    );
    assert_eq!(filled(&j).last(), Some(&(4, 0, "10".to_string())));
}
