//! Inline SVG charts: a [`Frame`] maps data coordinates (time in UTC nanoseconds, values)
//! into a pixel box and draws lines, areas, markers and labelled axes. Everything is text,
//! so a page needs no script and no network to show it.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use std::fmt::Write;

const LEFT: f64 = 64.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 22.0;

/// A plot area of `width` × `height` pixels over an x and a y range.
#[derive(Debug, Clone, Copy)]
pub struct Frame {
    width: f64,
    height: f64,
    x: (f64, f64),
    y: (f64, f64),
}

fn widen((lo, hi): (f64, f64)) -> (f64, f64) {
    if !lo.is_finite() || !hi.is_finite() {
        (0.0, 1.0)
    } else if hi > lo {
        (lo, hi)
    } else {
        let d = if lo == 0.0 { 1.0 } else { lo.abs() * 0.01 };
        (lo - d, hi + d)
    }
}

/// The smallest and largest of `values` (`(inf, -inf)` when empty).
pub fn range(values: impl IntoIterator<Item = f64>) -> (f64, f64) {
    values
        .into_iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        })
}

/// Escapes text for HTML and SVG.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

impl Frame {
    /// A frame of the given pixel size over the x and y ranges (a degenerate range is
    /// widened so every point still lands inside).
    pub fn new(width: f64, height: f64, x: (f64, f64), y: (f64, f64)) -> Self {
        Frame {
            width,
            height,
            x: widen(x),
            y: widen(y),
        }
    }

    fn px(&self, x: f64) -> f64 {
        LEFT + (x - self.x.0) / (self.x.1 - self.x.0) * (self.width - LEFT - RIGHT)
    }

    fn py(&self, y: f64) -> f64 {
        TOP + (self.y.1 - y) / (self.y.1 - self.y.0) * (self.height - TOP - BOTTOM)
    }

    fn path(&self, pts: &[(f64, f64)]) -> String {
        let mut d = String::with_capacity(pts.len() * 14);
        for (i, &(x, y)) in pts.iter().enumerate() {
            let _ = write!(
                d,
                "{}{:.1},{:.1}",
                if i == 0 { "M" } else { "L" },
                self.px(x),
                self.py(y)
            );
        }
        d
    }

    /// A line through `pts`.
    pub fn line(&self, pts: &[(f64, f64)], class: &str) -> String {
        if pts.is_empty() {
            return String::new();
        }
        format!(
            "<path class=\"{class}\" fill=\"none\" d=\"{}\"/>",
            self.path(pts)
        )
    }

    /// The area between `pts` and the horizontal line at `base`.
    pub fn area(&self, pts: &[(f64, f64)], base: f64, class: &str) -> String {
        let (Some(first), Some(last)) = (pts.first(), pts.last()) else {
            return String::new();
        };
        format!(
            "<path class=\"{class}\" d=\"{}L{:.1},{:.1}L{:.1},{:.1}Z\"/>",
            self.path(pts),
            self.px(last.0),
            self.py(base),
            self.px(first.0),
            self.py(base)
        )
    }

    /// A triangle at `(x, y)`: pointing up for `up`, down otherwise, with a tooltip.
    pub fn marker(&self, x: f64, y: f64, up: bool, class: &str, title: &str) -> String {
        let (cx, cy) = (self.px(x), self.py(y));
        let s = if up { 1.0 } else { -1.0 };
        format!(
            "<path class=\"{class}\" d=\"M{:.1},{:.1}l-4,{:.1}h8Z\"><title>{}</title></path>",
            cx,
            cy,
            7.0 * s,
            esc(title)
        )
    }

    /// Horizontal grid lines with value labels on the left, at round steps.
    pub fn y_axis(&self, label: impl Fn(f64) -> String) -> String {
        let mut out = String::new();
        for v in nice_ticks(self.y.0, self.y.1, 5) {
            let y = self.py(v);
            let _ = write!(
                out,
                "<line class=\"grid\" x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\"/>\
                 <text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
                self.width - RIGHT,
                LEFT - 6.0,
                y + 4.0,
                esc(&label(v))
            );
        }
        out
    }

    /// Date labels along the bottom for an x range in UTC nanoseconds.
    pub fn time_axis(&self) -> String {
        let mut out = String::new();
        let y = self.height - 6.0;
        for (t, text) in time_ticks(self.x.0 as i64, self.x.1 as i64) {
            let _ = write!(
                out,
                "<text class=\"tick\" x=\"{:.1}\" y=\"{y:.1}\" text-anchor=\"middle\">{}</text>",
                self.px(t as f64),
                esc(&text)
            );
        }
        out
    }

    /// The whole chart: an `<svg>` sized to the frame around `body`.
    pub fn svg(&self, body: &str, label: &str) -> String {
        format!(
            "<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" \
             role=\"img\" aria-label=\"{}\">{body}</svg>",
            esc(label),
            w = self.width,
            h = self.height
        )
    }
}

/// A chart of several lines over time (x in UTC nanoseconds), each with its CSS class,
/// drawn in order; `with_zero` keeps 0 inside the value axis.
pub fn time_lines(lines: &[(&[(f64, f64)], &str)], with_zero: bool, label: &str) -> String {
    let all = || lines.iter().flat_map(|(pts, _)| pts.iter());
    let zero = with_zero.then_some(0.0);
    let f = Frame::new(
        1060.0,
        260.0,
        range(all().map(|p| p.0)),
        range(all().map(|p| p.1).chain(zero)),
    );
    let mut body = format!("{}{}", f.y_axis(|v| format!("{v:.0}")), f.time_axis());
    for (pts, class) in lines {
        body.push_str(&f.line(pts, class));
    }
    f.svg(&body, label)
}

/// About `n` round values (1, 2 or 5 times a power of ten apart) within `[lo, hi]`.
pub fn nice_ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    if hi <= lo || !lo.is_finite() || !hi.is_finite() {
        return Vec::new();
    }
    let raw = (hi - lo) / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let mut v = (lo / step).ceil() * step;
    let mut out = Vec::new();
    while v <= hi + step * 1e-9 && out.len() < 50 {
        out.push(if v.abs() < step * 1e-9 { 0.0 } else { v });
        v += step;
    }
    out
}

fn date_of(ns: i64) -> Option<NaiveDate> {
    Some(DateTime::<Utc>::from_timestamp_nanos(ns).date_naive())
}

fn ns_of(d: NaiveDate) -> Option<i64> {
    d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_nanos_opt()
}

/// Labelled ticks for a UTC time range: years, months or hours, at most about eight.
pub fn time_ticks(from: i64, to: i64) -> Vec<(i64, String)> {
    let (Some(a), Some(b)) = (date_of(from), date_of(to)) else {
        return Vec::new();
    };
    let months = (b.year() - a.year()) * 12 + b.month() as i32 - a.month() as i32;
    let mut out = Vec::new();
    if months >= 24 {
        let step = ((b.year() - a.year()) / 8 + 1).max(1);
        let mut y = a.year() + 1;
        while y <= b.year() {
            if let Some(t) = NaiveDate::from_ymd_opt(y, 1, 1).and_then(ns_of) {
                out.push((t, y.to_string()));
            }
            y += step;
        }
    } else if months >= 2 {
        let step = (months / 8 + 1).max(1) as u32;
        let mut d = NaiveDate::from_ymd_opt(a.year(), a.month(), 1);
        while let Some(day) = d {
            if day > b {
                break;
            }
            if let Some(t) = ns_of(day).filter(|t| *t >= from) {
                out.push((t, day.format("%Y-%m").to_string()));
            }
            d = day.checked_add_months(chrono::Months::new(step));
        }
    } else {
        let hour = 3_600_000_000_000i64;
        let steps = [1, 2, 6, 12, 24, 48, 168].map(|h| h * hour);
        let span = to.saturating_sub(from);
        let step = steps
            .into_iter()
            .find(|s| span / s <= 8)
            .unwrap_or(168 * hour);
        let mut t = from
            .div_euclid(step)
            .saturating_mul(step)
            .saturating_add(step);
        while t <= to && out.len() < 50 {
            let when = DateTime::<Utc>::from_timestamp_nanos(t);
            let fmt = if step >= 24 * hour {
                "%m-%d"
            } else {
                "%m-%d %H:%M"
            };
            out.push((t, when.format(fmt).to_string()));
            t = t.saturating_add(step);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_inside() {
        assert_eq!(
            nice_ticks(0.0, 100.0, 5),
            vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
        );
        assert_eq!(nice_ticks(-0.12, 0.0, 5), vec![-0.1, -0.05, 0.0]);
        assert!(nice_ticks(1.0, 1.0, 5).is_empty());
    }

    #[test]
    fn year_ticks_for_a_long_range() {
        let a = ns_of(NaiveDate::from_ymd_opt(2004, 8, 19).unwrap()).unwrap();
        let b = ns_of(NaiveDate::from_ymd_opt(2013, 3, 1).unwrap()).unwrap();
        let labels: Vec<String> = time_ticks(a, b).into_iter().map(|t| t.1).collect();
        assert_eq!(labels, ["2005", "2007", "2009", "2011", "2013"]);
    }

    #[test]
    fn text_is_escaped_and_points_map_into_the_box() {
        assert_eq!(esc("<a & 'b'>"), "&lt;a &amp; &#39;b&#39;&gt;");
        let f = Frame::new(200.0, 100.0, (0.0, 10.0), (0.0, 1.0));
        assert_eq!(
            f.line(&[(0.0, 0.0), (10.0, 1.0)], "l"),
            "<path class=\"l\" fill=\"none\" d=\"M64.0,78.0L188.0,10.0\"/>"
        );
    }
}
