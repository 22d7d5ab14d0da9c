//! What a paper or live session needs before its loop starts: its clock, the account lock,
//! the checked trading URL and times from the command line.

use crate::config::{self};
use crate::config_live::{self, Keys};
use crate::error::AppError;
use crate::live_cmd::SessionArgs;
use lockstep_core::UnixNanos;
use lockstep_live::time_source::WarpClock;

/// The clock of a session: from `--clock-start` (or now) at `--speed`; with
/// `LOCKSTEP_CLOCK_ANCHOR_NS` (a system time in ns), the clock read the start at that
/// instant, so a fake broker started from the same values agrees with it.
pub(crate) fn session_clock(start: UnixNanos, speed: f64) -> Result<WarpClock, AppError> {
    match std::env::var("LOCKSTEP_CLOCK_ANCHOR_NS") {
        Ok(v) if !v.is_empty() => {
            let anchor = v.parse::<i64>().map_err(|_| {
                AppError::BadInput("LOCKSTEP_CLOCK_ANCHOR_NS must be nanoseconds".into())
            })?;
            Ok(WarpClock::since(start, speed, anchor))
        }
        _ => Ok(WarpClock::new(start, speed)),
    }
}

/// Holds the account's lock for the whole session: one process per account, because a
/// second one would race the first for orders and for Alpaca's single stream connection.
/// The lock file (in the temp folder, named by a hash of the key id, never the key) is
/// released when the process ends, however it ends.
pub(crate) fn account_lock(keys: &Keys) -> Result<std::fs::File, AppError> {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(keys.key_id.as_bytes());
    let tag: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    let path = std::env::temp_dir().join(format!("lockstep-account-{tag}.lock"));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| AppError::Runtime(format!("{}: {e}", path.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(AppError::Runtime(format!(
            "another lockstep session is already running on this account (lock {}); one process per account",
            path.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(AppError::Runtime(format!("{}: {e}", path.display())))
        }
    }
}

/// The trading URL for `mode` after the endpoint and confirmation checks.
pub(crate) fn trading_url(cfg: &config::Config, args: &SessionArgs) -> Result<String, AppError> {
    let endpoint = cfg.broker.endpoint().map_err(AppError::BadInput)?;
    let live_money = endpoint == config_live::Endpoint::Live;
    if live_money && !args.confirm_live {
        return Err(AppError::BadInput(
            "broker.endpoint = \"live\" trades real money: add --confirm-live".into(),
        ));
    }
    let default = if live_money {
        config_live::LIVE_TRADING_URL
    } else {
        config_live::PAPER_TRADING_URL
    };
    let url = config_live::url("APCA_API_BASE_URL", &cfg.broker.trading_url, default);
    if !live_money && url.trim_end_matches('/') == config_live::LIVE_TRADING_URL {
        return Err(AppError::BadInput(format!(
            "broker.trading_url: {url} is the real-money host but broker.endpoint is paper"
        )));
    }
    Ok(url)
}

/// A time given on the command line (RFC 3339), or an error naming the flag.
pub(crate) fn parse_ts(flag: &str, text: &str) -> Result<UnixNanos, AppError> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .and_then(|t| t.timestamp_nanos_opt())
        .map(UnixNanos)
        .ok_or_else(|| AppError::BadInput(format!("{flag}: `{text}` is not an RFC 3339 time")))
}
