//! What each symbol of a run is: an option when its name is an OCC symbol (multiplier 100,
//! settled in cash at expiry), otherwise an equity-like instrument (multiplier 1).

use lockstep_core::{Instrument, OccSymbol, OptionContract, SymbolId};

/// Instruments by symbol id, classified the first time a symbol's bar arrives.
#[derive(Debug, Clone, Default)]
pub struct Instruments {
    by_id: Vec<Option<Instrument>>,
}

impl Instruments {
    /// The instrument of `symbol`, if it was classified.
    pub fn get(&self, symbol: SymbolId) -> Option<&Instrument> {
        self.by_id.get(symbol.index()).and_then(Option::as_ref)
    }

    /// Classifies `symbol` named `name` unless it already is; returns it when it is new.
    pub fn classify(&mut self, symbol: SymbolId, name: &str) -> Option<&Instrument> {
        let i = symbol.index();
        if self.by_id.get(i).is_some_and(Option::is_some) {
            return None;
        }
        if self.by_id.len() <= i {
            self.by_id.resize(i + 1, None);
        }
        let instrument = match OccSymbol::parse(name) {
            Ok(occ) => {
                let underlying = occ.underlying().to_string();
                Instrument::Option(OptionContract::new(occ, &underlying))
            }
            Err(_) => Instrument::Equity,
        };
        self.by_id[i] = Some(instrument);
        self.by_id[i].as_ref()
    }

    /// The option contract of `symbol`, if it is one.
    pub fn option(&self, symbol: SymbolId) -> Option<&OptionContract> {
        match self.get(symbol) {
            Some(Instrument::Option(c)) => Some(c),
            _ => None,
        }
    }

    /// Whether `symbol` is an option expiring on `date`.
    pub fn expires_on(&self, symbol: SymbolId, date: chrono::NaiveDate) -> bool {
        self.option(symbol).is_some_and(|c| c.occ.expiry == date)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn occ_names_are_options_and_the_rest_equities() {
        let mut i = Instruments::default();
        let spxw = i
            .classify(SymbolId(1), "SPXW  210104C03700000")
            .cloned()
            .expect("new");
        let Instrument::Option(c) = spxw else {
            panic!("an option")
        };
        assert_eq!(c.underlying, "SPX");
        assert_eq!(c.multiplier, lockstep_core::Decimal::from(100));
        assert!(
            i.classify(SymbolId(1), "SPXW  210104C03700000").is_none(),
            "once"
        );
        assert_eq!(i.classify(SymbolId(0), "SPY"), Some(&Instrument::Equity));
        let day = chrono::NaiveDate::from_ymd_opt(2021, 1, 4).expect("date");
        assert!(i.expires_on(SymbolId(1), day));
        assert!(!i.expires_on(SymbolId(0), day));
    }
}
