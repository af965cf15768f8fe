//! Times an EM iteration in memory against the same iteration read in
//! batches (`fit_reduced_from` over `Chunked`, the out-of-core driver without
//! the file reading): `cargo run --release --example out_of_core_timing
//! [N D K BATCH_ROWS]` (default 2 000 000 16 8 65 536, full covariance,
//! f64). The batched time per iteration is the difference between fits of
//! 11 and 1 iterations over 10, so the passes before the first iteration
//! (count, summary) and the final log-likelihood are left out.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use mixtures::faer::Mat;
use mixtures::prelude::*;
use mixtures_core::source::Chunked;
use mixtures_em::{Batched, Covariance, GaussianMixture};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn main() {
    let a: Vec<usize> = std::env::args()
        .skip(1)
        .map(|v| v.parse().unwrap())
        .collect();
    let (n, d, k, batch) = match a[..] {
        [n, d, k, b] => (n, d, k, b),
        _ => (2_000_000, 16, 8, 65_536),
    };
    let mut rng = StdRng::seed_from_u64(0);
    let centers: Vec<Vec<f64>> = (0..k)
        .map(|_| (0..d).map(|_| rng.random::<f64>() * 3.0).collect())
        .collect();
    let x = Mat::from_fn(n, d, |i, j| centers[i % k][j] + rng.random::<f64>() - 0.5);
    let data = Dataset::from_mat(x.as_ref()).unwrap();
    drop(x);
    for cov in [Covariance::Full, Covariance::Diag] {
        let start = GaussianMixture::params(k)
            .covariance(cov)
            .max_iter(3)
            .fit(&data.sample_rows(50_000, 1).unwrap().unwrap_or(data.clone()))
            .unwrap()
            .model;
        let params = |it| {
            GaussianMixture::params(k)
                .covariance(cov)
                .tol(0.0)
                .max_iter(it)
        };
        let t = Instant::now();
        for _ in 0..5 {
            params(1).step(&start, &data).unwrap();
        }
        let memory = t.elapsed().as_secs_f64() / 5.0;
        let source = Chunked::new(&data, batch);
        let time = |it| {
            let t = Instant::now();
            params(it)
                .fit_reduced_from(&start, &Batched::new(&source))
                .unwrap();
            t.elapsed().as_secs_f64()
        };
        let (one, eleven) = (time(1), time(11));
        let batched = (eleven - one) / 10.0;
        println!(
            "{cov:?} n={n} d={d} k={k} batch={batch} threads={}: in memory {:.1} ms/iter, batched {:.1} ms/iter ({:.2}x); passes before the first iteration and the last {:.1} ms",
            rayon::current_num_threads(),
            memory * 1e3,
            batched * 1e3,
            batched / memory,
            (one - batched) * 1e3
        );
    }
}
