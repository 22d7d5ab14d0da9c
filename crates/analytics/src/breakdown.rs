//! Group-bys of a run's allocations (by exit reason, strategy, symbol, hour of the close)
//! and calendar returns of its equity curve. Money sums stay exact decimals; groups come
//! out in key order.

use crate::run_folder::LotRow;
use crate::series::Point;
use chrono::{DateTime, Datelike, Utc};
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// Allocations sharing one key.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Group {
    /// The key (reason, strategy, symbol, hour).
    pub key: String,
    /// Allocations.
    pub count: u64,
    /// Allocations with positive net P&L.
    pub wins: u64,
    /// Allocations with negative net P&L.
    pub losses: u64,
    /// Sum of net P&L.
    pub net: Decimal,
    /// Sum of positive net P&L.
    pub won: Decimal,
    /// Sum of negative net P&L (a negative number or zero).
    pub lost: Decimal,
}

impl Group {
    fn add(&mut self, net: Decimal) {
        self.count += 1;
        self.net += net;
        if net > Decimal::ZERO {
            self.wins += 1;
            self.won += net;
        } else if net < Decimal::ZERO {
            self.losses += 1;
            self.lost += net;
        }
    }

    /// Share of winning allocations.
    pub fn win_rate(&self) -> Option<f64> {
        (self.count > 0).then(|| self.wins as f64 / self.count as f64)
    }

    /// Mean net P&L per allocation, to the cent.
    pub fn average(&self) -> Option<Decimal> {
        (self.count > 0).then(|| (self.net / Decimal::from(self.count)).round_dp(2))
    }
}

/// Allocations grouped by one key, filled row by row; groups come out in key order.
#[derive(Debug, Clone, Default)]
pub struct GroupAcc(BTreeMap<String, Group>);

impl GroupAcc {
    /// Adds an allocation's net P&L under `key`.
    pub fn add(&mut self, key: &str, net: Decimal) {
        if let Some(g) = self.0.get_mut(key) {
            g.add(net);
        } else {
            let mut g = Group {
                key: key.to_string(),
                ..Group::default()
            };
            g.add(net);
            self.0.insert(key.to_string(), g);
        }
    }

    /// The groups in key order.
    pub fn groups(&self) -> Vec<Group> {
        self.0.values().cloned().collect()
    }
}

/// The UTC hour of the close as a key (`"14:00"`), without allocating.
pub fn hour_key(close_ts: i64) -> &'static str {
    const HOURS: [&str; 24] = [
        "00:00", "01:00", "02:00", "03:00", "04:00", "05:00", "06:00", "07:00", "08:00", "09:00",
        "10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00", "17:00", "18:00", "19:00",
        "20:00", "21:00", "22:00", "23:00",
    ];
    let hour = close_ts.div_euclid(3_600_000_000_000).rem_euclid(24);
    usize::try_from(hour)
        .ok()
        .and_then(|h| HOURS.get(h))
        .copied()
        .unwrap_or("?")
}

/// Every breakdown of a run's allocations, filled one allocation at a time.
#[derive(Debug, Clone, Default)]
pub struct Breakdowns {
    /// By exit reason.
    pub reason: GroupAcc,
    /// By the strategy of the closing fill.
    pub strategy: GroupAcc,
    /// By symbol.
    pub symbol: GroupAcc,
    /// By the UTC hour of the close.
    pub hour: GroupAcc,
    /// Every allocation in one group (its wins and losses give the average win and loss).
    pub all: Group,
}

impl Breakdowns {
    /// Adds an allocation closed by a fill of `strategy`.
    pub fn add(&mut self, lot: &LotRow, strategy: &str) {
        self.reason.add(&lot.exit_reason, lot.net_pnl);
        self.strategy.add(strategy, lot.net_pnl);
        self.symbol.add(&lot.symbol, lot.net_pnl);
        self.hour.add(hour_key(lot.close_ts), lot.net_pnl);
        self.all.add(lot.net_pnl);
    }
}

/// Which strategy made each fill, by fill id (ids are dense from 1), names interned: four
/// bytes a fill.
#[derive(Debug, Clone, Default)]
pub struct FillOwners {
    names: Vec<String>,
    by_id: Vec<u32>,
}

impl FillOwners {
    /// Records that fill `id` belongs to `strategy`.
    pub fn insert(&mut self, id: u64, strategy: &str) {
        let name = match self.names.iter().position(|n| n == strategy) {
            Some(i) => i,
            None => {
                self.names.push(strategy.to_string());
                self.names.len() - 1
            }
        };
        let Ok(id) = usize::try_from(id) else {
            return;
        };
        if self.by_id.len() <= id {
            self.by_id.resize(id + 1, u32::MAX);
        }
        self.by_id[id] = u32::try_from(name).unwrap_or(u32::MAX);
    }

    /// The strategy of fill `id`, `?` when unknown.
    pub fn get(&self, id: u64) -> &str {
        usize::try_from(id)
            .ok()
            .and_then(|i| self.by_id.get(i))
            .and_then(|&n| self.names.get(n as usize))
            .map_or("?", String::as_str)
    }
}

/// One calendar month's return.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MonthReturn {
    /// Year (UTC).
    pub year: i32,
    /// Month 1..=12 (UTC).
    pub month: u32,
    /// Month-end equity / previous month-end equity - 1 (the first month against the
    /// starting cash), so the months compound to the total return.
    pub ret: f64,
}

/// Month-end equity, filled row by row (one entry a month).
#[derive(Debug, Clone, Default)]
pub struct MonthAcc(BTreeMap<(i32, u32), f64>);

impl MonthAcc {
    /// Adds a row (rows in time order).
    pub fn push(&mut self, p: Point) {
        let t = DateTime::<Utc>::from_timestamp_nanos(p.ts);
        self.0.insert((t.year(), t.month()), p.equity);
    }

    /// The monthly returns for a run that started with `initial`.
    pub fn finish(&self, initial: f64) -> Vec<MonthReturn> {
        let mut prev = initial;
        self.0
            .iter()
            .map(|(&(year, month), &end)| {
                let ret = if prev != 0.0 { end / prev - 1.0 } else { 0.0 };
                prev = end;
                MonthReturn { year, month, ret }
            })
            .collect()
    }
}

/// Compounded return of each year present in `months`.
pub fn yearly_returns(months: &[MonthReturn]) -> BTreeMap<i32, f64> {
    let mut years: BTreeMap<i32, f64> = BTreeMap::new();
    for m in months {
        let y = years.entry(m.year).or_insert(1.0);
        *y *= 1.0 + m.ret;
    }
    years.values_mut().for_each(|v| *v -= 1.0);
    years
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run_folder::FillRow;

    /// The hour key is chrono's UTC hour of the instant, before and after 1970 and at
    /// the ends of the range.
    #[test]
    fn hour_keys_are_the_utc_hour() {
        let mut x: i64 = 0x5851_f42d;
        for k in 0..20_000 {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let t = match k {
                0 => i64::MIN,
                1 => i64::MAX,
                2 => -1,
                _ => x,
            };
            let hour = chrono::Timelike::hour(&DateTime::<Utc>::from_timestamp_nanos(t));
            assert_eq!(hour_key(t), format!("{hour:02}:00"), "{t}");
        }
    }

    fn lot(symbol: &str, fill: u64, close_ts: i64, net: i64, reason: &str) -> LotRow {
        LotRow {
            symbol: symbol.into(),
            close_fill_id: fill,
            qty: Decimal::ONE,
            open_ts: 0,
            close_ts,
            net_pnl: Decimal::new(net, 2),
            exit_reason: reason.into(),
        }
    }

    fn fill(id: u64, strategy: &str) -> FillRow {
        FillRow {
            fill_id: id,
            strategy: strategy.into(),
            ts: 0,
            symbol: "X".into(),
            side: "sell".into(),
            qty: Decimal::ONE,
            price: Decimal::new(-25, 1),
            fee: Decimal::ZERO,
            exit_reason: "".into(),
        }
    }

    #[test]
    fn groups_sum_exactly_and_join_strategies() {
        const H: i64 = 3_600_000_000_000;
        let lots = [
            lot("B", 2, 14 * H, 1001, "stop_loss"),
            lot("A", 4, 15 * H, -333, "signal"),
            lot("A", 6, 14 * H + 1, 10, "signal"),
        ];
        let fills = [fill(2, "b"), fill(4, "a"), fill(6, "a")];
        let mut owners = FillOwners::default();
        for f in &fills {
            owners.insert(f.fill_id, &f.strategy);
        }
        let mut b = Breakdowns::default();
        for l in &lots {
            b.add(l, owners.get(l.close_fill_id));
        }
        let r = b.reason.groups();
        assert_eq!(r[0].key, "signal");
        assert_eq!(
            (r[0].count, r[0].wins, r[0].net),
            (2, 1, Decimal::new(-323, 2))
        );
        assert_eq!(r[0].average(), Some(Decimal::new(-162, 2)));
        let h: Vec<(String, u64)> = b
            .hour
            .groups()
            .into_iter()
            .map(|g| (g.key, g.count))
            .collect();
        assert_eq!(h, [("14:00".to_string(), 2), ("15:00".to_string(), 1)]);
        let s = b.strategy.groups();
        assert_eq!((s[0].key.as_str(), s[0].net), ("a", Decimal::new(-323, 2)));
        assert_eq!((s[1].key.as_str(), s[1].won), ("b", Decimal::new(1001, 2)));
        let mut owners = FillOwners::default();
        owners.insert(7, "x");
        owners.insert(3, "y");
        assert_eq!(
            (owners.get(7), owners.get(3), owners.get(5), owners.get(99)),
            ("x", "y", "?", "?")
        );
    }

    #[test]
    fn months_compound_to_the_total() {
        let day = 86_400_000_000_000i64;
        // 2024-01-31, 2024-02-15, 2024-02-29, 2024-03-01 (UTC)
        let jan31 = 19_753 * day;
        let curve = [
            Point {
                ts: jan31,
                equity: 110.0,
            },
            Point {
                ts: jan31 + 15 * day,
                equity: 90.0,
            },
            Point {
                ts: jan31 + 29 * day,
                equity: 99.0,
            },
            Point {
                ts: jan31 + 30 * day,
                equity: 121.0,
            },
        ];
        let mut acc = MonthAcc::default();
        for p in curve {
            acc.push(p);
        }
        let m = acc.finish(100.0);
        let got: Vec<(i32, u32)> = m.iter().map(|x| (x.year, x.month)).collect();
        assert_eq!(got, [(2024, 1), (2024, 2), (2024, 3)]);
        assert!((m[0].ret - 0.10).abs() < 1e-12);
        assert!((m[1].ret - (99.0 / 110.0 - 1.0)).abs() < 1e-12);
        let y = yearly_returns(&m)[&2024];
        assert!((y - 0.21).abs() < 1e-12);
    }
}
