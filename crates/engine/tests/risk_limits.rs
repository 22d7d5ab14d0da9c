//! The risk engine: every limit blocks entries (with its code) and never an exit.

use lockstep_core::{
    Bar, ExitReason, Liquidity, Money, OrderIntent, Qty, RejectCode, Scale, Side, StrategyId,
    SymbolId, UnixNanos,
};
use lockstep_engine::executor::{Executor, ReportEffect};
use lockstep_engine::market::MarketState;
use lockstep_engine::VenueReport;
use lockstep_engine::{EntryCutoff, Ledger, RiskEngine, RiskLimits, VenueBreaker};

/// Symbols 0 and 1 marked at 100.00; the book holds `pos` of symbol 0 bought at 100.
struct Book {
    market: MarketState,
    ledger: Ledger,
    executor: Executor,
}

impl Book {
    fn new(pos: i64) -> Book {
        let mut market = MarketState::default();
        for s in 0..2 {
            market.update(&Bar {
                ts: UnixNanos(0),
                end: UnixNanos(1),
                symbol: SymbolId(s),
                scale: Scale::EQUITY,
                open: 1_000_000,
                high: 1_000_000,
                low: 1_000_000,
                close: 1_000_000,
                volume: 0.0,
                quote: None,
            });
        }
        let mut ledger = Ledger::new(Money::ZERO);
        let mut executor = Executor::new("t");
        if pos != 0 {
            // Strategy 0's position, filled through the executor as in the loop, so both
            // the book and the strategy's own view hold it.
            let side = if pos > 0 { Side::Buy } else { Side::Sell };
            let intent =
                OrderIntent::market(StrategyId(0), SymbolId(0), side, Qty::from(pos.abs()), None);
            let approved = RiskEngine::default()
                .check(intent, UnixNanos(0), &market, &ledger, &executor)
                .expect("an unlimited engine approves");
            let id = executor.create(approved, UnixNanos(0)).id;
            let accepted = VenueReport::Accepted {
                order_id: id,
                ts: UnixNanos(0),
            };
            executor.on_report(&accepted).expect("accepted");
            let fill = VenueReport::Fill {
                order_id: id,
                ts: UnixNanos(0),
                qty: Qty::from(pos.abs()),
                price: Qty::from(100),
                fee: Money::ZERO,
                liquidity: Liquidity::Taker,
                stale_price: false,
            };
            match executor.on_report(&fill) {
                Ok(ReportEffect::Fill(f)) => {
                    ledger.apply(&f, &mut Vec::new());
                }
                other => panic!("expected a fill, got {other:?}"),
            }
        }
        Book {
            market,
            ledger,
            executor,
        }
    }

    /// The reject code for `side qty` of `symbol` at time `t` (None = approved). An approved
    /// intent becomes a working order, as in the loop.
    fn check(
        &mut self,
        risk: &mut RiskEngine,
        symbol: u32,
        side: Side,
        qty: i64,
        t: i64,
    ) -> Option<RejectCode> {
        let intent =
            OrderIntent::market(StrategyId(0), SymbolId(symbol), side, Qty::from(qty), None);
        match risk.check(
            intent,
            UnixNanos(t),
            &self.market,
            &self.ledger,
            &self.executor,
        ) {
            Ok(approved) => {
                self.executor.create(approved, UnixNanos(t));
                None
            }
            Err(r) => Some(r.code),
        }
    }

    /// Like `check`, but the approved order is forgotten (judging one intent in isolation).
    fn judge(
        &self,
        risk: &mut RiskEngine,
        symbol: u32,
        side: Side,
        qty: i64,
        t: i64,
    ) -> Option<RejectCode> {
        let mut copy = Book {
            market: self.market.clone(),
            ledger: self.ledger.clone(),
            executor: self.executor.clone(),
        };
        copy.check(risk, symbol, side, qty, t)
    }
}

fn engine(limits: RiskLimits) -> RiskEngine {
    RiskEngine::new(limits)
}

#[test]
fn order_limits_block_entries_but_never_exits() {
    let mut risk = engine(RiskLimits {
        max_order_notional: Some(Money::from(5_000)),
        max_position_qty: Some(Qty::from(60)),
        ..RiskLimits::default()
    });
    let flat = Book::new(0);
    assert_eq!(
        flat.judge(&mut risk, 0, Side::Buy, 60, 1),
        Some(RejectCode::MaxOrderNotional)
    );
    assert_eq!(flat.judge(&mut risk, 0, Side::Buy, 50, 1), None);
    let long = Book::new(100);
    assert_eq!(
        long.judge(&mut risk, 0, Side::Sell, 100, 1),
        None,
        "a full exit passes"
    );
    assert_eq!(
        long.judge(&mut risk, 0, Side::Sell, 30, 1),
        None,
        "a reduction passes"
    );
    assert_eq!(
        long.judge(&mut risk, 0, Side::Sell, 170, 1),
        Some(RejectCode::MaxOrderNotional),
        "a reversal is an entry for its opening part (70 x 100)"
    );
    assert_eq!(long.judge(&mut risk, 0, Side::Sell, 140, 1), None);
    assert_eq!(
        long.judge(&mut risk, 0, Side::Buy, 0, 1),
        Some(RejectCode::InvalidQty)
    );
}

#[test]
fn session_limits_count_entries_and_reset_each_session() {
    let mut risk = engine(RiskLimits {
        max_daily_trades: Some(2),
        max_daily_entry_notional: Some(Money::from(2_500)),
        ..RiskLimits::default()
    });
    let flat = Book::new(0);
    risk.start_session(1, Money::ZERO);
    assert_eq!(flat.judge(&mut risk, 0, Side::Buy, 10, 1), None);
    assert_eq!(
        flat.judge(&mut risk, 0, Side::Buy, 20, 1),
        Some(RejectCode::MaxDailyExposure),
        "1000 + 2000 > 2500"
    );
    assert_eq!(flat.judge(&mut risk, 0, Side::Buy, 10, 1), None);
    assert_eq!(
        flat.judge(&mut risk, 0, Side::Buy, 1, 1),
        Some(RejectCode::MaxDailyTrades)
    );
    risk.start_session(1, Money::ZERO);
    assert_eq!(
        flat.judge(&mut risk, 0, Side::Buy, 1, 1),
        Some(RejectCode::MaxDailyTrades),
        "same session"
    );
    risk.start_session(2, Money::ZERO);
    assert_eq!(
        flat.judge(&mut risk, 0, Side::Buy, 1, 2),
        None,
        "a new session resets"
    );
}

#[test]
fn kill_switch_and_loss_limit_block_entries_only() {
    let long = Book::new(100);
    let mut kill = engine(RiskLimits {
        kill_switch: true,
        ..RiskLimits::default()
    });
    assert_eq!(
        long.judge(&mut kill, 0, Side::Buy, 1, 1),
        Some(RejectCode::KillSwitch)
    );
    assert_eq!(long.judge(&mut kill, 0, Side::Sell, 100, 1), None);
    let mut loss = engine(RiskLimits {
        daily_loss_limit: Some(Money::from(500)),
        ..RiskLimits::default()
    });
    let now = long.ledger.equity(|s| long.market.mark(s));
    loss.start_session(7, now + Money::from(600));
    assert_eq!(
        long.judge(&mut loss, 0, Side::Buy, 1, 1),
        Some(RejectCode::DailyLossLimit)
    );
    assert_eq!(long.judge(&mut loss, 0, Side::Sell, 50, 1), None);
    loss.start_session(8, now);
    assert_eq!(
        long.judge(&mut loss, 0, Side::Buy, 1, 1),
        None,
        "resumes next session"
    );
}

#[test]
fn open_positions_count_working_entries() {
    let mut open = engine(RiskLimits {
        max_open_positions: Some(1),
        ..RiskLimits::default()
    });
    let long = Book::new(100);
    assert_eq!(
        long.judge(&mut open, 1, Side::Buy, 1, 1),
        Some(RejectCode::MaxOpenPositions)
    );
    assert_eq!(
        long.judge(&mut open, 0, Side::Buy, 1, 1),
        None,
        "adding to an open symbol"
    );
    let mut flat = Book::new(0);
    assert_eq!(flat.check(&mut open, 0, Side::Buy, 1, 1), None);
    assert_eq!(
        flat.check(&mut open, 1, Side::Buy, 1, 1),
        Some(RejectCode::MaxOpenPositions),
        "an unfilled entry still counts"
    );
}

#[test]
fn stale_data_and_the_eod_cutoff_block_entries_only() {
    let long = Book::new(100);
    let mut risk = engine(RiskLimits {
        stale_after_secs: Some(60),
        ..RiskLimits::default()
    });
    let fresh = 1 + 60 * 1_000_000_000;
    let stale = 1 + 61 * 1_000_000_000;
    assert_eq!(long.judge(&mut risk, 0, Side::Buy, 1, fresh), None);
    assert_eq!(
        long.judge(&mut risk, 0, Side::Buy, 1, stale),
        Some(RejectCode::StaleData)
    );
    assert_eq!(
        long.judge(&mut risk, 0, Side::Sell, 100, stale),
        None,
        "exits pass"
    );
    let mut eod = engine(RiskLimits::default());
    eod.close_entries_until(UnixNanos(100));
    assert_eq!(
        long.judge(&mut eod, 0, Side::Buy, 1, 50),
        Some(RejectCode::EodCutoff)
    );
    assert_eq!(long.judge(&mut eod, 0, Side::Sell, 10, 50), None);
    assert_eq!(
        long.judge(&mut eod, 0, Side::Buy, 1, 100),
        Some(RejectCode::EodCutoff),
        "an entry decided on the bar delivered at the close is refused too"
    );
    assert_eq!(
        long.judge(&mut eod, 0, Side::Buy, 1, 101),
        None,
        "entries reopen after the close"
    );
}

#[test]
fn a_losing_streak_pauses_entries_until_the_next_session() {
    let long = Book::new(100);
    let mut risk = engine(RiskLimits {
        loss_streak: Some(2),
        ..RiskLimits::default()
    });
    risk.start_session(1, Money::ZERO);
    risk.on_round_trip(Money::from(-5), UnixNanos(0));
    risk.on_round_trip(Money::from(3), UnixNanos(0));
    risk.on_round_trip(Money::from(-5), UnixNanos(0));
    assert_eq!(
        long.judge(&mut risk, 0, Side::Buy, 1, 1),
        None,
        "a win broke the streak"
    );
    risk.on_round_trip(Money::from(-1), UnixNanos(0));
    assert_eq!(
        long.judge(&mut risk, 0, Side::Buy, 1, 1),
        Some(RejectCode::LossStreak)
    );
    assert_eq!(
        long.judge(&mut risk, 0, Side::Sell, 100, 1),
        None,
        "exits pass"
    );
    risk.start_session(2, Money::ZERO);
    assert_eq!(
        long.judge(&mut risk, 0, Side::Buy, 1, 2),
        None,
        "resumes next session"
    );
}

const SEC: i64 = 1_000_000_000;

#[test]
fn the_venue_breaker_needs_errors_in_a_row_and_blocks_entries_for_its_cooldown() {
    let long = Book::new(100);
    let mut risk = engine(RiskLimits {
        venue_breaker: Some(VenueBreaker {
            errors: 2,
            cooldown_secs: 60,
        }),
        ..RiskLimits::default()
    });
    risk.on_venue_error(UnixNanos(0));
    risk.on_venue_ok();
    risk.on_venue_error(UnixNanos(0));
    assert_eq!(
        long.judge(&mut risk, 0, Side::Buy, 1, SEC),
        None,
        "an acknowledged order ended the run of errors"
    );
    risk.on_venue_error(UnixNanos(10 * SEC));
    assert_eq!(
        long.judge(&mut risk, 0, Side::Buy, 1, 11 * SEC),
        Some(RejectCode::VenueBreaker)
    );
    assert_eq!(
        long.judge(&mut risk, 0, Side::Sell, 100, 11 * SEC),
        None,
        "exits pass"
    );
    assert_eq!(
        long.judge(&mut risk, 0, Side::Buy, 1, 70 * SEC),
        None,
        "cool-down over"
    );
}

#[test]
fn the_entry_cutoff_uses_exchange_time_and_a_timed_streak_pause_ends() {
    let long = Book::new(100);
    let mut risk = engine(RiskLimits {
        entry_cutoff: Some(EntryCutoff {
            tz: chrono_tz::America::New_York,
            at: chrono::NaiveTime::from_hms_opt(15, 30, 0).unwrap(),
        }),
        loss_streak: Some(1),
        loss_streak_pause_secs: Some(600),
        ..RiskLimits::default()
    });
    // 2024-03-01 20:29 UTC = 15:29 EST; 20:30 UTC = 15:30 EST.
    let t = |hh: i64, mm: i64| 1_709_251_200 * SEC + (hh * 3_600 + mm * 60) * SEC;
    assert_eq!(long.judge(&mut risk, 0, Side::Buy, 1, t(20, 29)), None);
    assert_eq!(
        long.judge(&mut risk, 0, Side::Buy, 1, t(20, 30)),
        Some(RejectCode::EntryCutoff)
    );
    assert_eq!(long.judge(&mut risk, 0, Side::Sell, 100, t(20, 30)), None);
    risk.on_round_trip(Money::from(-1), UnixNanos(t(14, 0)));
    assert_eq!(
        long.judge(&mut risk, 0, Side::Buy, 1, t(14, 9)),
        Some(RejectCode::LossStreak)
    );
    assert_eq!(
        long.judge(&mut risk, 0, Side::Buy, 1, t(14, 10)),
        None,
        "a 600 s pause ends after 10 minutes, not at the session end"
    );
}

#[test]
fn entry_or_exit_is_the_strategys_own_view_whatever_its_label() {
    let long = Book::new(100);
    let mut risk = engine(RiskLimits {
        kill_switch: true,
        ..RiskLimits::default()
    });
    let judge = |risk: &mut RiskEngine, strategy: u32, reason: Option<ExitReason>| {
        let intent = OrderIntent::market(
            StrategyId(strategy),
            SymbolId(0),
            Side::Sell,
            Qty::from(100),
            reason,
        );
        risk.check(
            intent,
            UnixNanos(1),
            &long.market,
            &long.ledger,
            &long.executor,
        )
        .err()
        .map(|r| r.code)
    };
    assert_eq!(
        judge(&mut risk, 0, None),
        None,
        "strategy 0 closing its long"
    );
    assert_eq!(
        judge(&mut risk, 1, None),
        Some(RejectCode::KillSwitch),
        "strategy 1 selling short is an entry although the book is long"
    );
    assert_eq!(
        judge(&mut risk, 1, Some(ExitReason::Eod)),
        Some(RejectCode::KillSwitch),
        "a strategy's short labelled eod is still an entry: only the engine's own exits \
         skip the checks (tests/origin_bypass.rs)"
    );
}
