//! The README's safety-core config is a real config: it parses and runs.

mod common;

use common::{lockstep, repo, summary};

#[test]
fn the_readme_safety_config_runs() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let block = readme
        .split("A cautious intraday setup:\n\n```toml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the README shows the safety config");
    let data = repo().join("data/lean_spy_1m_sample.parquet");
    let config = block.replace(
        "[data]\n",
        &format!("[data]\npaths = [{:?}]\n", data.to_str().unwrap()),
    );
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("safety.toml"), config).unwrap();
    let o = lockstep(
        tmp.path(),
        &["backtest", "safety.toml", "--quiet", "--out", "out"],
    );
    assert!(o.status.success(), "{}", common::stderr(&o));
    let s = summary(&tmp.path().join("out"));
    assert_eq!(s["eod_ran_at"].as_object().unwrap().len(), 2);
    assert!(
        s["rejections"]["venue_rejected"].as_u64().unwrap() > 0,
        "faults were injected"
    );
}
