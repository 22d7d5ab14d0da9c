//! `risk.profile = "safe_defaults"`: every limit the config leaves unset gets a conservative
//! value, scaled by `run.initial_cash` where it is money. Keys set in the config keep their
//! values, so a profile is a floor of protection, never a surprise override.

use crate::config_safety::RiskSection;
use crate::error::AppError;
use rust_decimal::Decimal;

/// The values `safe_defaults` fills in, for a book starting with `cash` on a calendar with
/// sessions (`nyse`: an entry cutoff at 15:45) or without.
///
/// | key | value |
/// | --- | --- |
/// | `max_order_notional` | 10 % of cash |
/// | `max_open_positions` | 5 |
/// | `max_daily_trades` | 20 |
/// | `max_daily_entry_notional` | 100 % of cash |
/// | `daily_loss_limit` | 2 % of cash |
/// | `stale_after_secs` | 300 |
/// | `loss_streak` | 3 |
/// | `venue_breaker_errors` | 3 |
/// | `entry_cutoff` | `15:45` (sessions only) |
/// | `buying_power` | 1 (a cash account) |
/// | `no_short` | true |
/// | `max_position_pct` | 10 |
/// | `max_total_exposure` | 50 % of cash |
/// | `max_positions_per_symbol` | 1 |
/// | `reentry_cooldown_secs` | 300 |
///
/// `max_position_qty` stays as configured: a share count means nothing across instruments,
/// and `max_position_pct` bounds every position's size.
pub fn safe_defaults(mut r: RiskSection, cash: Decimal, sessions: bool) -> RiskSection {
    let pct = |p: i64| (cash * Decimal::from(p) / Decimal::ONE_HUNDRED).round_dp(2);
    r.max_order_notional.get_or_insert(pct(10));
    r.max_open_positions.get_or_insert(5);
    r.max_daily_trades.get_or_insert(20);
    r.max_daily_entry_notional.get_or_insert(pct(100));
    r.daily_loss_limit.get_or_insert(pct(2));
    r.stale_after_secs.get_or_insert(300);
    r.loss_streak.get_or_insert(3);
    r.venue_breaker_errors.get_or_insert(3);
    if sessions {
        r.entry_cutoff.get_or_insert_with(|| "15:45".into());
    }
    r.buying_power.get_or_insert(Decimal::ONE);
    r.no_short.get_or_insert(true);
    r.max_position_pct.get_or_insert(Decimal::from(10));
    r.max_total_exposure.get_or_insert(pct(50));
    r.max_positions_per_symbol.get_or_insert(1);
    r.reentry_cooldown_secs.get_or_insert(300);
    r
}

/// `[risk]` as it applies: with its profile's values filled in.
pub fn effective(r: &RiskSection, cash: Decimal, sessions: bool) -> Result<RiskSection, AppError> {
    match r.profile.as_deref() {
        None => Ok(r.clone()),
        Some("safe_defaults") => Ok(safe_defaults(r.clone(), cash, sessions)),
        Some(other) => Err(AppError::BadInput(format!(
            "risk.profile: `{other}` is not a profile (known: safe_defaults)"
        ))),
    }
}

/// Checks the account limits' values make sense.
pub fn check(r: &RiskSection) -> Result<(), AppError> {
    let positive = |key: &str, v: Option<Decimal>| match v {
        Some(x) if x <= Decimal::ZERO => Err(AppError::BadInput(format!(
            "risk.{key} must be positive, got {x}"
        ))),
        _ => Ok(()),
    };
    positive("buying_power", r.buying_power)?;
    positive("max_position_pct", r.max_position_pct)?;
    positive("max_total_exposure", r.max_total_exposure)?;
    if r.max_positions_per_symbol == Some(0) {
        return Err(AppError::BadInput(
            "risk.max_positions_per_symbol must be at least 1".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_defaults_fill_only_what_is_unset() {
        let mut r = RiskSection {
            max_open_positions: Some(9),
            no_short: Some(false),
            profile: Some("safe_defaults".into()),
            ..RiskSection::default()
        };
        let e = effective(&r, Decimal::from(50_000), true).expect("known profile");
        assert_eq!(e.max_open_positions, Some(9), "an explicit key wins");
        assert_eq!(e.no_short, Some(false));
        assert_eq!(e.max_order_notional, Some(Decimal::from(5_000)));
        assert_eq!(e.daily_loss_limit, Some(Decimal::from(1_000)));
        assert_eq!(e.max_total_exposure, Some(Decimal::from(25_000)));
        assert_eq!(e.entry_cutoff.as_deref(), Some("15:45"));
        assert_eq!(e.reentry_cooldown_secs, Some(300));
        let crypto = effective(&r, Decimal::from(50_000), false).expect("known");
        assert_eq!(crypto.entry_cutoff, None, "no session, no cutoff");
        r.profile = Some("yolo".into());
        let err = effective(&r, Decimal::ONE, true).expect_err("unknown profile");
        assert!(err.to_string().contains("risk.profile: `yolo`"), "{err}");
    }
}
