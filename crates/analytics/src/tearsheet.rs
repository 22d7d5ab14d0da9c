//! `report.html` of a run folder: headline metrics, equity and drawdown, monthly returns,
//! prices with entries and exits, breakdowns by exit reason, strategy, symbol and hour,
//! rejections and the run's config. Long runs are decimated so the page stays small.

use crate::breakdown::{self, Group, MonthReturn};
use crate::decimate::{decimate, Bucket};
use crate::digest::{CurveDigest, Digest, Markers};
use crate::html::{self, metric, money, pct, ratio, section, table, Cell};
use crate::run_folder::RunFolder;
use crate::svg::{esc, range, Frame};
use crate::time;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Price charts shown (the symbols with the most fills).
const MAX_SYMBOLS: usize = 24;
/// Buckets a price chart keeps when there is only one symbol (fewer each with more).
const PRICE_BUCKETS: usize = 600;
const WIDTH: f64 = 1060.0;

/// The headline figures taken verbatim from `summary.json`: (label, dotted key).
pub const HEADLINE: [(&str, &str); 14] = [
    ("Realized P&L", "realized_pnl"),
    ("Unrealized P&L", "unrealized_pnl"),
    ("Final equity", "final_equity"),
    ("Round trips", "round_trips"),
    ("Fills", "fills"),
    ("Fees", "fees"),
    ("Total return", "metrics.total_return"),
    ("CAGR", "metrics.cagr"),
    ("Max drawdown", "metrics.max_drawdown"),
    ("Sharpe", "metrics.sharpe"),
    ("Sortino", "metrics.sortino"),
    ("Win rate", "metrics.win_rate"),
    ("Profit factor", "metrics.profit_factor"),
    ("Exposure", "metrics.exposure"),
];

fn f(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(f64::NAN)
}

fn headline(run: &RunFolder, d: &Digest) -> String {
    let m = &d.curve.metrics;
    let mut out = String::from("<div class=\"metrics\">");
    for (label, key) in HEADLINE {
        let v = run.field(key).unwrap_or_else(|| "–".into());
        out.push_str(&metric(label, &v, Some(key)));
    }
    let all = &d.breakdowns.all;
    let avg = |sum: Decimal, n: u64| (n > 0).then(|| (sum / Decimal::from(n)).round_dp(2));
    let show = |d: Option<Decimal>| d.map_or("–".to_string(), money);
    out.push_str(&metric("Calmar", &ratio(m.calmar), None));
    let longest = m.longest_drawdown.map_or("–".to_string(), |d| {
        format!(
            "{:.0} days{}",
            d.days(),
            if d.recovered { "" } else { " (open)" }
        )
    });
    out.push_str(&metric("Longest drawdown", &longest, None));
    out.push_str(&metric("Average win", &show(avg(all.won, all.wins)), None));
    out.push_str(&metric(
        "Average loss",
        &show(avg(all.lost, all.losses)),
        None,
    ));
    let turnover = f(d.traded_notional) / d.curve.mean_equity / m.years;
    let turnover = if turnover.is_finite() {
        format!("{turnover:.2}× / year")
    } else {
        "–".into()
    };
    out.push_str(&metric("Turnover", &turnover, None));
    out.push_str("</div>");
    out
}

fn bucket_points(buckets: &[Bucket]) -> Vec<(f64, f64)> {
    buckets
        .iter()
        .flat_map(|b| b.points())
        .map(|(t, v)| (t as f64, v))
        .collect()
}

fn equity_charts(c: &CurveDigest) -> String {
    let (Some(first), Some(last)) = (c.equity.first(), c.equity.last()) else {
        return "<p class=\"note\">No equity rows.</p>".into();
    };
    let eq = bucket_points(&c.equity);
    let dd = bucket_points(&c.drawdown);
    let x = (first.ts as f64, last.last_ts as f64);
    let top = Frame::new(WIDTH, 260.0, x, range(eq.iter().map(|p| p.1)));
    let body = format!(
        "{}{}{}",
        top.y_axis(|v| format!("{v:.0}")),
        top.time_axis(),
        top.line(&eq, "equity")
    );
    let low = range(dd.iter().map(|p| p.1));
    let bottom = Frame::new(WIDTH, 130.0, x, (low.0.min(-0.0001), 0.0));
    let body2 = format!(
        "{}{}{}",
        bottom.y_axis(pct),
        bottom.time_axis(),
        bottom.area(&dd, 0.0, "dd")
    );
    format!(
        "{}\n{}",
        top.svg(&body, "equity"),
        bottom.svg(&body2, "drawdown")
    )
}

fn monthly_heatmap(months: &[MonthReturn]) -> String {
    if months.is_empty() {
        return "<p class=\"note\">No equity rows.</p>".into();
    }
    let years = breakdown::yearly_returns(months);
    let scale = months.iter().map(|m| m.ret.abs()).fold(0.0, f64::max);
    let by: BTreeMap<(i32, u32), f64> = months.iter().map(|m| ((m.year, m.month), m.ret)).collect();
    let mut rows = Vec::new();
    for (&year, &total) in &years {
        let mut row = vec![Cell::text(year.to_string())];
        for month in 1..=12 {
            row.push(match by.get(&(year, month)) {
                Some(&r) => Cell {
                    text: pct(r),
                    class: None,
                    background: Some(html::heat(r, scale)),
                },
                None => Cell::text(""),
            });
        }
        row.push(Cell::signed(pct(total)));
        rows.push(row);
    }
    let headers = [
        "Year", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        "Year",
    ];
    table(&headers, &rows, "heat")
}

fn price_charts(run: &RunFolder, markers: &BTreeMap<String, Markers>) -> String {
    let mut prices: BTreeMap<&str, Vec<(i64, f64)>> = BTreeMap::new();
    for p in &run.prices {
        let series = prices.entry(p.symbol.as_str()).or_default();
        let b = Bucket {
            ts: p.ts,
            last_ts: p.last_ts,
            first: p.first,
            low: p.low,
            high: p.high,
            last: p.last,
        };
        series.extend(b.points());
    }
    if prices.is_empty() {
        return "<p class=\"note\">This run recorded no prices (prices.csv).</p>".into();
    }
    let mut symbols: Vec<&str> = prices.keys().copied().collect();
    symbols.sort_by_key(|s| std::cmp::Reverse(markers.get(*s).map_or(0, |m| m.total)));
    let mut out = String::new();
    if symbols.len() > MAX_SYMBOLS {
        let _ = write!(
            out,
            "<p class=\"note\">{} symbols; showing the {MAX_SYMBOLS} with the most fills.</p>",
            symbols.len()
        );
    }
    let buckets = (PRICE_BUCKETS * 2 / symbols.len().min(MAX_SYMBOLS)).clamp(100, PRICE_BUCKETS);
    for sym in symbols.into_iter().take(MAX_SYMBOLS) {
        let pts = bucket_points(&decimate(&prices[sym], buckets));
        let (marks, total) = markers
            .get(sym)
            .map_or((&[][..], 0), |m| (m.kept.as_slice(), m.total));
        let x = range(pts.iter().map(|p| p.0));
        let y = range(
            pts.iter()
                .map(|p| p.1)
                .chain(marks.iter().map(|m| f(m.price))),
        );
        let frame = Frame::new(WIDTH, 220.0, x, y);
        let mut body = format!(
            "{}{}{}",
            frame.y_axis(|v| format!("{v}")),
            frame.time_axis(),
            frame.line(&pts, "price")
        );
        for m in marks {
            let buy = &*m.side == "buy";
            let what = if m.exit_reason.is_empty() {
                String::new()
            } else {
                format!(" ({})", m.exit_reason)
            };
            body.push_str(&frame.marker(
                m.ts as f64,
                f(m.price),
                buy,
                if buy { "buy" } else { "sell" },
                &format!(
                    "{} {} {} @ {}{what} {}",
                    m.side,
                    m.qty.normalize(),
                    sym,
                    money(m.price),
                    time::iso(m.ts)
                ),
            ));
        }
        let _ = write!(out, "<h3>{}</h3>", esc(sym));
        if (marks.len() as u64) < total {
            let _ = write!(
                out,
                "<p class=\"note\">{} of {total} fills marked (evenly spread).</p>",
                marks.len()
            );
        }
        out.push_str(&frame.svg(&body, &format!("{sym} price")));
    }
    out
}

/// A breakdown table of allocation groups.
pub fn group_table(first: &str, groups: &[Group]) -> String {
    if groups.is_empty() {
        return "<p class=\"note\">No closed allocations.</p>".into();
    }
    let rows: Vec<Vec<Cell>> = groups
        .iter()
        .map(|g| {
            vec![
                Cell::text(g.key.clone()),
                Cell::text(g.count.to_string()),
                Cell::text(g.win_rate().map_or("–".into(), pct)),
                Cell::signed(money(g.net)),
                Cell::signed(g.average().map_or("–".into(), money)),
                Cell::signed(money(g.won)),
                Cell::signed(money(g.lost)),
            ]
        })
        .collect();
    table(
        &[
            first, "Count", "Win rate", "Net P&L", "Average", "Won", "Lost",
        ],
        &rows,
        "groups",
    )
}

fn rejections(run: &RunFolder) -> String {
    let Some(obj) = run.summary.get("rejections").and_then(|v| v.as_object()) else {
        return String::new();
    };
    if obj.is_empty() {
        return "<p class=\"note\">No rejections.</p>".into();
    }
    let rows: Vec<Vec<Cell>> = obj
        .iter()
        .map(|(code, n)| vec![Cell::text(code.clone()), Cell::text(n.to_string())])
        .collect();
    table(&["Code", "Count"], &rows, "rejections")
}

fn config(run: &RunFolder) -> String {
    let mut out = String::new();
    if let Some(argv) = run
        .run
        .as_ref()
        .and_then(|r| r.get("argv"))
        .and_then(|a| a.as_array())
    {
        let line: Vec<&str> = argv.iter().filter_map(|s| s.as_str()).collect();
        let _ = write!(out, "<pre>{}</pre>", esc(&line.join(" ")));
    }
    match &run.config {
        Some(text) if !text.trim().is_empty() => {
            let _ = write!(out, "<pre>{}</pre>", esc(text));
        }
        Some(_) => {
            out.push_str("<p class=\"note\">The built-in defaults (no config keys set).</p>")
        }
        None => out.push_str("<p class=\"note\">No config.toml in this run folder.</p>"),
    }
    out
}

/// The page of a run folder, from its digest.
pub fn render(run: &RunFolder, d: &Digest) -> String {
    let strategies = run
        .summary
        .get("strategies")
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    let sub = format!(
        "{strategies} · {} bars ({} .. {}) · report_hash {}",
        run.field("bars").unwrap_or_default(),
        run.field("first_ts").unwrap_or_default(),
        run.field("last_ts").unwrap_or_default(),
        run.field("report_hash").unwrap_or_default()
    );
    let b = &d.breakdowns;
    let mut body = section("Headline", &headline(run, d));
    body += &section("Equity and drawdown", &equity_charts(&d.curve));
    body += &section("Monthly returns", &monthly_heatmap(&d.curve.months));
    body += &section("Prices, entries and exits", &price_charts(run, &d.markers));
    body += &section("Exit reasons", &group_table("Reason", &b.reason.groups()));
    body += &section("Strategies", &group_table("Strategy", &b.strategy.groups()));
    body += &section("Symbols", &group_table("Symbol", &b.symbol.groups()));
    body += &section(
        "Hour of the close (UTC)",
        &group_table("Hour", &b.hour.groups()),
    );
    body += &section("Rejections", &rejections(run));
    body += &section("Config", &config(run));
    html::page(&format!("lockstep · {}", run.name()), &sub, &body)
}

/// Reads the run folder `dir` and writes its `report.html` (through a temporary file, so
/// a page is either whole or absent); returns the page's path.
pub fn write(dir: &std::path::Path) -> Result<std::path::PathBuf, crate::AnalyticsError> {
    write_with(dir, Digest::of)
}

/// [`write`] with the run's fills and allocations already digested as they were journaled
/// (`trades` took every fill and allocation the folder's tables hold, in order): the same
/// page, without reading those tables back.
pub fn write_digested(
    dir: &std::path::Path,
    trades: crate::digest::TradeDigest,
) -> Result<std::path::PathBuf, crate::AnalyticsError> {
    write_with(dir, |run| trades.finish(run))
}

fn write_with(
    dir: &std::path::Path,
    digest: impl FnOnce(&RunFolder) -> Result<Digest, crate::AnalyticsError>,
) -> Result<std::path::PathBuf, crate::AnalyticsError> {
    let run = RunFolder::open(dir)?;
    let digest = digest(&run)?;
    crate::write_atomic(&dir.join("report.html"), render(&run, &digest).as_bytes())
}
