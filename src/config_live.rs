//! The `[broker]` and `[live]` config sections: where `paper` and `live` connect, and how
//! the live driver runs. Backtests ignore them.

use rust_decimal::Decimal;
use serde::Deserialize;

/// Alpaca's paper trading host.
pub const PAPER_TRADING_URL: &str = "https://paper-api.alpaca.markets";
/// Alpaca's live (real money) trading host.
pub const LIVE_TRADING_URL: &str = "https://api.alpaca.markets";
/// Alpaca's market-data REST host.
pub const DATA_URL: &str = "https://data.alpaca.markets";
/// Alpaca's market-data websocket (IEX feed).
pub const DATA_STREAM_URL: &str = "wss://stream.data.alpaca.markets/v2/iex";

/// `[broker]`
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct BrokerSection {
    /// `paper` (default) or `live`; `live` also needs `--confirm-live`.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Trading REST base (its `/stream` carries trade updates); env `APCA_API_BASE_URL`.
    #[serde(default)]
    pub trading_url: Option<String>,
    /// Market-data REST base; env `APCA_API_DATA_URL`.
    #[serde(default)]
    pub data_url: Option<String>,
    /// Market-data websocket; env `APCA_API_STREAM_URL`.
    #[serde(default)]
    pub data_stream_url: Option<String>,
}

/// `[live]`
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct LiveSection {
    /// Symbols whose bars the feed follows (default: `data.symbol`).
    #[serde(default)]
    pub symbols: Vec<String>,
    /// Crypto pairs instead of stocks (REST and stream paths differ).
    #[serde(default)]
    pub crypto: bool,
    /// Seconds of clock time timers wait for a bar closing at the same instant (default 2).
    #[serde(default)]
    pub timer_grace_secs: Option<Decimal>,
    /// What a restart does with a broker position the journal cannot explain: `"stop"`
    /// (default: exit 1 with a difference report before any order) or `"ignore"`
    /// (journal it and trade on beside it; the engine only closes what it opened).
    #[serde(default)]
    pub external_positions: Option<String>,
    /// Largest clock skew against the broker's clock, in milliseconds, before entries wait
    /// (default 2000).
    #[serde(default)]
    pub max_clock_skew_ms: Option<u64>,
    /// Seconds of clock time between reads of the broker's clock and positions (default 300).
    #[serde(default)]
    pub check_every_secs: Option<u64>,
}

impl LiveSection {
    /// The policy for positions the journal cannot explain.
    pub fn external(&self) -> Result<lockstep_live::driver::ExternalPositions, String> {
        use lockstep_live::driver::ExternalPositions;
        match self.external_positions.as_deref() {
            None | Some("stop") => Ok(ExternalPositions::Stop),
            Some("ignore") => Ok(ExternalPositions::Ignore),
            Some(other) => Err(format!(
                "live.external_positions: `{other}` is not one of stop, ignore"
            )),
        }
    }
}

/// `[webhook]`
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct WebhookSection {
    /// A signal whose sender's time is more than this many seconds before it was received
    /// is refused as stale (default 60; 0 = no age limit).
    #[serde(default)]
    pub max_age_secs: Option<u64>,
    /// Same symbol, direction and timeframe within this many seconds is a duplicate
    /// (default 60).
    #[serde(default)]
    pub dedup_secs: Option<u64>,
    /// Signals received while the market is closed: `"queue"` (default: handled at the
    /// next open) or `"refuse"` (422).
    #[serde(default)]
    pub outside_session: Option<String>,
}

impl WebhookSection {
    /// The webhook at `addr` with these rules on `calendar`; the secret from
    /// `LOCKSTEP_WEBHOOK_SECRET` (an error naming it when unset or empty).
    pub fn config(
        &self,
        addr: std::net::SocketAddr,
        calendar: lockstep_core::Calendar,
    ) -> Result<lockstep_live::webhook::WebhookConfig, String> {
        use lockstep_live::webhook::{IntakeRules, OutsideSession, WebhookConfig};
        let secret = lockstep_live::webhook::secret_from_env()?;
        let outside = match self.outside_session.as_deref() {
            None => OutsideSession::Queue,
            Some(name) => OutsideSession::from_name(name).ok_or_else(|| {
                format!("webhook.outside_session: `{name}` is not one of queue, refuse")
            })?,
        };
        let ns = |secs: u64, key: &str| {
            i64::try_from(secs)
                .ok()
                .and_then(|s| s.checked_mul(1_000_000_000))
                .ok_or_else(|| format!("webhook.{key}: {secs} is out of range"))
        };
        let max_age = ns(self.max_age_secs.unwrap_or(60), "max_age_secs")?;
        Ok(WebhookConfig {
            addr,
            secret,
            rules: IntakeRules {
                dedup_window: ns(self.dedup_secs.unwrap_or(60), "dedup_secs")?,
                max_age: Some(max_age).filter(|a| *a > 0),
                outside_session: outside,
                calendar,
            },
        })
    }
}

/// The broker endpoint a session talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// Alpaca's paper account.
    Paper,
    /// Real money.
    Live,
}

impl BrokerSection {
    /// The configured endpoint; an unknown value is an error naming `broker.endpoint`.
    pub fn endpoint(&self) -> Result<Endpoint, String> {
        match self.endpoint.as_deref() {
            None | Some("paper") => Ok(Endpoint::Paper),
            Some("live") => Ok(Endpoint::Live),
            Some(other) => Err(format!(
                "broker.endpoint: `{other}` is not `paper` or `live`"
            )),
        }
    }
}

/// The value of `env` if set and not empty, else `configured`, else `default`.
pub fn url(env: &str, configured: &Option<String>, default: &str) -> String {
    std::env::var(env)
        .ok()
        .filter(|v| !v.is_empty())
        .or_else(|| configured.clone())
        .unwrap_or_else(|| default.to_string())
}

/// API keys, only ever from the environment. `Debug` never shows them.
#[derive(Clone)]
pub struct Keys {
    /// `APCA_API_KEY_ID`.
    pub key_id: String,
    /// `APCA_API_SECRET_KEY`.
    pub secret_key: String,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(<from the environment, not shown>)")
    }
}

impl Keys {
    /// Reads both keys; a missing one is an error naming its variable.
    pub fn from_env() -> Result<Keys, String> {
        let get = |name: &str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.is_empty())
                .ok_or_else(|| {
                    format!("{name} is not set: API keys come only from the environment")
                })
        };
        Ok(Keys {
            key_id: get("APCA_API_KEY_ID")?,
            secret_key: get("APCA_API_SECRET_KEY")?,
        })
    }
}
