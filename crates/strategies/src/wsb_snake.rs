//! `wsb_snake`: the momentum rule of the 0DTE SPY scalper (seeds 000/001), reduced to what
//! can be stated and tested.
//!
//! Rule, on the underlying's one-minute bars: when the close has risen on each of the last
//! `run` bars and the move over them is at least `min_move_pct`, buy `contracts` of the
//! at-the-money call expiring today; when it has fallen the same way, buy the ATM put. At
//! most one open position (filled or working) per direction; no entry before `start` or
//! from `stop` (New York time). It never sells: the exit manager closes positions (target,
//! stop, max hold) and the EOD guard closes what expires today.
//!
//! Two guards the seed lacked (its audit: "market orders; no explicit spread check"):
//! `max_spread_pct` skips a contract whose last quote is one-sided or wider than that
//! fraction of its mid, and `entry = "limit"` buys with an immediate-or-cancel limit at the
//! last ask, so an entry never pays more than the price the risk engine approved.

use chrono::NaiveTime;
use lockstep_core::{
    dec_serde, Bar, Decimal, OptionRight, OrderKind, Qty, Side, SymbolId, TimeInForce,
};
use lockstep_engine::options::chain::{AtmRequest, ExpiryRule};
use lockstep_engine::{Context, Strategy};
use serde::Deserialize;

/// Parameters (`[strategy]` table).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WsbSnakeParams {
    /// The underlying whose bars give the signal (e.g. `SPX`, `SPY`, `GOOG`). Required.
    pub underlying: String,
    /// Consecutive rising (or falling) closes that make a signal. Default 3.
    #[serde(default = "default_run")]
    pub run: usize,
    /// Smallest move over those bars, as a fraction of the first close. Default 0.0005.
    #[serde(default = "default_move", deserialize_with = "dec_serde::decimal")]
    pub min_move_pct: Decimal,
    /// Contracts per entry. Default 1.
    #[serde(default = "default_contracts", deserialize_with = "dec_serde::decimal")]
    pub contracts: Qty,
    /// No entry before this New York time. Default 09:45.
    #[serde(default = "default_start")]
    pub start: String,
    /// No entry from this New York time. Default 15:30.
    #[serde(default = "default_stop")]
    pub stop: String,
    /// A contract is in the chain while it traded or was quoted this recently. Default 600 s.
    #[serde(default = "default_fresh")]
    pub fresh_secs: i64,
    /// Skip a contract whose last quote is one-sided or whose spread is wider than this
    /// fraction of its mid (0.05 = 5 %). Default: no check.
    #[serde(default, deserialize_with = "dec_serde::opt_decimal")]
    pub max_spread_pct: Option<Decimal>,
    /// How entries are sent: `market` (default) or `limit` (immediate-or-cancel at the
    /// contract's last ask, or its last close on a trade bar).
    #[serde(default)]
    pub entry: EntryOrder,
}

/// The order an entry is sent as.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum EntryOrder {
    /// A market order: fills at the next bar's ask, whatever it is.
    #[default]
    Market,
    /// An immediate-or-cancel limit at the last ask: pays at most that.
    Limit,
}

fn default_run() -> usize {
    3
}
fn default_move() -> Decimal {
    Decimal::new(5, 4)
}
fn default_contracts() -> Qty {
    Qty::ONE
}
fn default_start() -> String {
    "09:45".into()
}
fn default_stop() -> String {
    "15:30".into()
}
fn default_fresh() -> i64 {
    600
}

/// The strategy.
#[derive(Debug, Clone)]
pub struct WsbSnake {
    p: WsbSnakeParams,
    start: NaiveTime,
    stop: NaiveTime,
    closes: Vec<i64>,
    held: Vec<(SymbolId, OptionRight)>,
}

impl WsbSnake {
    /// Validates the parameters: `run >= 1`, positive contracts, `start < stop` as HH:MM.
    pub fn new(p: WsbSnakeParams) -> Result<Self, String> {
        let time = |s: &str| {
            NaiveTime::parse_from_str(s, "%H:%M").map_err(|_| format!("`{s}` is not HH:MM"))
        };
        let (start, stop) = (time(&p.start)?, time(&p.stop)?);
        if start >= stop {
            return Err(format!("start {} must be before stop {}", p.start, p.stop));
        }
        if p.run == 0 {
            return Err("run must be at least 1".into());
        }
        if p.contracts <= Qty::ZERO {
            return Err(format!("contracts must be positive, got {}", p.contracts));
        }
        if p.max_spread_pct.is_some_and(|s| s <= Decimal::ZERO) {
            return Err("max_spread_pct must be above 0".into());
        }
        Ok(WsbSnake {
            start,
            stop,
            closes: Vec::with_capacity(p.run + 1),
            held: Vec::new(),
            p,
        })
    }

    /// `Some(Call)` after `run` rising closes moving at least `min_move_pct`, `Some(Put)`
    /// after as many falling ones, else `None`.
    fn signal(&self, scale: lockstep_core::Scale) -> Option<OptionRight> {
        if self.closes.len() <= self.p.run {
            return None;
        }
        let pairs = self.closes.windows(2);
        let first = scale.to_decimal(self.closes[0]);
        let last = scale.to_decimal(self.closes[self.closes.len() - 1]);
        let moved = (last - first).abs() >= first * self.p.min_move_pct;
        if pairs.clone().all(|w| w[1] > w[0]) && moved {
            Some(OptionRight::Call)
        } else if pairs.clone().all(|w| w[1] < w[0]) && moved {
            Some(OptionRight::Put)
        } else {
            None
        }
    }
}

/// True when `bar` is a two-sided quote whose spread is at most `max` of its mid (a trade bar
/// has no spread to judge and passes).
fn spread_within(bar: &Bar, max: Decimal) -> bool {
    let Some(q) = bar.quote else {
        return true;
    };
    let (Some(bid), Some(ask)) = (q.bid, q.ask) else {
        return false;
    };
    let (bid, ask) = (
        bar.scale.to_decimal(bid.close),
        bar.scale.to_decimal(ask.close),
    );
    let mid = (bid + ask) / Decimal::TWO;
    mid > Decimal::ZERO && ask - bid <= mid * max
}

impl Strategy for WsbSnake {
    fn on_bar(&mut self, bar: &Bar, ctx: &mut Context<'_>) {
        if ctx.symbol_name(bar.symbol) != self.p.underlying {
            return;
        }
        if self.closes.len() > self.p.run {
            self.closes.remove(0);
        }
        self.closes.push(bar.close);
        let local = bar
            .end
            .to_datetime()
            .with_timezone(&chrono_tz::America::New_York)
            .time();
        if local < self.start || local >= self.stop {
            return;
        }
        let Some(right) = self.signal(bar.scale) else {
            return;
        };
        self.held
            .retain(|(s, _)| !(ctx.position(*s) + ctx.working(*s)).is_zero());
        if self.held.iter().any(|(_, r)| *r == right) {
            return;
        }
        let req = AtmRequest {
            underlying: &self.p.underlying,
            right,
            expiry: ExpiryRule::ZeroDte,
            fresh_secs: self.p.fresh_secs,
        };
        let Some(contract) = ctx.select_atm(&req) else {
            return;
        };
        let Some(last) = ctx.last_bar(contract) else {
            return;
        };
        if let Some(max) = self.p.max_spread_pct {
            if !spread_within(last, max) {
                return;
            }
        }
        match self.p.entry {
            EntryOrder::Market => ctx.submit(contract, Side::Buy, self.p.contracts, None),
            EntryOrder::Limit => {
                let Some(ask) = last.facing(Side::Buy).map(|a| a.close_price()) else {
                    return;
                };
                let kind = OrderKind::Limit { limit: ask };
                ctx.submit_order(
                    contract,
                    Side::Buy,
                    self.p.contracts,
                    kind,
                    TimeInForce::Ioc,
                );
            }
        }
        self.held.push((contract, right));
    }
}
