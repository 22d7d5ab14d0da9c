//! `lockstep report compare RUN_A RUN_B`: two run folders side by side: headline metrics,
//! the first allocation that differs, deltas per exit reason and per strategy, and an HTML
//! page with both equity curves overlaid.

use crate::breakdown::Group;
use crate::digest::Digest;
use crate::error::AnalyticsError;
use crate::html::{self, money, section, table, Cell};
use crate::run_folder::{LotRow, RunFolder};
use crate::svg::{esc, time_lines};
use crate::tearsheet::HEADLINE;
use crate::time;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::fmt::Write;

/// The first allocation (in table order) that is not the same in both runs.
#[derive(Debug, Clone, PartialEq)]
pub struct FirstDifference {
    /// 1-based position in `lots.csv`.
    pub index: usize,
    /// The allocation in A, if A has one there.
    pub a: Option<LotRow>,
    /// The allocation in B, if B has one there.
    pub b: Option<LotRow>,
}

/// Two runs compared.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// Run A.
    pub a: RunFolder,
    /// Run B.
    pub b: RunFolder,
    /// What A's page is drawn from.
    pub a_digest: Digest,
    /// What B's page is drawn from.
    pub b_digest: Digest,
    /// The first allocation that differs; `None` when every allocation is the same.
    pub first_difference: Option<FirstDifference>,
}

/// The first row of the two `lots.csv` tables that differs, reading both in step.
fn first_difference(
    a: &RunFolder,
    b: &RunFolder,
) -> Result<Option<FirstDifference>, AnalyticsError> {
    let (mut xs, mut ys) = (a.lots()?, b.lots()?);
    let mut index = 0;
    loop {
        index += 1;
        let (x, y) = (xs.next().transpose()?, ys.next().transpose()?);
        if x.is_none() && y.is_none() {
            return Ok(None);
        }
        if x != y {
            return Ok(Some(FirstDifference { index, a: x, b: y }));
        }
    }
}

impl Comparison {
    /// Compares two run folders (each table read once, the lots twice).
    pub fn new(a: RunFolder, b: RunFolder) -> Result<Self, AnalyticsError> {
        Ok(Comparison {
            first_difference: first_difference(&a, &b)?,
            a_digest: Digest::of(&a)?,
            b_digest: Digest::of(&b)?,
            a,
            b,
        })
    }

    /// Whether the two runs have the same result (equal `report_hash`).
    pub fn identical(&self) -> bool {
        let (x, y) = (self.a.field("report_hash"), self.b.field("report_hash"));
        x.is_some() && x == y
    }

    fn pnl(run: &RunFolder) -> Decimal {
        run.field("realized_pnl")
            .and_then(|s| s.parse().ok())
            .unwrap_or_default()
    }

    /// The text report printed by the command.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "A  {}  ({})", self.a.name(), self.a.dir.display());
        let _ = writeln!(out, "B  {}  ({})", self.b.name(), self.b.dir.display());
        if self.identical() {
            let _ = writeln!(
                out,
                "identical: same report_hash {}",
                self.a.field("report_hash").unwrap_or_default()
            );
            return out;
        }
        for (label, key) in HEADLINE {
            let (x, y) = (self.a.field(key), self.b.field(key));
            let mark = if x == y { " " } else { "*" };
            let _ = writeln!(
                out,
                "{mark} {label:<15} {:>16}  {:>16}",
                x.unwrap_or_else(|| "–".into()),
                y.unwrap_or_else(|| "–".into())
            );
        }
        let (pa, pb) = (Self::pnl(&self.a), Self::pnl(&self.b));
        let _ = writeln!(out, "realized P&L: {pa} vs {pb} (B - A = {})", pb - pa);
        match &self.first_difference {
            None => {
                let _ = writeln!(out, "every allocation is the same");
            }
            Some(d) => {
                let _ = writeln!(out, "first trade that differs: #{}", d.index);
                for (tag, lot) in [("A", &d.a), ("B", &d.b)] {
                    let _ = writeln!(out, "  {tag}: {}", describe(lot.as_ref()));
                }
            }
        }
        out
    }
}

/// One allocation as a line of text.
pub fn describe(lot: Option<&LotRow>) -> String {
    match lot {
        None => "none".into(),
        Some(l) => format!(
            "{} {} opened {} closed {} ({}) net {}",
            l.symbol,
            l.qty,
            time::iso(l.open_ts),
            time::iso(l.close_ts),
            l.exit_reason,
            l.net_pnl
        ),
    }
}

fn delta_table(first: &str, a: &[Group], b: &[Group]) -> String {
    let mut keys: BTreeMap<&str, (Option<&Group>, Option<&Group>)> = BTreeMap::new();
    for g in a {
        keys.entry(&g.key).or_default().0 = Some(g);
    }
    for g in b {
        keys.entry(&g.key).or_default().1 = Some(g);
    }
    let rows: Vec<Vec<Cell>> = keys
        .into_iter()
        .map(|(k, (x, y))| {
            let count = |g: Option<&Group>| g.map_or(0, |g| g.count);
            let net = |g: Option<&Group>| g.map_or(Decimal::ZERO, |g| g.net);
            vec![
                Cell::text(k),
                Cell::text(count(x).to_string()),
                Cell::text(count(y).to_string()),
                Cell::signed(money(net(x))),
                Cell::signed(money(net(y))),
                Cell::signed(money(net(y) - net(x))),
            ]
        })
        .collect();
    table(
        &[first, "Count A", "Count B", "Net A", "Net B", "B - A"],
        &rows,
        "delta",
    )
}

fn overlay(a: &Digest, b: &Digest) -> String {
    let pts = |d: &Digest| -> Vec<(f64, f64)> {
        d.curve
            .equity
            .iter()
            .flat_map(|x| x.points())
            .map(|(t, v)| (t as f64, v))
            .collect()
    };
    let (pa, pb) = (pts(a), pts(b));
    if pa.is_empty() && pb.is_empty() {
        return String::new();
    }
    format!(
        "<p class=\"note\"><span style=\"color:#1f5fbf\">■ A</span> &nbsp; \
         <span style=\"color:#d9822b\">■ B</span></p>{}",
        time_lines(&[(&pa, "a"), (&pb, "b")], false, "equity A and B")
    )
}

/// `compare.html`: the comparison as a page.
pub fn render(c: &Comparison) -> String {
    let rows: Vec<Vec<Cell>> = HEADLINE
        .iter()
        .map(|(label, key)| {
            let (x, y) = (c.a.field(key), c.b.field(key));
            vec![
                Cell::text(*label),
                Cell::text(x.unwrap_or_else(|| "–".into())),
                Cell::text(y.unwrap_or_else(|| "–".into())),
            ]
        })
        .collect();
    let verdict = if c.identical() {
        "identical: same report_hash".to_string()
    } else {
        match &c.first_difference {
            None => "every allocation is the same; the summaries differ".into(),
            Some(d) => format!(
                "first trade that differs: #{} — A: {} — B: {}",
                d.index,
                describe(d.a.as_ref()),
                describe(d.b.as_ref())
            ),
        }
    };
    let mut body = format!("<p><b>{}</b></p>", esc(&verdict));
    body += &section("Metrics", &table(&["", "A", "B"], &rows, "side"));
    body += &section("Equity", &overlay(&c.a_digest, &c.b_digest));
    let (x, y) = (&c.a_digest.breakdowns, &c.b_digest.breakdowns);
    body += &section(
        "By exit reason",
        &delta_table("Reason", &x.reason.groups(), &y.reason.groups()),
    );
    body += &section(
        "By strategy",
        &delta_table("Strategy", &x.strategy.groups(), &y.strategy.groups()),
    );
    let sub = format!(
        "A = {} ({}) · B = {} ({})",
        c.a.name(),
        c.a.dir.display(),
        c.b.name(),
        c.b.dir.display()
    );
    html::page("lockstep · compare", &sub, &body)
}
