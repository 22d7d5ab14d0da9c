//! Entry features computed from a symbol's closes up to the decision bar. The walk-forward
//! learners compute them from their train window's bars and the risk engine from the bars
//! it has seen, with this one code, so what was learned and what is judged agree.

/// Bars of close history the features need at most (20-bar return).
pub const HISTORY: usize = 21;

/// Signs of the last `n` one-bar close changes, oldest first: `U` up, `D` down, `F` flat.
/// `None` with fewer than `n + 1` closes.
pub fn pattern(closes: &[f64], n: usize) -> Option<String> {
    if n == 0 || closes.len() < n + 1 {
        return None;
    }
    let tail = &closes[closes.len() - n - 1..];
    Some(
        tail.windows(2)
            .map(|w| match w[1].partial_cmp(&w[0]) {
                Some(std::cmp::Ordering::Greater) => 'U',
                Some(std::cmp::Ordering::Less) => 'D',
                _ => 'F',
            })
            .collect(),
    )
}

/// Fractional returns of the last close over 1, 5 and 20 bars. `None` with fewer than
/// [`HISTORY`] closes or a non-positive close.
pub fn returns(closes: &[f64]) -> Option<[f64; 3]> {
    let n = closes.len();
    if n < HISTORY {
        return None;
    }
    let last = closes[n - 1];
    let back = |k: usize| closes[n - 1 - k];
    if [1, 5, 20].iter().any(|k| back(*k) <= 0.0) {
        return None;
    }
    Some([
        last / back(1) - 1.0,
        last / back(5) - 1.0,
        last / back(20) - 1.0,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_and_returns_by_hand() {
        assert_eq!(
            pattern(&[10.0, 11.0, 11.0, 10.5], 3).as_deref(),
            Some("UFD")
        );
        assert_eq!(pattern(&[10.0, 11.0], 3), None);
        let closes: Vec<f64> = (1..=21).map(f64::from).collect();
        let r = returns(&closes).unwrap();
        assert!((r[0] - (21.0 / 20.0 - 1.0)).abs() < 1e-12);
        assert!((r[1] - (21.0 / 16.0 - 1.0)).abs() < 1e-12);
        assert!((r[2] - (21.0 / 1.0 - 1.0)).abs() < 1e-12);
        assert_eq!(returns(&closes[1..]), None);
    }
}
