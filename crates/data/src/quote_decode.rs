//! Decoding quote-bar columns (bid/ask open, high, low, close) into a batch: each side is
//! present only when all four of its prices are, and the bar's OHLC becomes the mark.

use crate::decode::{DecodedBatch, QuoteBatch};
use crate::error::DataError;
use crate::price_columns::decode_price;
use arrow_array::{Array, ArrayRef};
use lockstep_core::Scale;
use std::collections::BTreeMap;
use std::path::Path;

/// Fills `out.quote`, `out.price` (the mark) and `out.volume` (zeros) from the eight quote
/// columns `cols` named `names` (bid open..close, then ask open..close).
///
/// Per row and side: four nulls, or four zeros (how many vendors write "no bid"), = no
/// quote on that side; one to three nulls, a value that does not convert, a price <= 0, or
/// open/close outside [low, high] = a bad cell naming the column. A crossed row (bid above
/// ask at the open or the close) has no trustworthy market and counts as having neither
/// side. The mark is the half-even mid of the two sides, or the one side present.
pub fn decode_quotes(
    cols: &[&ArrayRef],
    names: &[String; 8],
    scale: Scale,
    file: &Path,
    out: &mut DecodedBatch,
) -> Result<(), DataError> {
    let n = out.ts.len();
    let mut q = out.quote.take().unwrap_or_default();
    let mut conversion: BTreeMap<(usize, usize), String> = BTreeMap::new();
    for (k, a) in cols.iter().enumerate() {
        let mut bad = Vec::new();
        let buf = std::mem::take(side_mut(&mut q, k));
        *side_mut(&mut q, k) = decode_price(a, &names[k], scale, &mut bad, file, buf)?;
        for (i, _, reason) in bad {
            if !a.is_null(i) {
                conversion.entry((i, k)).or_insert(reason);
            }
        }
    }
    for s in 0..2 {
        let has = if s == 0 {
            &mut q.has_bid
        } else {
            &mut q.has_ask
        };
        has.resize(n, false);
        for (i, present) in has.iter_mut().enumerate() {
            let cols4 = &cols[s * 4..s * 4 + 4];
            let nulls = cols4.iter().filter(|a| a.is_null(i)).count();
            *present = false;
            if nulls == 4 {
                continue;
            }
            if let Some(k) = (0..4).find(|k| cols4[*k].is_null(i)) {
                let side = if s == 0 { "bid" } else { "ask" };
                out.bad.push((
                    i,
                    names[s * 4 + k].clone(),
                    format!(
                        "the {side} side is partly missing (some of open/high/low/close are null)"
                    ),
                ));
                continue;
            }
            if let Some(((_, k), reason)) = conversion.range((i, s * 4)..(i, s * 4 + 4)).next() {
                out.bad.push((i, names[*k].clone(), reason.clone()));
                continue;
            }
            let v = |k: usize| (if s == 0 { &q.bid } else { &q.ask })[k][i];
            let (o, h, l, c) = (v(0), v(1), v(2), v(3));
            if [o, h, l, c] == [0; 4] {
                continue;
            }
            let problem = if [o, h, l, c].iter().any(|p| *p <= 0) {
                Some((0, "price must be positive"))
            } else if h < l {
                Some((1, "high is below low"))
            } else if o < l || o > h {
                Some((0, "open is outside [low, high]"))
            } else if c < l || c > h {
                Some((3, "close is outside [low, high]"))
            } else {
                None
            };
            match problem {
                Some((k, reason)) => out.bad.push((i, names[s * 4 + k].clone(), reason.into())),
                None => *present = true,
            }
        }
    }
    for i in 0..n {
        let crossed = |k: usize| q.bid[k][i] > q.ask[k][i];
        if q.has_bid[i] && q.has_ask[i] && (crossed(0) || crossed(3)) {
            q.has_bid[i] = false;
            q.has_ask[i] = false;
        }
    }
    for k in 0..4 {
        let p = &mut out.price[k];
        p.clear();
        p.extend((0..n).map(|i| match (q.has_bid[i], q.has_ask[i]) {
            (true, true) => half_even_mid(q.bid[k][i], q.ask[k][i]),
            (true, false) => q.bid[k][i],
            (false, true) => q.ask[k][i],
            (false, false) => 0,
        }));
    }
    out.volume.clear();
    out.volume.resize(n, 0.0);
    out.quote = Some(q);
    Ok(())
}

fn side_mut(q: &mut QuoteBatch, k: usize) -> &mut Vec<i64> {
    if k < 4 {
        &mut q.bid[k]
    } else {
        &mut q.ask[k - 4]
    }
}

/// The midpoint of two positive mantissas, a half rounded to the even mantissa.
pub fn half_even_mid(a: i64, b: i64) -> i64 {
    let sum = i128::from(a) + i128::from(b);
    let mid = sum.div_euclid(2);
    let rounded = if sum.rem_euclid(2) != 0 && mid % 2 != 0 {
        mid + 1
    } else {
        mid
    };
    i64::try_from(rounded).unwrap_or(if rounded > 0 { i64::MAX } else { i64::MIN })
}

#[cfg(test)]
mod tests {
    use super::half_even_mid;

    #[test]
    fn mids_round_half_to_even() {
        assert_eq!(half_even_mid(100, 110), 105);
        assert_eq!(half_even_mid(100, 101), 100);
        assert_eq!(half_even_mid(101, 102), 102);
        assert_eq!(half_even_mid(i64::MAX, i64::MAX - 2), i64::MAX - 1);
    }
}
