//! The report tables of DESIGN "Report files" built from a [`RunOutcome`]. Column names and
//! order are a contract.

use crate::table::{Column, ColumnData, Table};
use lockstep_core::{ExitReason, Side, StrategyId};
use lockstep_engine::RunOutcome;

fn col(name: &'static str, data: ColumnData) -> Column {
    Column { name, data }
}

fn money<T>(rows: &[T], f: impl Fn(&T) -> rust_decimal::Decimal) -> ColumnData {
    ColumnData::Dec(rows.iter().map(|r| Some(f(r))).collect(), 2)
}

fn qty<T>(rows: &[T], f: impl Fn(&T) -> rust_decimal::Decimal) -> ColumnData {
    ColumnData::Dec(rows.iter().map(|r| Some(f(r))).collect(), 0)
}

fn text<T>(rows: &[T], f: impl Fn(&T) -> String) -> ColumnData {
    ColumnData::Str(rows.iter().map(f).collect())
}

fn ts<T>(rows: &[T], f: impl Fn(&T) -> i64) -> ColumnData {
    ColumnData::Ts(rows.iter().map(f).collect())
}

fn reason(r: Option<ExitReason>) -> String {
    r.map(|r| r.as_str().to_string()).unwrap_or_default()
}

fn strategy(o: &RunOutcome, id: StrategyId) -> String {
    o.strategies.get(id.0 as usize).cloned().unwrap_or_default()
}

fn side(s: Side) -> String {
    s.as_str().to_string()
}

/// `fills`: fill_id, order_id, client_order_id, strategy, ts, symbol, side, qty, price, fee,
/// liquidity, exit_reason (empty for entries).
pub fn fills(o: &RunOutcome) -> Table {
    let r = &o.fills;
    Table {
        name: "fills",
        columns: vec![
            col(
                "fill_id",
                ColumnData::Int(r.iter().map(|f| f.fill_id.0 as i64).collect()),
            ),
            col(
                "order_id",
                ColumnData::Int(r.iter().map(|f| f.order_id.0 as i64).collect()),
            ),
            col("client_order_id", text(r, |f| f.client_order_id.0.clone())),
            col("strategy", text(r, |f| strategy(o, f.strategy))),
            col("ts", ts(r, |f| f.ts.0)),
            col("symbol", text(r, |f| o.symbols.name(f.symbol).to_string())),
            col("side", text(r, |f| side(f.side))),
            col("qty", qty(r, |f| f.qty)),
            col("price", money(r, |f| f.price)),
            col("fee", money(r, |f| f.fee)),
            col("liquidity", text(r, |f| f.liquidity.as_str().to_string())),
            col("exit_reason", text(r, |f| reason(f.exit_reason))),
        ],
    }
}

/// `orders`: one row per order with its final state.
pub fn orders(o: &RunOutcome) -> Table {
    let r = &o.orders;
    Table {
        name: "orders",
        columns: vec![
            col(
                "order_id",
                ColumnData::Int(r.iter().map(|x| x.id.0 as i64).collect()),
            ),
            col("client_order_id", text(r, |x| x.client_order_id.0.clone())),
            col("strategy", text(r, |x| strategy(o, x.strategy))),
            col("created_ts", ts(r, |x| x.created_ts.0)),
            col("updated_ts", ts(r, |x| x.updated_ts.0)),
            col("symbol", text(r, |x| o.symbols.name(x.symbol).to_string())),
            col("side", text(r, |x| side(x.side))),
            col("type", text(r, |_| "market".to_string())),
            col("qty", qty(r, |x| x.qty)),
            col("filled_qty", qty(r, |x| x.filled_qty)),
            col(
                "avg_fill_price",
                ColumnData::Dec(r.iter().map(|x| x.avg_fill_price()).collect(), 2),
            ),
            col("status", text(r, |x| x.status().as_str().to_string())),
            col("exit_reason", text(r, |x| reason(x.exit_reason))),
        ],
    }
}

/// `lots`: one row per FIFO allocation.
pub fn lots(o: &RunOutcome) -> Table {
    let r = &o.allocations;
    Table {
        name: "lots",
        columns: vec![
            col("symbol", text(r, |a| o.symbols.name(a.symbol).to_string())),
            col(
                "open_fill_id",
                ColumnData::Int(r.iter().map(|a| a.open_fill_id.0 as i64).collect()),
            ),
            col(
                "close_fill_id",
                ColumnData::Int(r.iter().map(|a| a.close_fill_id.0 as i64).collect()),
            ),
            col("qty", qty(r, |a| if a.long { a.qty } else { -a.qty })),
            col("open_ts", ts(r, |a| a.open_ts.0)),
            col("close_ts", ts(r, |a| a.close_ts.0)),
            col("open_price", money(r, |a| a.open_price)),
            col("close_price", money(r, |a| a.close_price)),
            col("open_fee", money(r, |a| a.open_fee)),
            col("close_fee", money(r, |a| a.close_fee)),
            col("gross_pnl", money(r, |a| a.gross_pnl)),
            col("net_pnl", money(r, |a| a.net_pnl)),
            col(
                "holding_secs",
                ColumnData::Int(r.iter().map(|a| a.holding_secs).collect()),
            ),
            col(
                "exit_reason",
                text(r, |a| a.exit_reason.as_str().to_string()),
            ),
        ],
    }
}

/// `equity`: ts, cash, positions_value, equity, realized_pnl.
pub fn equity(o: &RunOutcome) -> Table {
    let r = &o.equity;
    Table {
        name: "equity",
        columns: vec![
            col("ts", ts(r, |e| e.ts.0)),
            col("cash", money(r, |e| e.cash)),
            col("positions_value", money(r, |e| e.positions_value)),
            col("equity", money(r, |e| e.equity)),
            col("realized_pnl", money(r, |e| e.realized_pnl)),
        ],
    }
}

/// `rejections`: ts, strategy, symbol, side, qty, code, detail.
pub fn rejections(o: &RunOutcome) -> Table {
    let r = &o.rejections;
    Table {
        name: "rejections",
        columns: vec![
            col("ts", ts(r, |x| x.ts.0)),
            col("strategy", text(r, |x| strategy(o, x.strategy))),
            col("symbol", text(r, |x| o.symbols.name(x.symbol).to_string())),
            col("side", text(r, |x| side(x.side))),
            col("qty", qty(r, |x| x.qty)),
            col("code", text(r, |x| x.code.as_str().to_string())),
            col("detail", text(r, |x| x.detail.clone())),
        ],
    }
}

/// All tables in their fixed hashing order.
pub fn all(o: &RunOutcome) -> Vec<Table> {
    vec![fills(o), orders(o), lots(o), equity(o), rejections(o)]
}
