//! The merge's order of sources: each source with a head bar, sorted by `(key, source
//! index)`, where the key is the head's delivery time. The first is the winner.
//!
//! Sources on one time grid take turns: after the winner's bar goes out, its next key is
//! later than every other head's, so it goes to the back. That is checked first and costs
//! one comparison; any other key is placed by binary search. (A loser tree took one
//! comparison per level, seven for 100 sources, whatever the data.)

/// Sources by `(key, index)`; a source without a key (at its end) is not in it.
#[derive(Debug, Clone, Default)]
pub struct HeadQueue {
    /// `order[first..]` is the queue; the entries before `first` are gone winners, dropped
    /// once they are as many as the rest (so the queue's memory stays twice the sources).
    order: Vec<(i64, usize)>,
    first: usize,
}

impl HeadQueue {
    /// The queue of `keys` (source `i` has `keys[i]`; `None` is out).
    pub fn new(keys: &[Option<i64>]) -> Self {
        let mut order: Vec<(i64, usize)> = keys
            .iter()
            .enumerate()
            .filter_map(|(i, k)| k.map(|k| (k, i)))
            .collect();
        order.sort_unstable();
        HeadQueue { order, first: 0 }
    }

    /// The source with the least `(key, index)`, `None` when every source is out.
    pub fn winner(&self) -> Option<usize> {
        self.order.get(self.first).map(|&(_, i)| i)
    }

    /// Gives the winner its next key (`None`: out) and puts it in its place. Only the
    /// winner's key may change.
    pub fn replace_winner(&mut self, key: Option<i64>) {
        let Some(&(_, i)) = self.order.get(self.first) else {
            return;
        };
        self.first += 1;
        if let Some(key) = key {
            let entry = (key, i);
            let rest = &self.order[self.first..];
            if rest.last().is_none_or(|last| *last < entry) {
                self.order.push(entry);
            } else {
                let at = self.first + rest.partition_point(|e| *e < entry);
                self.order.insert(at, entry);
            }
        }
        if self.first * 2 > self.order.len() {
            self.order.drain(..self.first);
            self.first = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Draining the queue by replacing each winner with its source's next key yields every
    /// key in `(key, source)` order, as a sort of all of them does.
    fn drain(runs: &[Vec<i64>]) -> Vec<(i64, usize)> {
        let mut next = vec![0usize; runs.len()];
        let keys: Vec<Option<i64>> = runs.iter().map(|r| r.first().copied()).collect();
        let mut queue = HeadQueue::new(&keys);
        let mut out = Vec::new();
        while let Some(w) = queue.winner() {
            out.push((runs[w][next[w]], w));
            next[w] += 1;
            queue.replace_winner(runs[w].get(next[w]).copied());
        }
        out
    }

    proptest! {
        #[test]
        fn the_queue_yields_keys_in_key_then_source_order(
            runs in prop::collection::vec(prop::collection::vec(prop_oneof![-5i64..5, Just(i64::MIN), Just(i64::MAX)], 0..12), 0..11),
        ) {
            let runs: Vec<Vec<i64>> = runs
                .into_iter()
                .map(|mut r| {
                    r.sort_unstable();
                    r
                })
                .collect();
            let mut want: Vec<(i64, usize)> = runs
                .iter()
                .enumerate()
                .flat_map(|(i, r)| r.iter().map(move |k| (*k, i)))
                .collect();
            want.sort_unstable();
            prop_assert_eq!(drain(&runs), want);
        }
    }

    #[test]
    fn ties_go_to_the_lower_source_and_an_empty_queue_has_no_winner() {
        assert_eq!(
            drain(&[vec![1, 2], vec![1], vec![0, 2]]),
            vec![(0, 2), (1, 0), (1, 1), (2, 0), (2, 2)]
        );
        assert_eq!(HeadQueue::new(&[]).winner(), None);
        assert_eq!(HeadQueue::new(&[None, None]).winner(), None);
        assert_eq!(HeadQueue::new(&[Some(3)]).winner(), Some(0));
    }

    /// Sources on one grid take turns: every new key goes to the back.
    #[test]
    fn sources_on_one_grid_take_turns() {
        let runs: Vec<Vec<i64>> = (0..5).map(|_| vec![60, 120, 180]).collect();
        let got: Vec<usize> = drain(&runs).into_iter().map(|(_, s)| s).collect();
        assert_eq!(got, [0, 1, 2, 3, 4].repeat(3));
    }
}
