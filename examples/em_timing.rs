//! Times EM iterations at (n, d, k) = (100 000, 16, 8) for every covariance
//! structure in f64 and f32: `cargo run --release --example em_timing`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use mixtures::faer::Mat;
use mixtures::prelude::*;
use mixtures_em::{Covariance, GaussianMixture};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn run<T: Scalar>(n: usize, d: usize, k: usize) {
    let mut rng = StdRng::seed_from_u64(0);
    let centers: Vec<Vec<f64>> = (0..k)
        .map(|_| (0..d).map(|_| rng.random::<f64>() * 10.0).collect())
        .collect();
    let x = Mat::from_fn(n, d, |i, j| {
        T::c(centers[i % k][j] + rng.random::<f64>() - 0.5)
    });
    let data = Dataset::from_mat(x.as_ref()).unwrap();
    for cov in [
        Covariance::Full,
        Covariance::Tied,
        Covariance::Diag,
        Covariance::Spherical,
    ] {
        let params = GaussianMixture::params::<T>(k)
            .covariance(cov)
            .max_iter(2)
            .tol(0.0);
        let model = params.fit(&data).unwrap().model;
        // (time of 21 iterations − time of 1) / 20: the fit's fixed costs cancel.
        let time = |iters: usize| {
            let p = params.clone().max_iter(iters);
            let t = Instant::now();
            std::hint::black_box(p.fit_from(&model, &data).unwrap());
            t.elapsed().as_secs_f64()
        };
        let reps = 10;
        let per = (time(21) - time(1)) / 20.0;
        let t = Instant::now();
        for _ in 0..reps {
            std::hint::black_box(model.log_prob(&data).unwrap());
        }
        let lp = t.elapsed().as_secs_f64() / reps as f64;
        println!(
            "{} n={n} d={d} k={k} {:9}: EM iteration {:7.2} ms, log_prob {:7.2} ms",
            T::NAME,
            cov.as_str(),
            per * 1e3,
            lp * 1e3
        );
    }
}

fn main() {
    let threads = rayon::current_num_threads();
    println!("rayon threads: {threads}");
    run::<f64>(100_000, 16, 8);
    run::<f32>(100_000, 16, 8);
}
