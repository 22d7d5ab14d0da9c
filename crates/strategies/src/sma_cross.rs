//! `sma_cross`: long (or long/short) on crossings of a fast and a slow simple moving average
//! of closes, decided on the bar's close and compared exactly:
//! `slow * sum_fast` vs `fast * sum_slow` on fixed-point closes, so float ties never decide.

use lockstep_core::{dec_serde, Bar, Qty, SymbolId};
use lockstep_engine::{Context, Strategy};
use serde::Deserialize;
use std::cmp::Ordering;

/// Parameters (`[strategy]` table).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SmaCrossParams {
    /// Fast window in bars (>= 1, < slow). Default 10.
    #[serde(default = "default_fast")]
    pub fast: usize,
    /// Slow window in bars. Default 30.
    #[serde(default = "default_slow")]
    pub slow: usize,
    /// Quantity per entry (> 0). Default 100.
    #[serde(default = "default_qty", deserialize_with = "dec_serde::decimal")]
    pub qty: Qty,
    /// Go short on a cross down instead of only going flat. Default false.
    #[serde(default)]
    pub allow_short: bool,
    /// Trade only this symbol (default: every symbol in the data).
    #[serde(default)]
    pub symbol: Option<String>,
}

fn default_fast() -> usize {
    10
}
fn default_slow() -> usize {
    30
}
fn default_qty() -> Qty {
    Qty::from(100)
}

/// A series' sums and comparison after one more close ([`Series::next`]), not yet stored.
#[derive(Debug, Clone, Copy)]
struct Next {
    sum_fast: i128,
    sum_slow: i128,
    /// The fast average against the slow one, once the slow window is full.
    rel: Option<Ordering>,
    /// `Some(true)` on a cross up, `Some(false)` on a cross down.
    cross: Option<bool>,
}

#[derive(Debug, Clone)]
struct Series {
    window: Vec<i64>,
    seen: usize,
    /// Ring position of the next close (= seen % slow, kept without division).
    head: usize,
    sum_fast: i128,
    sum_slow: i128,
    prev: Option<Ordering>,
}

/// The ring position after `i` in a ring of `len` (no division).
#[inline]
fn ring_next(i: usize, len: usize) -> usize {
    if i + 1 == len {
        0
    } else {
        i + 1
    }
}

impl Series {
    /// Ring position of the close that leaves the fast window with the next close:
    /// `fast` closes back from `head`.
    #[inline]
    fn fast_tail(&self, fast: usize, slow: usize) -> usize {
        let back = self.head + slow - fast;
        if back >= slow {
            back - slow
        } else {
            back
        }
    }

    /// The state `close` would lead to, computed without changing this one.
    #[inline]
    fn next(&self, close: i64, fast: usize, slow: usize) -> Next {
        let (mut sum_fast, mut sum_slow) = (self.sum_fast, self.sum_slow);
        if self.seen >= slow {
            sum_slow -= self.window[self.head] as i128;
        }
        if self.seen >= fast {
            sum_fast -= self.window[self.fast_tail(fast, slow)] as i128;
        }
        sum_fast += close as i128;
        sum_slow += close as i128;
        let rel = (self.seen + 1 >= slow)
            .then(|| (slow as i128 * sum_fast).cmp(&(fast as i128 * sum_slow)));
        let cross = match (self.prev, rel) {
            (Some(prev), Some(Ordering::Greater)) if prev != Ordering::Greater => Some(true),
            (Some(prev), Some(Ordering::Less)) if prev != Ordering::Less => Some(false),
            _ => None,
        };
        Next {
            sum_fast,
            sum_slow,
            rel,
            cross,
        }
    }

    /// Takes the leading bars of `bars` that are of `symbol` and cross nothing, as
    /// [`Series::next`] and [`Series::commit`] bar by bar would, and returns how many.
    fn absorb(&mut self, bars: &[Bar], symbol: SymbolId, fast: usize, slow: usize) -> usize {
        let mut taken = 0;
        // The 64-bit path pays for itself over a run of the symbol, not on a lone bar (as
        // in a merge of many files).
        if self.seen >= slow && bars.get(1).is_some_and(|b| b.symbol == symbol) {
            taken = self.absorb_narrow(bars, symbol, fast, slow);
        }
        // Bar by bar: a lone bar, the warm-up, or what follows a value outside the 64-bit
        // path.
        while let Some(bar) = bars.get(taken).filter(|b| b.symbol == symbol) {
            let next = self.next(bar.close, fast, slow);
            if next.cross.is_some() {
                break;
            }
            self.commit(bar.close, next, slow);
            taken += 1;
        }
        taken
    }

    /// [`Series::absorb`] once the slow window is full, in 64-bit integers: the sums and
    /// `slow * sum_fast - fast * sum_slow` (whose sign is the comparison) are carried in
    /// registers and stepped by each bar's differences. Stops at a cross, another symbol,
    /// or a value that would leave the 64-bit range (the caller goes on bar by bar, exactly).
    fn absorb_narrow(&mut self, bars: &[Bar], symbol: SymbolId, fast: usize, slow: usize) -> usize {
        let narrow = || {
            let (f, s) = (i64::try_from(fast).ok()?, i64::try_from(slow).ok()?);
            let gap = slow as i128 * self.sum_fast - fast as i128 * self.sum_slow;
            let sums = (
                i64::try_from(self.sum_fast).ok()?,
                i64::try_from(self.sum_slow).ok()?,
            );
            Some((f, s, sums, i64::try_from(gap).ok()?, self.prev?))
        };
        let Some((f, s, (mut sum_fast, mut sum_slow), mut gap, mut prev)) = narrow() else {
            return 0;
        };
        let (mut head, mut tail) = (self.head, self.fast_tail(fast, slow));
        let mut taken = 0;
        for bar in bars {
            if bar.symbol != symbol {
                break;
            }
            let close = bar.close;
            let step = || {
                let into_fast = close.checked_sub(self.window[tail])?;
                let into_slow = close.checked_sub(self.window[head])?;
                let gap = gap
                    .checked_add(s.checked_mul(into_fast)?)?
                    .checked_sub(f.checked_mul(into_slow)?)?;
                Some((
                    sum_fast.checked_add(into_fast)?,
                    sum_slow.checked_add(into_slow)?,
                    gap,
                ))
            };
            let Some((next_fast, next_slow, next_gap)) = step() else {
                break;
            };
            let rel = next_gap.cmp(&0);
            if rel != Ordering::Equal && rel != prev {
                break;
            }
            self.window[head] = close;
            (head, tail) = (ring_next(head, slow), ring_next(tail, slow));
            (sum_fast, sum_slow, gap, prev) = (next_fast, next_slow, next_gap, rel);
            taken += 1;
        }
        self.seen += taken;
        (self.sum_fast, self.sum_slow) = (i128::from(sum_fast), i128::from(sum_slow));
        self.head = head;
        self.prev = Some(prev);
        taken
    }

    /// Stores `close` and the state `next` computed from it.
    #[inline]
    fn commit(&mut self, close: i64, next: Next, slow: usize) {
        self.window[self.head] = close;
        self.head = ring_next(self.head, slow);
        self.seen += 1;
        self.sum_fast = next.sum_fast;
        self.sum_slow = next.sum_slow;
        if next.rel.is_some() {
            self.prev = next.rel;
        }
    }
}

/// The strategy; one independent state per symbol.
#[derive(Debug, Clone)]
pub struct SmaCross {
    p: SmaCrossParams,
    series: Vec<Option<Series>>,
}

impl SmaCross {
    /// Validates parameters: 1 <= fast < slow, qty > 0.
    pub fn new(p: SmaCrossParams) -> Result<Self, String> {
        if p.fast == 0 {
            return Err("fast must be at least 1".into());
        }
        if p.fast >= p.slow {
            return Err(format!(
                "fast ({}) must be less than slow ({})",
                p.fast, p.slow
            ));
        }
        if p.qty <= Qty::ZERO {
            return Err(format!("qty must be positive, got {}", p.qty));
        }
        Ok(SmaCross {
            p,
            series: Vec::new(),
        })
    }

    fn series(&mut self, s: SymbolId) -> &mut Series {
        let i = s.index();
        if self.series.len() <= i {
            self.series.resize(i + 1, None);
        }
        self.series[i].get_or_insert_with(|| Series {
            window: vec![0; self.p.slow],
            seen: 0,
            head: 0,
            sum_fast: 0,
            sum_slow: 0,
            prev: None,
        })
    }

    /// Acts on a crossing of `symbol`, up or down: up buys `qty` when flat (or reverses when
    /// shorts are allowed), down goes flat (or short). Out of line: most bars cross nothing.
    #[inline(never)]
    fn cross(&self, up: bool, symbol: SymbolId, ctx: &mut Context<'_>) {
        let have = ctx.position(symbol) + ctx.working(symbol);
        if up && (self.p.allow_short || have.is_zero()) {
            ctx.target_position(symbol, self.p.qty, None);
        } else if !up {
            let target = if self.p.allow_short {
                -self.p.qty
            } else {
                Qty::ZERO
            };
            ctx.target_position(symbol, target, None);
        }
    }
}

impl Strategy for SmaCross {
    fn on_bar(&mut self, bar: &Bar, ctx: &mut Context<'_>) {
        if let Some(only) = &self.p.symbol {
            if ctx.symbol_name(bar.symbol) != only {
                return;
            }
        }
        let (fast, slow) = (self.p.fast, self.p.slow);
        let st = self.series(bar.symbol);
        let next = st.next(bar.close, fast, slow);
        st.commit(bar.close, next, slow);
        if let Some(up) = next.cross {
            self.cross(up, bar.symbol, ctx);
        }
    }

    fn absorb_quiet_bars(&mut self, bars: &[Bar]) -> usize {
        if self.p.symbol.is_some() {
            return 0;
        }
        let (fast, slow) = (self.p.fast, self.p.slow);
        let mut taken = 0;
        while let Some(first) = bars.get(taken) {
            taken += self
                .series(first.symbol)
                .absorb(&bars[taken..], first.symbol, fast, slow);
            if bars.get(taken).is_none_or(|b| b.symbol == first.symbol) {
                break;
            }
        }
        taken
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockstep_core::{Scale, UnixNanos};

    fn params(fast: usize, slow: usize) -> SmaCrossParams {
        SmaCrossParams {
            fast,
            slow,
            qty: Qty::from(1),
            allow_short: false,
            symbol: None,
        }
    }

    /// A random walk of closes over `symbols` symbols, in runs of one symbol of random
    /// length; flat stretches make ties (equal averages) common.
    fn walk(n: usize, symbols: u32, seed: u64) -> Vec<Bar> {
        let mut x = seed;
        let mut next = move || {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            x >> 33
        };
        let mut closes = vec![10_000i64; symbols as usize];
        let mut symbol = 0u32;
        (0..n)
            .map(|i| {
                if next() % 7 == 0 {
                    symbol = (next() % u64::from(symbols)) as u32;
                }
                let close = &mut closes[symbol as usize];
                *close = (*close + (next() % 5) as i64 - 2).max(1);
                Bar {
                    ts: UnixNanos(i as i64),
                    end: UnixNanos(i as i64 + 1),
                    symbol: SymbolId(symbol),
                    scale: Scale::EQUITY,
                    open: *close,
                    high: *close,
                    low: *close,
                    close: *close,
                    volume: 0.0,
                    quote: None,
                }
            })
            .collect()
    }

    /// The indexes of the bars on which `on_bar` acts (crosses), bar by bar.
    fn crossings(s: &mut SmaCross, bars: &[Bar]) -> Vec<usize> {
        let (fast, slow) = (s.p.fast, s.p.slow);
        let mut out = Vec::new();
        for (k, bar) in bars.iter().enumerate() {
            let st = s.series(bar.symbol);
            let next = st.next(bar.close, fast, slow);
            st.commit(bar.close, next, slow);
            if next.cross.is_some() {
                out.push(k);
            }
        }
        out
    }

    fn state(s: &SmaCross) -> Vec<Option<(Vec<i64>, usize, usize, i128, i128, Option<Ordering>)>> {
        s.series
            .iter()
            .map(|o| {
                o.as_ref().map(|t| {
                    (
                        t.window.clone(),
                        t.seen,
                        t.head,
                        t.sum_fast,
                        t.sum_slow,
                        t.prev,
                    )
                })
            })
            .collect()
    }

    /// Absorbing quiet runs, with each crossing bar taken bar by bar as the engine does,
    /// stops exactly at the crossings and leaves the same state as bar by bar: through the
    /// warm-up, ties, symbol changes, runs cut at random lengths, and closes too large for
    /// the 64-bit path.
    #[test]
    fn absorbing_quiet_runs_equals_bar_by_bar() {
        let cases = [
            (10, 30, 1, 1, 0),
            (1, 2, 1, 2, 0),
            (3, 5, 3, 3, 0),
            (200, 1000, 2, 4, 0),
            (3, 5, 1, 5, 60),
            (2, 7, 2, 6, 61),
        ];
        for (fast, slow, symbols, seed, shift) in cases {
            let mut bars = walk(20_000, symbols, seed);
            // From the middle on, closes near 2^shift: sums and products leave 64 bits.
            for bar in bars.iter_mut().skip(10_000).filter(|_| shift > 0) {
                bar.close += 1 << shift;
            }
            let mut by_bar = SmaCross::new(params(fast, slow)).expect("params");
            let expected = crossings(&mut by_bar, &bars);
            assert!(
                expected.len() > 10,
                "{fast}/{slow}: {} crossings",
                expected.len()
            );

            let mut absorbing = SmaCross::new(params(fast, slow)).expect("params");
            let (mut at, mut stops, mut cut) = (0, Vec::new(), 1);
            while at < bars.len() {
                cut = cut * 7 % 97 + 1;
                let end = (at + cut).min(bars.len());
                at += absorbing.absorb_quiet_bars(&bars[at..end]);
                if at < end {
                    stops.push(at);
                    let one = crossings(&mut absorbing, &bars[at..at + 1]);
                    assert_eq!(one, vec![0], "{fast}/{slow}: bar {at} was a stop");
                    at += 1;
                }
            }
            assert_eq!(stops, expected, "{fast}/{slow}");
            assert_eq!(state(&absorbing), state(&by_bar), "{fast}/{slow}");
        }
    }

    /// With a symbol filter the fast path is off: the filter needs the symbol table.
    #[test]
    fn a_symbol_filter_absorbs_nothing() {
        let mut s = SmaCross::new(SmaCrossParams {
            symbol: Some("SPY".into()),
            ..params(2, 3)
        })
        .expect("params");
        assert_eq!(s.absorb_quiet_bars(&walk(10, 1, 5)), 0);
    }
}
