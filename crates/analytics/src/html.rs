//! The page shell and small HTML pieces shared by every page: one self-contained file with
//! its style inline, no script, no network, readable offline and printable.

use crate::svg::esc;
use std::fmt::Write;

const STYLE: &str = "\
body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;\
margin:24px auto;max-width:1100px;color:#1d2430;padding:0 16px}\
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d8dde6}\
.sub{color:#5b6576;margin:0 0 16px}\
.metrics{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:8px}\
.metric{border:1px solid #d8dde6;border-radius:6px;padding:6px 10px}\
.metric .label{display:block;color:#5b6576;font-size:12px}.metric .value{font-size:17px;font-weight:600}\
table{border-collapse:collapse;margin:4px 0 12px;display:block;overflow-x:auto;max-width:100%}th,td{padding:3px 9px;border-bottom:1px solid #e6e9ef;text-align:right}\
th:first-child,td:first-child{text-align:left}th{background:#f4f6f9;font-weight:600}\
.neg{color:#b3261e}.pos{color:#1a7f37}\
svg.chart{display:block;max-width:100%;height:auto}\
.chart .grid{stroke:#e6e9ef}.chart .tick{font-size:11px;fill:#5b6576}\
.chart .equity{stroke:#1f5fbf;stroke-width:1.5}.chart .dd{fill:#e8a39d;stroke:#b3261e;stroke-width:.6}\
.chart .price{stroke:#3a4150;stroke-width:1}.chart .a{stroke:#1f5fbf;stroke-width:1.5}\
.chart .b{stroke:#d9822b;stroke-width:1.5}.chart .base{stroke:#8a93a3;stroke-width:1;stroke-dasharray:4 3}\
.chart .buy{fill:#1a7f37}.chart .sell{fill:#b3261e}\
.heat td{min-width:44px;font-size:12px}pre{background:#f4f6f9;padding:10px;overflow:auto;font-size:12px}\
.note{color:#5b6576;font-size:12px}\
@media print{body{margin:0;max-width:none}h2{break-after:avoid}svg.chart{break-inside:avoid}}";

/// A whole page: `title` in the head and as the heading, `sub` under it, then `body`.
pub fn page(title: &str, sub: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{t}</title><style>{STYLE}</style></head>\n<body><h1>{t}</h1>\
         <p class=\"sub\">{s}</p>\n{body}\n</body></html>\n",
        t = esc(title),
        s = esc(sub)
    )
}

/// A table cell: text, and an optional `data-key` naming the summary field it shows.
#[derive(Debug, Clone, Default)]
pub struct Cell {
    /// The text shown.
    pub text: String,
    /// `pos` / `neg` colouring, or none.
    pub class: Option<&'static str>,
    /// Inline background colour.
    pub background: Option<String>,
}

impl Cell {
    /// Plain text.
    pub fn text(s: impl Into<String>) -> Self {
        Cell {
            text: s.into(),
            ..Cell::default()
        }
    }

    /// A signed number, coloured by its sign.
    pub fn signed(s: impl Into<String>) -> Self {
        let text = s.into();
        let class = if text.starts_with('-') {
            Some("neg")
        } else if text.chars().any(|c| c.is_ascii_digit() && c != '0') {
            Some("pos")
        } else {
            None
        };
        Cell {
            text,
            class,
            background: None,
        }
    }
}

/// A table with a header row.
pub fn table(headers: &[&str], rows: &[Vec<Cell>], class: &str) -> String {
    let mut out = format!("<table class=\"{class}\"><thead><tr>");
    for h in headers {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for c in row {
            out.push_str("<td");
            if let Some(k) = c.class {
                let _ = write!(out, " class=\"{k}\"");
            }
            if let Some(bg) = &c.background {
                let _ = write!(out, " style=\"background:{bg}\"");
            }
            let _ = write!(out, ">{}</td>", esc(&c.text));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    out
}

/// A headline figure; `key` (a `summary.json` path such as `metrics.sharpe`) is written as
/// `data-key` so a check can compare the page with the summary.
pub fn metric(label: &str, value: &str, key: Option<&str>) -> String {
    let key = key
        .map(|k| format!(" data-key=\"{}\"", esc(k)))
        .unwrap_or_default();
    format!(
        "<div class=\"metric\"><span class=\"label\">{}</span><span class=\"value\"{key}>{}</span></div>",
        esc(label),
        esc(value)
    )
}

/// Money (or a price) as text with at least two decimals and no trailing zeros beyond
/// them (exact; never rounded): the same text whatever scale the value was read at.
pub fn money(d: rust_decimal::Decimal) -> String {
    let mut d = d.normalize();
    if d.scale() < 2 {
        d.rescale(2);
    }
    d.to_string()
}

/// A fraction as a percentage with two decimals (`0.1234` -> `12.34%`).
pub fn pct(x: f64) -> String {
    format!("{:.2}%", x * 100.0)
}

/// A ratio with three decimals, or a dash.
pub fn ratio(x: Option<f64>) -> String {
    x.map_or_else(|| "–".to_string(), |v| format!("{v:.3}"))
}

/// A heat-map colour for a return: green above zero, red below, stronger with size
/// (`scale` is the size of a full-strength cell).
pub fn heat(ret: f64, scale: f64) -> String {
    let a = (ret.abs() / scale.max(1e-12)).min(1.0) * 0.75 + 0.08;
    if ret >= 0.0 {
        format!("rgba(26,127,55,{a:.2})")
    } else {
        format!("rgba(179,38,30,{a:.2})")
    }
}

/// A section heading and its content.
pub fn section(title: &str, body: &str) -> String {
    format!("<h2>{}</h2>\n{body}\n", esc(title))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_carry_their_summary_key_and_text_is_escaped() {
        assert_eq!(
            metric("P&L", "1.00", Some("realized_pnl")),
            "<div class=\"metric\"><span class=\"label\">P&amp;L</span><span class=\"value\" data-key=\"realized_pnl\">1.00</span></div>"
        );
        let t = table(&["a"], &[vec![Cell::signed("-1.5")]], "x");
        assert!(t.contains("<td class=\"neg\">-1.5</td>"), "{t}");
        assert_eq!(Cell::signed("0.00").class, None);
        assert_eq!(pct(0.12345), "12.35%");
        assert_eq!(money(rust_decimal::Decimal::new(66275, 0)), "66275.00");
        assert_eq!(money(rust_decimal::Decimal::new(-3023659, 3)), "-3023.659");
        assert_eq!(
            money(rust_decimal::Decimal::new(1674700, 4)),
            "167.47",
            "no zeros past two"
        );
        assert_eq!(money(rust_decimal::Decimal::new(5, 1)), "0.50");
    }
}
