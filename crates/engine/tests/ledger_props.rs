//! Property tests of the FIFO ledger: random fills with shorts, reversals and partial
//! closes keep every invariant of DESIGN "FIFO ledger".

use lockstep_core::{
    ClientOrderId, Decimal, Fill, FillId, Liquidity, OrderId, Side, StrategyId, SymbolId, UnixNanos,
};
use lockstep_engine::Ledger;
use proptest::prelude::*;

fn fill(k: u64, symbol: u32, buy: bool, qty: u32, price_cents: u32, fee_mills: u32) -> Fill {
    Fill {
        fill_id: FillId(k),
        order_id: OrderId(k),
        client_order_id: ClientOrderId(format!("t-{k}")),
        strategy: StrategyId(0),
        ts: UnixNanos(k as i64 * 60_000_000_000),
        symbol: SymbolId(symbol),
        side: if buy { Side::Buy } else { Side::Sell },
        qty: Decimal::from(qty),
        price: Decimal::new(price_cents as i64, 2),
        fee: Decimal::new(fee_mills as i64, 3),
        liquidity: Liquidity::Taker,
        exit_reason: None,
        stale_price: false,
    }
}

fn fills() -> impl Strategy<Value = Vec<(u32, bool, u32, u32, u32)>> {
    prop::collection::vec(
        (
            0u32..3,
            any::<bool>(),
            1u32..60,
            100u32..50_000,
            0u32..5_000,
        ),
        1..80,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn fifo_ledger_invariants_hold(
        spec in fills(),
        marks in prop::collection::vec(100u32..50_000, 3),
        mults in prop::collection::vec(prop::sample::select(vec![1u32, 10, 100]), 3),
    ) {
        let initial = Decimal::from(1_000_000);
        let mut ledger = Ledger::new(initial);
        for (s, m) in mults.iter().enumerate() {
            ledger.set_multiplier(SymbolId(s as u32), Decimal::from(*m));
        }
        let mut allocations = Vec::new();
        let mut position = [Decimal::ZERO; 3];
        let mut fees = Decimal::ZERO;
        for (k, (sym, buy, qty, px, fee)) in spec.iter().enumerate() {
            let f = fill(k as u64 + 1, *sym, *buy, *qty, *px, *fee);
            let before = position[*sym as usize];
            let closes_possible = if *buy { (-before).max(Decimal::ZERO) } else { before.max(Decimal::ZERO) };
            let expected_closed = closes_possible.min(f.qty);
            let n_before = allocations.len();
            ledger.apply(&f, &mut allocations);
            let new = &allocations[n_before..];
            // allocated qty = closed qty
            let allocated: Decimal = new.iter().map(|a| a.qty).sum();
            prop_assert_eq!(allocated, expected_closed);
            // the closing fill's fee parts sum to its closing share (whole fee when nothing opens)
            if !new.is_empty() && expected_closed == f.qty {
                let parts: Decimal = new.iter().map(|a| a.close_fee).sum();
                prop_assert_eq!(parts, f.fee);
            }
            for a in new {
                let diff = if a.long { a.close_price - a.open_price } else { a.open_price - a.close_price };
                prop_assert_eq!(a.gross_pnl, diff * a.qty * Decimal::from(mults[*sym as usize]));
                prop_assert_eq!(a.net_pnl, a.gross_pnl - a.open_fee - a.close_fee);
                prop_assert!(a.open_fee >= Decimal::ZERO && a.close_fee >= Decimal::ZERO);
            }
            position[*sym as usize] += if *buy { f.qty } else { -f.qty };
            fees += f.fee;
            // open lots sum to the position; all lots point the same way
            for s in 0..3u32 {
                prop_assert_eq!(ledger.position(SymbolId(s)), position[s as usize]);
                let longs = ledger.lots(SymbolId(s)).filter(|l| l.long).count();
                let total = ledger.lots(SymbolId(s)).count();
                prop_assert!(longs == 0 || longs == total);
            }
        }
        // realized = sum of allocations
        let realized: Decimal = allocations.iter().map(|a| a.net_pnl).sum();
        prop_assert_eq!(ledger.realized(), realized);
        // fees reported = fees filled, and every fee is either allocated or still in an open lot
        prop_assert_eq!(ledger.fees(), fees);
        let allocated_fees: Decimal = allocations.iter().map(|a| a.open_fee + a.close_fee).sum();
        prop_assert_eq!(allocated_fees + ledger.open_fees(), fees);
        // cash + marked value = equity = initial + realized + unrealized - fees still in lots
        let mark = |s: SymbolId| Some(Decimal::new(marks[s.index()] as i64, 2));
        let equity = ledger.equity(mark);
        let mut marked = Decimal::ZERO;
        let mut unrealized = Decimal::ZERO;
        for s in 0..3u32 {
            let m = Decimal::new(marks[s as usize] as i64, 2);
            marked += ledger.position(SymbolId(s)) * m * Decimal::from(mults[s as usize]);
            unrealized += ledger.unrealized(SymbolId(s), m);
        }
        prop_assert_eq!(ledger.cash() + marked, equity);
        prop_assert_eq!(equity, initial + ledger.realized() + unrealized - ledger.open_fees());
    }
}

#[test]
fn an_option_contract_books_100_times_its_premium() {
    let mut l = Ledger::new(Decimal::from(10_000));
    l.set_multiplier(SymbolId(0), Decimal::from(100));
    let mut a = Vec::new();
    // Buy 3 contracts at 2.15 with 1.95 commission, sell them at 2.40 with 1.95.
    l.apply(&fill(1, 0, true, 3, 215, 1950), &mut a);
    assert_eq!(l.cash(), Decimal::new(935305, 2), "10000 - 645.00 - 1.95");
    l.apply(&fill(2, 0, false, 3, 240, 1950), &mut a);
    assert_eq!(a[0].gross_pnl, Decimal::new(7500, 2), "0.25 x 3 x 100");
    assert_eq!(a[0].net_pnl, Decimal::new(7110, 2), "75.00 - 1.95 - 1.95");
    assert_eq!(l.cash(), Decimal::new(1007110, 2));
}

#[test]
fn partial_closes_take_the_oldest_lot_first_and_split_fees_exactly() {
    let mut l = Ledger::new(Decimal::ZERO);
    let mut a = Vec::new();
    l.apply(&fill(1, 0, true, 3, 1000, 1000), &mut a); // 3 @ 10.00, fee 1.000
    l.apply(&fill(2, 0, true, 2, 1100, 0), &mut a); // 2 @ 11.00
    l.apply(&fill(3, 0, false, 4, 1200, 1000), &mut a); // sell 4 @ 12.00, fee 1.000
    assert_eq!(a.len(), 2);
    assert_eq!((a[0].open_fill_id, a[0].qty), (FillId(1), Decimal::from(3)));
    assert_eq!((a[1].open_fill_id, a[1].qty), (FillId(2), Decimal::from(1)));
    assert_eq!(a[0].close_fee, Decimal::new(75, 2));
    assert_eq!(a[1].close_fee, Decimal::new(25, 2));
    assert_eq!(a[0].open_fee, Decimal::new(1000, 3));
    l.apply(&fill(4, 0, false, 3, 900, 3000), &mut a); // closes last 1 long, opens 2 short
    assert_eq!(a[2].close_fee, Decimal::new(1, 0));
    assert_eq!(l.position(SymbolId(0)), Decimal::from(-2));
    assert_eq!(l.open_fees(), Decimal::new(2, 0));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Per-strategy books: a fill closes only its own strategy's lots. Each strategy's lots
    /// sum to its own position and point one way; every allocation pairs two fills of the
    /// same strategy and names it; fees are allocated or still held, as in a shared book.
    #[test]
    fn per_strategy_books_never_cross(
        spec in prop::collection::vec((0u32..3, 0u32..2, any::<bool>(), 1u32..60, 100u32..50_000, 0u32..5_000), 1..80),
    ) {
        let mut ledger = Ledger::new(Decimal::ZERO).per_strategy();
        let mut allocations = Vec::new();
        let mut position = std::collections::BTreeMap::<(u32, u32), Decimal>::new();
        let mut owner = std::collections::BTreeMap::new();
        let mut fees = Decimal::ZERO;
        for (k, (strategy, sym, buy, qty, px, fee)) in spec.iter().enumerate() {
            let mut f = fill(k as u64 + 1, *sym, *buy, *qty, *px, *fee);
            f.strategy = StrategyId(*strategy);
            owner.insert(f.fill_id, f.strategy);
            fees += f.fee;
            let before = position.get(&(*strategy, *sym)).copied().unwrap_or_default();
            let closable = if *buy { (-before).max(Decimal::ZERO) } else { before.max(Decimal::ZERO) };
            let n = allocations.len();
            ledger.apply(&f, &mut allocations);
            let closed: Decimal = allocations[n..].iter().map(|a| a.qty).sum();
            prop_assert_eq!(closed, closable.min(f.qty));
            for a in &allocations[n..] {
                prop_assert_eq!(a.book, Some(f.strategy));
                prop_assert_eq!(owner[&a.open_fill_id], f.strategy);
            }
            *position.entry((*strategy, *sym)).or_default() += if *buy { f.qty } else { -f.qty };
        }
        for sym in 0..2u32 {
            let mut net = Decimal::ZERO;
            for strategy in 0..3u32 {
                let lots: Vec<_> = ledger.lots(SymbolId(sym)).filter(|l| l.owner == StrategyId(strategy)).collect();
                let held: Decimal = lots.iter().map(|l| if l.long { l.qty } else { -l.qty }).sum();
                let want = position.get(&(strategy, sym)).copied().unwrap_or_default();
                prop_assert_eq!(held, want);
                prop_assert!(lots.iter().all(|l| l.long == lots[0].long));
                net += want;
            }
            prop_assert_eq!(ledger.position(SymbolId(sym)), net);
        }
        let allocated: Decimal = allocations.iter().map(|a| a.open_fee + a.close_fee).sum();
        prop_assert_eq!(allocated + ledger.open_fees(), fees);
    }
}
