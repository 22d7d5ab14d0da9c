//! The fake's market: every bar of the configured file, read once through lockstep's own
//! data reader (NYSE calendar, regular session), kept in delivery order and indexed by symbol.

use lockstep_core::{Calendar, SessionLookup, SymbolTable, UnixNanos};
use lockstep_data::{open_source, DataOptions};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::path::Path;

/// One bar with exact prices.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StoredBar {
    /// Symbol as written in the file.
    pub symbol: String,
    /// Open time.
    pub ts: UnixNanos,
    /// Delivery time (the bar's close, capped at the session close).
    pub end: UnixNanos,
    /// Open.
    pub open: Decimal,
    /// High.
    pub high: Decimal,
    /// Low.
    pub low: Decimal,
    /// Close.
    pub close: Decimal,
    /// Volume.
    pub volume: Decimal,
    /// True for the last bar of its session (it ends at the session close).
    pub last_of_session: bool,
}

/// All bars, in delivery order `(end, symbol, ts)`, with a per-symbol index in time order.
#[derive(Debug, Default)]
pub(crate) struct BarStore {
    /// Every bar in delivery order.
    pub bars: Vec<StoredBar>,
    by_symbol: BTreeMap<String, Vec<usize>>,
    /// The smallest gap between two bars of one symbol (the file's interval).
    pub interval: Option<i64>,
}

/// Crypto pairs match with or without a separator (`BTC/USD`, `BTCUSD`, `BTC-USD`).
pub(crate) fn normalize(symbol: &str) -> String {
    symbol.chars().filter(|c| *c != '/' && *c != '-').collect()
}

impl BarStore {
    /// Reads `path` (Parquet or CSV) with the NYSE calendar.
    pub fn load(path: &Path) -> Result<BarStore, String> {
        let opts = DataOptions {
            calendar: Calendar::Nyse,
            ..DataOptions::default()
        };
        let mut symbols = SymbolTable::new();
        let mut src = open_source(path, &opts).map_err(|e| e.to_string())?;
        let mut lookup = SessionLookup::new(Calendar::Nyse);
        let mut bars = Vec::new();
        while let Some(b) = src.next_bar(&mut symbols).map_err(|e| e.to_string())? {
            let close = lookup.day_of(b.ts).1.map(|s| s.close);
            bars.push(StoredBar {
                symbol: symbols.name(b.symbol).to_string(),
                ts: b.ts,
                end: b.end,
                open: b.open_price().normalize(),
                high: b.high_price().normalize(),
                low: b.low_price().normalize(),
                close: b.close_price().normalize(),
                volume: crate::wire::codec::decimal_from_f64(b.volume).unwrap_or_default(),
                last_of_session: close == Some(b.end),
            });
        }
        Ok(BarStore::from_bars(bars))
    }

    /// A store of these bars (sorted here).
    pub fn from_bars(mut bars: Vec<StoredBar>) -> BarStore {
        bars.sort_by(|a, b| (a.end, &a.symbol, a.ts).cmp(&(b.end, &b.symbol, b.ts)));
        let mut by_symbol: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, b) in bars.iter().enumerate() {
            by_symbol.entry(b.symbol.clone()).or_default().push(i);
        }
        let mut interval: Option<i64> = None;
        for list in by_symbol.values_mut() {
            list.sort_by_key(|&i| bars[i].ts);
            for w in list.windows(2) {
                let d = bars[w[1]].ts.0 - bars[w[0]].ts.0;
                if d > 0 && interval.is_none_or(|x| d < x) {
                    interval = Some(d);
                }
            }
        }
        BarStore {
            bars,
            by_symbol,
            interval,
        }
    }

    /// The file's name for `requested` (exact, else by [`normalize`]).
    pub fn resolve(&self, requested: &str) -> Option<&str> {
        if let Some((k, _)) = self.by_symbol.get_key_value(requested) {
            return Some(k.as_str());
        }
        let want = normalize(requested);
        self.by_symbol
            .keys()
            .find(|k| normalize(k) == want)
            .map(String::as_str)
    }

    /// Indices (into `bars`) of `symbol`'s bars in time order.
    pub fn of(&self, symbol: &str) -> &[usize] {
        self.by_symbol.get(symbol).map_or(&[], Vec::as_slice)
    }

    /// Position in `of(symbol)` of the first bar opening at or after `t`.
    pub fn first_from(&self, symbol: &str, t: UnixNanos) -> usize {
        self.of(symbol).partition_point(|&i| self.bars[i].ts < t)
    }

    /// Where a market order sent at `t` starts looking: the bar in progress at `t` if `t`
    /// is within `grace` nanoseconds of its open (its open is still the price a market
    /// order gets, as `next_open` assumes for an order decided at a bar's close), else the
    /// first bar opening at or after `t`.
    pub fn first_for_market(&self, symbol: &str, t: UnixNanos, grace: i64) -> usize {
        let list = self.of(symbol);
        let k = list.partition_point(|&i| self.bars[i].end <= t);
        match list.get(k).map(|&i| &self.bars[i]) {
            Some(b) if b.ts <= t && t.0 - b.ts.0 <= grace => k,
            _ => self.first_from(symbol, t),
        }
    }

    /// The last bar of `symbol` delivered by `t` (`end <= t`).
    pub fn last_delivered(&self, symbol: &str, t: UnixNanos) -> Option<&StoredBar> {
        let list = self.of(symbol);
        let n = list.partition_point(|&i| self.bars[i].end <= t);
        n.checked_sub(1)
            .and_then(|k| list.get(k))
            .map(|&i| &self.bars[i])
    }

    /// Position in `bars` of the first bar delivered after `t` (`end > t`).
    pub fn first_after(&self, t: UnixNanos) -> usize {
        self.bars.partition_point(|b| b.end <= t)
    }
}
