//! Option chain selection: which expiry and which strike a strategy gets when it asks for
//! "the ATM 0DTE call" or "the 30-delta put next Friday". Strategies never build OCC
//! strings themselves; they describe the contract and the chain picks it.

use crate::market::MarketState;
use crate::options::black_scholes::{delta, implied_vol, Inputs};
use crate::options::instruments::Instruments;
use chrono::{Datelike, Days, NaiveDate, Weekday};
use lockstep_core::{OptionRight, Price, SymbolId, SymbolTable, UnixNanos};
use rust_decimal::prelude::ToPrimitive;

/// Which expiry to trade, relative to the trading day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiryRule {
    /// The contract expiring today (0DTE); none if nothing expires today.
    ZeroDte,
    /// The nearest expiry at least this many calendar days ahead.
    NearestAtLeast(u32),
    /// The first Friday expiry at least this many calendar days ahead (seed 002 uses 5).
    FridayAtLeast(u32),
}

/// The expiry `rule` picks on `today` from the listed `expiries` (ascending).
pub fn pick_expiry(
    rule: ExpiryRule,
    today: NaiveDate,
    expiries: &[NaiveDate],
) -> Option<NaiveDate> {
    let ahead = |days: u32| today.checked_add_days(Days::new(u64::from(days)));
    match rule {
        ExpiryRule::ZeroDte => expiries.iter().copied().find(|e| *e == today),
        ExpiryRule::NearestAtLeast(days) => {
            let from = ahead(days)?;
            expiries.iter().copied().find(|e| *e >= from)
        }
        ExpiryRule::FridayAtLeast(days) => {
            let from = ahead(days)?;
            expiries
                .iter()
                .copied()
                .find(|e| *e >= from && e.weekday() == Weekday::Fri)
        }
    }
}

/// The at-the-money strike from the listed `strikes` (ascending): for a call the lowest
/// strike at or above the underlying (its price rounded up to the strike grid), for a put
/// the highest at or below it (rounded down).
pub fn atm_strike(right: OptionRight, underlying: Price, strikes: &[Price]) -> Option<Price> {
    match right {
        OptionRight::Call => strikes.iter().copied().find(|k| *k >= underlying),
        OptionRight::Put => strikes.iter().rev().copied().find(|k| *k <= underlying),
    }
}

/// What a strategy asks the chain for: the at-the-money contract of `underlying` with
/// `right`, picked by `expiry`, among contracts with a bar in the last `fresh_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AtmRequest<'a> {
    /// Underlying symbol (`SPX`, `GOOG`).
    pub underlying: &'a str,
    /// Call or put.
    pub right: OptionRight,
    /// Which expiry.
    pub expiry: ExpiryRule,
    /// A contract belongs to the chain while its last bar ended this recently.
    pub fresh_secs: i64,
}

/// A chain contract: (id, expiry session, strike).
type Listed = (SymbolId, NaiveDate, Price);

/// For `req` at `now`: the underlying's last price, the contracts of its underlying and
/// right whose last bar ended at most `fresh_secs` before `now`, and the expiry the rule
/// picks among them on New York's date of `now`.
fn chain_at(
    req: &AtmRequest<'_>,
    now: UnixNanos,
    instruments: &Instruments,
    market: &MarketState,
    symbols: &SymbolTable,
) -> Option<(Price, Vec<Listed>, NaiveDate)> {
    let spot = symbols.get(req.underlying).and_then(|u| market.mark(u))?;
    let since = now
        .0
        .saturating_sub(req.fresh_secs.saturating_mul(1_000_000_000));
    let chain: Vec<Listed> = (0..symbols.len())
        .map(|i| SymbolId(i as u32))
        .filter_map(|id| {
            let c = instruments.option(id)?;
            let fresh = market.last_bar(id).is_some_and(|b| b.end.0 >= since);
            (fresh && c.underlying == req.underlying && c.occ.right == req.right).then_some((
                id,
                instruments.expiry_session(id)?,
                c.occ.strike,
            ))
        })
        .collect();
    let mut expiries: Vec<NaiveDate> = chain.iter().map(|c| c.1).collect();
    expiries.sort_unstable();
    expiries.dedup();
    let today = now
        .to_datetime()
        .with_timezone(&chrono_tz::America::New_York)
        .date_naive();
    let expiry = pick_expiry(req.expiry, today, &expiries)?;
    Some((spot, chain, expiry))
}

/// The contract `req` describes at `now`, if the chain has one: today's date is New York's;
/// expiries are expiry sessions; the strike is ATM against the underlying's last close.
pub fn select_atm(
    req: &AtmRequest<'_>,
    now: UnixNanos,
    instruments: &Instruments,
    market: &MarketState,
    symbols: &SymbolTable,
) -> Option<SymbolId> {
    let (spot, chain, expiry) = chain_at(req, now, instruments, market, symbols)?;
    let mut strikes: Vec<Price> = chain
        .iter()
        .filter(|c| c.1 == expiry)
        .map(|c| c.2)
        .collect();
    strikes.sort_unstable();
    let strike = atm_strike(req.right, spot, &strikes)?;
    chain
        .iter()
        .find(|c| c.1 == expiry && c.2 == strike)
        .map(|c| c.0)
}

/// What a strategy asks the chain for by delta: the contract of `chain.underlying` and
/// `chain.right` (expiry and freshness as in [`AtmRequest`]) whose Black–Scholes delta is
/// nearest `delta` (0.30 for a 30-delta call, -0.30 for a put).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeltaRequest<'a> {
    /// Underlying, right, expiry rule and freshness.
    pub chain: AtmRequest<'a>,
    /// Target delta.
    pub delta: f64,
    /// Continuously compounded risk-free rate (0.0 is fine for short expiries).
    pub rate: f64,
}

/// Seconds in the year used for time to expiry (365 days).
const YEAR_SECS: f64 = 365.0 * 86_400.0;

/// The contract `req` describes at `now`: among the chain's contracts of the picked expiry
/// with a two-sided last quote, the one whose delta (volatility implied from its own mid,
/// time to the expiry session's NYSE close) is nearest the target.
pub fn select_by_delta(
    req: &DeltaRequest<'_>,
    now: UnixNanos,
    instruments: &Instruments,
    market: &MarketState,
    symbols: &SymbolTable,
) -> Option<SymbolId> {
    let c = &req.chain;
    let (spot, chain, expiry) = chain_at(c, now, instruments, market, symbols)?;
    let close = lockstep_core::Calendar::Nyse.session(expiry)?.close;
    let years = (close.0 - now.0) as f64 / 1e9 / YEAR_SECS;
    if years <= 0.0 {
        return None;
    }
    let quotes: Vec<(SymbolId, Quoted)> = chain
        .iter()
        .filter(|q| q.1 == expiry)
        .filter_map(|q| {
            let bar = market.last_bar(q.0).filter(|b| b.two_sided())?;
            Some((
                q.0,
                Quoted {
                    strike: q.2,
                    mid: bar.close_price(),
                },
            ))
        })
        .collect();
    let quoted: Vec<Quoted> = quotes.iter().map(|q| q.1).collect();
    let strike = nearest_delta(c.right, req.delta, spot, years, req.rate, &quoted)?;
    quotes.iter().find(|q| q.1.strike == strike).map(|q| q.0)
}

/// One quoted contract of a chain: strike and mid price.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quoted {
    /// Strike.
    pub strike: Price,
    /// Mid of bid and ask.
    pub mid: Price,
}

/// The strike whose Black–Scholes delta (volatility implied from each contract's own mid)
/// is nearest `target` (0.30 for a 30-delta call, −0.30 for a put); ties go to the lower
/// strike. Contracts whose mid implies no volatility are skipped.
pub fn nearest_delta(
    right: OptionRight,
    target: f64,
    underlying: Price,
    years: f64,
    rate: f64,
    quotes: &[Quoted],
) -> Option<Price> {
    let s = underlying.to_f64()?;
    let mut best: Option<(f64, Price)> = None;
    for q in quotes {
        let (Some(k), Some(mid)) = (q.strike.to_f64(), q.mid.to_f64()) else {
            continue;
        };
        let base = Inputs {
            s,
            k,
            t: years,
            r: rate,
            sigma: 0.2,
        };
        let Some(sigma) = implied_vol(right, mid, &base) else {
            continue;
        };
        let gap = (delta(right, &Inputs { sigma, ..base }) - target).abs();
        if best.is_none_or(|(g, k)| gap < g || (gap == g && q.strike < k)) {
            best = Some((gap, q.strike));
        }
    }
    best.map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    #[test]
    fn expiry_rules_on_hand_checked_dates() {
        // SPXW lists Monday, Wednesday and Friday expiries.
        let listed = [
            day(2021, 1, 4),
            day(2021, 1, 6),
            day(2021, 1, 8),
            day(2021, 1, 11),
            day(2021, 1, 15),
        ];
        let monday = day(2021, 1, 4);
        assert_eq!(
            pick_expiry(ExpiryRule::ZeroDte, monday, &listed),
            Some(monday)
        );
        assert_eq!(
            pick_expiry(ExpiryRule::ZeroDte, day(2021, 1, 5), &listed),
            None
        );
        assert_eq!(
            pick_expiry(ExpiryRule::NearestAtLeast(3), monday, &listed),
            Some(day(2021, 1, 8))
        );
        // +5 days is Saturday the 9th: the next Friday expiry is the 15th, not the 11th.
        assert_eq!(
            pick_expiry(ExpiryRule::FridayAtLeast(5), monday, &listed),
            Some(day(2021, 1, 15))
        );
    }

    #[test]
    fn atm_rounds_calls_up_and_puts_down_to_the_grid() {
        let grid: Vec<Price> = (3700..=3750).step_by(5).map(Decimal::from).collect();
        let spx = Decimal::new(37255, 1);
        assert_eq!(
            atm_strike(OptionRight::Call, spx, &grid),
            Some(Decimal::from(3730))
        );
        assert_eq!(
            atm_strike(OptionRight::Put, spx, &grid),
            Some(Decimal::from(3725))
        );
        let on = Decimal::from(3725);
        assert_eq!(atm_strike(OptionRight::Call, on, &grid), Some(on));
        assert_eq!(atm_strike(OptionRight::Put, on, &grid), Some(on));
        assert_eq!(
            atm_strike(OptionRight::Call, Decimal::from(3800), &grid),
            None
        );
    }

    #[test]
    fn nearest_delta_picks_by_implied_delta() {
        // Mids priced by the model at σ = 20 %, S = 100, T = 30/365, r = 0: deltas fall
        // with the strike, so a 0.25-delta call is out of the money.
        let (s, t) = (100.0, 30.0 / 365.0);
        let quotes: Vec<Quoted> = (95..=110)
            .step_by(5)
            .map(|k| {
                let i = Inputs {
                    s,
                    k: f64::from(k),
                    t,
                    r: 0.0,
                    sigma: 0.2,
                };
                let mid = crate::options::black_scholes::price(OptionRight::Call, &i);
                Quoted {
                    strike: Decimal::from(k),
                    mid: Decimal::from_f64_retain(mid).expect("finite").round_dp(4),
                }
            })
            .collect();
        // Deltas at 95/100/105/110: about 0.82, 0.51, 0.21, 0.05 (computed by hand).
        let k = nearest_delta(OptionRight::Call, 0.25, Decimal::from(100), t, 0.0, &quotes);
        assert_eq!(k, Some(Decimal::from(105)));
        let atm = nearest_delta(OptionRight::Call, 0.5, Decimal::from(100), t, 0.0, &quotes);
        assert_eq!(atm, Some(Decimal::from(100)));
    }
}
