//! Canonical decimal text: no trailing zeros beyond `min_dp`, no exponent, `-0` never.

use rust_decimal::Decimal;

/// `d` with trailing zeros removed but at least `min_dp` decimals: 738.0000 -> "738.00"
/// with `min_dp = 2`; 63251.341 -> "63251.341".
pub fn dec(d: Decimal, min_dp: u32) -> String {
    let mut n = d.normalize();
    if n.scale() < min_dp {
        n.rescale(min_dp);
    }
    if n.is_zero() {
        n.set_sign_positive(true);
    }
    n.to_string()
}

/// Money and prices: at least 2 decimals.
pub fn money(d: Decimal) -> String {
    dec(d, 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn canonical_text() {
        assert_eq!(money(Decimal::from_str("738.0000").unwrap()), "738.00");
        assert_eq!(money(Decimal::from_str("63251.3410").unwrap()), "63251.341");
        assert_eq!(dec(Decimal::from_str("100.000").unwrap(), 0), "100");
        assert_eq!(money(Decimal::from_str("-0.000").unwrap()), "0.00");
    }
}
