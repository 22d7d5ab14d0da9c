//! From config to the engine's safety core: strategies with their own exit and EOD
//! settings, risk limits, exit rules, the EOD guard and the simulated venue's settings.

use crate::config::{self, Config, FillSetting, QuoteFillSetting};
use crate::config_safety::{ExitsSection, IntrabarSetting};
use crate::error::AppError;
use lockstep_engine::{
    CommissionModel, EntryBlackout, EntryCutoff, EntryPatterns, EntryScore, ExitRules,
    ExitSettings, FaultSettings, FillModel, Intrabar, NamedStrategy, PartialTier, QuoteFill,
    RiskLimits, SimSettings, Slippage, TrailDistance, Trailing, VenueBreaker,
};
use rust_decimal::Decimal;

/// One configured strategy with the settings it may override.
pub struct StrategyPlan {
    /// Report label and instance.
    pub strategy: NamedStrategy,
    /// Its `exits = {...}` keys (over `[exits]`).
    pub exits: ExitsSection,
    /// Its `eod = "hold" | "flatten"` (over `eod.policy`).
    pub eod: Option<config::EodPolicy>,
}

fn take_table<T: serde::de::DeserializeOwned>(
    t: &mut toml::Table,
    key: &str,
    label: &str,
) -> Result<Option<T>, AppError> {
    t.remove(key)
        .map(|v| {
            v.try_into().map_err(|e: toml::de::Error| {
                AppError::BadInput(format!("strategy `{label}`: key `{key}`: {}", e.message()))
            })
        })
        .transpose()
}

/// Builds every strategy of the config (`[strategy]` or `[[strategies]]`).
pub fn build_strategies(cfg: &Config) -> Result<Vec<StrategyPlan>, AppError> {
    let tables: Vec<toml::Table> = match (&cfg.strategy, &cfg.strategies) {
        (Some(_), Some(_)) => {
            return Err(AppError::BadInput(
                "config has both [strategy] and [[strategies]]; use one".into(),
            ))
        }
        (Some(t), None) => vec![t.clone()],
        (None, Some(v)) if !v.is_empty() => v.clone(),
        _ => vec![toml::Table::new()],
    };
    let mut out: Vec<StrategyPlan> = Vec::new();
    for (k, mut t) in tables.into_iter().enumerate() {
        let name = match t.remove("name") {
            None => "sma_cross".to_string(),
            Some(toml::Value::String(s)) => s,
            Some(other) => {
                return Err(AppError::BadInput(format!(
                    "strategy name must be text, got {other}"
                )));
            }
        };
        let label = match t.remove("label") {
            Some(toml::Value::String(s)) => s,
            _ if out.iter().any(|p| p.strategy.0 == name) => format!("{name}#{k}"),
            _ => name.clone(),
        };
        let exits: ExitsSection = take_table(&mut t, "exits", &label)?.unwrap_or_default();
        if exits.intrabar.is_some() {
            return Err(AppError::BadInput(format!(
                "strategy `{label}`: key `exits.intrabar` is global only; set it in [exits]"
            )));
        }
        let eod = take_table(&mut t, "eod", &label)?;
        let s =
            lockstep_strategies::build(&name, t).map_err(|e| AppError::BadInput(e.to_string()))?;
        out.push(StrategyPlan {
            strategy: (label, s),
            exits,
            eod,
        });
    }
    Ok(out)
}

fn fraction(key: &str, v: Option<Decimal>) -> Result<Option<Decimal>, AppError> {
    match v {
        Some(d) if d < Decimal::ZERO => Err(AppError::BadInput(format!(
            "exits.{key}: {d} must not be negative"
        ))),
        other => Ok(other),
    }
}

fn exit_rules(e: &ExitsSection) -> Result<ExitRules, AppError> {
    let distance = match (e.trailing_pct, e.trailing_atr) {
        (Some(_), Some(_)) => {
            return Err(AppError::BadInput(
                "exits: set trailing_pct or trailing_atr, not both".into(),
            ))
        }
        (Some(p), None) => fraction("trailing_pct", Some(p))?.map(TrailDistance::Pct),
        (None, Some(mult)) => {
            let period = e.atr_period.unwrap_or(14);
            if period == 0 || mult <= Decimal::ZERO {
                return Err(AppError::BadInput(
                    "exits: trailing_atr and atr_period must be positive".into(),
                ));
            }
            Some(TrailDistance::Atr { mult, period })
        }
        (None, None) => None,
    };
    let trailing = distance
        .map(|distance| -> Result<Trailing, AppError> {
            Ok(Trailing {
                distance,
                activation_pct: fraction("trailing_activation_pct", e.trailing_activation_pct)?
                    .unwrap_or_default(),
                step_pct: fraction("trailing_step_pct", e.trailing_step_pct)?.unwrap_or_default(),
                step_atr: match (e.trailing_step_atr, distance) {
                    (Some(_), TrailDistance::Pct(_)) => {
                        return Err(AppError::BadInput(
                            "exits.trailing_step_atr needs exits.trailing_atr".into(),
                        ))
                    }
                    (step, _) => fraction("trailing_step_atr", step)?.unwrap_or_default(),
                },
                min_pct: fraction("trailing_min_pct", e.trailing_min_pct)?,
                max_pct: fraction("trailing_max_pct", e.trailing_max_pct)?,
            })
        })
        .transpose()?;
    Ok(ExitRules {
        hard_stop_pct: fraction("hard_stop_pct", e.hard_stop_pct)?,
        soft_stop_pct: fraction("soft_stop_pct", e.soft_stop_pct)?,
        take_profit_pct: fraction("take_profit_pct", e.take_profit_pct)?,
        trailing,
        max_hold_secs: e
            .max_hold_secs
            .map(|s| i64::try_from(s).unwrap_or(i64::MAX)),
        signal_only_in_profit: e.signal_only_in_profit.unwrap_or(false),
        min_dte: e.min_dte,
        partials: partial_tiers(e)?,
        trailing_suppresses_signal: e.trailing_suppresses_signal.unwrap_or(false),
    })
}

/// `exits.partials`: each gain positive and above the one before, each fraction in (0, 1],
/// the fractions together at most 1.
fn partial_tiers(e: &ExitsSection) -> Result<Vec<PartialTier>, AppError> {
    let tiers: Vec<PartialTier> = e
        .partials
        .iter()
        .flatten()
        .map(|p| PartialTier {
            gain_pct: p.gain_pct,
            fraction: p.fraction,
        })
        .collect();
    let bad = |why: String| Err(AppError::BadInput(format!("exits.partials: {why}")));
    let mut last = Decimal::ZERO;
    for (k, t) in tiers.iter().enumerate() {
        if t.gain_pct <= last {
            return bad(format!(
                "tier {}: gain_pct {} must be positive and above the tier before",
                k + 1,
                t.gain_pct
            ));
        }
        if t.fraction <= Decimal::ZERO || t.fraction > Decimal::ONE {
            return bad(format!(
                "tier {}: fraction {} must be in (0, 1]",
                k + 1,
                t.fraction
            ));
        }
        last = t.gain_pct;
    }
    let total: Decimal = tiers.iter().map(|t| t.fraction).sum();
    if total > Decimal::ONE {
        return bad(format!(
            "the fractions add up to {total}, more than the position"
        ));
    }
    Ok(tiers)
}

/// The exit manager's settings: `[exits]` with each strategy's own keys over it.
pub fn exit_settings(cfg: &Config, plans: &[StrategyPlan]) -> Result<ExitSettings, AppError> {
    let rules = plans
        .iter()
        .map(|p| exit_rules(&cfg.exits.overridden_by(&p.exits)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ExitSettings {
        rules,
        intrabar: match cfg.exits.intrabar.unwrap_or_default() {
            IntrabarSetting::Pessimistic => Intrabar::Pessimistic,
            IntrabarSetting::Optimistic => Intrabar::Optimistic,
        },
    })
}

fn hh_mm(key: &str, text: &str) -> Result<chrono::NaiveTime, AppError> {
    chrono::NaiveTime::parse_from_str(text, "%H:%M")
        .map_err(|_| AppError::BadInput(format!("{key}: `{text}` is not HH:MM")))
}

/// The risk engine's limits from `[risk]`; the entry cutoff is read in the calendar's
/// time zone (New York for `nyse`, UTC for `24x7`).
pub fn risk_limits(cfg: &Config) -> Result<RiskLimits, AppError> {
    let sessions = lockstep_core::Calendar::from_name(&cfg.data.calendar)
        == Some(lockstep_core::Calendar::Nyse);
    let r = &crate::risk_profile::effective(&cfg.risk, cfg.run.initial_cash, sessions)?;
    crate::risk_profile::check(r)?;
    let venue_breaker = match (r.venue_breaker_errors, r.venue_breaker_cooldown_secs) {
        (Some(0), _) => {
            return Err(AppError::BadInput(
                "risk.venue_breaker_errors must be at least 1".into(),
            ))
        }
        (Some(errors), cooldown) => Some(VenueBreaker {
            errors,
            cooldown_secs: cooldown.unwrap_or(300),
        }),
        (None, Some(_)) => {
            return Err(AppError::BadInput(
                "risk.venue_breaker_cooldown_secs needs risk.venue_breaker_errors".into(),
            ))
        }
        (None, None) => None,
    };
    let tz = match lockstep_core::Calendar::from_name(&cfg.data.calendar) {
        Some(lockstep_core::Calendar::Nyse) => chrono_tz::America::New_York,
        _ => chrono_tz::UTC,
    };
    let entry_cutoff = r
        .entry_cutoff
        .as_deref()
        .map(|t| hh_mm("risk.entry_cutoff", t).map(|at| EntryCutoff { tz, at }))
        .transpose()?;
    let ranges = r
        .entry_blackout
        .iter()
        .map(|range| {
            let bad = || {
                AppError::BadInput(format!(
                    "risk.entry_blackout: `{range}` is not HH:MM-HH:MM with start before end"
                ))
            };
            let (a, b) = range.split_once('-').ok_or_else(bad)?;
            let (a, b) = (
                hh_mm("risk.entry_blackout", a.trim())?,
                hh_mm("risk.entry_blackout", b.trim())?,
            );
            if a >= b {
                return Err(bad());
            }
            Ok((a, b))
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    let entry_blackout = (!ranges.is_empty()).then_some(EntryBlackout { tz, ranges });
    if r.entry_pattern_bars == 0 && !r.entry_pattern_blocked.is_empty() {
        return Err(AppError::BadInput(
            "risk.entry_pattern_bars must be at least 1".into(),
        ));
    }
    if let Some(p) = r
        .entry_pattern_blocked
        .iter()
        .find(|p| p.len() != r.entry_pattern_bars || p.chars().any(|c| !"UDF".contains(c)))
    {
        return Err(AppError::BadInput(format!(
            "risk.entry_pattern_blocked: `{p}` is not {} letters of U, D, F",
            r.entry_pattern_bars
        )));
    }
    let entry_patterns = (!r.entry_pattern_blocked.is_empty()).then(|| EntryPatterns {
        bars: r.entry_pattern_bars,
        blocked: r.entry_pattern_blocked.iter().cloned().collect(),
    });
    let entry_score = match &r.entry_score_weights {
        None => None,
        Some(w) if w.len() == 3 && w.iter().all(|x| x.is_finite()) => Some(EntryScore {
            weights: [w[0], w[1], w[2]],
            min: r.entry_score_min,
        }),
        Some(_) => {
            return Err(AppError::BadInput(
                "risk.entry_score_weights: expected three finite numbers [w1, w5, w20]".into(),
            ))
        }
    };
    Ok(RiskLimits {
        max_order_notional: r.max_order_notional,
        max_position_qty: r.max_position_qty,
        max_open_positions: r.max_open_positions,
        max_daily_trades: r.max_daily_trades,
        max_daily_entry_notional: r.max_daily_entry_notional,
        daily_loss_limit: r.daily_loss_limit,
        kill_switch: r.kill_switch,
        stale_after_secs: r.stale_after_secs,
        loss_streak: r.loss_streak,
        loss_streak_pause_secs: r.loss_streak_pause_secs,
        venue_breaker,
        entry_cutoff,
        entry_blackout,
        entry_patterns,
        entry_score,
        account: lockstep_engine::AccountLimits {
            buying_power: r.buying_power,
            no_short: r.no_short.unwrap_or(false),
            max_position_pct: r.max_position_pct,
            max_total_exposure: r.max_total_exposure,
            max_positions_per_symbol: r.max_positions_per_symbol,
            reentry_cooldown_secs: r.reentry_cooldown_secs,
        },
    })
}

fn commission(cfg: &Config) -> Result<CommissionModel, AppError> {
    let c = &cfg.execution.commission;
    match (c.percent, c.per_share) {
        (Some(_), Some(_)) => Err(AppError::BadInput(
            "execution.commission: set either percent or per_share, not both".into(),
        )),
        (Some(taker), None) if taker >= Decimal::ZERO => {
            let maker = c.maker_percent.unwrap_or(taker);
            if maker < Decimal::ZERO {
                return Err(AppError::BadInput(
                    "execution.commission.maker_percent must not be negative".into(),
                ));
            }
            Ok(CommissionModel::Percent { taker, maker })
        }
        (None, _) if c.maker_percent.is_some() => Err(AppError::BadInput(
            "execution.commission.maker_percent needs percent (the taker rate)".into(),
        )),
        (None, Some(per_share)) if per_share >= Decimal::ZERO => Ok(CommissionModel::PerShare {
            per_share,
            minimum: c.minimum.unwrap_or_default(),
        }),
        (None, None) if c.minimum.is_none() => Ok(CommissionModel::Zero),
        (None, None) => Err(AppError::BadInput(
            "execution.commission.minimum needs per_share".into(),
        )),
        _ => Err(AppError::BadInput(
            "execution.commission: rates must not be negative".into(),
        )),
    }
}

fn probability(key: &str, p: Option<f64>) -> Result<Option<f64>, AppError> {
    match p {
        Some(v) if !(0.0..=1.0).contains(&v) => Err(AppError::BadInput(format!(
            "execution.faults.{key}: {v} is not a probability between 0 and 1"
        ))),
        other => Ok(other),
    }
}

/// The simulated venue's settings from `[execution]`.
pub fn sim_settings(cfg: &Config) -> Result<SimSettings, AppError> {
    let e = &cfg.execution;
    let slippage = match (e.slippage.bps, e.slippage.ticks) {
        (Some(_), Some(_)) => {
            return Err(AppError::BadInput(
                "execution.slippage: set bps or ticks, not both".into(),
            ))
        }
        (Some(b), None) if b >= Decimal::ZERO && b < Decimal::from(10_000) => Slippage::Bps(b),
        (None, Some(t)) if t >= Decimal::ZERO => match e.slippage.tick_size {
            Some(tick) if tick <= Decimal::ZERO => {
                return Err(AppError::BadInput(format!(
                    "execution.slippage.tick_size: {tick} must be positive"
                )))
            }
            tick => Slippage::Ticks {
                ticks: t,
                tick: tick.unwrap_or(Decimal::new(1, 2)),
            },
        },
        (None, None) => Slippage::None,
        _ => {
            return Err(AppError::BadInput(
                "execution.slippage: bps must be at least 0 and below 10000, ticks at least 0"
                    .into(),
            ))
        }
    };
    if let Some(p) = e.max_participation {
        if p <= Decimal::ZERO || p > Decimal::ONE {
            return Err(AppError::BadInput(format!(
                "execution.max_participation: {p} must be above 0 and at most 1"
            )));
        }
    }
    Ok(SimSettings {
        model: match e.fill {
            FillSetting::NextOpen => FillModel::NextOpen,
            FillSetting::Close => FillModel::Close,
        },
        commission: commission(cfg)?,
        slippage,
        max_participation: e.max_participation,
        quote_fill: match e.quote_fill {
            QuoteFillSetting::BidAsk => QuoteFill::BidAsk,
            QuoteFillSetting::Mid => QuoteFill::Mid,
        },
        faults: FaultSettings {
            reject_every: e.faults.reject_every.filter(|n| *n > 0),
            reject_probability: probability("reject_probability", e.faults.reject_probability)?,
            timeout_probability: probability("timeout_probability", e.faults.timeout_probability)?,
            seed: e.faults.seed,
        },
    })
}

/// The EOD guard's settings (a session calendar is needed), with each strategy's policy.
pub fn eod_settings(
    cfg: &Config,
    plans: &[StrategyPlan],
) -> Result<Option<lockstep_engine::EodSettings>, AppError> {
    let flatten: Vec<bool> = plans
        .iter()
        .map(|p| p.eod.unwrap_or(cfg.eod.policy) == config::EodPolicy::Flatten)
        .collect();
    let calendar = lockstep_core::Calendar::from_name(&cfg.data.calendar);
    if calendar != Some(lockstep_core::Calendar::Nyse) {
        if flatten.iter().any(|f| *f) {
            return Err(AppError::BadInput(
                "eod.policy = \"flatten\" needs data.calendar = \"nyse\"".into(),
            ));
        }
        return Ok(None);
    }
    let at = hh_mm("eod.flatten_at", &cfg.eod.flatten_at)?;
    let close = chrono::NaiveTime::from_hms_opt(16, 0, 0).unwrap_or(at);
    let before = (close - at).num_nanoseconds().unwrap_or(0);
    if before <= 0 || before >= 6 * 3_600 * 1_000_000_000 {
        return Err(AppError::BadInput(format!(
            "eod.flatten_at: `{}` must be within the session, before 16:00",
            cfg.eod.flatten_at
        )));
    }
    Ok(Some(lockstep_engine::EodSettings {
        calendar: lockstep_core::Calendar::Nyse,
        before_close: before,
        flatten,
        flatten_expiring: cfg.eod.flatten_expiring,
    }))
}
