//! The FIFO ledger: lots per instrument, exact fee splits, one allocation per closed slice.
//!
//! Buys close shorts first (oldest lot first), then open a long lot; sells close longs
//! first, then open a short lot. An opening fee is part of its lot's cost basis and is
//! released pro rata as the lot closes; a closing fee is split pro rata across the lots it
//! closes. Every split gives the remainder to the last part, so parts sum to the whole.
//! Cash, P&L and marked value scale with each instrument's multiplier (100 for a standard
//! option contract, 1 otherwise): prices stay per unit of the underlying.
//!
//! Books: by default every strategy shares one book per instrument, so one strategy's sell
//! closes the oldest lot whoever opened it. With per-strategy books ([`Ledger::per_strategy`])
//! a fill closes only lots its own strategy opened; cash, fees and P&L stay account-wide
//! sums, and every allocation names its book.

use lockstep_core::{
    ExitReason, Fill, FillId, Money, Price, Qty, Side, StrategyId, SymbolId, UnixNanos,
};
use std::collections::VecDeque;

/// Decimal places of non-final fee parts (the last part takes the exact remainder).
pub const FEE_SPLIT_DP: u32 = 8;

/// An open lot: what is left of one opening fill.
#[derive(Debug, Clone, PartialEq)]
pub struct Lot {
    /// The fill that opened it.
    pub open_fill: FillId,
    /// When it opened.
    pub open_ts: UnixNanos,
    /// True for a long lot, false for a short lot.
    pub long: bool,
    /// Quantity still open (> 0).
    pub qty: Qty,
    /// Opening price.
    pub price: Price,
    /// Part of the opening fee not yet released to allocations.
    pub fee_left: Money,
    /// The strategy whose fill opened it.
    pub owner: StrategyId,
}

/// One closed slice of a lot: the row of the `lots` report.
#[derive(Debug, Clone, PartialEq)]
pub struct Allocation {
    /// Instrument.
    pub symbol: SymbolId,
    /// True when a long lot was closed.
    pub long: bool,
    /// Opening fill.
    pub open_fill_id: FillId,
    /// Closing fill.
    pub close_fill_id: FillId,
    /// Quantity closed.
    pub qty: Qty,
    /// Opening time.
    pub open_ts: UnixNanos,
    /// Closing time.
    pub close_ts: UnixNanos,
    /// Opening price.
    pub open_price: Price,
    /// Closing price.
    pub close_price: Price,
    /// Share of the opening fee.
    pub open_fee: Money,
    /// Share of the closing fee.
    pub close_fee: Money,
    /// Price P&L: (close - open) x qty x multiplier for longs, (open - close) x qty x
    /// multiplier for shorts.
    pub gross_pnl: Money,
    /// `gross_pnl - open_fee - close_fee`.
    pub net_pnl: Money,
    /// Whole seconds between open and close.
    pub holding_secs: i64,
    /// Why the closing fill happened.
    pub exit_reason: ExitReason,
    /// The strategy whose book it was, with per-strategy books (`None` in a shared book,
    /// where the opening and closing fills may belong to different strategies).
    pub book: Option<StrategyId>,
}

/// The book of record: cash, lots and allocations. All money exact.
#[derive(Debug, Clone)]
pub struct Ledger {
    initial_cash: Money,
    cash: Money,
    fees: Money,
    realized: Money,
    lots: Vec<VecDeque<Lot>>,
    multipliers: Vec<Money>,
    closed: u64,
    per_strategy: bool,
}

/// `total x part / whole`, rounded for all but the last part.
fn pro_rata(total: Money, part: Qty, whole: Qty, last: bool, already: Money) -> Money {
    if last {
        total - already
    } else {
        (total * part / whole).round_dp(FEE_SPLIT_DP)
    }
}

impl Ledger {
    /// An empty book with `initial_cash`.
    pub fn new(initial_cash: Money) -> Self {
        Ledger {
            initial_cash,
            cash: initial_cash,
            fees: Money::ZERO,
            realized: Money::ZERO,
            lots: Vec::new(),
            multipliers: Vec::new(),
            closed: 0,
            per_strategy: false,
        }
    }

    /// The same book with one FIFO queue per strategy and instrument: a fill closes only
    /// lots of its own strategy. Call before the first fill.
    pub fn per_strategy(mut self) -> Self {
        self.per_strategy = true;
        self
    }

    /// Sets `symbol`'s multiplier (units of the underlying per unit traded), before its
    /// first fill.
    pub fn set_multiplier(&mut self, symbol: SymbolId, multiplier: Money) {
        let i = symbol.index();
        if self.multipliers.len() <= i {
            self.multipliers.resize(i + 1, Money::ONE);
        }
        self.multipliers[i] = multiplier;
    }

    /// `symbol`'s multiplier (1 unless set).
    pub fn multiplier(&self, symbol: SymbolId) -> Money {
        self.multipliers
            .get(symbol.index())
            .copied()
            .unwrap_or(Money::ONE)
    }

    /// Applies one fill, appending the allocations it writes to `out` (none for pure
    /// openings). Returns how many it wrote.
    pub fn apply(&mut self, fill: &Fill, out: &mut Vec<Allocation>) -> usize {
        let m = self.multiplier(fill.symbol);
        let notional = fill.qty * fill.price * m;
        match fill.side {
            Side::Buy => self.cash -= notional,
            Side::Sell => self.cash += notional,
        }
        self.cash -= fill.fee;
        self.fees += fill.fee;
        let i = fill.symbol.index();
        if self.lots.len() <= i {
            self.lots.resize_with(i + 1, VecDeque::new);
        }
        let buying = fill.side == Side::Buy;
        let per_strategy = self.per_strategy;
        let reason = fill.exit_reason.unwrap_or(ExitReason::Signal);
        let book = &mut self.lots[i];
        // The lots it closes, as allocations still without their share of the closing fee
        // (known once the closed quantity is): written straight into `out`, no buffer.
        let first = out.len();
        let mut left = fill.qty;
        let mut at = 0;
        while left > Qty::ZERO && at < book.len() {
            let lot = &mut book[at];
            if per_strategy && lot.owner != fill.strategy {
                at += 1;
                continue;
            }
            // One book's lots are all on one side: nothing further to close.
            if lot.long == buying {
                break;
            }
            let q = left.min(lot.qty);
            let whole_lot = q == lot.qty;
            let open_fee = pro_rata(lot.fee_left, q, lot.qty, whole_lot, Money::ZERO);
            let diff = if lot.long {
                fill.price - lot.price
            } else {
                lot.price - fill.price
            };
            out.push(Allocation {
                symbol: fill.symbol,
                long: lot.long,
                open_fill_id: lot.open_fill,
                close_fill_id: fill.fill_id,
                qty: q,
                open_ts: lot.open_ts,
                close_ts: fill.ts,
                open_price: lot.price,
                close_price: fill.price,
                open_fee,
                close_fee: Money::ZERO,
                gross_pnl: diff * q * m,
                net_pnl: Money::ZERO,
                holding_secs: (fill.ts.0 - lot.open_ts.0).div_euclid(1_000_000_000),
                exit_reason: reason,
                book: per_strategy.then_some(fill.strategy),
            });
            lot.fee_left -= open_fee;
            lot.qty -= q;
            if whole_lot {
                book.remove(at);
            }
            left -= q;
        }
        let closed = fill.qty - left;
        let close_fee_total = if left.is_zero() {
            fill.fee
        } else {
            pro_rata(fill.fee, closed, fill.qty, false, Money::ZERO)
        };
        let written = &mut out[first..];
        let n = written.len();
        let mut close_fee_used = Money::ZERO;
        for (k, a) in written.iter_mut().enumerate() {
            let close_fee = pro_rata(close_fee_total, a.qty, closed, k + 1 == n, close_fee_used);
            close_fee_used += close_fee;
            a.close_fee = close_fee;
            a.net_pnl = a.gross_pnl - a.open_fee - close_fee;
            self.realized += a.net_pnl;
            self.closed += 1;
        }
        if left > Qty::ZERO {
            self.lots[i].push_back(Lot {
                open_fill: fill.fill_id,
                open_ts: fill.ts,
                long: buying,
                qty: left,
                price: fill.price,
                fee_left: fill.fee - close_fee_total,
                owner: fill.strategy,
            });
        }
        n
    }

    /// Signed position of `symbol` (long > 0, short < 0).
    pub fn position(&self, symbol: SymbolId) -> Qty {
        self.lots.get(symbol.index()).map_or(Qty::ZERO, |b| {
            b.iter().map(|l| if l.long { l.qty } else { -l.qty }).sum()
        })
    }

    /// Open lots of `symbol`, oldest first.
    pub fn lots(&self, symbol: SymbolId) -> impl Iterator<Item = &Lot> {
        self.lots.get(symbol.index()).into_iter().flatten()
    }

    /// Symbols with open lots, in id order.
    pub fn open_symbols(&self) -> impl Iterator<Item = SymbolId> + '_ {
        self.lots
            .iter()
            .enumerate()
            .filter(|(_, b)| !b.is_empty())
            .map(|(i, _)| SymbolId(i as u32))
    }

    /// Cash now.
    pub fn cash(&self) -> Money {
        self.cash
    }

    /// Starting cash.
    pub fn initial_cash(&self) -> Money {
        self.initial_cash
    }

    /// All fees charged.
    pub fn fees(&self) -> Money {
        self.fees
    }

    /// Sum of all allocations' net P&L.
    pub fn realized(&self) -> Money {
        self.realized
    }

    /// Number of allocations written so far.
    pub fn allocation_count(&self) -> u64 {
        self.closed
    }

    /// Every open lot as (long, value at `mark(symbol)` or its own price when unmarked,
    /// times the multiplier).
    fn marked_lots<'a>(
        &'a self,
        mark: impl Fn(SymbolId) -> Option<Price> + 'a,
    ) -> impl Iterator<Item = (bool, Money)> + 'a {
        self.open_symbols().flat_map(move |s| {
            let (px, m) = (mark(s), self.multiplier(s));
            self.lots(s)
                .map(move |l| (l.long, l.qty * px.unwrap_or(l.price) * m))
        })
    }

    /// Cash plus every open position marked at `mark(symbol)` (lot price when unmarked).
    pub fn equity(&self, mark: impl Fn(SymbolId) -> Option<Price>) -> Money {
        let marked = self.marked_lots(mark);
        self.cash
            + marked
                .map(|(long, v)| if long { v } else { -v })
                .sum::<Money>()
    }

    /// Every open lot's value at `mark(symbol)`, long and short alike (gross exposure).
    pub fn gross_exposure(&self, mark: impl Fn(SymbolId) -> Option<Price>) -> Money {
        self.marked_lots(mark).map(|(_, v)| v).sum()
    }

    /// Average open price of `symbol`'s lots (quantity weighted), if any are open.
    pub fn avg_price(&self, symbol: SymbolId) -> Option<Price> {
        let (mut q, mut n) = (Qty::ZERO, Money::ZERO);
        for l in self.lots(symbol) {
            q += l.qty;
            n += l.qty * l.price;
        }
        (!q.is_zero()).then(|| n / q)
    }

    /// Price P&L of `symbol`'s open lots at `mark` (fees excluded), times its multiplier.
    pub fn unrealized(&self, symbol: SymbolId, mark: Price) -> Money {
        let m = self.multiplier(symbol);
        self.lots(symbol)
            .map(|l| {
                if l.long {
                    (mark - l.price) * l.qty * m
                } else {
                    (l.price - mark) * l.qty * m
                }
            })
            .sum()
    }

    /// Opening fees still held in open lots' cost basis.
    pub fn open_fees(&self) -> Money {
        self.lots.iter().flatten().map(|l| l.fee_left).sum()
    }
}
