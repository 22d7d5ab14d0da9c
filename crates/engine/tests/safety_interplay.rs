//! How exits, the EOD guard, risk and working orders interact, through the whole loop:
//! each case is a way a position could escape its close, or be closed twice.

mod common;

use common::{bars, d, fills, run, settings, Script, NYSE_FRIDAY_OPEN};
use lockstep_core::{Calendar, ExitReason, OrderKind, OrderStatus, RejectCode, Side, TimeInForce};
use lockstep_engine::{
    EngineSettings, EodSettings, ExitRules, ExitSettings, FaultSettings, SimSettings,
};

const MKT: OrderKind = OrderKind::Market;
const DAY: TimeInForce = TimeInForce::Day;
const GTC: TimeInForce = TimeInForce::Gtc;

fn limit(p: &str) -> OrderKind {
    OrderKind::Limit { limit: d(p) }
}

/// NYSE Friday 2024-03-01, hourly bars 09:30..15:30 New York (the last ends 15:30); the
/// guard runs at 15:55 (no bar left: closes fill at the last price) and the close at 16:00.
fn friday() -> common::Bars {
    let row = |h| (h, "10.00", "10.20", "9.90", "10.10", 1e6);
    bars(
        NYSE_FRIDAY_OPEN,
        &[row(0), row(1), row(2), row(3), row(4), row(5)],
    )
}

fn with_eod(flatten: Vec<bool>) -> EngineSettings {
    EngineSettings {
        eod: Some(EodSettings {
            calendar: Calendar::Nyse,
            before_close: 5 * 60 * 1_000_000_000,
            flatten,
            flatten_expiring: true,
        }),
        ..settings()
    }
}

fn script(orders: Vec<(usize, common::Order)>) -> Script {
    Script {
        start: NYSE_FRIDAY_OPEN,
        orders,
    }
}

#[test]
fn opposite_positions_of_two_strategies_are_both_flattened() {
    // s0 long 10 and s1 short 10: the book is flat, yet each close is an exit of its own
    // strategy and must not be refused as an entry after the guard.
    let j = run(
        with_eod(vec![true, true]),
        SimSettings::default(),
        vec![
            script(vec![(0, (Side::Buy, 10, MKT, DAY))]),
            script(vec![(0, (Side::Sell, 10, MKT, DAY))]),
        ],
        friday(),
    )
    .expect("no position is left across the close");
    let eod: Vec<_> = j
        .fills
        .iter()
        .filter(|f| f.exit_reason == Some(ExitReason::Eod))
        .map(|f| (f.strategy.0, f.side, f.stale_price))
        .collect();
    assert_eq!(eod, vec![(0, Side::Sell, true), (1, Side::Buy, true)]);
    assert!(j.rejections.is_empty(), "{:?}", j.rejections);
}

#[test]
fn the_guard_withdraws_a_flatten_strategys_exit_orders_and_keeps_a_holders_gtc_entry() {
    let j = run(
        with_eod(vec![true, false]),
        SimSettings::default(),
        vec![
            script(vec![
                (0, (Side::Buy, 10, MKT, DAY)),
                (1, (Side::Sell, 10, limit("99.00"), GTC)),
            ]),
            script(vec![(0, (Side::Buy, 5, limit("1.00"), GTC))]),
        ],
        friday(),
    )
    .expect("runs");
    let status: Vec<_> = j
        .orders
        .iter()
        .map(|o| (o.strategy.0, o.kind.as_str(), o.status()))
        .collect();
    assert_eq!(
        status,
        vec![
            (0, "market", OrderStatus::Filled),
            (0, "limit", OrderStatus::Cancelled),
            (0, "market", OrderStatus::Filled),
            (1, "limit", OrderStatus::Expired),
        ],
        "s0's working limit exit is withdrawn at 15:55 and its position closed (eod); \
         s1 holds overnight, so its gtc entry survives the guard (expired only by the end \
         of the data)"
    );
    assert_eq!(
        j.fills.last().and_then(|f| f.exit_reason),
        Some(ExitReason::Eod)
    );
}

fn hard_stop(pct: i64) -> EngineSettings {
    EngineSettings {
        exits: ExitSettings {
            rules: vec![ExitRules {
                hard_stop_pct: Some(lockstep_core::Decimal::new(pct, 2)),
                ..ExitRules::default()
            }],
            ..ExitSettings::default()
        },
        ..settings()
    }
}

#[test]
fn a_stop_closes_the_filled_position_and_withdraws_working_adds() {
    let data = bars(
        0,
        &[
            (0, "10.00", "10.00", "10.00", "10.00", 1e6),
            (1, "10.00", "10.10", "9.90", "10.00", 1e6),
            (2, "9.80", "9.90", "9.40", "9.60", 1e6),
            (3, "9.60", "9.70", "9.50", "9.60", 1e6),
        ],
    );
    let orders = vec![
        (0, (Side::Buy, 100, MKT, DAY)),
        (1, (Side::Buy, 100, limit("5.00"), GTC)),
    ];
    let j = run(
        hard_stop(5),
        SimSettings::default(),
        vec![Script { start: 0, orders }],
        data,
    )
    .expect("runs");
    assert_eq!(
        fills(&j, 0),
        vec![
            (1, 0, "100".into(), "10.00".into(), ""),
            (3, 0, "100".into(), "9.50".into(), "hard_stop"),
        ],
        "the stop sells the 100 held, not the 100 more a working buy might add"
    );
    assert_eq!(j.orders[0].status(), OrderStatus::Filled);
    assert_eq!(
        j.orders[1].status(),
        OrderStatus::Cancelled,
        "the add is withdrawn"
    );
    assert_eq!(j.orders[2].kind, OrderKind::Stop { stop: d("9.50") });
}

#[test]
fn an_entry_filled_inside_a_bar_is_not_judged_on_that_bars_earlier_prices() {
    let data = bars(
        0,
        &[
            (0, "100.00", "100.00", "100.00", "100.00", 1e6),
            (1, "104.00", "104.50", "99.50", "101.00", 1e6),
            (2, "101.00", "102.00", "100.50", "101.50", 1e6),
        ],
    );
    let settings = EngineSettings {
        exits: ExitSettings {
            rules: vec![ExitRules {
                take_profit_pct: Some(lockstep_core::Decimal::new(3, 2)),
                ..ExitRules::default()
            }],
            ..ExitSettings::default()
        },
        ..settings()
    };
    let orders = vec![(0, (Side::Buy, 100, limit("100.00"), DAY))];
    let j = run(
        settings,
        SimSettings::default(),
        vec![Script { start: 0, orders }],
        data,
    )
    .expect("runs");
    // Bar 1 opened at 104, above the 103.00 target, before the buy at 100 happened inside
    // the bar: that open must not count as a gap through the target.
    assert_eq!(
        fills(&j, 0),
        vec![(2, 0, "100".into(), "100.00".into(), "")]
    );
}

#[test]
fn a_stop_the_venue_refused_is_asked_again_at_market() {
    let data = bars(
        0,
        &[
            (0, "10.00", "10.00", "10.00", "10.00", 1e6),
            (1, "10.00", "10.10", "9.90", "10.00", 1e6),
            (2, "9.80", "9.90", "9.40", "9.80", 1e6),
            (3, "9.80", "9.85", "9.70", "9.80", 1e6),
            (4, "9.90", "9.95", "9.85", "9.90", 1e6),
        ],
    );
    let sim = SimSettings {
        faults: FaultSettings {
            reject_every: Some(2),
            ..FaultSettings::default()
        },
        ..SimSettings::default()
    };
    let orders = vec![(0, (Side::Buy, 100, MKT, DAY))];
    let j = run(hard_stop(5), sim, vec![Script { start: 0, orders }], data).expect("runs");
    assert_eq!(
        j.rejections.iter().map(|r| r.code).collect::<Vec<_>>(),
        vec![RejectCode::VenueRejected],
        "the stop at 9.50 (bar 2) is refused"
    );
    assert_eq!(
        fills(&j, 0),
        vec![
            (1, 0, "100".into(), "10.00".into(), ""),
            // Bar 3 never reaches 9.50 again; the refused stop goes out at market on it and
            // fills at bar 4's open.
            (4, 0, "100".into(), "9.90".into(), "hard_stop"),
        ]
    );
}
