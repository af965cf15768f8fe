//! Times an EM iteration on data with missing cells against the same
//! iteration on the complete data: `cargo run --release --example
//! missing_timing [N D K FRACTION]` (default 100 000 16 8 0.1: 10 % of the
//! cells removed at random; full covariance, f64). Both fits start from the
//! same model; the time per iteration is the difference between fits of 11
//! and 1 iterations over 10 (initialization and the final log-likelihood
//! left out), the median of 3 runs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use mixtures::faer::Mat;
use mixtures::prelude::*;
use mixtures_em::{Covariance, GaussianMixture};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let (n, d, k, frac) = match &a[..] {
        [n, d, k, f] => (
            n.parse().unwrap(),
            d.parse().unwrap(),
            k.parse().unwrap(),
            f.parse().unwrap(),
        ),
        _ => (100_000usize, 16usize, 8usize, 0.1f64),
    };
    let mut rng = StdRng::seed_from_u64(0);
    let centers: Vec<Vec<f64>> = (0..k)
        .map(|_| (0..d).map(|_| rng.random::<f64>() * 3.0).collect())
        .collect();
    let x = Mat::from_fn(n, d, |i, j| centers[i % k][j] + rng.random::<f64>() - 0.5);
    let complete = Dataset::from_mat(x.as_ref()).unwrap();
    let mut values: Vec<f64> = complete.to_row_major();
    for row in values.chunks_mut(d) {
        for v in row.iter_mut() {
            if rng.random::<f64>() < frac {
                *v = f64::NAN;
            }
        }
        if row.iter().all(|v| v.is_nan()) {
            row[0] = 0.0;
        }
    }
    let incomplete = Dataset::with_missing(&values, n, d).unwrap();
    let complete_rows = incomplete.complete_rows().map_or(0, |(c, _)| c.n_samples());
    println!(
        "{n} x {d}, k = {k}: {:.1} % of cells missing, {} patterns, {:.1} % of rows complete",
        100.0 * incomplete.n_missing() as f64 / (n * d) as f64,
        incomplete.patterns().len(),
        100.0 * complete_rows as f64 / n as f64
    );
    let start = GaussianMixture::params(k)
        .covariance(Covariance::Full)
        .max_iter(3)
        .fit(&complete)
        .unwrap()
        .model;
    let params = |iters: usize| {
        GaussianMixture::params(k)
            .covariance(Covariance::Full)
            .tol(0.0)
            .max_iter(iters)
    };
    let time = |f: &dyn Fn(usize)| {
        let runs: Vec<f64> = (0..3)
            .map(|_| {
                let t = Instant::now();
                f(1);
                let one = t.elapsed().as_secs_f64();
                let t = Instant::now();
                f(11);
                (t.elapsed().as_secs_f64() - one) / 10.0
            })
            .collect();
        median(runs)
    };
    let full = time(&|it| {
        params(it).fit_from(&start, &complete).unwrap();
    });
    let missing = time(&|it| {
        params(it).fit_incomplete_from(&start, &incomplete).unwrap();
    });
    let t = Instant::now();
    for _ in 0..10 {
        start.incomplete_parts(&incomplete).unwrap();
    }
    let parts = t.elapsed().as_secs_f64() / 10.0;
    let t = Instant::now();
    for _ in 0..10 {
        start.log_prob_incomplete(&incomplete).unwrap();
    }
    let score = t.elapsed().as_secs_f64() / 10.0;
    println!(
        "of which the patterns' parts: {:.2} ms; log_prob_incomplete: {:.2} ms",
        1e3 * parts,
        1e3 * score
    );
    println!(
        "per iteration: complete {:.2} ms, with missing cells {:.2} ms: {:.2}x ({} threads)",
        1e3 * full,
        1e3 * missing,
        missing / full,
        rayon::current_num_threads()
    );
}
