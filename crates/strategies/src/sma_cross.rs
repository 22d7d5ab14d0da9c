//! `sma_cross`: long (or long/short) on crossings of a fast and a slow simple moving average
//! of closes, decided on the bar's close and compared exactly:
//! `slow * sum_fast` vs `fast * sum_slow` on fixed-point closes, so float ties never decide.
//! Their difference (the *gap*) is kept from bar to bar: a close that enters and the ones
//! that leave the windows move it by three products, with no sum to multiply.

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

/// A series' gap and comparison after one more close ([`Series::next`]), not yet stored.
#[derive(Debug, Clone, Copy)]
struct Next {
    gap: i128,
    /// The fast average against the slow one, once the slow window is full.
    rel: Option<Ordering>,
    /// `Some(true)` on a cross up, `Some(false)` on a cross down.
    cross: Option<bool>,
}

#[derive(Debug, Clone, PartialEq)]
struct Series {
    window: Vec<i64>,
    seen: usize,
    /// Ring position of the next close (= seen % slow, kept without division).
    head: usize,
    /// `slow * sum_fast - fast * sum_slow` over the closes in the windows (fewer than the
    /// window while warming up): its sign is the fast average against the slow one.
    gap: i128,
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
    /// A series that has seen no close.
    fn new(slow: usize) -> Series {
        Series {
            window: vec![0; slow],
            seen: 0,
            head: 0,
            gap: 0,
            prev: None,
        }
    }

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

    /// The state `close` would lead to, computed without changing this one: `close`
    /// enters both sums, and the closes that leave the fast and the slow window (once they
    /// are full) leave them, each weighted in the gap by the other window's length.
    #[inline]
    fn next(&self, close: i64, fast: usize, slow: usize) -> Next {
        // Window lengths: the window vector holds `slow` closes, so both fit an i64, and
        // each product below is one widening multiplication.
        let (f, s) = (fast as i64, slow as i64);
        let mut gap = self.gap + i128::from(s - f) * i128::from(close);
        if self.seen >= slow {
            gap += i128::from(f) * i128::from(self.window[self.head]);
        }
        if self.seen >= fast {
            gap -= i128::from(s) * i128::from(self.window[self.fast_tail(fast, slow)]);
        }
        let rel = (self.seen + 1 >= slow).then(|| gap.cmp(&0));
        let cross = match (self.prev, rel) {
            (Some(prev), Some(Ordering::Greater)) if prev != Ordering::Greater => Some(true),
            (Some(prev), Some(Ordering::Less)) if prev != Ordering::Less => Some(false),
            _ => None,
        };
        Next { gap, rel, cross }
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

    /// [`Series::absorb`] once the slow window is full, in 64-bit integers: the gap is
    /// carried in a register and stepped by each bar's differences. Stops at a cross,
    /// another symbol, or a value that would leave the 64-bit range (the caller goes on bar
    /// by bar, exactly).
    fn absorb_narrow(&mut self, bars: &[Bar], symbol: SymbolId, fast: usize, slow: usize) -> usize {
        let narrow = || {
            let (f, s) = (i64::try_from(fast).ok()?, i64::try_from(slow).ok()?);
            Some((f, s, i64::try_from(self.gap).ok()?, self.prev?))
        };
        let Some((f, s, mut gap, mut prev)) = narrow() else {
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
                gap.checked_add(s.checked_mul(into_fast)?)?
                    .checked_sub(f.checked_mul(into_slow)?)
            };
            let Some(next_gap) = step() else {
                break;
            };
            let rel = next_gap.cmp(&0);
            if rel != Ordering::Equal && rel != prev {
                break;
            }
            self.window[head] = close;
            (head, tail) = (ring_next(head, slow), ring_next(tail, slow));
            (gap, prev) = (next_gap, rel);
            taken += 1;
        }
        self.seen += taken;
        self.gap = i128::from(gap);
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
        self.gap = next.gap;
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

    /// The series of `s`, started on its first bar.
    #[inline]
    fn series(&mut self, s: SymbolId) -> &mut Series {
        let i = s.index();
        if self.series.get(i).is_none_or(Option::is_none) {
            self.start_series(i);
        }
        let slow = self.p.slow;
        self.series[i].get_or_insert_with(|| Series::new(slow))
    }

    /// Starts the series at index `i` (out of line: once per symbol).
    #[cold]
    #[inline(never)]
    fn start_series(&mut self, i: usize) {
        if self.series.len() <= i {
            self.series.resize(i + 1, None);
        }
        self.series[i] = Some(Series::new(self.p.slow));
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

    /// Bar by bar, the kept gap crosses where averages recomputed from scratch on every
    /// bar cross (the last `fast` and `slow` closes summed again, compared as
    /// `slow * sum_fast` against `fast * sum_slow`): through the warm-up, ties, interleaved
    /// symbols and closes whose sums leave 64 bits.
    #[test]
    fn the_kept_gap_crosses_where_recomputed_averages_cross() {
        for (fast, slow, symbols, seed, shift) in [
            (10, 30, 1, 1, 0),
            (1, 2, 3, 2, 0),
            (3, 5, 7, 3, 0),
            (2, 7, 2, 6, 61),
        ] {
            let mut bars = walk(5_000, symbols, seed);
            for bar in bars.iter_mut().skip(2_500).filter(|_| shift > 0) {
                bar.close += 1 << shift;
            }
            let mut closes = vec![Vec::<i64>::new(); symbols as usize];
            let mut prev = vec![None; symbols as usize];
            let mut expected = Vec::new();
            for (k, bar) in bars.iter().enumerate() {
                let seen = &mut closes[bar.symbol.index()];
                seen.push(bar.close);
                if seen.len() < slow {
                    continue;
                }
                let sum = |n: usize| {
                    seen[seen.len() - n..]
                        .iter()
                        .map(|c| i128::from(*c))
                        .sum::<i128>()
                };
                let rel = (slow as i128 * sum(fast)).cmp(&(fast as i128 * sum(slow)));
                let last = prev[bar.symbol.index()].replace(rel);
                if last.is_some_and(|p| rel != Ordering::Equal && rel != p) {
                    expected.push(k);
                }
            }
            assert!(
                expected.len() > 10,
                "{fast}/{slow}: {} crossings",
                expected.len()
            );
            let mut s = SmaCross::new(params(fast, slow)).expect("params");
            assert_eq!(crossings(&mut s, &bars), expected, "{fast}/{slow}");
        }
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
            assert_eq!(absorbing.series, by_bar.series, "{fast}/{slow}");
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
