//! Built-in strategies, one small file each, and the registry that builds them from config.

pub mod buy_and_hold;
pub mod dual_engine;
pub mod signal_follower;
pub mod sma_cross;
pub mod wsb_snake;

use lockstep_engine::Strategy;

/// A strategy could not be built from its config.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StrategyError {
    /// No built-in strategy has this name.
    #[error("unknown strategy `{0}` (built-in: {known})", known = KNOWN.join(", "))]
    Unknown(String),
    /// A parameter is missing, unknown or has a bad value.
    #[error("strategy `{name}`: {reason}")]
    BadParams {
        /// Strategy name.
        name: String,
        /// What is wrong.
        reason: String,
    },
}

/// Names of the built-in strategies.
pub const KNOWN: [&str; 5] = [
    "sma_cross",
    "buy_and_hold",
    "wsb_snake",
    "signal_follower",
    "dual_engine",
];

/// Builds the built-in strategy `name` from its parameter table (without the `name` key).
pub fn build(name: &str, params: toml::Table) -> Result<Box<dyn Strategy>, StrategyError> {
    let bad = |e: String| StrategyError::BadParams {
        name: name.to_string(),
        reason: e,
    };
    let value = toml::Value::Table(params);
    match name {
        "sma_cross" => {
            let p: sma_cross::SmaCrossParams = value
                .try_into()
                .map_err(|e: toml::de::Error| bad(e.message().to_string()))?;
            Ok(Box::new(sma_cross::SmaCross::new(p).map_err(bad)?))
        }
        "buy_and_hold" => {
            let p: buy_and_hold::BuyAndHoldParams = value
                .try_into()
                .map_err(|e: toml::de::Error| bad(e.message().to_string()))?;
            Ok(Box::new(buy_and_hold::BuyAndHold::new(p).map_err(bad)?))
        }
        "wsb_snake" => {
            let p: wsb_snake::WsbSnakeParams = value
                .try_into()
                .map_err(|e: toml::de::Error| bad(e.message().to_string()))?;
            Ok(Box::new(wsb_snake::WsbSnake::new(p).map_err(bad)?))
        }
        "signal_follower" => {
            let p: signal_follower::SignalFollowerParams = value
                .try_into()
                .map_err(|e: toml::de::Error| bad(e.message().to_string()))?;
            Ok(Box::new(
                signal_follower::SignalFollower::new(p).map_err(bad)?,
            ))
        }
        "dual_engine" => {
            let p: dual_engine::DualEngineParams = value
                .try_into()
                .map_err(|e: toml::de::Error| bad(e.message().to_string()))?;
            Ok(Box::new(dual_engine::DualEngine::new(p).map_err(bad)?))
        }
        other => Err(StrategyError::Unknown(other.to_string())),
    }
}
