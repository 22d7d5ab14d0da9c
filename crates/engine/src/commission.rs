//! Commission models. Fees are exact decimals; `percent` is never rounded.

use lockstep_core::{Liquidity, Money, Price, Qty};

/// How a fill is charged.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CommissionModel {
    /// No commission.
    #[default]
    Zero,
    /// A fraction of notional, exact: `taker` for fills that take liquidity (market and
    /// stop orders), `maker` for resting limit fills (crypto venues charge less for those).
    Percent {
        /// Fraction of notional for taker fills (0.001 = 0.1 %).
        taker: Money,
        /// Fraction of notional for maker fills.
        maker: Money,
    },
    /// `per_share` x qty, at least `minimum` per fill.
    PerShare {
        /// Charge per share or contract.
        per_share: Money,
        /// Floor per fill.
        minimum: Money,
    },
}

impl CommissionModel {
    /// The fee for one fill of `qty` at `price` with `liquidity`.
    pub fn fee(&self, qty: Qty, price: Price, liquidity: Liquidity) -> Money {
        match self {
            CommissionModel::Zero => Money::ZERO,
            CommissionModel::Percent { taker, maker } => {
                let rate = match liquidity {
                    Liquidity::Taker => taker,
                    Liquidity::Maker => maker,
                };
                qty * price * rate
            }
            CommissionModel::PerShare { per_share, minimum } => (qty * per_share).max(*minimum),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn percent_is_exact_and_per_share_has_minimum() {
        let t = Liquidity::Taker;
        let p = CommissionModel::Percent {
            taker: d("0.001"),
            maker: d("0.0005"),
        };
        assert_eq!(p.fee(d("100"), d("186.31"), t), d("18.631"));
        assert_eq!(p.fee(d("100"), d("186.31"), Liquidity::Maker), d("9.3155"));
        let s = CommissionModel::PerShare {
            per_share: d("0.005"),
            minimum: d("1.00"),
        };
        assert_eq!(s.fee(d("100"), d("50"), t), d("1.00"));
        assert_eq!(s.fee(d("1000"), d("50"), t), d("5.000"));
        assert_eq!(CommissionModel::Zero.fee(d("1"), d("1"), t), Decimal::ZERO);
    }
}
