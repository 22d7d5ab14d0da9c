//! Option-style quote bars through the whole loop: buys at the ask, sells at the bid, `mid`,
//! `no_quote` from risk and from the venue, immediate-or-cancel limits, exits judged on the
//! exit's side, and no entry while an engine exit is pending. Hand-computed numbers.

mod common;

use common::{d, fills, from_bars, settings, Script, HOUR};
use lockstep_core::{
    Bar, ExitReason, OrderKind, OrderStatus, Quote, QuoteSide, RejectCode, Scale, Side, SymbolId,
    TimeInForce, UnixNanos,
};
use lockstep_engine::{ExitRules, ExitSettings, MemoryJournal, QuoteFill, RiskLimits, SimSettings};

type Sides = Option<(&'static str, &'static str, &'static str, &'static str)>;

/// A quote bar at `hour` with bid and ask (open, high, low, close); the mark is the mid
/// (both sides) or the side present, as the data reader builds it.
fn quoted(hour: i64, bid: Sides, ask: Sides) -> Bar {
    let scale = Scale::new(2).expect("scale");
    let side = |s: Sides| {
        s.map(|(o, h, l, c)| QuoteSide {
            open: scale.parse(o).unwrap(),
            high: scale.parse(h).unwrap(),
            low: scale.parse(l).unwrap(),
            close: scale.parse(c).unwrap(),
        })
    };
    let (b, a) = (side(bid), side(ask));
    let mark = |f: fn(&QuoteSide) -> i64| match (b.as_ref(), a.as_ref()) {
        (Some(b), Some(a)) => (f(b) + f(a)) / 2,
        (Some(x), None) | (None, Some(x)) => f(x),
        (None, None) => unreachable!("a quote bar has a side"),
    };
    Bar {
        ts: UnixNanos(hour * HOUR),
        end: UnixNanos((hour + 1) * HOUR),
        symbol: SymbolId(0),
        scale,
        open: mark(|s| s.open),
        high: mark(|s| s.high),
        low: mark(|s| s.low),
        close: mark(|s| s.close),
        volume: 0.0,
        quote: Some(Quote { bid: b, ask: a }),
    }
}

const TWO_SIDED: Sides = Some(("1.00", "1.00", "1.00", "1.00"));
const ASK: Sides = Some(("1.10", "1.10", "1.10", "1.10"));

fn run(
    sim: SimSettings,
    exits: Option<ExitRules>,
    orders: Vec<(usize, common::Order)>,
    data: Vec<Bar>,
) -> MemoryJournal {
    let settings = lockstep_engine::EngineSettings {
        risk: RiskLimits::default(),
        exits: ExitSettings {
            rules: exits.into_iter().collect(),
            ..ExitSettings::default()
        },
        ..settings()
    };
    common::run(
        settings,
        sim,
        vec![Script { start: 0, orders }],
        from_bars(data),
    )
    .expect("runs")
}

fn market(side: Side) -> common::Order {
    (side, 1, OrderKind::Market, TimeInForce::Day)
}

fn hqp(j: &MemoryJournal) -> Vec<(i64, String, String, &'static str)> {
    fills(j, 0)
        .into_iter()
        .map(|(h, _, q, p, r)| (h, q, p, r))
        .collect()
}

fn codes(j: &MemoryJournal) -> Vec<(&'static str, Side)> {
    j.rejections
        .iter()
        .map(|r| (r.code.as_str(), r.side))
        .collect()
}

#[test]
fn market_orders_buy_at_the_ask_and_sell_at_the_bid_of_the_bar_that_fills_them() {
    let data = vec![
        quoted(0, TWO_SIDED, ASK),
        quoted(
            1,
            Some(("1.20", "1.30", "1.15", "1.25")),
            Some(("1.40", "1.50", "1.35", "1.45")),
        ),
        quoted(
            2,
            Some(("1.60", "1.60", "1.50", "1.55")),
            Some(("1.80", "1.80", "1.70", "1.75")),
        ),
    ];
    let orders = vec![(0, market(Side::Buy)), (1, market(Side::Sell))];
    let j = run(SimSettings::default(), None, orders.clone(), data.clone());
    assert_eq!(
        hqp(&j),
        vec![
            (1, "1".into(), "1.40".into(), ""),
            (2, "1".into(), "1.60".into(), "signal")
        ]
    );
    // At the mid: (1.20 + 1.40) / 2 and (1.60 + 1.80) / 2.
    let mid = SimSettings {
        quote_fill: QuoteFill::Mid,
        ..SimSettings::default()
    };
    let j = run(mid, None, orders, data);
    assert_eq!(
        hqp(&j),
        vec![
            (1, "1".into(), "1.30".into(), ""),
            (2, "1".into(), "1.70".into(), "signal")
        ]
    );
}

#[test]
fn no_ask_means_no_buy_refused_by_risk_before_or_withdrawn_by_the_venue_after() {
    let data = vec![
        quoted(0, TWO_SIDED, None),
        quoted(1, TWO_SIDED, ASK),
        quoted(2, TWO_SIDED, None),
        quoted(3, TWO_SIDED, ASK),
    ];
    let orders = vec![(0, market(Side::Buy)), (1, market(Side::Buy))];
    let j = run(SimSettings::default(), None, orders, data);
    assert!(j.fills.is_empty(), "nothing is filled at a made-up price");
    assert_eq!(
        codes(&j),
        vec![("no_quote", Side::Buy), ("no_quote", Side::Buy)]
    );
    assert!(
        j.rejections[0].detail.contains("last quote bar"),
        "risk: {:?}",
        j.rejections[0]
    );
    assert!(
        j.rejections[1].detail.contains("next quote bar"),
        "venue: {:?}",
        j.rejections[1]
    );
    let withdrawn = j
        .orders
        .iter()
        .filter(|o| o.status() == OrderStatus::Cancelled)
        .count();
    assert_eq!(withdrawn, 1, "the venue's refusal ends the order cancelled");
    // With `mid`, a one-sided quote fills nothing either.
    let data = vec![quoted(0, TWO_SIDED, ASK), quoted(1, None, ASK)];
    let mid = SimSettings {
        quote_fill: QuoteFill::Mid,
        ..SimSettings::default()
    };
    let j = run(mid, None, vec![(0, market(Side::Buy))], data);
    assert!(j.fills.is_empty());
    assert_eq!(codes(&j), vec![("no_quote", Side::Buy)]);
}

#[test]
fn an_ioc_limit_takes_a_touching_ask_or_expires_after_its_first_bar() {
    let ioc = |limit: &str| {
        (
            Side::Buy,
            1,
            OrderKind::Limit { limit: d(limit) },
            TimeInForce::Ioc,
        )
    };
    let data = vec![
        quoted(0, TWO_SIDED, ASK),
        // Ask opens at 1.10, exactly the first limit: a quoted offer it can take.
        quoted(1, TWO_SIDED, ASK),
        // Ask 1.30..1.20 never reaches 1.10: the second order expires here.
        quoted(2, TWO_SIDED, Some(("1.30", "1.30", "1.20", "1.20"))),
        quoted(3, TWO_SIDED, Some(("1.00", "1.00", "1.00", "1.00"))),
    ];
    let j = run(
        SimSettings::default(),
        None,
        vec![(0, ioc("1.10")), (1, ioc("1.10"))],
        data,
    );
    assert_eq!(hqp(&j), vec![(1, "1".into(), "1.10".into(), "")]);
    let expired: Vec<_> = j
        .orders
        .iter()
        .filter(|o| o.status() == OrderStatus::Expired)
        .map(|o| o.tif.as_str())
        .collect();
    assert_eq!(
        expired,
        vec!["ioc"],
        "not still working when the ask fell to 1.00"
    );
}

#[test]
fn a_long_is_stopped_on_the_bid_and_a_stop_inside_the_spread_fires_at_once() {
    // Bought at the ask 1.10 with the bid at 1.00: a 5 % stop (1.045) sits inside the
    // spread, so the bar the entry filled on already has its bid below the stop: the exit
    // fills at the bid's open, 1.00, though the mark (mid 1.05) never fell below 1.045.
    let data = vec![
        quoted(0, TWO_SIDED, ASK),
        quoted(1, TWO_SIDED, ASK),
        quoted(2, TWO_SIDED, ASK),
    ];
    let stop = ExitRules {
        hard_stop_pct: Some(d("0.05")),
        ..ExitRules::default()
    };
    let j = run(
        SimSettings::default(),
        Some(stop),
        vec![(0, market(Side::Buy))],
        data,
    );
    assert_eq!(
        hqp(&j),
        vec![
            (1, "1".into(), "1.10".into(), ""),
            (2, "1".into(), "1.00".into(), ExitReason::HardStop.as_str()),
        ]
    );
}

#[test]
fn with_no_bid_the_exit_is_asked_each_bar_and_no_entry_adds_to_the_position() {
    let no_bid = || quoted(0, None, ASK);
    let mut data: Vec<Bar> = (0..5)
        .map(|h| Bar {
            ts: UnixNanos(h * HOUR),
            end: UnixNanos((h + 1) * HOUR),
            ..no_bid()
        })
        .collect();
    data[1] = Bar {
        ts: UnixNanos(HOUR),
        end: UnixNanos(2 * HOUR),
        ..quoted(1, TWO_SIDED, ASK)
    };
    let hold = ExitRules {
        max_hold_secs: Some(3_600),
        ..ExitRules::default()
    };
    // The script buys on every bar from hour 0 on; only the first can open a position.
    let orders = (0..4).map(|h| (h, market(Side::Buy))).collect();
    let j = run(SimSettings::default(), Some(hold), orders, data);
    assert_eq!(hqp(&j), vec![(1, "1".into(), "1.10".into(), "")]);
    let c = codes(&j);
    assert!(c.contains(&("no_quote", Side::Sell)), "{c:?}");
    assert!(c.contains(&("exit_pending", Side::Buy)), "{c:?}");
    assert_eq!(
        j.rejections
            .iter()
            .filter(|r| r.code == RejectCode::NoQuote && r.side == Side::Sell)
            .count(),
        3,
        "max hold fires at the end of the entry's bar (held an hour); the sell and its \
         retries meet no bid on hours 2, 3 and 4"
    );
}

#[test]
fn a_target_fills_when_the_bid_touches_it() {
    // Bought at the ask 1.10; a 10 % target is 1.21. The next bar's bid reaches exactly
    // 1.21: a bid there is a buyer at the target, so it fills (a trade bar would need a
    // print through it).
    let data = vec![
        quoted(0, TWO_SIDED, ASK),
        quoted(1, Some(("1.05", "1.10", "1.05", "1.10")), ASK),
        quoted(
            2,
            Some(("1.15", "1.21", "1.15", "1.20")),
            Some(("1.30", "1.30", "1.25", "1.25")),
        ),
    ];
    let target = ExitRules {
        take_profit_pct: Some(d("0.10")),
        ..ExitRules::default()
    };
    let j = run(
        SimSettings::default(),
        Some(target),
        vec![(0, market(Side::Buy))],
        data,
    );
    assert_eq!(
        hqp(&j),
        vec![
            (1, "1".into(), "1.10".into(), ""),
            (
                3,
                "1".into(),
                "1.21".into(),
                ExitReason::TakeProfit.as_str()
            ),
        ]
    );
}

#[test]
fn an_entry_that_expires_unfilled_gives_back_its_exposure_and_its_trade() {
    let ioc = |limit: &str| {
        (
            Side::Buy,
            100,
            OrderKind::Limit { limit: d(limit) },
            TimeInForce::Ioc,
        )
    };
    let data = vec![
        quoted(0, TWO_SIDED, ASK),
        // The ask moves away from 1.10: the first order expires unfilled.
        quoted(1, TWO_SIDED, Some(("1.30", "1.30", "1.30", "1.30"))),
        quoted(2, TWO_SIDED, Some(("1.30", "1.30", "1.30", "1.30"))),
    ];
    // 100 x 1.10 = 110 reserved, then released; 100 x 1.30 = 130 fits under 150 only if
    // the first reservation was given back, and the second entry is the session's only
    // filled trade.
    let risk = RiskLimits {
        max_daily_entry_notional: Some(d("150")),
        max_daily_trades: Some(1),
        ..RiskLimits::default()
    };
    let settings = lockstep_engine::EngineSettings { risk, ..settings() };
    let orders = vec![(0, ioc("1.10")), (1, ioc("1.30"))];
    let j = common::run(
        settings,
        SimSettings::default(),
        vec![Script { start: 0, orders }],
        from_bars(data),
    )
    .expect("runs");
    assert!(j.rejections.is_empty(), "{:?}", j.rejections);
    assert_eq!(hqp(&j), vec![(2, "100".into(), "1.30".into(), "")]);
}

#[test]
fn slippage_never_takes_a_limit_past_its_limit_and_quote_fills_get_none() {
    let slip = SimSettings {
        slippage: lockstep_engine::Slippage::Bps(d("100")),
        ..SimSettings::default()
    };
    // Quote bars: the ask is the price; 1 % slippage is not added on top.
    let data = vec![quoted(0, TWO_SIDED, ASK), quoted(1, TWO_SIDED, ASK)];
    let j = run(slip.clone(), None, vec![(0, market(Side::Buy))], data);
    assert_eq!(hqp(&j), vec![(1, "1".into(), "1.10".into(), "")]);
    // Trade bars: a buy limit at 10.00 the bar opens below, at 9.95, is a taker fill at
    // the open; 1 % slippage would make it 10.05, over the limit: it is capped at 10.00.
    let data = common::bars(
        0,
        &[
            (0, "10.00", "10.00", "10.00", "10.00", 1e6),
            (1, "9.95", "9.99", "9.90", "9.95", 1e6),
        ],
    );
    let orders = vec![(
        0,
        (
            Side::Buy,
            1,
            OrderKind::Limit { limit: d("10.00") },
            TimeInForce::Day,
        ),
    )];
    let j = common::run(settings(), slip, vec![Script { start: 0, orders }], data).expect("runs");
    assert_eq!(fills(&j, 0)[0].3, "10.00");
}
