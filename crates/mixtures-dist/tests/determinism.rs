//! Results do not depend on the number of threads: `log_prob` (and the other
//! evaluations, which also agree with each other) are bit-identical in rayon pools of 1, 2 and 7 threads, on more
//! rows than one chunk.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_range_loop,
    missing_docs
)]

mod common;

use common::{FAMILIES, Model, random_model, random_points};
use mixtures_core::{CHUNK_ROWS, Dataset, Scalar};

const N: usize = 5000;
// The test must span several chunks.
const _: () = assert!(N > 2 * CHUNK_ROWS);

/// Everything one evaluation gives, as bits.
fn evaluate<T: Scalar>(m: &Model<T>, x: &Dataset<T>) -> (Vec<u64>, Vec<u64>, Vec<u64>, Vec<usize>) {
    let bits = |v: &[T]| v.iter().map(|x| x.as_f64().to_bits()).collect::<Vec<_>>();
    let mat_bits = |a: faer::Mat<T>| {
        (0..a.nrows())
            .flat_map(|i| (0..a.ncols()).map(move |j| (i, j)))
            .map(|(i, j)| a[(i, j)].as_f64().to_bits())
            .collect::<Vec<_>>()
    };
    let lp = m.log_prob(x);
    let (lp2, resp) = m.log_prob_and_responsibilities(x);
    assert_eq!(bits(&lp), bits(&lp2));
    // The one-pass form gives the same bits and labels as the two passes.
    let (lp3, labels) = m.log_prob_and_predict(x);
    assert_eq!(bits(&lp), bits(&lp3));
    assert_eq!(labels, m.predict(x));
    (
        bits(&lp),
        mat_bits(resp),
        mat_bits(m.weighted_log_prob(x)),
        m.predict(x),
    )
}

fn same_bits_in_every_pool<T: Scalar>() {
    let pools: Vec<rayon::ThreadPool> = [1, 2, 7]
        .iter()
        .map(|&t| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .unwrap()
        })
        .collect();
    for (s, fam) in FAMILIES.iter().enumerate() {
        let m = random_model::<T>(*fam, 4, 5, 900 + s as u64);
        let x = random_points::<T>(N, 5, -6.0, 6.0, 901 + s as u64);
        let reference = pools[0].install(|| evaluate(&m, &x));
        for (p, pool) in pools.iter().enumerate().skip(1) {
            let got = pool.install(|| evaluate(&m, &x));
            assert!(got == reference, "{} {fam:?}: pool {p} differs", T::NAME);
        }
        // The global pool too, and a repeated run.
        assert!(
            evaluate(&m, &x) == reference,
            "{fam:?}: global pool differs"
        );
        // Score is accumulated in row order: identical as well.
        let score = |pool: &rayon::ThreadPool| {
            pool.install(|| match &m {
                Model::G(g) => g.score(&x).unwrap(),
                Model::L(l) => l.score(&x).unwrap(),
            })
        };
        let s1 = score(&pools[0]);
        assert_eq!(s1.to_bits(), score(&pools[2]).to_bits());
        assert!(s1.is_finite());
    }
}

#[test]
fn bit_identical_across_thread_counts_f64() {
    same_bits_in_every_pool::<f64>();
}

#[test]
fn bit_identical_across_thread_counts_f32() {
    same_bits_in_every_pool::<f32>();
}

/// A row's value does not depend on which rows share its chunk: evaluating a
/// subset (shifting every chunk boundary) gives the same values to rounding.
#[test]
fn rows_are_independent_of_their_chunk() {
    for (s, fam) in FAMILIES.iter().enumerate() {
        let m = random_model::<f64>(*fam, 3, 4, 70 + s as u64);
        let x = random_points::<f64>(1500, 4, -5.0, 5.0, 71);
        let all = m.log_prob(&x);
        let raw = x.to_row_major();
        let tail = Dataset::from_row_major(&raw[4 * 333..], 1500 - 333, 4).unwrap();
        let part = m.log_prob(&tail);
        for (i, v) in part.iter().enumerate() {
            let w = all[333 + i];
            assert!(
                (v - w).abs() <= 1e-12 * (1.0 + w.abs()),
                "{fam:?} row {}: {v} vs {w}",
                333 + i
            );
        }
    }
}
