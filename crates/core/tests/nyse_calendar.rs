//! The generated NYSE calendar against published dates for every year 1990-2035.
//!
//! Source of `data/nyse_exceptions_1990_2035.csv`: the `exchange_calendars` package 4.13.2
//! (PyPI), calendar `XNYS`, whose holiday and early-close rules are maintained against the
//! NYSE's published holiday notices (nyse.com/markets/hours-calendars). It lists every weekday
//! without a session and every session that does not run 09:30-16:00 New York time.

use chrono::{Datelike, NaiveDate, Weekday};
use lockstep_core::Calendar;
use std::collections::BTreeMap;

fn reference() -> BTreeMap<NaiveDate, Option<String>> {
    let text = include_str!("data/nyse_exceptions_1990_2035.csv");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("date"))
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let d = NaiveDate::parse_from_str(f[0], "%Y-%m-%d").expect("date");
            (d, (f[1] == "early_close").then(|| f[2].to_string()))
        })
        .collect()
}

#[test]
fn holidays_and_early_closes_match_published_dates_1990_2035() {
    let reference = reference();
    assert_eq!(reference.len(), 522);
    let ny = chrono_tz::America::New_York;
    let mut generated = BTreeMap::new();
    let mut d = NaiveDate::from_ymd_opt(1990, 1, 1).unwrap();
    let end = NaiveDate::from_ymd_opt(2035, 12, 31).unwrap();
    while d <= end {
        if !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
            match Calendar::Nyse.session(d) {
                None => {
                    generated.insert(d, None);
                }
                Some(s) if s.early_close => {
                    let close = s
                        .close
                        .to_datetime()
                        .with_timezone(&ny)
                        .format("%H:%M")
                        .to_string();
                    generated.insert(d, Some(close));
                }
                Some(s) => {
                    let open = s
                        .open
                        .to_datetime()
                        .with_timezone(&ny)
                        .format("%H:%M")
                        .to_string();
                    let close = s
                        .close
                        .to_datetime()
                        .with_timezone(&ny)
                        .format("%H:%M")
                        .to_string();
                    assert_eq!((open.as_str(), close.as_str()), ("09:30", "16:00"), "{d}");
                }
            }
        }
        d = d.succ_opt().unwrap();
    }
    let missing: Vec<_> = reference
        .iter()
        .filter(|(k, v)| generated.get(k) != Some(v))
        .collect();
    let extra: Vec<_> = generated
        .iter()
        .filter(|(k, _)| !reference.contains_key(k))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}\nextra {extra:?}"
    );
    let sessions = Calendar::Nyse.sessions(NaiveDate::from_ymd_opt(1990, 1, 1).unwrap(), end);
    assert_eq!(
        sessions.len(),
        11_577,
        "session count of the reference calendar"
    );
}
