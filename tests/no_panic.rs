//! No input makes lockstep panic: random CSV bar files (valid-looking rows mixed with garbage)
//! and random `--set` values either run or fail with an error (exit 1 or 2).

use lockstep::config;
use lockstep::run::{execute, RunPlan};
use proptest::prelude::*;

fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        (1u32..100_000).prop_map(|v| format!("{}.{:02}", v / 100, v % 100)),
        Just("NaN".to_string()),
        Just("-1".to_string()),
        Just(String::new()),
        Just("1e400".to_string()),
        Just("99999999999999999999999".to_string()),
        "[a-z0-9.:-]{0,8}",
    ]
}

fn row(i: u32) -> impl Strategy<Value = String> {
    let ts = prop_oneof![
        6 => Just(format!("2024-01-{:02}T00:00:00Z", 1 + i % 28)),
        1 => Just(format!("2024-01-01T00:{:02}:00", i % 60)),
        1 => Just("not-a-time".to_string()),
        1 => Just("2262-04-12T00:00:00Z".to_string()),
    ];
    let good = (1u32..100_000, 0u32..500).prop_map(|(p, w)| {
        let (lo, hi) = (p, p + w);
        format!(
            "{}.{:02},{}.{:02},{}.{:02},{}.{:02},100",
            p / 100,
            p % 100,
            hi / 100,
            hi % 100,
            lo / 100,
            lo % 100,
            p / 100,
            p % 100
        )
    });
    let values =
        prop_oneof![3 => good, 1 => prop::collection::vec(cell(), 5).prop_map(|c| c.join(","))];
    (ts, values, prop_oneof![Just("AAA"), Just("BBB"), Just("")])
        .prop_map(|(ts, v, sym)| format!("{ts},{sym},{v}"))
}

fn file() -> impl Strategy<Value = String> {
    (0u32..40).prop_flat_map(|n| {
        let rows: Vec<_> = (0..n).map(row).collect();
        rows.prop_map(|r| format!("ts,symbol,open,high,low,close,volume\n{}\n", r.join("\n")))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn random_data_and_settings_never_panic(
        csv in file(),
        lenient in any::<bool>(),
        fast in prop_oneof![9 => 1i64..30, 1 => 0i64..40],
        fill in prop_oneof![Just("next_open"), Just("close")],
        pct in prop_oneof![6 => Just("0.001"), 1 => Just("-1"), 1 => Just("\"x\""), 1 => Just("1e30")],
        interval in prop_oneof![Just("\"1d\""), Just("\"1m\"")],
    ) {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("bars.csv");
        std::fs::write(&data, csv).unwrap();
        let sets = vec![
            format!("strategy.fast={fast}"),
            format!("execution.fill={fill}"),
            format!("execution.commission.percent={pct}"),
            format!("data.lenient={lenient}"),
            format!("data.interval={interval}"),
        ];
        let result = std::panic::catch_unwind(|| {
            let cfg = config::load(None, &sets, |_| Ok(()))?;
            let plan = RunPlan {
                cfg,
                config_path: None,
                data: vec![data.clone()],
                name: None,
                out: Some(dir.path().join("out")),
                quiet: true,
                // The page too: a run that ends must not panic while drawing it.
                page: Some(lockstep::run::PagePlan::default()),
                recorded: None,
            };
            execute(&plan, Vec::new()).map(|_| ())
        });
        prop_assert!(result.is_ok(), "panicked");
        if let Ok(Err(e)) = result {
            prop_assert!(matches!(e.exit_code(), 1 | 2));
        }
    }
}
