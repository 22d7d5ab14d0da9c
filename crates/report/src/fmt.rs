//! Canonical decimal text: no trailing zeros beyond `min_dp`, no exponent, `-0` never.

use rust_decimal::Decimal;

/// Largest mantissa a `Decimal` holds (96 bits).
const MAX_MANTISSA: u128 = (1 << 96) - 1;

/// `d` with trailing zeros removed but at least `min_dp` decimals: 738.0000 -> "738.00"
/// with `min_dp = 2`; 63251.341 -> "63251.341".
pub fn dec(d: Decimal, min_dp: u32) -> String {
    let mut out = Vec::with_capacity(24);
    push_dec(&mut out, d, min_dp);
    out.into_iter().map(char::from).collect()
}

/// Money and prices: at least 2 decimals.
pub fn money(d: Decimal) -> String {
    dec(d, 2)
}

/// What [`push_dec`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecText {
    /// Digits after the point.
    pub decimals: u32,
    /// Digits of the value before the point, `floor(log10 |d|) + 1` (negative below 0.1);
    /// `i32::MIN` for zero, which needs none.
    pub whole_digits: i32,
}

/// Appends [`dec`]'s text for `d` to `out` as ASCII bytes without allocating (the report's
/// hot path) and says how many digits it has on each side of the point.
pub fn push_dec(out: &mut Vec<u8>, d: Decimal, min_dp: u32) -> DecText {
    let mut digits = d.mantissa().unsigned_abs();
    let mut scale = d.scale();
    // Trailing zeros off in 64 bits when the digits fit (nearly always): a 128-bit
    // remainder is a library call.
    if let Ok(mut small) = u64::try_from(digits) {
        while scale > 0 && small.is_multiple_of(10) {
            small /= 10;
            scale -= 1;
        }
        digits = u128::from(small);
    } else {
        while scale > 0 && digits.is_multiple_of(10) {
            digits /= 10;
            scale -= 1;
        }
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
        out.push(b'-');
    }
    let mut buf = itoa::Buffer::new();
    // 64-bit digits (nearly every price and amount) format in half the time of 128-bit.
    let text = match u64::try_from(digits) {
        Ok(small) => buf.format(small),
        Err(_) => buf.format(digits),
    }
    .as_bytes();
    let scale_len = scale as usize;
    if scale_len == 0 {
        out.extend_from_slice(text);
    } else if text.len() > scale_len {
        let (int, frac) = text.split_at(text.len() - scale_len);
        out.extend_from_slice(int);
        out.push(b'.');
        out.extend_from_slice(frac);
    } else {
        out.extend_from_slice(b"0.");
        out.resize(out.len() + scale_len - text.len(), b'0');
        out.extend_from_slice(text);
    }
    DecText {
        decimals: scale,
        whole_digits: if digits == 0 {
            i32::MIN
        } else {
            text.len() as i32 - scale as i32
        },
    }
}

/// `rust_decimal`'s own normalize-and-rescale, for values too wide to widen in place (a
/// rescale that would overflow 96 bits keeps fewer decimals).
fn push_rescaled(out: &mut Vec<u8>, d: Decimal, min_dp: u32) -> DecText {
    let mut n = d.normalize();
    if n.scale() < min_dp {
        n.rescale(min_dp);
    }
    if n.is_zero() {
        n.set_sign_positive(true);
    }
    out.extend_from_slice(n.to_string().as_bytes());
    DecText {
        decimals: n.scale(),
        whole_digits: whole_digits(d),
    }
}

/// Digits of `d` before the point, as [`DecText::whole_digits`] counts them.
fn whole_digits(d: Decimal) -> i32 {
    match d.mantissa().unsigned_abs().checked_ilog10() {
        Some(log) => log as i32 + 1 - d.scale() as i32,
        None => i32::MIN,
    }
}

/// Appends `v` in decimal.
pub fn push_int(out: &mut Vec<u8>, v: i64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::str::FromStr;

    /// The reference: `rust_decimal`'s normalize, rescale and Display.
    fn reference(d: Decimal, min_dp: u32) -> String {
        let mut out = Vec::new();
        push_rescaled(&mut out, d, min_dp);
        String::from_utf8(out).expect("ascii")
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
            let mut out = Vec::new();
            push_int(&mut out, v);
            assert_eq!(out, v.to_string().into_bytes());
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
            let mut fast = b"x,".to_vec();
            let text = push_dec(&mut fast, d, min_dp);
            let fast = String::from_utf8(fast).expect("ascii");
            prop_assert_eq!(&fast, &format!("x,{}", reference(d, min_dp)));
            prop_assert_eq!(text.decimals, crate::csv_table::decimals_of(&fast[2..]));
            prop_assert_eq!(text.whole_digits, whole_digits(d));
        }
    }
}
