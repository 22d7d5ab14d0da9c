//! Decoding Arrow price columns (float, integer, decimal or text) into exact fixed-point
//! mantissas, with every bad cell named by row, column and reason. Shared by trade bars
//! and quote bars.

use crate::error::DataError;
use arrow_array::cast::AsArray;
use arrow_array::types::{Decimal128Type, Decimal64Type, Float32Type, Float64Type, Int64Type};
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType;
use lockstep_core::{Decimal, FixedError, Scale};
use std::path::Path;

/// Whether an Arrow type holds text.
pub(crate) fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

/// The error for a column of a type that cannot hold what it should.
pub(crate) fn wrong(file: &Path, name: &str, t: &DataType) -> DataError {
    DataError::column(file, name, format!("unsupported type {t}"))
}

fn price_reason(e: FixedError) -> String {
    match e {
        FixedError::NotFinite => "NaN or infinite value".to_string(),
        other => other.to_string(),
    }
}

/// The fast path of a column without nulls: converts every value of `v` into `out` and
/// says whether all converted. When one did not, `out` is emptied so the exact path can
/// name each bad cell.
fn all_converted<T>(v: &[T], out: &mut Vec<i64>, convert: impl Fn(&T) -> Option<i64>) -> bool {
    let mut ok = true;
    out.extend(v.iter().map(|x| {
        convert(x).unwrap_or_else(|| {
            ok = false;
            0
        })
    }));
    if !ok {
        out.clear();
    }
    ok
}

/// [`all_converted`] for 64-bit mantissas widened by `factor`: one overflow flag for the
/// whole column instead of a branch per value, so the loop vectorises.
fn all_widened(v: &[i64], out: &mut Vec<i64>, factor: i64) -> bool {
    let mut overflow = false;
    out.extend(v.iter().map(|x| {
        let (m, o) = x.overflowing_mul(factor);
        overflow |= o;
        m
    }));
    if overflow {
        out.clear();
    }
    !overflow
}

/// Decodes a price column at `scale`; bad cells become 0 and are listed in `bad` as
/// (row, column, reason).
pub(crate) fn decode_price(
    a: &ArrayRef,
    name: &str,
    scale: Scale,
    bad: &mut Vec<(usize, String, String)>,
    file: &Path,
    mut out: Vec<i64>,
) -> Result<Vec<i64>, DataError> {
    let n = a.len();
    out.clear();
    out.reserve(n);
    let mut push = |i: usize, r: Result<i64, FixedError>, out: &mut Vec<i64>| match r {
        Ok(v) => out.push(v),
        Err(e) => {
            out.push(0);
            bad.push((i, name.to_string(), price_reason(e)));
        }
    };
    let nulls = a.logical_nulls();
    let is_null = |i: usize| nulls.as_ref().is_some_and(|nb| nb.is_null(i));
    match a.data_type() {
        DataType::Float64 => {
            let v = a.as_primitive::<Float64Type>().values();
            if nulls.is_none() && all_converted(v, &mut out, |x| scale.from_f64(*x).ok()) {
                return Ok(out);
            }
            for (i, x) in v.iter().enumerate() {
                let r = if is_null(i) {
                    Err(FixedError::NotANumber("null".into()))
                } else {
                    scale.from_f64(*x)
                };
                push(i, r, &mut out);
            }
        }
        DataType::Float32 => {
            let v = a.as_primitive::<Float32Type>().values();
            for (i, x) in v.iter().enumerate() {
                let r = if is_null(i) {
                    Err(FixedError::NotANumber("null".into()))
                } else {
                    scale.from_f64(*x as f64)
                };
                push(i, r, &mut out);
            }
        }
        DataType::Int64 | DataType::Int32 => {
            let c = arrow_cast::cast(a, &DataType::Int64)
                .map_err(|_| wrong(file, name, a.data_type()))?;
            let v = c.as_primitive::<Int64Type>().values();
            for (i, x) in v.iter().enumerate() {
                let r = if is_null(i) {
                    Err(FixedError::NotANumber("null".into()))
                } else {
                    x.checked_mul(scale.factor()).ok_or(FixedError::OutOfRange)
                };
                push(i, r, &mut out);
            }
        }
        DataType::Decimal128(_, s) | DataType::Decimal64(_, s) => {
            let s = u32::try_from(*s).map_err(|_| wrong(file, name, a.data_type()))?;
            // Exact at a scale no finer than ours, with no nulls: widen the mantissas,
            // checking range; else (or when one is out of range) convert cell by cell.
            let factor = scale
                .dp()
                .checked_sub(s)
                .filter(|_| nulls.is_none())
                .map(|widen| 10i64.pow(widen));
            let wide: Vec<i128>;
            let v: &[i128] = if let DataType::Decimal64(..) = a.data_type() {
                let v = a.as_primitive::<Decimal64Type>().values();
                if let Some(f) = factor {
                    if all_widened(v, &mut out, f) {
                        return Ok(out);
                    }
                }
                wide = v.iter().map(|x| i128::from(*x)).collect();
                &wide
            } else {
                let v = a.as_primitive::<Decimal128Type>().values();
                if let Some(f) = factor {
                    if all_converted(v, &mut out, |x| i64::try_from(*x).ok()?.checked_mul(f)) {
                        return Ok(out);
                    }
                }
                v
            };
            for (i, x) in v.iter().enumerate() {
                let r = if is_null(i) {
                    Err(FixedError::NotANumber("null".into()))
                } else {
                    Decimal::try_from_i128_with_scale(*x, s)
                        .map_err(|_| FixedError::OutOfRange)
                        .and_then(|d| scale.from_decimal(d))
                };
                push(i, r, &mut out);
            }
        }
        t if is_text(t) => {
            let c = arrow_cast::cast(a, &DataType::Utf8).map_err(|_| wrong(file, name, t))?;
            let s = c.as_string::<i32>();
            for i in 0..n {
                let r = if s.is_null(i) {
                    Err(FixedError::NotANumber("null".into()))
                } else {
                    scale.parse(s.value(i))
                };
                push(i, r, &mut out);
            }
        }
        t => return Err(wrong(file, name, t)),
    }
    Ok(out)
}
