//! Times linfa-clustering's `GaussianMixtureModel` (full covariance) for
//! `benches/compare/compare.py --linfa`: `(fit with ITERS iterations − fit with
//! 1) / (ITERS − 1)`, so initialization cancels, median of REPEATS.
//!
//! `linfa-gmm-timing DATA.bin N D K ITERS PRECISION REPEATS`; DATA.bin holds
//! N x D little-endian f64 values, row-major. Prints one JSON object.
//!
//! linfa stops with a "did not converge" error when `max_n_iterations` is
//! reached, and it refuses `tolerance = 0`; the smallest positive normal makes it run
//! every iteration, and the error at the end is expected and ignored.

use std::time::Instant;

use linfa::prelude::*;
use linfa_clustering::{GaussianMixtureModel, GmmInitMethod};
use ndarray::Array2;
use ndarray_rand::rand::SeedableRng;
use rand_xoshiro::Xoshiro256Plus;

fn run<F: linfa::Float>(x: Array2<F>, k: usize, iters: u64, repeats: usize) -> (f64, f64) {
    let data = DatasetBase::from(x);
    let time = |n: u64| {
        let mut t: Vec<f64> = (0..repeats)
            .map(|_| {
                let rng = Xoshiro256Plus::seed_from_u64(0);
                let s = Instant::now();
                let _ = GaussianMixtureModel::params_with_rng(k, rng)
                    .n_runs(1)
                    .tolerance(F::min_positive_value())
                    .max_n_iterations(n)
                    .init_method(GmmInitMethod::Random)
                    .fit(&data);
                s.elapsed().as_secs_f64()
            })
            .collect();
        t.sort_by(f64::total_cmp);
        t[t.len() / 2]
    };
    let full = time(iters);
    let one = time(1);
    ((full - one) / (iters - 1) as f64, full)
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    assert_eq!(a.len(), 8, "usage: DATA.bin N D K ITERS PRECISION REPEATS");
    let bytes = std::fs::read(&a[1]).expect("data file");
    let (n, d, k): (usize, usize, usize) = (
        a[2].parse().unwrap(),
        a[3].parse().unwrap(),
        a[4].parse().unwrap(),
    );
    let iters: u64 = a[5].parse().unwrap();
    let repeats: usize = a[7].parse().unwrap();
    let v: Vec<f64> = bytes
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
        .collect();
    let x = Array2::from_shape_vec((n, d), v).expect("shape");
    let (per_iter, fit) = match a[6].as_str() {
        "f32" => run(x.mapv(|v| v as f32), k, iters, repeats),
        _ => run(x, k, iters, repeats),
    };
    println!("{{\"s_per_iter\": {per_iter}, \"fit_s\": {fit}}}");
}
