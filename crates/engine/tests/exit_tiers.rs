//! The exits the seed platforms need, through the whole loop on hand-made hourly bars:
//! tiered partial take profits (each slice its own allocation and reason, the rest on the
//! trail) and a trailing stop that, once active, holds the strategy's signal exits.

mod common;

use common::{bars, d, fills, settings, Script};
use lockstep_core::{OrderKind, RejectCode, Side, TimeInForce};
use lockstep_engine::{
    ExitRules, ExitSettings, MemoryJournal, PartialTier, SimSettings, TrailDistance, Trailing,
};

fn run(rules: ExitRules, orders: Vec<(usize, common::Order)>, data: common::Bars) -> MemoryJournal {
    let s = lockstep_engine::EngineSettings {
        exits: ExitSettings {
            rules: vec![rules],
            ..ExitSettings::default()
        },
        ..settings()
    };
    common::run(
        s,
        SimSettings::default(),
        vec![Script { start: 0, orders }],
        data,
    )
    .expect("runs")
}

fn market(side: Side, q: i64) -> common::Order {
    (side, q, OrderKind::Market, TimeInForce::Gtc)
}

/// A 2 % trail that starts once the best price is 5 % (or `activation`) above the entry.
fn trail(activation: &str) -> Option<Trailing> {
    Some(Trailing {
        distance: TrailDistance::Pct(d("0.02")),
        activation_pct: d(activation),
        step_pct: d("0"),
        step_atr: d("0"),
        min_pct: None,
        max_pct: None,
    })
}

/// (hour, qty, price, reason) of every fill. A market order fills at its bar's open (the
/// hour it opens); an exit inside a bar is known, and stamped, at that bar's close.
fn hqpr(j: &MemoryJournal) -> Vec<(i64, String, String, &'static str)> {
    fills(j, 0)
        .into_iter()
        .map(|(h, _, q, p, r)| (h, q, p, r))
        .collect()
}

#[test]
fn half_at_plus_five_percent_then_the_rest_on_the_trail() {
    // Bought 100 at bar 1's open, 100.00. Bar 2 trades through 105.00 (+5 %): 50 sold
    // there as a resting limit would. Its high 106 activates the trail: 106 x 0.98 =
    // 103.88. Bar 3 stays above it and makes 107: trail 104.86. Bar 4 falls through it.
    let data = bars(
        0,
        &[
            (0, "100.00", "100.00", "100.00", "100.00", 1e6),
            (1, "100.00", "101.00", "99.00", "100.00", 1e6),
            (2, "100.00", "106.00", "100.00", "105.00", 1e6),
            (3, "105.00", "107.00", "104.00", "106.00", 1e6),
            (4, "105.00", "105.00", "103.00", "103.50", 1e6),
            (5, "103.50", "103.50", "103.50", "103.50", 1e6),
        ],
    );
    let rules = ExitRules {
        partials: vec![PartialTier {
            gain_pct: d("0.05"),
            fraction: d("0.5"),
        }],
        trailing: trail("0.05"),
        ..ExitRules::default()
    };
    let j = run(rules, vec![(0, market(Side::Buy, 100))], data);
    assert_eq!(
        hqpr(&j),
        [
            (1, "100".into(), "100.00".into(), ""),
            (3, "50".into(), "105.00".into(), "partial_take_profit"),
            (5, "50".into(), "104.86".into(), "trailing"),
        ]
    );
    let lots: Vec<(String, String, &str)> = j
        .allocations
        .iter()
        .map(|a| {
            (
                a.qty.to_string(),
                a.net_pnl.to_string(),
                a.exit_reason.as_str(),
            )
        })
        .collect();
    assert_eq!(
        lots,
        [
            ("50".into(), "250.00".into(), "partial_take_profit"),
            ("50".into(), "243.00".into(), "trailing"),
        ]
    );
}

#[test]
fn two_tiers_take_their_slices_once_each_and_a_gap_fills_at_the_open() {
    // 10 bought at 100.00. Bar 2 opens at 111.00, beyond both +5 % (105.00) and +10 %
    // (110.00): the first tier fills at the open (taker), 4 of 10 (0.4, rounded down to
    // whole shares). The second tier waits for the next bar: bar 3 trades through 110.00,
    // 3 more. Nothing else closes the last 3; a later rise takes no third slice.
    let data = bars(
        0,
        &[
            (0, "100.00", "100.00", "100.00", "100.00", 1e6),
            (1, "100.00", "100.00", "100.00", "100.00", 1e6),
            (2, "111.00", "111.00", "109.00", "109.00", 1e6),
            (3, "109.00", "111.00", "109.00", "111.00", 1e6),
            (4, "111.00", "130.00", "111.00", "130.00", 1e6),
        ],
    );
    let tier = |g: &str, f: &str| PartialTier {
        gain_pct: d(g),
        fraction: d(f),
    };
    let rules = ExitRules {
        partials: vec![tier("0.05", "0.45"), tier("0.10", "0.3")],
        ..ExitRules::default()
    };
    let j = run(rules, vec![(0, market(Side::Buy, 10))], data);
    assert_eq!(
        hqpr(&j),
        [
            (1, "10".into(), "100.00".into(), ""),
            (3, "4".into(), "111.00".into(), "partial_take_profit"),
            (4, "3".into(), "110.00".into(), "partial_take_profit"),
        ]
    );
    let liquidity: Vec<&str> = j.fills.iter().map(|f| f.liquidity.as_str()).collect();
    assert_eq!(liquidity, ["taker", "taker", "maker"]);
}

#[test]
fn an_active_trail_holds_the_signal_exit_and_decides_itself() {
    // Bought 100 at 100.00. Bar 1 reaches 104 (+3 % activates): trail 101.92. The
    // strategy's sell on bar 2 is held (exit_held_trailing); bar 3 falls to 101: the
    // trail closes at 101.92. Without the flag the signal exit goes out and fills at bar
    // 3's open.
    let data = || {
        bars(
            0,
            &[
                (0, "100.00", "100.00", "100.00", "100.00", 1e6),
                (1, "100.00", "104.00", "100.00", "103.00", 1e6),
                (2, "103.00", "103.50", "102.50", "103.00", 1e6),
                (3, "102.80", "102.80", "101.00", "101.00", 1e6),
                (4, "101.00", "101.00", "101.00", "101.00", 1e6),
            ],
        )
    };
    let orders = || vec![(0, market(Side::Buy, 100)), (2, market(Side::Sell, 100))];
    let rules = |suppress| ExitRules {
        trailing: trail("0.03"),
        trailing_suppresses_signal: suppress,
        ..ExitRules::default()
    };
    let held = run(rules(true), orders(), data());
    assert_eq!(
        held.rejections.iter().map(|r| r.code).collect::<Vec<_>>(),
        [RejectCode::ExitHeldTrailing]
    );
    assert!(
        held.rejections[0]
            .detail
            .contains("trailing stop at 101.92"),
        "{}",
        held.rejections[0].detail
    );
    assert_eq!(
        hqpr(&held),
        [
            (1, "100".into(), "100.00".into(), ""),
            (4, "100".into(), "101.92".into(), "trailing"),
        ]
    );
    let free = run(rules(false), orders(), data());
    assert!(free.rejections.is_empty());
    assert_eq!(
        hqpr(&free),
        [
            (1, "100".into(), "100.00".into(), ""),
            (3, "100".into(), "102.80".into(), "signal"),
        ]
    );
}
