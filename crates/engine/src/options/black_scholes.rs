//! Black–Scholes prices, deltas and implied volatility for European options (no dividends),
//! used to pick contracts by delta. Floating point is fine here: these numbers choose a
//! contract; they never reach the ledger or a report.

use lockstep_core::OptionRight;

/// Standard normal cumulative distribution function.
pub fn norm_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

/// Inputs of the model: spot `s`, strike `k`, years to expiry `t`, continuously
/// compounded rate `r`, volatility `sigma`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Inputs {
    /// Underlying price.
    pub s: f64,
    /// Strike.
    pub k: f64,
    /// Years to expiry (> 0).
    pub t: f64,
    /// Risk-free rate.
    pub r: f64,
    /// Volatility (> 0).
    pub sigma: f64,
}

impl Inputs {
    fn d1_d2(&self) -> (f64, f64) {
        let vt = self.sigma * self.t.sqrt();
        let d1 = ((self.s / self.k).ln() + (self.r + 0.5 * self.sigma * self.sigma) * self.t) / vt;
        (d1, d1 - vt)
    }
}

/// The option's model price.
pub fn price(right: OptionRight, i: &Inputs) -> f64 {
    let (d1, d2) = i.d1_d2();
    let discounted_k = i.k * (-i.r * i.t).exp();
    match right {
        OptionRight::Call => i.s * norm_cdf(d1) - discounted_k * norm_cdf(d2),
        OptionRight::Put => discounted_k * norm_cdf(-d2) - i.s * norm_cdf(-d1),
    }
}

/// The option's delta (∂price/∂s): in (0, 1) for calls, (−1, 0) for puts.
pub fn delta(right: OptionRight, i: &Inputs) -> f64 {
    let (d1, _) = i.d1_d2();
    match right {
        OptionRight::Call => norm_cdf(d1),
        OptionRight::Put => norm_cdf(d1) - 1.0,
    }
}

/// The volatility at which the model price equals `target`, by bisection on
/// [1e-4, 5]; `None` when the price lies outside what any volatility there gives (for
/// example below intrinsic value).
pub fn implied_vol(right: OptionRight, target: f64, i: &Inputs) -> Option<f64> {
    let at = |sigma: f64| price(right, &Inputs { sigma, ..*i });
    let (mut lo, mut hi) = (1e-4, 5.0);
    if !(at(lo)..=at(hi)).contains(&target) {
        return None;
    }
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if at(mid) < target {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo < 1e-10 {
            break;
        }
    }
    Some(0.5 * (lo + hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hull, "Options, Futures, and Other Derivatives", 8th ed., Example 15.6:
    /// S = 42, K = 40, r = 10 %, σ = 20 %, T = 0.5 → call 4.76, put 0.81.
    const HULL_15_6: Inputs = Inputs {
        s: 42.0,
        k: 40.0,
        t: 0.5,
        r: 0.10,
        sigma: 0.20,
    };

    #[test]
    fn prices_match_published_examples() {
        let c = price(OptionRight::Call, &HULL_15_6);
        let p = price(OptionRight::Put, &HULL_15_6);
        assert!((c - 4.76).abs() < 0.005, "call {c}");
        assert!((p - 0.81).abs() < 0.005, "put {p}");
        // Haug, "The Complete Guide to Option Pricing Formulas", 2nd ed., 1.1.1:
        // S = 60, K = 65, T = 0.25, r = 8 %, σ = 30 % → call 2.1334.
        let haug = Inputs {
            s: 60.0,
            k: 65.0,
            t: 0.25,
            r: 0.08,
            sigma: 0.30,
        };
        let c = price(OptionRight::Call, &haug);
        assert!((c - 2.1334).abs() < 0.00005, "call {c}");
    }

    #[test]
    fn delta_matches_hull_and_implied_vol_inverts_the_price() {
        // Hull, 8th ed., Example 19.1: S = 49, K = 50, r = 5 %, σ = 20 %, T = 20 weeks
        // (0.3846 y) → call delta 0.522.
        let i = Inputs {
            s: 49.0,
            k: 50.0,
            t: 0.3846,
            r: 0.05,
            sigma: 0.20,
        };
        let d = delta(OptionRight::Call, &i);
        assert!((d - 0.522).abs() < 0.0005, "delta {d}");
        assert!((delta(OptionRight::Put, &i) - (d - 1.0)).abs() < 1e-12);
        let iv = implied_vol(OptionRight::Call, 4.76, &HULL_15_6).expect("in range");
        assert!((iv - 0.20).abs() < 0.002, "iv {iv}");
        let exact = price(OptionRight::Put, &HULL_15_6);
        let iv = implied_vol(OptionRight::Put, exact, &HULL_15_6).expect("in range");
        assert!((iv - 0.20).abs() < 1e-8, "iv {iv}");
        assert_eq!(
            implied_vol(OptionRight::Call, 1.0, &HULL_15_6),
            None,
            "below intrinsic (2 + carry): no volatility gives it"
        );
    }

    #[test]
    fn put_call_parity_holds() {
        let c = price(OptionRight::Call, &HULL_15_6);
        let p = price(OptionRight::Put, &HULL_15_6);
        let parity = HULL_15_6.s - HULL_15_6.k * (-HULL_15_6.r * HULL_15_6.t).exp();
        assert!((c - p - parity).abs() < 1e-10);
    }
}
