//! `lockstep paper` end to end against the loopback Alpaca fake: the fake serves the SPY
//! one-minute file's first session on a clock started at 09:29 ET and run 1500x; the paper
//! session (a separate process on the same clock) gets the same fills, lots and P&L as
//! `lockstep backtest` of that session, and no output holds the API keys.

mod common;

use common::sessions::*;
use std::path::Path;
use std::time::Duration;

const CONFIG: &str = "scenarios/exits_two_strategies_spy.toml";

#[test]
fn paper_against_the_fake_feed_equals_the_backtest_of_that_session() {
    let tmp = common::session_tempdir();
    let anchor = anchor_now();
    let fake = fake(1500.0, anchor, 5);
    let paper_dir = tmp.path().join("paper");
    let cmd = session(
        "paper",
        Path::new(CONFIG),
        &paper_dir,
        &fake,
        1500.0,
        anchor,
    );
    let (ok, out, err) = run_bounded(cmd, Duration::from_secs(90));
    assert!(ok, "paper failed:\n{out}\n{err}");
    drop(fake);

    let back_dir = tmp.path().join("back");
    let mut back = std::process::Command::new(env!("CARGO_BIN_EXE_lockstep"));
    back.args(["backtest", CONFIG, "--data", DATA, "--quiet", "--out"])
        .arg(&back_dir)
        .args(["--set", "data.to=\"2013-10-05T00:00:00Z\""]);
    let (ok, bout, berr) = run_bounded(back, Duration::from_secs(60));
    assert!(ok, "backtest failed:\n{bout}\n{berr}");

    let fills = |d: &Path| csv_rows(&d.join("fills.csv"), &["client_order_id", "order_id"]);
    let back_fills = fills(&back_dir);
    assert!(back_fills.len() > 20, "{} fills", back_fills.len());
    assert_eq!(fills(&paper_dir), back_fills, "same fills");
    let lots = |d: &Path| csv_rows(&d.join("lots.csv"), &[]);
    assert_eq!(lots(&paper_dir), lots(&back_dir), "same lots");
    let (p, b) = (summary(&paper_dir), summary(&back_dir));
    assert_eq!(p["realized_pnl"], b["realized_pnl"]);
    assert_eq!(p["round_trips"], b["round_trips"]);
    assert_eq!(p["eod_ran_at"], b["eod_ran_at"]);
    assert!(
        paper_dir.join("journal.db").exists(),
        "the journal is in the run folder"
    );
    // The page's price line: the paper session's journaled bars are the backtest's bars.
    let prices = |d: &Path| std::fs::read_to_string(d.join("prices.csv")).expect("prices.csv");
    assert!(prices(&paper_dir).lines().count() > 100);
    assert_eq!(prices(&paper_dir), prices(&back_dir));
    let page = std::fs::read_to_string(paper_dir.join("report.html")).expect("report.html");
    assert!(page.contains(&format!(
        "data-key=\"realized_pnl\">{}<",
        p["realized_pnl"].as_str().unwrap_or_default()
    )));
    assert_no_secrets(&paper_dir, &[&out, &err]);
}

/// The bar that closes at the session close belongs to the session even when the feed
/// hands it over later than the timers' grace: a `--one-session` run waits for it (up to
/// a minute of clock time) before it stops, so its journal and price line end with it.
#[test]
fn a_one_session_run_waits_for_the_bar_that_closes_at_the_close() {
    let tmp = common::session_tempdir();
    let anchor = anchor_now();
    // 16:00 ET: bars from the close on come 10 s of clock time late (the grace is 2 s).
    let close = lockstep_core::UnixNanos(1_380_916_800_000_000_000);
    assert_eq!(close.to_iso(), "2013-10-04T20:00:00Z");
    let late = lockstep_live::fake::Fault::DelayBarsFrom {
        at: close,
        clock_ns: 10_000_000_000,
    };
    let fake = fake_with(1500.0, anchor, 5, vec![late]);
    let dir = tmp.path().join("paper");
    let cmd = session("paper", Path::new(CONFIG), &dir, &fake, 1500.0, anchor);
    let (ok, out, err) = run_bounded(cmd, Duration::from_secs(90));
    assert!(ok, "paper failed:\n{out}\n{err}");
    assert_eq!(summary(&dir)["bars"], 390, "13:30 to 19:59 ET");
    let prices = std::fs::read_to_string(dir.join("prices.csv")).expect("prices.csv");
    let last = prices.lines().last().unwrap_or_default();
    assert!(last.starts_with("SPY,2013-10-04T20:00:00Z,"), "{last}");
}

#[test]
fn a_missing_key_a_bad_endpoint_or_live_money_unconfirmed_is_exit_2_naming_it() {
    let run = |args: &[&str], key: Option<&str>| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_lockstep"));
        c.args(args).env("APCA_API_SECRET_KEY", SECRET);
        match key {
            Some(k) => c.env("APCA_API_KEY_ID", k),
            None => c.env_remove("APCA_API_KEY_ID"),
        };
        let out = c.output().expect("run");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (code, err) = run(&["paper", CONFIG, "--quiet"], None);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("APCA_API_KEY_ID") && !err.contains(SECRET),
        "{err}"
    );
    let (code, err) = run(
        &[
            "paper",
            CONFIG,
            "--quiet",
            "--set",
            "broker.endpoint=\"real\"",
        ],
        Some(&key()),
    );
    assert_eq!(code, Some(2));
    assert!(err.contains("broker.endpoint"), "{err}");
    let (code, err) = run(
        &[
            "live",
            CONFIG,
            "--quiet",
            "--set",
            "broker.endpoint=\"live\"",
        ],
        Some(&key()),
    );
    assert_eq!(code, Some(2));
    assert!(err.contains("--confirm-live"), "{err}");
    let (code, err) = run(
        &[
            "live",
            CONFIG,
            "--quiet",
            "--set",
            &format!(
                "broker.trading_url=\"{}\"",
                lockstep::config_live::LIVE_TRADING_URL
            ),
        ],
        Some(&key()),
    );
    assert_eq!(code, Some(2));
    assert!(err.contains("real-money"), "{err}");
}

#[test]
fn ctrl_c_stops_cleanly_with_a_report_and_a_journal() {
    let tmp = common::session_tempdir();
    let anchor = anchor_now();
    let fake = fake(300.0, anchor, 5);
    let dir = tmp.path().join("paper");
    let mut cmd = session("paper", Path::new(CONFIG), &dir, &fake, 300.0, anchor);
    cmd.args(["--until", "2013-10-04T21:00:00Z"]);
    let child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    // About 20 minutes of the session at 300x, then Ctrl-C.
    std::thread::sleep(Duration::from_secs(3));
    // A second session on the same account is refused while the first runs.
    let second = session(
        "paper",
        Path::new(CONFIG),
        &tmp.path().join("second"),
        &fake,
        300.0,
        anchor,
    )
    .output()
    .expect("second");
    assert_eq!(second.status.code(), Some(1));
    let why = String::from_utf8_lossy(&second.stderr);
    assert!(why.contains("already running on this account"), "{why}");
    std::thread::sleep(Duration::from_secs(1));
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(sent.success());
    let t0 = std::time::Instant::now();
    let out = child.wait_with_output().expect("wait");
    assert!(t0.elapsed() < Duration::from_secs(30), "stops promptly");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = summary(&dir);
    assert!(
        s["bars"].as_u64().is_some_and(|b| b > 0 && b < 390),
        "{}",
        s["bars"]
    );
    assert_replays_exactly(&dir);
}
