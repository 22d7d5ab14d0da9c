//! `report.html` of a run, `report html` and `report compare`: the page's headline equals
//! `summary.json`, the analysis layer's metrics equal independently computed values, and a
//! comparison names the first trade that differs.

mod common;

use common::{lockstep, repo, stderr, summary};
use lockstep_analytics::digest::Digest;
use lockstep_analytics::tearsheet::HEADLINE;
use lockstep_analytics::RunFolder;
use std::path::Path;

const DEFAULT_HASH: &str = "003242486e22a502e39c5a2dfab5dacb0950a6bb7882b85b028fdfe1c82b5815";

fn backtest(cwd: &Path, out: &str, extra: &[&str]) {
    let mut args = vec!["backtest", "--quiet", "--out", out];
    args.extend_from_slice(extra);
    let o = lockstep(cwd, &args);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// The text of the element carrying `data-key="key"`.
fn dom_value(page: &str, key: &str) -> Option<String> {
    let at = page.find(&format!("data-key=\"{key}\">"))?;
    let rest = &page[at..];
    let start = rest.find('>')? + 1;
    let end = rest.find('<')?;
    Some(rest[start..end].to_string())
}

fn field(s: &serde_json::Value, key: &str) -> String {
    let mut v = s;
    for k in key.split('.') {
        v = &v[k];
    }
    match v {
        serde_json::Value::String(t) => t.clone(),
        other => other.to_string(),
    }
}

#[test]
fn the_default_run_writes_a_page_whose_headline_is_the_summary() {
    let tmp = tempfile::tempdir().unwrap();
    backtest(tmp.path(), "run", &[]);
    let dir = tmp.path().join("run");
    let s = summary(&dir);
    assert_eq!(
        s["report_hash"], DEFAULT_HASH,
        "the page changes no hashed byte"
    );
    let page = std::fs::read_to_string(dir.join("report.html")).unwrap();
    for (_, key) in HEADLINE {
        assert_eq!(dom_value(&page, key), Some(field(&s, key)), "{key}");
    }
    assert_eq!(
        dom_value(&page, "realized_pnl").as_deref(),
        Some("66275.00")
    );
    for needle in [
        "Equity and drawdown",
        "Monthly returns",
        "<h3>GOOG</h3>",
        "Exit reasons",
        "the built-in defaults",
    ] {
        assert!(page.contains(needle), "missing {needle}");
    }
    assert!(!page.contains("http://") && !page.contains("https://") && !page.contains("<script"));
    // 65 fills, each a marker with its tooltip.
    assert_eq!(
        page.matches("class=\"buy\"").count() + page.matches("class=\"sell\"").count(),
        65
    );
    let prices = std::fs::read_to_string(dir.join("prices.csv")).unwrap();
    assert!(prices.starts_with("symbol,ts,last_ts,first,low,high,last\nGOOG,"));
    let rows = prices.lines().count() - 1;
    assert!(
        (1_000..=2_000).contains(&rows),
        "{rows} price buckets for 2,148 bars"
    );

    backtest(tmp.path(), "bare", &["--no-html"]);
    let bare = tmp.path().join("bare");
    for f in ["report.html", "prices.csv", "config.toml"] {
        assert!(!bare.join(f).exists(), "{f} written with --no-html");
    }
    assert_eq!(summary(&bare)["report_hash"], DEFAULT_HASH);
}

/// The GOOG default run's equity curve (2,148 session rows, 2004-08-20 .. 2013-03-01,
/// starting cash 100,000) through the standard formulas, computed once in Python from
/// `equity.csv` with nothing but `csv`, `math` and `decimal`:
/// r_i = e_i/e_(i-1) - 1 (2,147 returns); years = span / 365.2425 d = 8.531432313;
/// periods/year = 2147 / years = 251.6576; Sharpe = mean/stdev(ddof=1)*sqrt(ppy);
/// Sortino = mean/sqrt(mean(min(r,0)^2))*sqrt(ppy) (empyrical's downside deviation with a
/// zero target); max drawdown = max (peak-e)/peak; CAGR = (177394/100000)^(1/years) - 1;
/// Calmar = CAGR / max drawdown; month r = month-end e / previous month-end e - 1.
#[test]
fn metrics_of_the_default_run_equal_the_standard_formulas() {
    let tmp = tempfile::tempdir().unwrap();
    backtest(tmp.path(), "run", &["--no-html"]);
    let run = RunFolder::open(&tmp.path().join("run")).unwrap();
    assert_eq!(run.equity().unwrap().count(), 2_148);
    // What the page shows: the digest read in one pass over equity.csv.
    let d = Digest::of(&run).unwrap();
    let m = d.curve.metrics;
    let close = |got: Option<f64>, want: f64| {
        let g = got.expect("defined");
        assert!((g - want).abs() < 5e-10, "{g} vs {want}");
    };
    close(m.sharpe, 0.942_071_193_6);
    close(m.sortino, 1.454_632_177_9);
    close(m.max_drawdown, 0.113_819_292_3);
    close(m.cagr, 0.069_495_670_6);
    close(m.calmar, 0.610_579_007_9);
    close(Some(m.years), 8.531_432_313_234_815);
    let months = d.curve.months;
    assert_eq!(months.len(), 104);
    let at = |y: i32, mo: u32| {
        months
            .iter()
            .find(|x| x.year == y && x.month == mo)
            .unwrap()
            .ret
    };
    close(Some(at(2004, 11)), 0.0);
    close(Some(at(2004, 12)), 0.011_290_000_000);
    close(Some(at(2013, 1)), 0.032_270_830_335);
    close(Some(at(2013, 2)), 0.026_690_598_171);
    close(Some(at(2013, 3)), 0.003_626_529_677);
    let compounded = months.iter().map(|x| 1.0 + x.ret).product::<f64>() - 1.0;
    close(Some(compounded), 0.773_94);
}

/// The page a backtest draws from its fills and lots as they are journaled is the page
/// `report html` draws from the folder's tables: for the default run, for four symbols of
/// minute bars trading long and short with a target and a commission (lots closed by
/// signals and by the target, net of fees), and for a week of SPY minutes with so many fills that the markers are thinned.
#[test]
fn report_html_regenerates_the_same_page() {
    let tmp = tempfile::tempdir().unwrap();
    let busy = |file: &str| -> Vec<String> {
        let data = repo().join("data").join(file);
        let mut args = vec!["--data".to_string(), data.display().to_string()];
        for set in [
            "strategy.fast=1",
            "strategy.slow=2",
            "strategy.allow_short=true",
            "exits.take_profit_pct=0.001",
            "execution.commission.percent=0.0005",
        ] {
            args.extend(["--set".to_string(), set.to_string()]);
        }
        args
    };
    let runs = [
        ("run", Vec::new(), 0),
        (
            "four",
            busy("lean_aig_bac_ibm_spy_1m_20131007_09.parquet"),
            2_000,
        ),
        ("week", busy("lean_spy_1m_7days.parquet"), 2 * 2 * 400),
    ];
    for (out, extra, min_fills) in runs {
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        backtest(tmp.path(), out, &extra);
        let dir = tmp.path().join(out);
        let fills = std::fs::read_to_string(dir.join("fills.csv")).unwrap();
        assert!(
            fills.lines().count() > min_fills,
            "{out}: {} fills",
            fills.lines().count()
        );
        assert!(
            min_fills == 0 || fills.contains(",take_profit,"),
            "{out}: a target fired"
        );
        let first = std::fs::read(dir.join("report.html")).unwrap();
        std::fs::remove_file(dir.join("report.html")).unwrap();
        let o = lockstep(tmp.path(), &["report", "html", out]);
        assert!(o.status.success(), "{}", stderr(&o));
        let again = std::fs::read(dir.join("report.html")).unwrap();
        assert!(again == first, "{out}: `report html` drew another page");
    }
    let o = lockstep(tmp.path(), &["report", "html", "nowhere"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("nowhere: neither a run folder"),
        "{}",
        stderr(&o)
    );
}

/// Every row of a table, or a panic naming the first error.
fn all<T, I, E>(rows: Result<I, E>) -> Vec<T>
where
    I: Iterator<Item = Result<T, E>>,
    E: std::fmt::Debug,
{
    rows.unwrap().map(Result::unwrap).collect()
}

/// The page reads the tables' values from the Parquet twins: they equal the CSV's row for
/// row, and the page is the same byte for byte when only the CSVs are there. The run's
/// fill prices have 2 or 4 decimals (stops fill at their level), so the twin's price
/// column, at 4, has more trailing zeros than many CSV texts.
#[test]
fn the_twins_give_the_page_the_csv_values() {
    let tmp = tempfile::tempdir().unwrap();
    let config = repo().join("scenarios/exits_two_strategies_spy.toml");
    backtest(tmp.path(), "run", &[config.to_str().unwrap()]);
    let dir = tmp.path().join("run");
    let run = RunFolder::open(&dir).unwrap();
    let fills = all(run.fills());
    assert!(fills.iter().any(|f| f.price.scale() == 4), "slipped prices");
    assert!(
        fills.iter().any(|f| f.price.to_string().ends_with(".00")),
        "whole cents"
    );
    assert_eq!(all(run.fill_values()), fills);
    assert_eq!(all(run.lot_values()), all(run.lots()));
    assert_eq!(all(run.equity_values()), all(run.equity()));
    let with_twins = std::fs::read(dir.join("report.html")).unwrap();
    for t in ["fills", "lots", "equity"] {
        std::fs::remove_file(dir.join(format!("{t}.parquet"))).unwrap();
    }
    let o = lockstep(tmp.path(), &["report", "html", "run"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let from_csv = std::fs::read(dir.join("report.html")).unwrap();
    assert!(
        from_csv == with_twins,
        "the page read from the CSVs differs"
    );
}

#[test]
fn compare_says_identical_or_names_the_first_trade_that_differs() {
    let tmp = tempfile::tempdir().unwrap();
    backtest(tmp.path(), "a", &["--no-html"]);
    backtest(tmp.path(), "b", &["--no-html"]);
    let commission = repo().join("scenarios/goog_sma_cross_commission.toml");
    backtest(
        tmp.path(),
        "c",
        &["--no-html", commission.to_str().unwrap()],
    );

    let o = lockstep(tmp.path(), &["report", "compare", "a", "b", "--out", "cmp"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains(&format!("identical: same report_hash {DEFAULT_HASH}")),
        "{text}"
    );

    let o = lockstep(tmp.path(), &["report", "compare", "a", "c", "--out", "cmp"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(!text.contains("identical"), "{text}");
    assert!(
        text.contains("realized P&L: 66275.00 vs 63251.341 (B - A = -3023.659)"),
        "{text}"
    );
    assert!(text.contains("first trade that differs: #1"), "{text}");
    assert!(
        text.contains("A: GOOG 100 opened 2004-12-21T05:00:00Z closed 2005-01-31T05:00:00Z (signal) net 738.00"),
        "{text}"
    );
    assert!(
        text.contains("B: GOOG 100 opened 2004-12-21T05:00:00Z"),
        "{text}"
    );
    let page = std::fs::read_to_string(tmp.path().join("cmp/compare.html")).unwrap();
    assert!(page.contains("first trade that differs: #1"));
    assert!(
        page.contains("-3023.659"),
        "the per-reason delta is on the page"
    );
}

#[test]
fn a_sweep_and_a_walkforward_write_their_pages() {
    let tmp = tempfile::tempdir().unwrap();
    let config = repo().join("scenarios/goog_sma_cross.toml");
    let o = lockstep(
        tmp.path(),
        &[
            "sweep",
            config.to_str().unwrap(),
            "--grid",
            "strategy.fast=5,10",
            "--grid",
            "strategy.slow=30,50",
            "--quiet",
            "--out",
            "sweep",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let page = std::fs::read_to_string(tmp.path().join("sweep/sweep.html")).unwrap();
    // The heat map: realized P&L of fast 5 / slow 30 (the best point) and of the default 10/30.
    assert!(
        page.contains(
            "strategy.fast = 5</td><td style=\"background:rgba(26,127,55,0.83)\">78151.00</td>"
        ),
        "{page}"
    );
    assert!(page.contains(">66275.00</td>"));

    let data = repo().join("data/backtestingpy_goog_1d.csv");
    let wf = format!(
        "[data]\npaths = [{:?}]\ninterval = \"1d\"\n\n[strategy]\nname = \"sma_cross\"\nfast = 10\nslow = 30\nqty = 100\n\n\
         [walkforward]\ntrain = \"730d\"\ntest = \"365d\"\nmode = \"rolling\"\nlearner = \"param_search\"\n\
         objective = \"realized_pnl\"\nmin_trades = 1\ngrid = {{ \"strategy.fast\" = [5, 10], \"strategy.slow\" = [30, 50] }}\n",
        data.to_str().unwrap()
    );
    std::fs::write(tmp.path().join("wf.toml"), wf).unwrap();
    let o = lockstep(
        tmp.path(),
        &["walkforward", "wf.toml", "--quiet", "--out", "wf"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let page = std::fs::read_to_string(tmp.path().join("wf/walkforward.html")).unwrap();
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("wf/walkforward.json")).unwrap(),
    )
    .unwrap();
    for key in [
        "out_of_sample.total_pnl",
        "overfit_gap_pnl_per_year",
        "learning_edge_pnl_per_year",
        "baseline.sharpe",
    ] {
        assert_eq!(dom_value(&page, key), Some(field(&json, key)), "{key}");
    }
    assert!(page.contains("Stitched out-of-sample P&amp;L"));
}
