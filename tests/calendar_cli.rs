//! `lockstep calendar`: the session list as CSV.

mod common;

use common::{lockstep, repo};

#[test]
fn prints_sessions_as_csv() {
    let o = lockstep(
        &repo(),
        &[
            "calendar",
            "nyse",
            "--from",
            "1995-01-01",
            "--to",
            "2030-12-31",
        ],
    );
    assert!(o.status.success());
    let text = String::from_utf8(o.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "date,open_utc,close_utc,early_close");
    // Session count of the exchange_calendars XNYS reference over the same range.
    assert_eq!(lines.len() - 1, 9_057);
    assert!(lines.contains(&"2015-12-24,2015-12-24T14:30:00Z,2015-12-24T18:00:00Z,true"));
    assert!(!text.contains("2001-09-11,"));
    assert_eq!(lines.iter().filter(|l| l.starts_with("2015-")).count(), 252);
    let o = lockstep(
        &repo(),
        &[
            "calendar",
            "lunar",
            "--from",
            "2015-01-01",
            "--to",
            "2015-01-02",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
}
