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
        let n = st.seen;
        let close = bar.close as i128;
        if n >= slow {
            st.sum_slow -= st.window[st.head] as i128;
        }
        if n >= fast {
            let back = st.head + slow - fast;
            let i = if back >= slow { back - slow } else { back };
            st.sum_fast -= st.window[i] as i128;
        }
        st.window[st.head] = bar.close;
        st.head = if st.head + 1 == slow { 0 } else { st.head + 1 };
        st.sum_fast += close;
        st.sum_slow += close;
        st.seen += 1;
        if st.seen < slow {
            return;
        }
        let rel = (slow as i128 * st.sum_fast).cmp(&(fast as i128 * st.sum_slow));
        let prev = st.prev.replace(rel);
        let Some(prev) = prev else { return };
        let up = rel == Ordering::Greater && prev != Ordering::Greater;
        let down = rel == Ordering::Less && prev != Ordering::Less;
        if up || down {
            self.cross(up, bar.symbol, ctx);
        }
    }
}
