//! A sweep's grid: `--grid KEY=V1,V2,...` options expanded into numbered points (the
//! Cartesian product, the first key varying slowest), and `--shard I/N` selections.

use crate::error::AppError;

/// One `--grid` option: a dotted config key and the TOML values it takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Axis {
    /// Dotted key, e.g. `strategy.fast`.
    pub key: String,
    /// Values as TOML text, in the order given.
    pub values: Vec<String>,
}

/// Every point of a sweep, numbered from 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grid {
    /// The axes, in command-line order.
    pub axes: Vec<Axis>,
}

/// Parses `KEY=V1,V2,...`: a non-empty key and at least one non-empty value. Values are
/// split on commas, so a value cannot itself contain one.
pub fn parse_axis(text: &str) -> Result<Axis, AppError> {
    let bad = |why: &str| AppError::BadInput(format!("--grid `{text}`: {why}"));
    let (key, values) = text
        .split_once('=')
        .ok_or_else(|| bad("expected KEY=V1,V2,... (e.g. strategy.fast=5,10,20)"))?;
    let key = key.trim();
    if key.is_empty() {
        return Err(bad("the key is empty"));
    }
    let values: Vec<String> = values.split(',').map(|v| v.trim().to_string()).collect();
    if values.iter().any(String::is_empty) {
        return Err(bad("a value is empty"));
    }
    Ok(Axis {
        key: key.to_string(),
        values,
    })
}

impl Grid {
    /// The grid of `options` (each `KEY=V1,V2,...`); a key given twice is an error.
    pub fn parse(options: &[String]) -> Result<Grid, AppError> {
        if options.is_empty() {
            return Err(AppError::BadInput(
                "sweep needs at least one --grid KEY=V1,V2,...".into(),
            ));
        }
        let axes = options
            .iter()
            .map(|o| parse_axis(o))
            .collect::<Result<Vec<_>, _>>()?;
        for (i, a) in axes.iter().enumerate() {
            if a.key == "index" || super::table::FIXED.contains(&a.key.as_str()) {
                return Err(AppError::BadInput(format!(
                    "--grid {}: the name of a result column; grid keys are config keys",
                    a.key
                )));
            }
            if axes[..i].iter().any(|b| b.key == a.key) {
                return Err(AppError::BadInput(format!(
                    "--grid {} is given twice",
                    a.key
                )));
            }
        }
        Ok(Grid { axes })
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.axes.iter().map(|a| a.values.len()).product()
    }

    /// True when the grid has no point (never, once parsed).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values of point `index` (one per axis), the last axis varying fastest.
    pub fn point(&self, index: usize) -> Vec<&str> {
        let mut rest = index;
        let mut out = vec![""; self.axes.len()];
        for (k, a) in self.axes.iter().enumerate().rev() {
            out[k] = a.values[rest % a.values.len()].as_str();
            rest /= a.values.len();
        }
        out
    }

    /// The `--set` overrides of point `index`.
    pub fn sets(&self, index: usize) -> Vec<String> {
        self.axes
            .iter()
            .zip(self.point(index))
            .map(|(a, v)| format!("{}={v}", a.key))
            .collect()
    }

    /// The grid as one line (`strategy.fast=5,10;strategy.slow=20,30`), stored with results
    /// so shards of different grids are never merged.
    pub fn describe(&self) -> String {
        self.axes
            .iter()
            .map(|a| format!("{}={}", a.key, a.values.join(",")))
            .collect::<Vec<_>>()
            .join(";")
    }
}

/// `--shard I/N`: this process runs the points whose index is I modulo N.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This shard, 0-based.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
}

impl Shard {
    /// Parses `I/N` with `0 <= I < N`.
    pub fn parse(text: &str) -> Result<Shard, AppError> {
        let bad = || {
            AppError::BadInput(format!(
                "--shard `{text}`: expected I/N with 0 <= I < N, e.g. 0/3"
            ))
        };
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// Whether point `index` belongs to this shard.
    pub fn owns(&self, index: usize) -> bool {
        index % self.count == self.index
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(opts: &[&str]) -> Grid {
        Grid::parse(&opts.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn points_are_the_cartesian_product_with_the_last_axis_fastest() {
        let g = grid(&["strategy.fast=5,10", "strategy.slow=20,30,40"]);
        assert_eq!(g.len(), 6);
        assert_eq!(g.point(0), vec!["5", "20"]);
        assert_eq!(g.point(1), vec!["5", "30"]);
        assert_eq!(g.point(3), vec!["10", "20"]);
        assert_eq!(g.sets(5), vec!["strategy.fast=10", "strategy.slow=40"]);
        assert_eq!(g.describe(), "strategy.fast=5,10;strategy.slow=20,30,40");
    }

    #[test]
    fn bad_grids_and_shards_are_refused_with_the_reason() {
        let e = |r: Result<Grid, AppError>| r.unwrap_err().to_string();
        assert!(e(Grid::parse(&[])).contains("at least one --grid"));
        assert!(e(Grid::parse(&["fast".into()])).contains("KEY=V1,V2"));
        assert!(e(Grid::parse(&["a=1,,2".into()])).contains("a value is empty"));
        assert!(e(Grid::parse(&["a=1".into(), "a=2".into()])).contains("given twice"));
        for bad in ["3/3", "1", "a/2", "0/0"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        let s = Shard::parse("1/3").unwrap();
        assert!(s.owns(4) && !s.owns(3));
    }
}
