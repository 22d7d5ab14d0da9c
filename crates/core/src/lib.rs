//! Core types of lockstep: time, exact numbers, symbols, bars, orders, fills, reasons.
//!
//! This crate holds types only. It has no I/O, no clock and no floating-point money:
//! everything that reaches a ledger or a report is an exact [`rust_decimal::Decimal`].

pub mod bar;
pub mod calendar;
pub mod dec_serde;
pub mod event;
pub mod features;
pub mod fixed;
pub mod instrument;
pub mod order;
pub mod order_kind;
pub mod reason;
pub mod side;
pub mod signal;
pub mod source;
pub mod symbol;
pub mod time;

pub use bar::{Bar, Quote, QuoteSide};
pub use calendar::{Calendar, Session, SessionLookup};
pub use event::EventClass;
pub use fixed::{FixedError, Scale};
pub use instrument::{
    CryptoPair, ExerciseStyle, Instrument, OccError, OccSymbol, OptionContract, OptionRight,
    Settlement,
};
pub use order::{
    ClientOrderId, Fill, FillId, Liquidity, Order, OrderId, OrderIntent, OrderStatus, Origin, Side,
    StrategyId,
};
pub use order_kind::{OrderKind, TimeInForce};
pub use reason::{ExitReason, RejectCode};
pub use rust_decimal::Decimal;
pub use signal::{Direction, Signal};
pub use source::{BarSource, SourceError};
pub use symbol::{SymbolId, SymbolTable};
pub use time::{Interval, IsoWriter, TimeError, UnixNanos};

/// A price: exact decimal, never a float.
pub type Price = Decimal;
/// A quantity of an instrument (shares, contracts, coins): exact decimal.
pub type Qty = Decimal;
/// An amount of cash in the account currency: exact decimal.
pub type Money = Decimal;
