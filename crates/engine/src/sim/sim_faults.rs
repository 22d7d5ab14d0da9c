//! Seeded venue faults for replay (`execution.faults`): the simulated venue refuses or
//! times out orders so breakers and retries can be exercised deterministically.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Which faults to inject. All off by default.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FaultSettings {
    /// Reject every Nth order submitted (1 = every order).
    pub reject_every: Option<u32>,
    /// Reject each order with this probability (0..=1).
    pub reject_probability: Option<f64>,
    /// Time out each order with this probability (0..=1): the venue never acknowledges it,
    /// which the engine sees as a venue error.
    pub timeout_probability: Option<f64>,
    /// Seed of the fault draws: the same seed gives the same faults.
    pub seed: u64,
}

impl FaultSettings {
    /// True when any fault is configured.
    pub fn any(&self) -> bool {
        self.reject_every.is_some()
            || self.reject_probability.is_some()
            || self.timeout_probability.is_some()
    }
}

/// A fault the venue answers an order with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Refused outright.
    Reject,
    /// No answer in time.
    Timeout,
}

impl Fault {
    /// The venue's words for it (the `rejections.detail` column).
    pub fn reason(self) -> &'static str {
        match self {
            Fault::Reject => "simulated venue fault: order rejected",
            Fault::Timeout => "simulated venue fault: no acknowledgement (timeout)",
        }
    }
}

/// Draws faults in submission order from a seeded generator.
#[derive(Debug, Clone)]
pub struct FaultInjector {
    settings: FaultSettings,
    rng: ChaCha8Rng,
    submitted: u64,
}

impl FaultInjector {
    /// An injector for `settings`.
    pub fn new(settings: FaultSettings) -> Self {
        FaultInjector {
            rng: ChaCha8Rng::seed_from_u64(settings.seed),
            settings,
            submitted: 0,
        }
    }

    /// The fault for the next submitted order, if any. Every order draws the same number
    /// of random values, so one setting does not shift another's draws.
    pub fn next_order(&mut self) -> Option<Fault> {
        self.submitted += 1;
        let reject_draw: f64 = self.rng.random();
        let timeout_draw: f64 = self.rng.random();
        let every = self
            .settings
            .reject_every
            .is_some_and(|n| n > 0 && self.submitted.is_multiple_of(u64::from(n)));
        let by_chance = self
            .settings
            .reject_probability
            .is_some_and(|p| reject_draw < p);
        if every || by_chance {
            return Some(Fault::Reject);
        }
        if self
            .settings
            .timeout_probability
            .is_some_and(|p| timeout_draw < p)
        {
            return Some(Fault::Timeout);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draws(s: FaultSettings, n: usize) -> Vec<Option<Fault>> {
        let mut f = FaultInjector::new(s);
        (0..n).map(|_| f.next_order()).collect()
    }

    #[test]
    fn every_nth_and_seeded_probabilities_repeat() {
        let every3 = draws(
            FaultSettings {
                reject_every: Some(3),
                ..FaultSettings::default()
            },
            6,
        );
        assert_eq!(
            every3,
            vec![
                None,
                None,
                Some(Fault::Reject),
                None,
                None,
                Some(Fault::Reject)
            ]
        );
        let p = FaultSettings {
            reject_probability: Some(0.5),
            seed: 7,
            ..FaultSettings::default()
        };
        let a = draws(p.clone(), 200);
        assert_eq!(a, draws(p.clone(), 200), "same seed, same faults");
        let rejected = a.iter().filter(|f| f.is_some()).count();
        assert!(
            (60..140).contains(&rejected),
            "{rejected} of 200 at p = 0.5"
        );
        let other = draws(FaultSettings { seed: 8, ..p }, 200);
        assert_ne!(a, other, "another seed, other faults");
        assert!(draws(FaultSettings::default(), 50)
            .iter()
            .all(Option::is_none));
    }
}
