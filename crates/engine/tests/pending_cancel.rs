//! A venue that confirms cancels later (a broker): a cancelled order stays `pending_cancel`
//! until the venue answers, a fill that wins the race is booked, and a confirmed cancel
//! gives back the entry's daily count. Driven with the push API, as live drives the loop.

mod common;

use common::{bars, settings, HOUR};
use lockstep_core::{Liquidity, Money, Order, OrderId, OrderStatus, Qty, Side, UnixNanos};
use lockstep_engine::market::MarketState;
use lockstep_engine::{
    Command, Context, Engine, EngineSettings, Input, MemoryJournal, RiskLimits, SimClock, Strategy,
    Venue, VenueReport,
};
use std::cell::RefCell;
use std::rc::Rc;

/// Records what the loop sends; answers nothing by itself.
#[derive(Default, Clone)]
struct Broker {
    sent: Rc<RefCell<Vec<Order>>>,
    cancels: Rc<RefCell<Vec<OrderId>>>,
}

impl Venue for Broker {
    fn submit(&mut self, o: &Order, _: UnixNanos, _: &MarketState, _: &mut Vec<VenueReport>) {
        self.sent.borrow_mut().push(o.clone());
    }
    fn cancel(&mut self, o: &Order) {
        self.cancels.borrow_mut().push(o.id);
    }
    fn cancels_at_once(&self) -> bool {
        false
    }
}

/// Buys 100 on every bar while flat and not working.
struct Buyer;

impl Strategy for Buyer {
    fn on_bar(&mut self, bar: &lockstep_core::Bar, ctx: &mut Context<'_>) {
        if ctx.position(bar.symbol).is_zero() && ctx.working(bar.symbol).is_zero() {
            ctx.submit(bar.symbol, Side::Buy, Qty::from(100), None);
        }
    }
}

fn engine(s: EngineSettings) -> (Engine<Broker, SimClock, MemoryJournal>, Broker) {
    let broker = Broker::default();
    let e = Engine::new(
        s,
        broker.clone(),
        SimClock::default(),
        vec![("buyer".into(), Box::new(Buyer) as Box<dyn Strategy>)],
        MemoryJournal::default(),
    );
    (e, broker)
}

fn the_bars() -> Vec<lockstep_core::Bar> {
    let mut src = bars(
        0,
        &[
            (0, "10.00", "10.00", "10.00", "10.00", 1e6),
            (1, "10.00", "10.10", "9.90", "10.00", 1e6),
            (2, "10.00", "10.10", "9.90", "10.00", 1e6),
        ],
    );
    let mut t = lockstep_core::SymbolTable::new();
    std::iter::from_fn(|| {
        lockstep_core::BarSource::next_bar(&mut src, &mut t)
            .ok()
            .flatten()
    })
    .collect()
}

#[test]
fn a_fill_that_wins_the_cancel_race_is_booked() {
    let (mut e, broker) = engine(settings());
    let b = the_bars();
    e.begin().expect("begin");
    assert_eq!(e.symbol("XYZ").0, 0);
    e.push(Input::Bar(b[0])).expect("bar");
    let id = broker.sent.borrow()[0].id;
    let t = |h: i64| UnixNanos(h * HOUR + 1);
    e.push(Input::Report(
        t(1),
        VenueReport::Accepted {
            order_id: id,
            ts: t(1),
        },
    ))
    .expect("ack");
    e.push(Input::Command(t(1), Command::CancelEntries))
        .expect("cancel");
    assert_eq!(
        *broker.cancels.borrow(),
        vec![id],
        "the cancel went to the venue"
    );
    let fill = VenueReport::Fill {
        order_id: id,
        ts: t(1),
        qty: Qty::from(100),
        price: Money::from(10),
        fee: Money::ZERO,
        liquidity: Liquidity::Taker,
        stale_price: false,
    };
    e.push(Input::Report(t(1), fill))
        .expect("the fill still books");
    e.push(Input::Bar(b[1])).expect("bar");
    assert_eq!(broker.sent.borrow().len(), 1, "holding 100: no new entry");
    let (out, j) = e.conclude(0).expect("end");
    assert_eq!(out.fills, 1);
    assert_eq!(j.orders[0].status(), OrderStatus::Filled);
}

#[test]
fn a_confirmed_cancel_gives_back_the_entrys_daily_count() {
    let s = EngineSettings {
        risk: RiskLimits {
            max_daily_trades: Some(1),
            ..RiskLimits::default()
        },
        ..settings()
    };
    let (mut e, broker) = engine(s);
    let b = the_bars();
    e.begin().expect("begin");
    e.symbol("XYZ");
    e.push(Input::Bar(b[0])).expect("bar");
    let id = broker.sent.borrow()[0].id;
    let t = UnixNanos(HOUR + 1);
    e.push(Input::Command(t, Command::CancelEntries))
        .expect("cancel");
    e.push(Input::Bar(b[1])).expect("bar");
    assert_eq!(
        broker.sent.borrow().len(),
        1,
        "still pending cancel: it may fill, so no second entry"
    );
    e.push(Input::Report(
        t,
        VenueReport::Cancelled {
            order_id: id,
            ts: t,
        },
    ))
    .expect("confirmed");
    e.push(Input::Bar(b[2])).expect("bar");
    assert_eq!(
        broker.sent.borrow().len(),
        2,
        "the cancelled entry no longer counts toward max_daily_trades"
    );
    let (_, j) = e.conclude(0).expect("end");
    assert_eq!(j.orders[0].status(), OrderStatus::Cancelled);
    assert!(j.rejections.is_empty(), "{:?}", j.rejections);
}

#[test]
fn entries_pause_while_the_update_stream_is_down() {
    let (mut e, broker) = engine(settings());
    let b = the_bars();
    e.begin().expect("begin");
    e.symbol("XYZ");
    e.push(Input::Command(UnixNanos(1), Command::PauseEntries))
        .expect("pause");
    e.push(Input::Bar(b[0])).expect("bar");
    assert!(
        broker.sent.borrow().is_empty(),
        "no entry while the stream is down"
    );
    e.push(Input::Command(UnixNanos(HOUR + 2), Command::ResumeEntries))
        .expect("resume");
    e.push(Input::Bar(b[1])).expect("bar");
    assert_eq!(broker.sent.borrow().len(), 1, "entries flow again");
    let (_, j) = e.conclude(0).expect("end");
    let codes: Vec<&str> = j.rejections.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(codes, vec!["venue_down"]);
}
