//! The report tables of DESIGN "Report files": column contracts and row formatting.

use crate::csv_table::{Cell, Kind, TableSpec};
use lockstep_core::{ExitReason, Fill, Order};
use lockstep_engine::{Allocation, EquityPoint, Names, Rejection};
use rust_decimal::Decimal;

use Kind::{Dec, Id, Int, Str, Ts};

/// `fills`: exit_reason is empty for entries.
pub const FILLS: TableSpec = TableSpec {
    name: "fills",
    columns: &[
        ("fill_id", Int),
        ("order_id", Int),
        ("client_order_id", Id),
        ("strategy", Str),
        ("ts", Ts),
        ("symbol", Str),
        ("side", Str),
        ("qty", Dec),
        ("price", Dec),
        ("fee", Dec),
        ("liquidity", Str),
        ("exit_reason", Str),
        ("stale_price", Str),
    ],
};

/// `orders`: one row per order, written when it reaches its final state.
pub const ORDERS: TableSpec = TableSpec {
    name: "orders",
    columns: &[
        ("order_id", Int),
        ("client_order_id", Id),
        ("strategy", Str),
        ("created_ts", Ts),
        ("updated_ts", Ts),
        ("symbol", Str),
        ("side", Str),
        ("type", Str),
        ("limit_price", Dec),
        ("stop_price", Dec),
        ("tif", Str),
        ("qty", Dec),
        ("filled_qty", Dec),
        ("avg_fill_price", Dec),
        ("status", Str),
        ("exit_reason", Str),
    ],
};

/// The columns of `lots` with per-strategy books; a shared book writes all but the last.
const LOT_COLUMNS: [(&str, Kind); 15] = [
    ("symbol", Str),
    ("open_fill_id", Int),
    ("close_fill_id", Int),
    ("qty", Dec),
    ("open_ts", Ts),
    ("close_ts", Ts),
    ("open_price", Dec),
    ("close_price", Dec),
    ("open_fee", Dec),
    ("close_fee", Dec),
    ("gross_pnl", Dec),
    ("net_pnl", Dec),
    ("holding_secs", Int),
    ("exit_reason", Str),
    ("strategy", Str),
];

/// `lots`: one row per FIFO allocation; qty is negative for a closed short lot.
pub const LOTS: TableSpec = TableSpec {
    name: "lots",
    columns: LOT_COLUMNS.split_at(14).0,
};

/// `lots` with per-strategy books: the same columns, then the book's `strategy`.
pub const LOTS_PER_STRATEGY: TableSpec = TableSpec {
    name: "lots",
    columns: &LOT_COLUMNS,
};

/// `equity`: one row per session close (or per bar).
pub const EQUITY: TableSpec = TableSpec {
    name: "equity",
    columns: &[
        ("ts", Ts),
        ("cash", Dec),
        ("positions_value", Dec),
        ("equity", Dec),
        ("realized_pnl", Dec),
    ],
};

/// `rejections`: refused intents and orders with their code.
pub const REJECTIONS: TableSpec = TableSpec {
    name: "rejections",
    columns: &[
        ("ts", Ts),
        ("strategy", Str),
        ("symbol", Str),
        ("side", Str),
        ("qty", Dec),
        ("code", Str),
        ("detail", Str),
    ],
};

/// Every table, in hashing order.
pub const ALL: [TableSpec; 5] = [FILLS, ORDERS, LOTS, EQUITY, REJECTIONS];

fn reason(r: Option<ExitReason>) -> Cell<'static> {
    Cell::Text(r.map_or("", ExitReason::as_str))
}

fn id(v: u64) -> Cell<'static> {
    Cell::Int(i64::try_from(v).unwrap_or(i64::MAX))
}

/// A quantity: whole numbers print without decimals.
fn qty(d: Decimal) -> Cell<'static> {
    Cell::Dec(Some(d), 0)
}

/// Money and prices: at least 2 decimals; `None` is an empty cell.
fn money(d: Option<Decimal>) -> Cell<'static> {
    Cell::Dec(d, 2)
}

/// A `fills` row.
pub fn fill_row<'a>(f: &'a Fill, n: &'a Names<'_>) -> [Cell<'a>; 13] {
    [
        id(f.fill_id.0),
        id(f.order_id.0),
        Cell::Text(&f.client_order_id.0),
        Cell::Text(n.strategy(f.strategy)),
        Cell::Ts(f.ts),
        Cell::Text(n.symbols.name(f.symbol)),
        Cell::Text(f.side.as_str()),
        qty(f.qty),
        money(Some(f.price)),
        money(Some(f.fee)),
        Cell::Text(f.liquidity.as_str()),
        reason(f.exit_reason),
        Cell::Text(if f.stale_price { "true" } else { "false" }),
    ]
}

/// An `orders` row.
pub fn order_row<'a>(o: &'a Order, n: &'a Names<'_>) -> [Cell<'a>; 16] {
    [
        id(o.id.0),
        Cell::Text(&o.client_order_id.0),
        Cell::Text(n.strategy(o.strategy)),
        Cell::Ts(o.created_ts),
        Cell::Ts(o.updated_ts),
        Cell::Text(n.symbols.name(o.symbol)),
        Cell::Text(o.side.as_str()),
        Cell::Text(o.kind.as_str()),
        money(o.kind.limit_price()),
        money(o.kind.stop_price()),
        Cell::Text(o.tif.as_str()),
        qty(o.qty),
        qty(o.filled_qty),
        money(o.avg_fill_price()),
        Cell::Text(o.status().as_str()),
        reason(o.exit_reason),
    ]
}

/// A `lots` row ([`LOTS`], 14 cells; with the book's strategy as a 15th when the
/// allocation has one, [`LOTS_PER_STRATEGY`]). Returns the cells and how many are used.
pub fn lot_row<'a>(a: &'a Allocation, n: &'a Names<'_>) -> ([Cell<'a>; 15], usize) {
    let book = a.book.map(|b| n.strategy(b));
    let row = [
        Cell::Text(n.symbols.name(a.symbol)),
        id(a.open_fill_id.0),
        id(a.close_fill_id.0),
        qty(if a.long { a.qty } else { -a.qty }),
        Cell::Ts(a.open_ts),
        Cell::Ts(a.close_ts),
        money(Some(a.open_price)),
        money(Some(a.close_price)),
        money(Some(a.open_fee)),
        money(Some(a.close_fee)),
        money(Some(a.gross_pnl)),
        money(Some(a.net_pnl)),
        Cell::Int(a.holding_secs),
        Cell::Text(a.exit_reason.as_str()),
        Cell::Text(book.unwrap_or("")),
    ];
    (row, if book.is_some() { 15 } else { 14 })
}

/// An `equity` row.
pub fn equity_row(e: &EquityPoint) -> [Cell<'static>; 5] {
    [
        Cell::Ts(e.ts),
        money(Some(e.cash)),
        money(Some(e.positions_value)),
        money(Some(e.equity)),
        money(Some(e.realized_pnl)),
    ]
}

/// A `rejections` row.
pub fn rejection_row<'a>(r: &'a Rejection, n: &'a Names<'_>) -> [Cell<'a>; 7] {
    [
        Cell::Ts(r.ts),
        Cell::Text(n.strategy(r.strategy)),
        Cell::Text(n.symbols.name(r.symbol)),
        Cell::Text(r.side.as_str()),
        qty(r.qty),
        Cell::Text(r.code.as_str()),
        Cell::Text(&r.detail),
    ]
}
