//! Seeds derived from a user seed and a position (a restart, a grid cell), so
//! that every random stream depends on what it belongs to and never on the
//! order in which threads run. Every crate of the workspace derives its seeds
//! here, so one user seed means the same streams everywhere.

/// SplitMix64's finalizer: a bijection that spreads nearby inputs over the
/// whole range (decorrelates the seeds of neighbouring positions).
#[must_use]
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The seed for position `path` (e.g. `[k, structure]` of a grid cell) under
/// `seed`. Order matters: `[1, 2]` and `[2, 1]` give different seeds.
#[must_use]
pub fn derive_seed(seed: u64, path: &[u64]) -> u64 {
    path.iter().fold(mix(seed), |h, &p| mix(h ^ mix(p)))
}

/// `m` of the indices `0..n`, drawn without replacement by `seed`, in
/// increasing order; `None` when `n <= m` (every index). The draw depends on
/// `n`, `m` and `seed` only, so rows read in batches (out of core) can be
/// sampled as [`Dataset::sample_rows`](crate::Dataset::sample_rows) samples
/// them in memory.
#[must_use]
pub fn sample_indices(n: usize, m: usize, seed: u64) -> Option<Vec<usize>> {
    use rand::SeedableRng;
    if n <= m {
        return None;
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut idx = rand::seq::index::sample(&mut rng, n, m).into_vec();
    idx.sort_unstable();
    Some(idx)
}

/// The seed of restart `restart` of a fit seeded with `seed`.
#[must_use]
pub fn restart_seed(seed: u64, restart: usize) -> u64 {
    mix(seed ^ mix(restart as u64))
}

/// A uniform sample of at most `m` items from a stream of numbered items,
/// the same for a seed however the stream is split or merged: item `i` is
/// kept when its key `mix(seed ^ mix(i))` is among the `m` smallest seen
/// (bottom-k sampling). Items are built only when they enter the sample.
#[derive(Debug, Clone)]
pub struct BottomK<V> {
    m: usize,
    seed: u64,
    /// Max-heap on the key: the top is the first to leave.
    heap: std::collections::BinaryHeap<Keyed<V>>,
}

#[derive(Debug, Clone)]
struct Keyed<V>(u64, u64, V);

impl<V> PartialEq for Keyed<V> {
    fn eq(&self, o: &Self) -> bool {
        (self.0, self.1) == (o.0, o.1)
    }
}
impl<V> Eq for Keyed<V> {}
impl<V> PartialOrd for Keyed<V> {
    fn partial_cmp(&self, o: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl<V> Ord for Keyed<V> {
    fn cmp(&self, o: &Self) -> core::cmp::Ordering {
        (self.0, self.1).cmp(&(o.0, o.1))
    }
}

impl<V> BottomK<V> {
    /// An empty sample of at most `m` items under `seed`.
    #[must_use]
    pub fn new(m: usize, seed: u64) -> Self {
        Self {
            m,
            seed,
            heap: std::collections::BinaryHeap::new(),
        }
    }

    /// Offers item `index`; `make` builds it if it enters the sample.
    pub fn offer(&mut self, index: u64, make: impl FnOnce() -> V) {
        if self.m == 0 {
            return;
        }
        let key = mix(self.seed ^ mix(index));
        if self.heap.len() < self.m {
            self.heap.push(Keyed(key, index, make()));
        } else if self.heap.peek().is_some_and(|t| (key, index) < (t.0, t.1)) {
            self.heap.pop();
            self.heap.push(Keyed(key, index, make()));
        }
    }

    /// Adds another sample of other items under the same seed and size.
    pub fn merge(&mut self, other: Self) {
        for Keyed(key, index, v) in other.heap {
            if self.heap.len() < self.m {
                self.heap.push(Keyed(key, index, v));
            } else if self.heap.peek().is_some_and(|t| (key, index) < (t.0, t.1)) {
                self.heap.pop();
                self.heap.push(Keyed(key, index, v));
            }
        }
    }

    /// The items kept, in increasing order of their index.
    #[must_use]
    pub fn into_sorted(self) -> Vec<V> {
        let mut v: Vec<(u64, V)> = self.heap.into_iter().map(|Keyed(_, i, v)| (i, v)).collect();
        v.sort_by_key(|(i, _)| *i);
        v.into_iter().map(|(_, v)| v).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_positions_distinct_seeds() {
        let mut seen = std::collections::HashSet::new();
        for k in 0..50u64 {
            for s in 0..8u64 {
                assert!(seen.insert(derive_seed(7, &[k, s])));
            }
        }
        assert_ne!(derive_seed(7, &[1, 2]), derive_seed(7, &[2, 1]));
        assert_ne!(derive_seed(7, &[1]), derive_seed(8, &[1]));
    }

    #[test]
    fn restart_seeds_are_distinct_and_fixed() {
        // The streams of existing fits must not move: these values are what
        // every fit of the workspace has used since its first release.
        assert_eq!(mix(0), 0xE220_A839_7B1D_CDAF);
        let seeds: std::collections::HashSet<u64> = (0..64).map(|r| restart_seed(3, r)).collect();
        assert_eq!(seeds.len(), 64);
    }

    #[test]
    fn bottom_k_ignores_the_split() {
        let mut whole = BottomK::new(10, 5);
        for i in 0..1000u64 {
            whole.offer(i, || i);
        }
        let (mut a, mut b) = (BottomK::new(10, 5), BottomK::new(10, 5));
        for i in 0..1000u64 {
            if i % 7 < 3 {
                a.offer(i, || i)
            } else {
                b.offer(i, || i)
            }
        }
        a.merge(b);
        let kept = whole.into_sorted();
        assert_eq!(kept.len(), 10);
        assert_eq!(a.into_sorted(), kept);
        assert!(kept.windows(2).all(|w| w[0] < w[1]));
    }
}
