//! A loser tree (tournament tree) over k keyed entries: the least `(key, entry index)` is
//! the winner; an entry without a key is out, after every keyed one. Changing the winner's
//! key and replaying its path takes one comparison per level (`ceil(log2 k)`), half of
//! what a binary heap's sift down takes.

/// The tournament. Entries are `0..k`; internal nodes `1..k` hold the loser of their match
/// and node 0 the overall winner (the layout of a segment tree: entry `i` is leaf `k + i`).
/// Nodes hold packed keys ([`packed`]), so a match is one integer comparison.
#[derive(Debug, Clone)]
pub struct LoserTree {
    entries: usize,
    nodes: Vec<u128>,
}

/// Entry `i`'s key as one integer ordered as `(out, key, i)`: bit 127 set when the entry
/// is out, then the key with its sign bit flipped (so unsigned order is signed order),
/// then the entry index in the low 63 bits.
fn packed(key: Option<i64>, i: usize) -> u128 {
    let flipped = |k: i64| u128::from((k as u64) ^ (1 << 63));
    let index = i as u128 & ((1 << 63) - 1);
    match key {
        Some(k) => flipped(k) << 63 | index,
        None => 1 << 127 | index,
    }
}

/// The entry index of a packed key.
fn entry(packed: u128) -> usize {
    (packed & ((1 << 63) - 1)) as usize
}

impl LoserTree {
    /// The tournament of `keys` (entry `i` has `keys[i]`; `None` is out).
    pub fn new(keys: &[Option<i64>]) -> Self {
        let k = keys.len();
        let mut winners: Vec<u128> = vec![0; 2 * k.max(1)];
        for (i, key) in keys.iter().enumerate() {
            winners[k + i] = packed(*key, i);
        }
        let mut nodes = vec![0; k.max(1)];
        for p in (1..k).rev() {
            let (a, b) = (winners[2 * p], winners[2 * p + 1]);
            winners[p] = a.min(b);
            nodes[p] = a.max(b);
        }
        nodes[0] = winners[1];
        LoserTree { entries: k, nodes }
    }

    /// The winning entry, `None` when every entry is out (or there is none).
    pub fn winner(&self) -> Option<usize> {
        let w = *self.nodes.first()?;
        (self.entries > 0 && w >> 127 == 0).then(|| entry(w))
    }

    /// Gives the winning entry its next key (`None`: out) and replays its path. Only the
    /// winner's key may change: the other entries' matches are kept as they were played.
    pub fn replace_winner(&mut self, key: Option<i64>) {
        if self.entries == 0 {
            return;
        }
        let w = entry(self.nodes[0]);
        let mut winner = packed(key, w);
        let mut p = (self.entries + w) / 2;
        while p >= 1 {
            if self.nodes[p] < winner {
                std::mem::swap(&mut self.nodes[p], &mut winner);
            }
            p /= 2;
        }
        self.nodes[0] = winner;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Draining the tree by replacing each winner with its entry's next key yields every
    /// key in `(key, entry)` order, as a sort of all of them does.
    fn drain(runs: &[Vec<i64>]) -> Vec<(i64, usize)> {
        let mut next = vec![0usize; runs.len()];
        let keys: Vec<Option<i64>> = runs.iter().map(|r| r.first().copied()).collect();
        let mut tree = LoserTree::new(&keys);
        let mut out = Vec::new();
        while let Some(w) = tree.winner() {
            out.push((runs[w][next[w]], w));
            next[w] += 1;
            tree.replace_winner(runs[w].get(next[w]).copied());
        }
        out
    }

    proptest! {
        #[test]
        fn the_tree_yields_keys_in_key_then_entry_order(
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
    fn ties_go_to_the_lower_entry_and_an_empty_tree_has_no_winner() {
        assert_eq!(
            drain(&[vec![1, 2], vec![1], vec![0, 2]]),
            vec![(0, 2), (1, 0), (1, 1), (2, 0), (2, 2)]
        );
        assert_eq!(LoserTree::new(&[]).winner(), None);
        assert_eq!(LoserTree::new(&[None, None]).winner(), None);
        assert_eq!(LoserTree::new(&[Some(3)]).winner(), Some(0));
    }
}
