//! `buy_and_hold`: buys `qty` on the first bar of each traded symbol and never sells; with
//! `reenter = true` it buys again whenever it is flat (after a stop or an EOD flatten).

use lockstep_core::{dec_serde, Bar, Qty};
use lockstep_engine::{Context, Strategy};
use serde::Deserialize;

/// Parameters (`[strategy]` table).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BuyAndHoldParams {
    /// Quantity to buy (> 0). Default 100.
    #[serde(default = "default_qty", deserialize_with = "dec_serde::decimal")]
    pub qty: Qty,
    /// Trade only this symbol (default: every symbol in the data).
    #[serde(default)]
    pub symbol: Option<String>,
    /// Buy again on any bar where the strategy is flat (default false: buy once).
    #[serde(default)]
    pub reenter: bool,
}

fn default_qty() -> Qty {
    Qty::from(100)
}

/// The strategy.
#[derive(Debug, Clone)]
pub struct BuyAndHold {
    p: BuyAndHoldParams,
    bought: Vec<bool>,
}

impl BuyAndHold {
    /// Validates `qty > 0`.
    pub fn new(p: BuyAndHoldParams) -> Result<Self, String> {
        if p.qty <= Qty::ZERO {
            return Err(format!("qty must be positive, got {}", p.qty));
        }
        Ok(BuyAndHold {
            p,
            bought: Vec::new(),
        })
    }
}

impl Strategy for BuyAndHold {
    fn on_bar(&mut self, bar: &Bar, ctx: &mut Context<'_>) {
        if let Some(only) = &self.p.symbol {
            if ctx.symbol_name(bar.symbol) != only {
                return;
            }
        }
        let i = bar.symbol.index();
        if self.bought.len() <= i {
            self.bought.resize(i + 1, false);
        }
        if !self.bought[i]
            || (self.p.reenter && (ctx.position(bar.symbol) + ctx.working(bar.symbol)).is_zero())
        {
            self.bought[i] = true;
            ctx.target_position(bar.symbol, self.p.qty, None);
        }
    }
}
