//! Criterion benchmarks of model selection: one variational iteration against
//! one EM iteration of the same size ((100 000, 16, 8), full covariance, f64),
//! and a grid of 10 values of k by scikit-learn's 4 covariance types on
//! (10 000, 8).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mixtures::Covariance;
use mixtures::ModelSpec;
use mixtures::faer::Mat;
use mixtures::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn data(n: usize, d: usize, k: usize, seed: u64) -> Dataset<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    let centers: Vec<Vec<f64>> = (0..k)
        .map(|_| (0..d).map(|_| rng.random::<f64>() * 6.0).collect())
        .collect();
    let x = Mat::from_fn(n, d, |i, j| {
        centers[i % k][j] + rng.random::<f64>() * 2.0 - 1.0
    });
    Dataset::from_mat(x.as_ref()).unwrap()
}

fn iteration(c: &mut Criterion) {
    let (n, d, k) = (100_000, 16, 8);
    let x = data(n, d, k, 1);
    let mut group = c.benchmark_group(format!("select_iteration/f64/n{n}_d{d}_k{k}_full"));
    group.throughput(Throughput::Elements(n as u64));
    group.sample_size(20);
    // Both start from a model a few iterations into a fit, as in a real run.
    let em = GaussianMixture::params::<f64>(k)
        .covariance(Covariance::Full)
        .max_iter(3)
        .tol(0.0);
    let model = em.fit(&x).unwrap().model;
    group.bench_function("em", |b| b.iter(|| em.step(&model, &x).unwrap()));
    let vb = VariationalGaussianMixture::params::<f64>(k)
        .max_iter(3)
        .tol(0.0);
    let resp = model.responsibilities(&x).unwrap();
    let mut state = vb.init_from_responsibilities(&x, resp.as_ref()).unwrap();
    for _ in 0..3 {
        state = vb.step(&state, &x).unwrap();
    }
    group.bench_function("variational", |b| b.iter(|| vb.step(&state, &x).unwrap()));
    group.finish();
}

fn grid(c: &mut Criterion) {
    let (n, d) = (10_000, 8);
    let x = data(n, d, 4, 2);
    let mut group = c.benchmark_group(format!("select_grid/f64/n{n}_d{d}"));
    group.sample_size(10);
    let g = Grid::<f64>::new(1..=10)
        .structures(ModelSpec::SKLEARN)
        .seed(1);
    group.bench_function("k1-10_x_4_covariances", |b| b.iter(|| g.fit(&x).unwrap()));
    group.finish();
}

criterion_group!(select, iteration, grid);
criterion_main!(select);
