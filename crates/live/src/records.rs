//! What a session writes to its journal and reads back: engine inputs (bars, venue reports,
//! ticks, commands) as records the loop can be fed again, and every decision the loop made
//! as one canonical JSON line, so a replay can be compared decision by decision.

use crate::journal::{NewRecord, RecordKind};
use lockstep_core::{
    Bar, Liquidity, OrderId, Price, Qty, Quote, QuoteSide, RejectCode, Scale, Signal, SymbolTable,
    UnixNanos,
};
use lockstep_engine::{Command, Entry, Input, Names, VenueReport};
use serde_json::{json, Value};

/// A journal record that cannot be turned back into an input.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("journal record {seq}: {reason}")]
pub struct DecodeError {
    /// The record's sequence number.
    pub seq: u64,
    /// What is wrong with it.
    pub reason: String,
}

fn side_json(s: &Option<QuoteSide>) -> Value {
    s.map_or(Value::Null, |q| json!([q.open, q.high, q.low, q.close]))
}

/// The journal record of an input the loop is about to consume.
pub fn input_record(input: &Input, symbols: &SymbolTable) -> NewRecord {
    let (kind, body) = match input {
        Input::Bar(b) => (
            RecordKind::Bar,
            json!({
                "symbol": symbols.name(b.symbol), "ts": b.ts.0, "end": b.end.0,
                "scale": b.scale.dp(), "o": b.open, "h": b.high, "l": b.low, "c": b.close,
                "v": b.volume,
                "quote": b.quote.map(|q| json!({"bid": side_json(&q.bid), "ask": side_json(&q.ask)})),
            }),
        ),
        Input::Report(at, r) => (
            RecordKind::VenueReport,
            json!({"at": at.0, "report": report_json(r)}),
        ),
        Input::Tick(at) => (RecordKind::Timer, json!({"at": at.0})),
        Input::Command(at, c) => (
            RecordKind::Command,
            json!({"at": at.0, "command": command_name(*c)}),
        ),
        Input::Signal(signal) => (RecordKind::Signal, signal_json(signal)),
    };
    NewRecord::new(input.ts().0, kind, body.to_string())
}

/// Every operator command.
const COMMANDS: [Command; 9] = [
    Command::CancelEntries,
    Command::PauseEntries,
    Command::ResumeEntries,
    Command::Kill,
    Command::KillFlatten,
    Command::Lift,
    Command::BrokerError,
    Command::ClockSkewed,
    Command::ClockAgrees,
];

/// A command's journal name.
fn command_name(c: Command) -> &'static str {
    match c {
        Command::CancelEntries => "cancel_entries",
        Command::PauseEntries => "pause_entries",
        Command::ResumeEntries => "resume_entries",
        Command::Kill => "kill",
        Command::KillFlatten => "kill_flatten",
        Command::Lift => "lift",
        Command::BrokerError => "broker_error",
        Command::ClockSkewed => "clock_skewed",
        Command::ClockAgrees => "clock_agrees",
    }
}

/// A venue report as JSON (decimals as text).
pub fn report_json(r: &VenueReport) -> Value {
    match r {
        VenueReport::Accepted { order_id, ts } => {
            json!({"type": "accepted", "order": order_id.0, "ts": ts.0})
        }
        VenueReport::Rejected {
            order_id,
            ts,
            reason,
        } => {
            json!({"type": "rejected", "order": order_id.0, "ts": ts.0, "reason": reason})
        }
        VenueReport::Withdrawn {
            order_id,
            ts,
            code,
            detail,
        } => json!({
            "type": "withdrawn", "order": order_id.0, "ts": ts.0, "code": code.as_str(),
            "detail": detail,
        }),
        VenueReport::Expired { order_id, ts } => {
            json!({"type": "expired", "order": order_id.0, "ts": ts.0})
        }
        VenueReport::Cancelled { order_id, ts } => {
            json!({"type": "cancelled", "order": order_id.0, "ts": ts.0})
        }
        VenueReport::Fill {
            order_id,
            ts,
            qty,
            price,
            fee,
            liquidity,
            stale_price,
        } => json!({
            "type": "fill", "order": order_id.0, "ts": ts.0, "qty": qty.to_string(),
            "price": price.to_string(), "fee": fee.to_string(),
            "liquidity": liquidity.as_str(), "stale_price": stale_price,
        }),
    }
}

/// Reads a field of a JSON object.
fn field<'a>(v: &'a Value, key: &str, seq: u64) -> Result<&'a Value, DecodeError> {
    v.get(key).ok_or_else(|| DecodeError {
        seq,
        reason: format!("missing field `{key}`"),
    })
}

fn int(v: &Value, key: &str, seq: u64) -> Result<i64, DecodeError> {
    field(v, key, seq)?.as_i64().ok_or_else(|| DecodeError {
        seq,
        reason: format!("field `{key}` is not an integer"),
    })
}

fn text<'a>(v: &'a Value, key: &str, seq: u64) -> Result<&'a str, DecodeError> {
    field(v, key, seq)?.as_str().ok_or_else(|| DecodeError {
        seq,
        reason: format!("field `{key}` is not text"),
    })
}

fn decimal(v: &Value, key: &str, seq: u64) -> Result<Price, DecodeError> {
    text(v, key, seq)?.parse().map_err(|_| DecodeError {
        seq,
        reason: format!("field `{key}` is not a decimal"),
    })
}

fn quote_side(v: &Value, seq: u64) -> Result<Option<QuoteSide>, DecodeError> {
    if v.is_null() {
        return Ok(None);
    }
    let a: Vec<i64> = v
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_i64).collect())
        .unwrap_or_default();
    match a.as_slice() {
        [open, high, low, close] => Ok(Some(QuoteSide {
            open: *open,
            high: *high,
            low: *low,
            close: *close,
        })),
        _ => Err(DecodeError {
            seq,
            reason: "a quote side must be four integers".into(),
        }),
    }
}

/// The input a journal record holds, or `None` for a record that is not an input.
/// Symbols are interned into `symbols` (the engine's table).
pub fn decode_input(
    seq: u64,
    kind: RecordKind,
    body: &str,
    symbols: &mut SymbolTable,
) -> Result<Option<Input>, DecodeError> {
    let bad = |reason: String| DecodeError { seq, reason };
    if !matches!(
        kind,
        RecordKind::Bar
            | RecordKind::VenueReport
            | RecordKind::Timer
            | RecordKind::Command
            | RecordKind::Signal
    ) {
        return Ok(None);
    }
    let v: Value = serde_json::from_str(body).map_err(|e| bad(format!("not JSON: {e}")))?;
    let input = match kind {
        RecordKind::Bar => {
            let dp = u32::try_from(int(&v, "scale", seq)?).map_err(|_| bad("bad scale".into()))?;
            let scale = Scale::new(dp).ok_or_else(|| bad(format!("bad scale {dp}")))?;
            let quote = match v.get("quote") {
                None | Some(Value::Null) => None,
                Some(q) => Some(Quote {
                    bid: quote_side(field(q, "bid", seq)?, seq)?,
                    ask: quote_side(field(q, "ask", seq)?, seq)?,
                }),
            };
            Input::Bar(Bar {
                ts: UnixNanos(int(&v, "ts", seq)?),
                end: UnixNanos(int(&v, "end", seq)?),
                symbol: symbols.intern(text(&v, "symbol", seq)?),
                scale,
                open: int(&v, "o", seq)?,
                high: int(&v, "h", seq)?,
                low: int(&v, "l", seq)?,
                close: int(&v, "c", seq)?,
                volume: field(&v, "v", seq)?.as_f64().unwrap_or(0.0),
                quote,
            })
        }
        RecordKind::VenueReport => Input::Report(
            UnixNanos(int(&v, "at", seq)?),
            decode_report(field(&v, "report", seq)?, seq)?,
        ),
        RecordKind::Timer => Input::Tick(UnixNanos(int(&v, "at", seq)?)),
        RecordKind::Signal => Input::Signal(Box::new(decode_signal(&v, seq)?)),
        _ => {
            let name = text(&v, "command", seq)?;
            let c = COMMANDS
                .into_iter()
                .find(|c| command_name(*c) == name)
                .ok_or_else(|| bad(format!("unknown command `{name}`")))?;
            Input::Command(UnixNanos(int(&v, "at", seq)?), c)
        }
    };
    Ok(Some(input))
}

/// A signal's journal body: the signal as a recorded-signal line would hold it (exact
/// receive time in nanoseconds beside it).
pub fn signal_json(s: &Signal) -> Value {
    let line: Value =
        serde_json::from_str(&lockstep_data::signals::signal_line(s)).unwrap_or(Value::Null);
    json!({"at": s.ts.0, "signal": line})
}

/// A signal from its journal body.
pub fn decode_signal(v: &Value, seq: u64) -> Result<Signal, DecodeError> {
    let Value::Object(obj) = field(v, "signal", seq)? else {
        return Err(DecodeError {
            seq,
            reason: "field `signal` is not an object".into(),
        });
    };
    let mut s = lockstep_data::signals::parse_object(obj).map_err(|(f, why)| DecodeError {
        seq,
        reason: format!("signal {f}: {why}"),
    })?;
    s.ts = UnixNanos(int(v, "at", seq)?);
    Ok(s)
}

/// A venue report from its JSON.
pub fn decode_report(v: &Value, seq: u64) -> Result<VenueReport, DecodeError> {
    let order_id = OrderId(int(v, "order", seq)? as u64);
    let ts = UnixNanos(int(v, "ts", seq)?);
    Ok(match text(v, "type", seq)? {
        "accepted" => VenueReport::Accepted { order_id, ts },
        "expired" => VenueReport::Expired { order_id, ts },
        "cancelled" => VenueReport::Cancelled { order_id, ts },
        "rejected" => VenueReport::Rejected {
            order_id,
            ts,
            reason: text(v, "reason", seq)?.to_string(),
        },
        "withdrawn" => VenueReport::Withdrawn {
            order_id,
            ts,
            code: RejectCode::parse(text(v, "code", seq)?).ok_or_else(|| DecodeError {
                seq,
                reason: "unknown withdrawal code".into(),
            })?,
            detail: text(v, "detail", seq)?.to_string(),
        },
        "fill" => VenueReport::Fill {
            order_id,
            ts,
            qty: decimal(v, "qty", seq)? as Qty,
            price: decimal(v, "price", seq)?,
            fee: decimal(v, "fee", seq)?,
            liquidity: if text(v, "liquidity", seq)? == "maker" {
                Liquidity::Maker
            } else {
                Liquidity::Taker
            },
            stale_price: field(v, "stale_price", seq)?.as_bool().unwrap_or(false),
        },
        other => {
            return Err(DecodeError {
                seq,
                reason: format!("unknown report type `{other}`"),
            })
        }
    })
}

fn reason(r: Option<lockstep_core::ExitReason>) -> &'static str {
    r.map_or("", |r| r.as_str())
}

/// One decision as a canonical JSON line: the same decision always gives the same text.
pub fn decision_json(entry: &Entry<'_>, names: &Names<'_>) -> String {
    let sym = |s| names.symbols.name(s);
    let v = match entry {
        Entry::Submitted(o) => json!({
            "submitted": o.client_order_id.0, "ts": o.created_ts.0,
            "strategy": names.strategy(o.strategy), "symbol": sym(o.symbol),
            "side": o.side.as_str(), "qty": o.qty.to_string(), "type": o.kind.as_str(),
            "limit": o.kind.limit_price().map(|p| p.to_string()),
            "stop": o.kind.stop_price().map(|p| p.to_string()),
            "tif": o.tif.as_str(), "exit_reason": reason(o.exit_reason),
            "engine_exit": o.is_engine_exit(),
        }),
        Entry::Order(o) => json!({
            "order": o.client_order_id.0, "status": o.status().as_str(),
            "filled_qty": o.filled_qty.to_string(), "ts": o.updated_ts.0,
        }),
        Entry::Rejection(r) => json!({
            "rejection": r.code.as_str(), "ts": r.ts.0, "strategy": names.strategy(r.strategy),
            "symbol": sym(r.symbol), "side": r.side.as_str(), "qty": r.qty.to_string(),
            "detail": r.detail,
        }),
        Entry::Fill(f) => json!({
            "fill": f.fill_id.0, "order": f.client_order_id.0, "ts": f.ts.0,
            "symbol": sym(f.symbol), "side": f.side.as_str(), "qty": f.qty.to_string(),
            "price": f.price.to_string(), "fee": f.fee.to_string(),
            "liquidity": f.liquidity.as_str(), "exit_reason": reason(f.exit_reason),
            "stale_price": f.stale_price,
        }),
        Entry::Allocation(a) => json!({
            "lot": sym(a.symbol), "open_fill": a.open_fill_id.0, "close_fill": a.close_fill_id.0,
            "qty": a.qty.to_string(), "open_price": a.open_price.to_string(),
            "close_price": a.close_price.to_string(), "net_pnl": a.net_pnl.to_string(),
            "exit_reason": a.exit_reason.as_str(),
        }),
        Entry::Equity(e) => json!({
            "equity": e.equity.to_string(), "cash": e.cash.to_string(), "ts": e.ts.0,
            "realized_pnl": e.realized_pnl.to_string(),
        }),
        Entry::Eod(session, ts) => json!({"eod": session.to_string(), "ts": ts.0}),
        Entry::Alert(a) => json!({
            "alert": a.detail, "ts": a.ts.0, "symbol": a.symbol.map(sym),
        }),
    };
    v.to_string()
}
