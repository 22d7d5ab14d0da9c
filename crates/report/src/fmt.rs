//! Canonical decimal text: no trailing zeros beyond `min_dp`, no exponent, `-0` never.

use rust_decimal::Decimal;

/// Largest mantissa a `Decimal` holds (96 bits).
const MAX_MANTISSA: u128 = (1 << 96) - 1;

/// `d` with trailing zeros removed but at least `min_dp` decimals: 738.0000 -> "738.00"
/// with `min_dp = 2`; 63251.341 -> "63251.341".
pub fn dec(d: Decimal, min_dp: u32) -> String {
    let mut out = String::with_capacity(24);
    push_dec(&mut out, d, min_dp);
    out
}

/// Money and prices: at least 2 decimals.
pub fn money(d: Decimal) -> String {
    dec(d, 2)
}

/// Appends [`dec`]'s text for `d` to `out` without allocating and returns the number of
/// decimals written (the report's hot path).
pub fn push_dec(out: &mut String, d: Decimal, min_dp: u32) -> u32 {
    let mut digits = d.mantissa().unsigned_abs();
    let mut scale = d.scale();
    if let Ok(mut small) = u64::try_from(digits) {
        while scale > 0 && small.is_multiple_of(10) {
            small /= 10;
            scale -= 1;
        }
        digits = u128::from(small);
    }
    while scale > 0 && digits.is_multiple_of(10) {
        digits /= 10;
        scale -= 1;
    }
    if scale < min_dp {
        let widened = 10u128
            .checked_pow(min_dp - scale)
            .and_then(|p| digits.checked_mul(p))
            .filter(|w| *w <= MAX_MANTISSA);
        match widened {
            Some(w) => {
                digits = w;
                scale = min_dp;
            }
            None => return push_rescaled(out, d, min_dp),
        }
    }
    if d.is_sign_negative() && digits != 0 {
        out.push('-');
    }
    let mut buf = [0u8; 40];
    let text = decimal_digits(digits, &mut buf);
    let scale_len = scale as usize;
    if scale_len == 0 {
        push_ascii(out, text);
    } else if text.len() > scale_len {
        let (int, frac) = text.split_at(text.len() - scale_len);
        push_ascii(out, int);
        out.push('.');
        push_ascii(out, frac);
    } else {
        out.push_str("0.");
        for _ in text.len()..scale_len {
            out.push('0');
        }
        push_ascii(out, text);
    }
    scale
}

/// `rust_decimal`'s own normalize-and-rescale, for values too wide to widen in place (a
/// rescale that would overflow 96 bits keeps fewer decimals).
fn push_rescaled(out: &mut String, d: Decimal, min_dp: u32) -> u32 {
    let mut n = d.normalize();
    if n.scale() < min_dp {
        n.rescale(min_dp);
    }
    if n.is_zero() {
        n.set_sign_positive(true);
    }
    out.push_str(&n.to_string());
    n.scale()
}

/// Appends `v` in decimal.
pub fn push_int(out: &mut String, v: i64) {
    if v < 0 {
        out.push('-');
    }
    let mut buf = [0u8; 40];
    push_ascii(out, decimal_digits(u128::from(v.unsigned_abs()), &mut buf));
}

/// The decimal digits of `n`, written into the end of `buf`.
fn decimal_digits(mut n: u128, buf: &mut [u8; 40]) -> &[u8] {
    let mut at = buf.len();
    if let Ok(mut small) = u64::try_from(n) {
        // 64-bit division is several times cheaper than 128-bit; almost every value fits.
        loop {
            at -= 1;
            buf[at] = b'0' + (small % 10) as u8;
            small /= 10;
            if small == 0 {
                return &buf[at..];
            }
        }
    }
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[at..]
}

fn push_ascii(out: &mut String, digits: &[u8]) {
    out.extend(digits.iter().map(|b| char::from(*b)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::str::FromStr;

    /// The reference: `rust_decimal`'s normalize, rescale and Display.
    fn reference(d: Decimal, min_dp: u32) -> String {
        let mut out = String::new();
        push_rescaled(&mut out, d, min_dp);
        out
    }

    #[test]
    fn canonical_text() {
        assert_eq!(money(Decimal::from_str("738.0000").unwrap()), "738.00");
        assert_eq!(money(Decimal::from_str("63251.3410").unwrap()), "63251.341");
        assert_eq!(dec(Decimal::from_str("100.000").unwrap(), 0), "100");
        assert_eq!(money(Decimal::from_str("-0.000").unwrap()), "0.00");
        assert_eq!(money(Decimal::from_str("-0.05").unwrap()), "-0.05");
        assert_eq!(
            dec(Decimal::from_str("0.000000001").unwrap(), 0),
            "0.000000001"
        );
        assert_eq!(money(Decimal::MAX), reference(Decimal::MAX, 2));
        for v in [0, 7, -12, i64::MAX, i64::MIN] {
            let mut out = String::new();
            push_int(&mut out, v);
            assert_eq!(out, v.to_string());
        }
    }

    proptest! {
        #[test]
        fn fast_text_equals_rust_decimal(lo in any::<u64>(), hi in any::<u32>(),
                                         neg in any::<bool>(), scale in 0u32..=28,
                                         min_dp in 0u32..=4, small in any::<bool>()) {
            let hi = if small { 0 } else { hi };
            let lo = if small { lo % 10_000_000 } else { lo };
            let d = Decimal::from_parts(lo as u32, (lo >> 32) as u32, hi, neg, scale);
            let mut fast = String::new();
            let dp = push_dec(&mut fast, d, min_dp);
            prop_assert_eq!(&fast, &reference(d, min_dp));
            prop_assert_eq!(dp, crate::csv_table::decimals_of(&fast));
        }
    }
}
