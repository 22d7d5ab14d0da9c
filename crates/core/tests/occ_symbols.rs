//! OCC symbology against every option contract in the team's recorded data: parsing gives
//! the fields Lean stores beside each symbol, and formatting gives the symbol back.
//! Fixture: `fixtures/occ_symbols.csv`, cut from `../shared/data/lean_us_option_1m_*.parquet`.

use lockstep_core::{OccSymbol, OptionRight};

#[test]
fn every_recorded_contract_round_trips_with_lean_fields() {
    let text = include_str!("fixtures/occ_symbols.csv");
    let mut n = 0;
    for line in text.lines().filter(|l| !l.starts_with('#')).skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let [symbol, _underlying, right, strike, expiry, _style] = f[..] else {
            panic!("bad fixture line {line}");
        };
        let occ = OccSymbol::parse(symbol).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(occ.to_string(), symbol, "round trip");
        assert_eq!(occ.root, symbol[..6].trim_end());
        let want_right = if right == "C" {
            OptionRight::Call
        } else {
            OptionRight::Put
        };
        assert_eq!(occ.right, want_right, "{symbol}");
        assert_eq!(occ.strike, strike.parse().expect("strike"), "{symbol}");
        assert_eq!(occ.expiry.to_string(), expiry, "{symbol}");
        n += 1;
    }
    assert_eq!(n, 5183, "every contract of both files");
}
