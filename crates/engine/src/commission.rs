//! Commission models. Fees are exact decimals; `percent` is never rounded.

use lockstep_core::{Money, Price, Qty};

/// How a fill is charged.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CommissionModel {
    /// No commission.
    #[default]
    Zero,
    /// `rate` x notional (0.001 = 0.1 %), exact.
    Percent {
        /// Fraction of notional.
        rate: Money,
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
    /// The fee for one fill of `qty` at `price`.
    pub fn fee(&self, qty: Qty, price: Price) -> Money {
        match self {
            CommissionModel::Zero => Money::ZERO,
            CommissionModel::Percent { rate } => qty * price * rate,
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
        let p = CommissionModel::Percent { rate: d("0.001") };
        assert_eq!(p.fee(d("100"), d("186.31")), d("18.631"));
        let s = CommissionModel::PerShare {
            per_share: d("0.005"),
            minimum: d("1.00"),
        };
        assert_eq!(s.fee(d("100"), d("50")), d("1.00"));
        assert_eq!(s.fee(d("1000"), d("50")), d("5.000"));
        assert_eq!(CommissionModel::Zero.fee(d("1"), d("1")), Decimal::ZERO);
    }
}
