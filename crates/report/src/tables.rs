//! The report tables of DESIGN "Report files": column contracts and row formatting.

use crate::csv_table::{Kind, TableSpec};
use crate::fmt::{dec, money};
use lockstep_core::{ExitReason, Fill, Order};
use lockstep_engine::{Allocation, EquityPoint, Names, Rejection};

use Kind::{Dec, Int, Str, Ts};

/// `fills`: exit_reason is empty for entries.
pub const FILLS: TableSpec = TableSpec {
    name: "fills",
    columns: &[
        ("fill_id", Int),
        ("order_id", Int),
        ("client_order_id", Str),
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
        ("client_order_id", Str),
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

fn reason(r: Option<ExitReason>) -> String {
    r.map(|r| r.as_str().to_string()).unwrap_or_default()
}

/// A `fills` row.
pub fn fill_row(f: &Fill, n: &Names<'_>) -> Vec<String> {
    vec![
        f.fill_id.0.to_string(),
        f.order_id.0.to_string(),
        f.client_order_id.0.clone(),
        n.strategy(f.strategy).to_string(),
        f.ts.to_iso(),
        n.symbols.name(f.symbol).to_string(),
        f.side.as_str().to_string(),
        dec(f.qty, 0),
        money(f.price),
        money(f.fee),
        f.liquidity.as_str().to_string(),
        reason(f.exit_reason),
        f.stale_price.to_string(),
    ]
}

/// An `orders` row.
pub fn order_row(o: &Order, n: &Names<'_>) -> Vec<String> {
    vec![
        o.id.0.to_string(),
        o.client_order_id.0.clone(),
        n.strategy(o.strategy).to_string(),
        o.created_ts.to_iso(),
        o.updated_ts.to_iso(),
        n.symbols.name(o.symbol).to_string(),
        o.side.as_str().to_string(),
        o.kind.as_str().to_string(),
        o.kind.limit_price().map(money).unwrap_or_default(),
        o.kind.stop_price().map(money).unwrap_or_default(),
        o.tif.as_str().to_string(),
        dec(o.qty, 0),
        dec(o.filled_qty, 0),
        o.avg_fill_price().map(money).unwrap_or_default(),
        o.status().as_str().to_string(),
        reason(o.exit_reason),
    ]
}

/// A `lots` row ([`LOTS`]; with the book's strategy last when the allocation has one,
/// [`LOTS_PER_STRATEGY`]).
pub fn lot_row(a: &Allocation, n: &Names<'_>) -> Vec<String> {
    let mut row = vec![
        n.symbols.name(a.symbol).to_string(),
        a.open_fill_id.0.to_string(),
        a.close_fill_id.0.to_string(),
        dec(if a.long { a.qty } else { -a.qty }, 0),
        a.open_ts.to_iso(),
        a.close_ts.to_iso(),
        money(a.open_price),
        money(a.close_price),
        money(a.open_fee),
        money(a.close_fee),
        money(a.gross_pnl),
        money(a.net_pnl),
        a.holding_secs.to_string(),
        a.exit_reason.as_str().to_string(),
    ];
    if let Some(book) = a.book {
        row.push(n.strategy(book).to_string());
    }
    row
}

/// An `equity` row.
pub fn equity_row(e: &EquityPoint) -> Vec<String> {
    vec![
        e.ts.to_iso(),
        money(e.cash),
        money(e.positions_value),
        money(e.equity),
        money(e.realized_pnl),
    ]
}

/// A `rejections` row.
pub fn rejection_row(r: &Rejection, n: &Names<'_>) -> Vec<String> {
    vec![
        r.ts.to_iso(),
        n.strategy(r.strategy).to_string(),
        n.symbols.name(r.symbol).to_string(),
        r.side.as_str().to_string(),
        dec(r.qty, 0),
        r.code.as_str().to_string(),
        r.detail.clone(),
    ]
}
