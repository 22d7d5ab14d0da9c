//! Metrics of an equity curve, by the standard formulas (empyrical / quantstats
//! definitions), with the period count per year taken from the curve's own span, as
//! `summary.json` does:
//!
//! - period returns `r_i = e_i / e_(i-1) - 1` over consecutive equity rows;
//! - `years = (last_ts - first_ts) / 365.2425 days`, `periods_per_year = n_returns / years`;
//! - Sharpe = mean(r) / sd(r, ddof 1) * sqrt(periods_per_year);
//! - Sortino = mean(r) / sqrt(sum(min(r, 0)^2) / n) * sqrt(periods_per_year);
//! - max drawdown = max over rows of (running peak - e) / running peak;
//! - CAGR = (last / initial)^(1 / years) - 1; Calmar = CAGR / max drawdown;
//! - the longest drawdown: the longest time from a peak until equity first regains it
//!   (or until the last row when it never does).

/// Seconds in an average Gregorian year.
pub const YEAR_SECS: f64 = 365.2425 * 86_400.0;

/// One equity row: time (UTC nanoseconds) and equity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Row time, UTC nanoseconds.
    pub ts: i64,
    /// Equity at that time.
    pub equity: f64,
}

/// The longest peak-to-recovery stretch of an equity curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Drawdown {
    /// Time of the peak it started from.
    pub start: i64,
    /// Time equity first regained the peak, or the last row's time.
    pub end: i64,
    /// Whether equity regained the peak.
    pub recovered: bool,
}

impl Drawdown {
    /// Its length in days.
    pub fn days(&self) -> f64 {
        (self.end - self.start) as f64 / 86_400e9
    }
}

/// Metrics of a curve; `None` where the formula is undefined (too few rows, no losses,
/// a flat curve).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SeriesMetrics {
    /// Final equity / initial - 1.
    pub total_return: Option<f64>,
    /// Compound annual growth rate.
    pub cagr: Option<f64>,
    /// Largest peak-to-trough fall, a positive fraction of the peak.
    pub max_drawdown: Option<f64>,
    /// Annualised Sharpe ratio of period returns.
    pub sharpe: Option<f64>,
    /// Annualised Sortino ratio of period returns.
    pub sortino: Option<f64>,
    /// CAGR / max drawdown.
    pub calmar: Option<f64>,
    /// The longest drawdown, if equity ever fell below a peak.
    pub longest_drawdown: Option<Drawdown>,
    /// Years the curve spans.
    pub years: f64,
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// The metrics of a curve accumulated row by row, in memory that does not grow with it.
/// Mean and variance of the returns use Welford's update.
#[derive(Debug, Clone, Default)]
pub struct SeriesAcc {
    first: Option<Point>,
    last: Option<Point>,
    n: f64,
    mean: f64,
    m2: f64,
    down_sq: f64,
    peak: f64,
    peak_ts: i64,
    under: bool,
    max_dd: f64,
    longest: Option<Drawdown>,
}

impl SeriesAcc {
    /// Adds the next row (rows in time order); returns its drawdown, `e / running peak - 1`.
    pub fn push(&mut self, p: Point) -> f64 {
        if let Some(prev) = self.last.filter(|q| q.equity != 0.0) {
            let r = p.equity / prev.equity - 1.0;
            self.n += 1.0;
            let delta = r - self.mean;
            self.mean += delta / self.n;
            self.m2 += delta * (r - self.mean);
            self.down_sq += r.min(0.0).powi(2);
        }
        if self.first.is_none() {
            self.first = Some(p);
            self.peak = p.equity;
            self.peak_ts = p.ts;
        }
        self.last = Some(p);
        if p.equity >= self.peak {
            if self.under {
                self.consider(Drawdown {
                    start: self.peak_ts,
                    end: p.ts,
                    recovered: true,
                });
            }
            self.under = false;
            self.peak = p.equity;
            self.peak_ts = p.ts;
        } else {
            self.under = true;
        }
        if self.peak > 0.0 {
            self.max_dd = self.max_dd.max((self.peak - p.equity) / self.peak);
            p.equity / self.peak - 1.0
        } else {
            0.0
        }
    }

    fn consider(&mut self, d: Drawdown) {
        if self
            .longest
            .is_none_or(|b| d.end - d.start > b.end - b.start)
        {
            self.longest = Some(d);
        }
    }

    /// The metrics so far, for a run that started with `initial`.
    pub fn finish(&self, initial: f64) -> SeriesMetrics {
        let (Some(first), Some(last)) = (self.first, self.last) else {
            return SeriesMetrics::default();
        };
        let mut longest = self.longest;
        if self.under {
            let open = Drawdown {
                start: self.peak_ts,
                end: last.ts,
                recovered: false,
            };
            if longest.is_none_or(|b| open.end - open.start > b.end - b.start) {
                longest = Some(open);
            }
        }
        let years = (last.ts - first.ts) as f64 / 1e9 / YEAR_SECS;
        let (mut sharpe, mut sortino) = (None, None);
        if self.n >= 2.0 && years > 0.0 {
            let ppy = self.n / years;
            let var = self.m2 / (self.n - 1.0);
            let down = (self.down_sq / self.n).sqrt();
            sharpe = (var > 0.0).then(|| self.mean / var.sqrt() * ppy.sqrt());
            sortino = (down > 0.0).then(|| self.mean / down * ppy.sqrt());
        }
        let total_return = (initial > 0.0).then(|| last.equity / initial - 1.0);
        let cagr = total_return
            .filter(|_| years > 0.0 && last.equity > 0.0)
            .map(|_| (last.equity / initial).powf(1.0 / years) - 1.0);
        let max_dd = self.max_dd;
        SeriesMetrics {
            total_return: total_return.and_then(finite),
            cagr: cagr.and_then(finite),
            max_drawdown: Some(max_dd),
            sharpe: sharpe.and_then(finite),
            sortino: sortino.and_then(finite),
            calmar: cagr.filter(|_| max_dd > 0.0).map(|c| c / max_dd),
            longest_drawdown: longest,
            years,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics(curve: &[Point], initial: f64) -> SeriesMetrics {
        let mut acc = SeriesAcc::default();
        for p in curve {
            acc.push(*p);
        }
        acc.finish(initial)
    }

    const DAY: i64 = 86_400_000_000_000;

    fn curve(values: &[f64]) -> Vec<Point> {
        values
            .iter()
            .enumerate()
            .map(|(i, &equity)| Point {
                ts: i as i64 * DAY,
                equity,
            })
            .collect()
    }

    #[test]
    fn drawdown_and_its_longest_stretch_by_hand() {
        // Peak 120 on day 1, trough 90 (-25%), back to 120 on day 5; then 130, 125 to the end.
        let c = curve(&[100.0, 120.0, 90.0, 100.0, 110.0, 120.0, 130.0, 125.0]);
        let m = metrics(&c, 100.0);
        assert_eq!(m.max_drawdown, Some(0.25));
        let d = m.longest_drawdown.unwrap();
        assert_eq!((d.start, d.end, d.recovered), (DAY, 5 * DAY, true));
        assert_eq!(d.days(), 4.0);
        let mut acc = SeriesAcc::default();
        let dd: Vec<f64> = c.iter().map(|p| acc.push(*p)).collect();
        assert_eq!(dd[2], -0.25);
        assert_eq!(m.total_return, Some(0.25));
    }

    #[test]
    fn an_unrecovered_drawdown_runs_to_the_last_row() {
        let c = curve(&[100.0, 101.0, 90.0, 95.0, 96.0, 97.0]);
        let d = metrics(&c, 100.0).longest_drawdown.unwrap();
        assert_eq!((d.start, d.end, d.recovered), (DAY, 5 * DAY, false));
    }

    #[test]
    fn a_flat_curve_has_no_ratios() {
        let m = metrics(&curve(&[100.0, 100.0, 100.0]), 100.0);
        assert_eq!((m.sharpe, m.sortino, m.calmar), (None, None, None));
        assert_eq!(m.longest_drawdown, None);
        assert_eq!(metrics(&[], 100.0), SeriesMetrics::default());
    }
}
