//! Order types, time in force, participation and the venue breaker, run through the whole
//! loop with a scripted strategy and checked against hand-computed fills.

mod common;

use common::{bars, d, fills, settings, Script};
use lockstep_core::{Bar, Fill, OrderKind, OrderStatus, Qty, RejectCode, Side, TimeInForce};
use lockstep_engine::{
    Context, FaultSettings, FillModel, MemoryJournal, RiskLimits, SimSettings, Strategy,
    VenueBreaker,
};

fn run(
    sim: SimSettings,
    risk: RiskLimits,
    orders: Vec<(usize, common::Order)>,
    data: common::Bars,
) -> MemoryJournal {
    let settings = lockstep_engine::EngineSettings { risk, ..settings() };
    common::run(settings, sim, vec![Script { start: 0, orders }], data).expect("runs")
}

/// (hour, qty, price) of every fill.
fn hqp(j: &MemoryJournal) -> Vec<(i64, String, String)> {
    fills(j, 0)
        .into_iter()
        .map(|(h, _, q, p, _)| (h, q, p))
        .collect()
}

fn limit(s: &str) -> OrderKind {
    OrderKind::Limit { limit: d(s) }
}

#[test]
fn limit_and_stop_orders_fill_through_the_level_or_at_a_gapped_open() {
    let data = bars(
        0,
        &[
            (0, "10.00", "10.00", "10.00", "10.00", 1e6),
            (1, "10.00", "10.20", "9.70", "9.90", 1e6),
            (2, "9.50", "9.60", "9.40", "9.50", 1e6),
            (3, "9.50", "10.60", "9.50", "10.50", 1e6),
        ],
    );
    let day = TimeInForce::Day;
    let script = vec![
        (0, (Side::Buy, 10, limit("9.80"), day)),
        (0, (Side::Buy, 10, limit("9.70"), day)),
        (1, (Side::Buy, 10, limit("9.60"), day)),
        (
            2,
            (Side::Buy, 10, OrderKind::Stop { stop: d("10.40") }, day),
        ),
    ];
    let j = run(SimSettings::default(), RiskLimits::default(), script, data);
    assert_eq!(
        hqp(&j),
        vec![
            // Bar 1 trades through 9.80 (low 9.70): filled at the limit, stamped when the
            // bar is delivered (hour 2), since the moment inside the bar is unknown.
            (2, "10".into(), "9.80".into()),
            // Bar 2 opens at 9.50, below both remaining limits: filled at the open (hour
            // 2). The 9.70 limit only touched on bar 1, which is not a trade through.
            (2, "10".into(), "9.50".into()),
            (2, "10".into(), "9.50".into()),
            // The buy stop at 10.40 triggers inside bar 3 and fills at its level.
            (4, "10".into(), "10.40".into()),
        ]
    );
}

#[test]
fn participation_splits_fills_and_day_orders_expire_at_the_session_end() {
    // Bars 1 and 2 on day 0; bar 24 is the next day.
    let data = bars(
        0,
        &[
            (0, "10.00", "10.00", "10.00", "10.00", 1e6),
            (1, "10.00", "10.00", "10.00", "10.00", 300.0),
            (2, "10.10", "10.10", "10.10", "10.10", 200.0),
            (24, "10.20", "10.20", "10.20", "10.20", 10_000.0),
        ],
    );
    let sim = SimSettings {
        max_participation: Some(d("0.1")),
        ..SimSettings::default()
    };
    let script = vec![
        (0, (Side::Buy, 100, OrderKind::Market, TimeInForce::Day)),
        (0, (Side::Buy, 100, OrderKind::Market, TimeInForce::Gtc)),
    ];
    let j = run(sim, RiskLimits::default(), script, data);
    assert_eq!(
        hqp(&j),
        vec![
            // 10 % of 300 = 30 for the first order, nothing left for the second.
            (1, "30".into(), "10.00".into()),
            (2, "20".into(), "10.10".into()),
            // Next day: the day order has expired; the gtc order fills in full.
            (24, "100".into(), "10.20".into()),
        ]
    );
    let statuses: Vec<_> = j.orders.iter().map(|o| (o.id.0, o.status())).collect();
    assert_eq!(
        statuses,
        vec![(1, OrderStatus::Expired), (2, OrderStatus::Filled)]
    );
    assert_eq!(j.orders[0].filled_qty, Qty::from(50));
}

#[test]
fn the_venue_breaker_blocks_entries_while_an_exit_still_fills() {
    let data = bars(
        0,
        &[
            (0, "10.00", "10.00", "10.00", "10.00", 1e6),
            (1, "11.00", "11.00", "11.00", "11.00", 1e6),
            (2, "12.00", "12.00", "12.00", "12.00", 1e6),
            (3, "13.00", "13.00", "13.00", "13.00", 1e6),
        ],
    );
    let sim = SimSettings {
        faults: FaultSettings {
            reject_every: Some(2),
            ..FaultSettings::default()
        },
        ..SimSettings::default()
    };
    let risk = RiskLimits {
        venue_breaker: Some(VenueBreaker {
            errors: 1,
            cooldown_secs: 86_400,
        }),
        ..RiskLimits::default()
    };
    let (m, day) = (OrderKind::Market, TimeInForce::Day);
    let script = vec![
        (0, (Side::Buy, 10, m, day)),
        (1, (Side::Buy, 10, m, day)),
        (2, (Side::Buy, 5, m, day)),
        (2, (Side::Sell, 10, m, day)),
    ];
    let j = run(sim, risk, script, data);
    let codes: Vec<_> = j.rejections.iter().map(|r| r.code).collect();
    assert_eq!(
        codes,
        vec![RejectCode::VenueRejected, RejectCode::VenueBreaker],
        "the 2nd order hits a fault and trips the breaker; the next entry is refused"
    );
    assert_eq!(
        hqp(&j),
        vec![
            (1, "10".into(), "11.00".into()),
            (3, "10".into(), "13.00".into())
        ],
        "the exit submitted during the cool-down fills"
    );
    assert_eq!(j.fills[1].exit_reason.map(|r| r.as_str()), Some("signal"));
}

/// Buys 10 on the first bar; each buy fill asks, from the fill's callback, for a take-profit
/// limit sell 0.30 above the fill.
struct Bracket;

impl Strategy for Bracket {
    fn on_bar(&mut self, bar: &Bar, ctx: &mut Context<'_>) {
        if bar.ts.0 == 0 {
            let (m, gtc) = (OrderKind::Market, TimeInForce::Gtc);
            ctx.submit_order(bar.symbol, Side::Buy, Qty::from(10), m, gtc);
        }
    }

    fn on_fill(&mut self, fill: &Fill, ctx: &mut Context<'_>) {
        if fill.side == Side::Buy {
            let take_profit = OrderKind::Limit {
                limit: fill.price + d("0.30"),
            };
            ctx.submit_order(
                fill.symbol,
                Side::Sell,
                fill.qty,
                take_profit,
                TimeInForce::Gtc,
            );
        }
    }
}

#[test]
fn an_order_asked_by_a_fill_callback_while_routing_is_routed_too() {
    // Filling at the close, the buy fills while the loop routes it: the take-profit is
    // asked from inside that routing, and must not be lost when the routing ends.
    let data = bars(
        0,
        &[
            (0, "10.00", "10.00", "10.00", "10.00", 1e6),
            (1, "10.10", "10.40", "10.00", "10.20", 1e6),
        ],
    );
    let sim = SimSettings {
        model: FillModel::Close,
        ..SimSettings::default()
    };
    let j = common::run_strategies(settings(), sim, vec![Box::new(Bracket)], data).expect("runs");
    assert_eq!(
        hqp(&j),
        vec![
            (1, "10".into(), "10.00".into()),
            // Bar 1 trades through 10.30: the limit fills at its level when the bar is
            // delivered.
            (2, "10".into(), "10.30".into()),
        ]
    );
    assert_eq!(j.allocations.len(), 1);
    assert_eq!(j.allocations[0].net_pnl, d("3.00"));
}
