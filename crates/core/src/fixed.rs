//! Fixed-point prices for the per-bar hot path: an i64 mantissa at a per-instrument scale.
//!
//! A mantissa converts to [`Decimal`] exactly (`Decimal::new(mantissa, scale)`), so the
//! hot path never loses precision and never compares floats.

use rust_decimal::Decimal;

/// Powers of ten for every decimal scale (`rust_decimal` keeps up to 28 decimals).
const POW10: [i128; 29] = {
    let mut t = [1i128; 29];
    let mut i = 1;
    while i < 29 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// `10^exp` for the exponents a decimal's scale allows (0..=28); `None` above.
#[inline]
pub fn pow10(exp: u32) -> Option<i128> {
    POW10.get(exp as usize).copied()
}

/// Number of decimal places of a fixed-point price (0..=18).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Scale(u32);

/// Why a value could not become a fixed-point mantissa.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FixedError {
    /// The value is NaN or infinite.
    #[error("not a finite number")]
    NotFinite,
    /// The value does not fit an i64 mantissa at this scale.
    #[error("out of range")]
    OutOfRange,
    /// Text that is not a decimal number.
    #[error("`{0}` is not a decimal number")]
    NotANumber(String),
    /// Exact text with more decimals than the instrument's increment.
    #[error("`{text}` has more than {scale} decimals (set data.price_decimals)")]
    TooPrecise {
        /// The offending text.
        text: String,
        /// The configured number of decimals.
        scale: u32,
    },
}

impl Scale {
    /// Default for equities: 4 decimals.
    pub const EQUITY: Scale = Scale(4);

    /// A scale of `dp` decimals; `None` above 18 (an i64 mantissa could not hold 1.0).
    pub fn new(dp: u32) -> Option<Scale> {
        (dp <= 18).then_some(Scale(dp))
    }

    /// Number of decimals.
    pub fn dp(self) -> u32 {
        self.0
    }

    /// `10^dp` as i64.
    #[inline]
    pub fn factor(self) -> i64 {
        // A scale is at most 18 decimals, so its factor fits 64 bits.
        POW10[self.0 as usize] as i64
    }

    /// Rounds a float to the nearest increment (half away from zero) as a mantissa.
    #[inline]
    pub fn from_f64(self, v: f64) -> Result<i64, FixedError> {
        let scaled = v * self.factor() as f64;
        if scaled.is_nan() || scaled.abs() >= 9.0e18 {
            return Err(if v.is_finite() {
                FixedError::OutOfRange
            } else {
                FixedError::NotFinite
            });
        }
        // Adding half with the value's sign and truncating rounds half away from zero,
        // without a libm call on the hot path.
        Ok((scaled + 0.5f64.copysign(scaled)) as i64)
    }

    /// Exact conversion of a decimal to a mantissa; errors if it has more decimals.
    pub fn from_decimal(self, d: Decimal) -> Result<i64, FixedError> {
        if let Some(widen) = self.0.checked_sub(d.scale()) {
            // No more decimals than the scale: widening the mantissa is exact.
            let m = pow10(widen).and_then(|f| d.mantissa().checked_mul(f));
            return m
                .and_then(|m| i64::try_from(m).ok())
                .ok_or(FixedError::OutOfRange);
        }
        let norm = d.normalize();
        if norm.scale() > self.0 {
            return Err(FixedError::TooPrecise {
                text: d.to_string(),
                scale: self.0,
            });
        }
        let mut m = norm;
        m.rescale(self.0);
        i64::try_from(m.mantissa()).map_err(|_| FixedError::OutOfRange)
    }

    /// Exact parse of decimal text (e.g. `186.31`, `1e2` is rejected) to a mantissa.
    pub fn parse(self, text: &str) -> Result<i64, FixedError> {
        let t = text.trim();
        let d: Decimal = t
            .parse()
            .map_err(|_| FixedError::NotANumber(t.to_string()))?;
        self.from_decimal(d)
    }

    /// The exact decimal value of a mantissa at this scale.
    pub fn to_decimal(self, mantissa: i64) -> Decimal {
        Decimal::new(mantissa, self.0)
    }

    /// The nearest double of a mantissa at this scale (for features, never for money).
    pub fn to_f64(self, mantissa: i64) -> f64 {
        mantissa as f64 / self.factor() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_rounds_to_increment_and_text_is_exact() {
        let s = Scale::EQUITY;
        assert_eq!(s.from_f64(186.31).unwrap(), 1_863_100);
        assert_eq!(s.from_f64(0.1 + 0.2).unwrap(), 3_000);
        assert_eq!(s.parse("186.31").unwrap(), 1_863_100);
        assert_eq!(s.to_decimal(1_863_100).to_string(), "186.3100");
        assert!(matches!(
            s.parse("1.23456"),
            Err(FixedError::TooPrecise { .. })
        ));
        assert_eq!(s.parse("1.23450").unwrap(), 12_345);
        assert!(matches!(s.from_f64(f64::NAN), Err(FixedError::NotFinite)));
        assert!(matches!(
            s.from_f64(f64::INFINITY),
            Err(FixedError::NotFinite)
        ));
        assert!(matches!(s.from_f64(1e30), Err(FixedError::OutOfRange)));
        assert_eq!(s.from_f64(-1.00005).unwrap(), -10_001);
        assert_eq!(s.from_f64(2.00004999).unwrap(), 20_000);
        assert!(matches!(s.parse("abc"), Err(FixedError::NotANumber(_))));
    }

    /// The conversion of a decimal with no more decimals than the scale (widened at once)
    /// agrees with normalizing and rescaling, over signs, trailing zeros, every scale pair
    /// and mantissas up to the edge of i64 at the target scale.
    #[test]
    fn widening_agrees_with_normalizing() {
        let by_normalizing = |scale: Scale, d: Decimal| -> Result<i64, FixedError> {
            let mut m = d.normalize();
            if m.scale() > scale.0 {
                return Err(FixedError::TooPrecise {
                    text: d.to_string(),
                    scale: scale.0,
                });
            }
            m.rescale(scale.0);
            i64::try_from(m.mantissa()).map_err(|_| FixedError::OutOfRange)
        };
        let mut x: u64 = 0x9e37_79b9;
        for k in 0..100_000u32 {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let bits = (k % 64) as i32;
            let m = ((x >> 1) as i64) >> bits.min(62);
            let m = if k % 3 == 0 { -m } else { m } * if k % 7 == 0 { 1_000 } else { 1 };
            let d = Decimal::new(m, (x % 19) as u32);
            let scale = Scale((x >> 8) as u32 % 19);
            assert_eq!(
                format!("{:?}", scale.from_decimal(d)),
                format!("{:?}", by_normalizing(scale, d)),
                "{d} at {scale:?}"
            );
        }
    }
}
