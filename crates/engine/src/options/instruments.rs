//! What each symbol of a run is: an option when its name is an OCC symbol (multiplier 100,
//! settled in cash at expiry), an index when it is listed as one (a price source only),
//! otherwise an equity-like instrument (multiplier 1).
//!
//! An option expires at the close of its *expiry session*: the last NYSE session on or
//! before the OCC date (monthly equity options before 2015 carry the Saturday after their
//! last trading Friday; a holiday moves the session earlier).

use chrono::NaiveDate;
use lockstep_core::{Calendar, Instrument, OccSymbol, OptionContract, SymbolId};

/// Instruments by symbol id, classified the first time a symbol's bar arrives.
#[derive(Debug, Clone, Default)]
pub struct Instruments {
    indexes: std::collections::BTreeSet<String>,
    by_id: Vec<Option<Instrument>>,
    expiry_sessions: Vec<Option<NaiveDate>>,
}

/// The last NYSE session on or before `date`.
pub fn expiry_session(date: NaiveDate) -> NaiveDate {
    let nyse = Calendar::Nyse;
    match nyse.session(date) {
        Some(_) => date,
        None => nyse.previous_session(date).map_or(date, |s| s.date),
    }
}

impl Instruments {
    /// Instruments where the symbols named in `indexes` are indexes.
    pub fn new(indexes: &[String]) -> Self {
        Instruments {
            indexes: indexes.iter().cloned().collect(),
            ..Instruments::default()
        }
    }

    /// False for an index (a price source): orders on it are refused.
    pub fn tradable(&self, symbol: SymbolId) -> bool {
        self.get(symbol).is_none_or(Instrument::tradable)
    }

    /// The instrument of `symbol`, if it was classified.
    pub fn get(&self, symbol: SymbolId) -> Option<&Instrument> {
        self.by_id.get(symbol.index()).and_then(Option::as_ref)
    }

    /// True when `symbol` has been classified (so [`Instruments::classify`] would return
    /// `None` without looking at its name).
    pub fn is_classified(&self, symbol: SymbolId) -> bool {
        self.by_id.get(symbol.index()).is_some_and(Option::is_some)
    }

    /// Classifies `symbol` named `name` unless it already is; returns it when it is new.
    pub fn classify(&mut self, symbol: SymbolId, name: &str) -> Option<&Instrument> {
        let i = symbol.index();
        if self.is_classified(symbol) {
            return None;
        }
        if self.by_id.len() <= i {
            self.by_id.resize(i + 1, None);
        }
        if self.expiry_sessions.len() <= i {
            self.expiry_sessions.resize(i + 1, None);
        }
        let instrument = match OccSymbol::parse(name) {
            Ok(occ) => {
                self.expiry_sessions[i] = Some(expiry_session(occ.expiry));
                let underlying = occ.underlying().to_string();
                Instrument::Option(OptionContract::new(occ, &underlying))
            }
            Err(_) if self.indexes.contains(name) => Instrument::Index,
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

    /// The session at whose close option `symbol` expires.
    pub fn expiry_session(&self, symbol: SymbolId) -> Option<NaiveDate> {
        self.expiry_sessions.get(symbol.index()).copied().flatten()
    }

    /// Whether `symbol` is an option whose expiry session is `date`.
    pub fn expires_on(&self, symbol: SymbolId, date: NaiveDate) -> bool {
        self.expiry_session(symbol) == Some(date)
    }

    /// Whether `symbol` is an option whose expiry session is `date` or earlier.
    pub fn expired_by(&self, symbol: SymbolId, date: NaiveDate) -> bool {
        self.expiry_session(symbol).is_some_and(|e| e <= date)
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
        let day = NaiveDate::from_ymd_opt(2021, 1, 4).expect("date");
        assert!(i.expires_on(SymbolId(1), day));
        assert!(!i.expires_on(SymbolId(0), day));
        // A pre-2015 monthly: OCC date Saturday 2014-06-21, last trading day Friday the 20th.
        i.classify(SymbolId(2), "AAPL  140621C00545000");
        let friday = NaiveDate::from_ymd_opt(2014, 6, 20).expect("date");
        assert!(i.expires_on(SymbolId(2), friday));
        assert!(i.expired_by(
            SymbolId(2),
            NaiveDate::from_ymd_opt(2014, 6, 23).expect("d")
        ));
        assert!(!i.expired_by(
            SymbolId(2),
            NaiveDate::from_ymd_opt(2014, 6, 19).expect("d")
        ));
        // Good Friday 2015-04-03: options dated that day expire on Thursday the 2nd.
        let good_friday = NaiveDate::from_ymd_opt(2015, 4, 3).expect("date");
        assert_eq!(
            expiry_session(good_friday),
            NaiveDate::from_ymd_opt(2015, 4, 2).expect("d")
        );
    }
}
