//! Properties of the exit manager: a trailing stop never loosens, and when several rules
//! fire on one bar the fixed priority (with the intrabar assumption) picks the reason.

use lockstep_core::{
    Bar, ClientOrderId, Decimal, ExitReason, Fill, FillId, Liquidity, OrderId, Qty, Scale, Side,
    StrategyId, SymbolId, UnixNanos,
};
use lockstep_engine::executor::Executor;
use lockstep_engine::exits::exit_rules::{decide, Band, Direction, Levels};
use lockstep_engine::{ExitManager, ExitRules, ExitSettings, Intrabar, TrailDistance, Trailing};
use proptest::prelude::*;

const SCALE: Scale = Scale::EQUITY;

fn bar(i: usize, open: i64, close: i64, up: i64, down: i64) -> Bar {
    Bar {
        ts: UnixNanos(i as i64 * 60),
        end: UnixNanos(i as i64 * 60 + 60),
        symbol: SymbolId(0),
        scale: SCALE,
        open,
        high: open.max(close) + up,
        low: (open.min(close) - down).max(1),
        close,
        volume: 1.0,
        quote: None,
    }
}

/// Random-walk bars around 100.0000 with random wicks.
fn walk() -> impl Strategy<Value = Vec<Bar>> {
    prop::collection::vec((-20_000i64..20_000, 0i64..15_000, 0i64..15_000), 2..60).prop_map(
        |steps| {
            let mut px = 1_000_000i64;
            steps
                .into_iter()
                .enumerate()
                .map(|(i, (step, up, down))| {
                    let open = px;
                    px = (px + step).max(10_000);
                    bar(i, open, px, up, down)
                })
                .collect()
        },
    )
}

fn trailing() -> impl Strategy<Value = Trailing> {
    (
        prop_oneof![
            (1i64..200).prop_map(|p| TrailDistance::Pct(Decimal::new(p, 3))),
            (1i64..50, 1usize..10).prop_map(|(m, period)| TrailDistance::Atr {
                mult: Decimal::new(m, 1),
                period
            }),
        ],
        0i64..50,
        0i64..20,
        prop::option::of(0i64..30),
        prop::option::of(30i64..300),
    )
        .prop_map(|(distance, act, step, min, max)| Trailing {
            distance,
            activation_pct: Decimal::new(act, 3),
            step_pct: Decimal::new(step, 3),
            step_atr: Decimal::new(step, 2),
            min_pct: min.map(|m| Decimal::new(m, 3)),
            max_pct: max.map(|m| Decimal::new(m, 3)),
        })
}

fn entry(side: Side, price: Decimal) -> Fill {
    Fill {
        fill_id: FillId(1),
        order_id: OrderId(1),
        client_order_id: ClientOrderId("p-1".into()),
        strategy: StrategyId(0),
        ts: UnixNanos(0),
        symbol: SymbolId(0),
        side,
        qty: Qty::from(10),
        price,
        fee: Decimal::ZERO,
        liquidity: Liquidity::Taker,
        exit_reason: None,
        stale_price: false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_trailing_stop_only_ever_tightens(bars in walk(), rule in trailing(), long in any::<bool>()) {
        let mut exits = ExitManager::new(ExitSettings {
            rules: vec![ExitRules { trailing: Some(rule), ..ExitRules::default() }],
            ..ExitSettings::default()
        });
        let side = if long { Side::Buy } else { Side::Sell };
        let position = if long { Qty::from(10) } else { Qty::from(-10) };
        exits.on_fill(&entry(side, bars[0].open_price()), position);
        // An executor without the position: the manager judges levels but fires nothing,
        // so the trail is followed over every bar.
        let executor = Executor::new("p");
        let mut prev: Option<Decimal> = None;
        let mut orders = Vec::new();
        for b in &bars {
            exits.on_bar(b, &executor, &mut orders);
            let now = exits.trailing_level(StrategyId(0), SymbolId(0));
            if let Some(p) = prev {
                let level = now.expect("a trail once set stays set");
                if long {
                    prop_assert!(level >= p, "long trail loosened {} -> {}", p, level);
                } else {
                    prop_assert!(level <= p, "short trail loosened {} -> {}", p, level);
                }
            }
            prev = now.or(prev);
        }
        prop_assert!(orders.is_empty());
    }

    #[test]
    fn the_highest_priority_rule_that_fired_gives_the_reason(
        b in walk().prop_map(|v| v[1]),
        offsets in (prop::option::of(-30_000i64..30_000), prop::option::of(-30_000i64..30_000),
                    prop::option::of(-30_000i64..30_000), prop::option::of(-30_000i64..30_000)),
        max_hold in any::<bool>(),
        optimistic in any::<bool>(),
    ) {
        // Long position; levels placed around the bar's open.
        let (hard, soft, trail, target) = offsets;
        let at = |o: Option<i64>, sign: i64| o.map(|o| SCALE.to_decimal(b.open + sign * o.abs()));
        let levels = Levels {
            hard: at(hard, -1),
            soft: at(soft, -1),
            trail: at(trail, -1),
            target: at(target, 1),
            max_hold_reached: max_hold,
            min_dte_reached: false,
        };
        let intrabar = if optimistic { Intrabar::Optimistic } else { Intrabar::Pessimistic };
        let got = decide(&levels, Direction { long: true }, &b, intrabar).map(|f| f.reason);
        let (open, high, low, close) =
            (b.open_price(), SCALE.to_decimal(b.high), SCALE.to_decimal(b.low), b.close_price());
        let target_gapped = levels.target.is_some_and(|t| open >= t);
        let target_hit = target_gapped || levels.target.is_some_and(|t| high > t);
        let fired = [
            (ExitReason::HardStop, levels.hard.is_some_and(|h| low <= h)),
            (ExitReason::SoftStop, levels.soft.is_some_and(|s| close <= s)),
            (ExitReason::Trailing, levels.trail.is_some_and(|t| low <= t)),
            (ExitReason::TakeProfit, target_hit),
            (ExitReason::MaxHold, max_hold),
        ];
        let expected = if target_hit && (target_gapped || optimistic) {
            Some(ExitReason::TakeProfit)
        } else {
            fired.iter().find(|(_, f)| *f).map(|(r, _)| *r)
        };
        prop_assert_eq!(got, expected);
        // The exit manager's fixed-point pre-check never skips a bar on which a rule fires.
        let band = Band::of(&levels, Direction { long: true }, SCALE);
        if !band.may_fire(Direction { long: true }, &b) {
            prop_assert!(got.is_none() || got == Some(ExitReason::MaxHold), "{:?} skipped", got);
        }
    }
}

/// Every position of a symbol is judged on each of its bars until it closes, whichever
/// strategies hold it: closing one leaves the other watched, a flip stays watched, and a
/// position opened again after all closed is watched again.
#[test]
fn each_open_position_of_a_symbol_is_judged_until_it_closes() {
    let rule = ExitRules {
        trailing: Some(Trailing {
            distance: TrailDistance::Pct(Decimal::new(1, 2)),
            activation_pct: Decimal::ZERO,
            step_pct: Decimal::ZERO,
            step_atr: Decimal::ZERO,
            min_pct: None,
            max_pct: None,
        }),
        ..ExitRules::default()
    };
    let mut exits = ExitManager::new(ExitSettings {
        rules: vec![rule.clone(), rule],
        ..ExitSettings::default()
    });
    let executor = Executor::new("p");
    let mut orders = Vec::new();
    let (s0, s1, sym) = (StrategyId(0), StrategyId(1), SymbolId(0));
    let fill = |strategy: StrategyId, side: Side, price: i64| Fill {
        strategy,
        ..entry(side, SCALE.to_decimal(price))
    };
    let trail = |exits: &ExitManager, s: StrategyId| exits.trailing_level(s, sym);
    exits.on_fill(&fill(s0, Side::Buy, 1_000_000), Qty::from(10));
    exits.on_fill(&fill(s1, Side::Buy, 1_000_000), Qty::from(10));
    exits.on_bar(&bar(1, 1_000_000, 1_010_000, 0, 0), &executor, &mut orders);
    let (t0, t1) = (trail(&exits, s0), trail(&exits, s1));
    assert!(t0.is_some() && t0 == t1, "both judged: {t0:?} {t1:?}");
    exits.on_fill(&fill(s0, Side::Sell, 1_010_000), Qty::ZERO);
    exits.on_bar(&bar(2, 1_010_000, 1_030_000, 0, 0), &executor, &mut orders);
    assert_eq!(trail(&exits, s0), None, "closed");
    assert!(
        trail(&exits, s1) > t1,
        "still judged after the other closed"
    );
    exits.on_fill(&fill(s1, Side::Sell, 1_030_000), Qty::from(-10));
    exits.on_bar(&bar(3, 1_030_000, 990_000, 0, 0), &executor, &mut orders);
    let short = trail(&exits, s1).expect("the flipped position is judged");
    assert!(
        short > SCALE.to_decimal(990_000),
        "a short's trail is above: {short}"
    );
    exits.on_fill(&fill(s1, Side::Buy, 990_000), Qty::ZERO);
    exits.on_bar(&bar(4, 990_000, 980_000, 0, 0), &executor, &mut orders);
    assert_eq!(trail(&exits, s1), None, "all closed");
    exits.on_fill(&fill(s1, Side::Buy, 980_000), Qty::from(10));
    exits.on_bar(&bar(5, 980_000, 1_000_000, 0, 0), &executor, &mut orders);
    assert!(trail(&exits, s1).is_some(), "opened again, judged again");
    assert!(
        orders.is_empty(),
        "the executor holds no position: nothing fires"
    );
}
