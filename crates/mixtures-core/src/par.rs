//! Deterministic parallel reduction.
//!
//! rayon's own `reduce` splits work according to the number of threads and
//! stealing, so floating-point sums would change with the pool size. Here the
//! rows are cut into a number of leaves that depends only on `n`, and the leaf
//! results are combined by a binary tree whose shape depends only on the number
//! of leaves: the same bits come out whatever the number of threads.

use crate::CHUNK_ROWS;

/// Most leaves a reduction is cut into (more leaves give better load balance but
/// more partial results to allocate and add).
const MAX_LEAVES: usize = 64;

/// Splits `n` rows into leaves of whole chunks: returns the rows per leaf (a
/// multiple of [`CHUNK_ROWS`]) and the number of leaves. Depends on `n` only.
pub fn leaves(n: usize) -> (usize, usize) {
    let chunks = n.div_ceil(CHUNK_ROWS).max(1);
    let per_leaf = chunks.div_ceil(MAX_LEAVES).max(1);
    let rows = per_leaf * CHUNK_ROWS;
    (rows, n.div_ceil(rows).max(1))
}

/// Computes `leaf(i)` for `i in 0..n_leaves` in parallel and combines the results
/// with `merge(left, right)` along a fixed binary tree.
///
/// # Panics
/// If `n_leaves == 0`.
pub fn tree_reduce<S: Send>(
    n_leaves: usize,
    leaf: &(impl Fn(usize) -> S + Sync),
    merge: &(impl Fn(&mut S, S) + Sync),
) -> S {
    fn go<S: Send>(
        lo: usize,
        hi: usize,
        leaf: &(impl Fn(usize) -> S + Sync),
        merge: &(impl Fn(&mut S, S) + Sync),
    ) -> S {
        if hi - lo == 1 {
            return leaf(lo);
        }
        let mid = lo + (hi - lo) / 2;
        let (mut a, b) = rayon::join(|| go(lo, mid, leaf, merge), || go(mid, hi, leaf, merge));
        merge(&mut a, b);
        a
    }
    assert!(n_leaves > 0, "tree_reduce needs at least one leaf");
    go(0, n_leaves, leaf, merge)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_bits_whatever_the_pool() {
        let v: Vec<f64> = (0..100_000)
            .map(|i| (i as f64 * 0.37).sin() * 1e3)
            .collect();
        let sum = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let (rows, n_leaves) = leaves(v.len());
                tree_reduce(
                    n_leaves,
                    &|l| {
                        v[l * rows..((l + 1) * rows).min(v.len())]
                            .iter()
                            .sum::<f64>()
                    },
                    &|a: &mut f64, b| *a += b,
                )
            })
        };
        let one = sum(1);
        assert_eq!(one.to_bits(), sum(2).to_bits());
        assert_eq!(one.to_bits(), sum(7).to_bits());
        assert!((one - v.iter().sum::<f64>()).abs() < 1e-6);
    }

    #[test]
    fn leaves_cover_rows() {
        for n in [1, 511, 512, 513, 10_000, 100_000, 1_000_000] {
            let (rows, count) = leaves(n);
            assert_eq!(rows % CHUNK_ROWS, 0);
            assert!(rows * count >= n && rows * (count - 1) < n);
            assert!(count <= MAX_LEAVES);
        }
    }
}
