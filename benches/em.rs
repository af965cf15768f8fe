//! Criterion benchmarks of one EM iteration (E-step and M-step, `GaussianParams::step`)
//! at n = 100 000, d = 16, k = 8 for every covariance structure, f32 and f64, and
//! of the scaling in n (10 k, 100 k, 1 M) for full covariance in f64.
//!
//! `em_iteration_student_t/...` times one Student-t ECM iteration
//! (`StudentTParams::step`) next to the Gaussian one of the same structure, at
//! the same size, in one group, so that the two can be read side by side:
//! `cargo bench --bench em -- student`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mixtures::StudentTMixture;
use mixtures::faer::Mat;
use mixtures::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn data<T: Scalar>(n: usize, d: usize, k: usize, seed: u64) -> Dataset<T> {
    let mut rng = StdRng::seed_from_u64(seed);
    let centers: Vec<Vec<f64>> = (0..k)
        .map(|_| (0..d).map(|_| rng.random::<f64>() * 6.0).collect())
        .collect();
    let x = Mat::from_fn(n, d, |i, j| {
        T::c(centers[i % k][j] + rng.random::<f64>() * 2.0 - 1.0)
    });
    Dataset::from_mat(x.as_ref()).unwrap()
}

fn iteration<T: Scalar>(c: &mut Criterion) {
    let (n, d, k) = (100_000, 16, 8);
    let x = data::<T>(n, d, k, 1);
    let mut group = c.benchmark_group(format!("em_iteration/{}/n{n}_d{d}_k{k}", T::NAME));
    group.throughput(Throughput::Elements(n as u64));
    group.sample_size(10);
    for cov in [
        Covariance::Full,
        Covariance::Tied,
        Covariance::Diag,
        Covariance::Spherical,
        Covariance::TiedDiag,
        Covariance::TiedSpherical,
    ] {
        let params = GaussianMixture::params::<T>(k)
            .covariance(cov)
            .max_iter(3)
            .tol(0.0);
        let model = params.fit(&x).unwrap().model;
        group.bench_function(cov.as_str(), |b| {
            b.iter(|| params.step(&model, &x).unwrap())
        });
    }
    group.finish();
}

/// A Student-t iteration and a Gaussian one per structure, alternating in the
/// group, from models fitted for three iterations on the same data.
fn student_t<T: Scalar>(c: &mut Criterion) {
    let (n, d, k) = (100_000, 16, 8);
    let x = data::<T>(n, d, k, 1);
    let mut group = c.benchmark_group(format!("em_iteration_student_t/{}/n{n}_d{d}_k{k}", T::NAME));
    group.throughput(Throughput::Elements(n as u64));
    group.sample_size(10);
    for cov in [
        Covariance::Full,
        Covariance::Diag,
        Covariance::Spherical,
        Covariance::Tied,
    ] {
        let gauss = GaussianMixture::params::<T>(k)
            .covariance(cov)
            .max_iter(3)
            .tol(0.0);
        let g_model = gauss.fit(&x).unwrap().model;
        group.bench_function(format!("gaussian/{}", cov.as_str()), |b| {
            b.iter(|| gauss.step(&g_model, &x).unwrap())
        });
        let t = StudentTMixture::params::<T>(k)
            .covariance(cov)
            .max_iter(3)
            .tol(0.0);
        let t_model = t.fit(&x).unwrap().model;
        group.bench_function(format!("student_t/{}", cov.as_str()), |b| {
            b.iter(|| t.step(&t_model, &x).unwrap())
        });
    }
    group.finish();
}

fn scaling(c: &mut Criterion) {
    let (d, k) = (16, 8);
    let mut group = c.benchmark_group("em_iteration_scaling/f64/full");
    group.sample_size(10);
    for n in [10_000, 100_000, 1_000_000] {
        let x = data::<f64>(n, d, k, 2);
        let params = GaussianMixture::params::<f64>(k).max_iter(2).tol(0.0);
        let model = params.fit(&x).unwrap().model;
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| params.step(&model, &x).unwrap())
        });
    }
    group.finish();
}

fn benches(c: &mut Criterion) {
    iteration::<f64>(c);
    iteration::<f32>(c);
    student_t::<f64>(c);
    student_t::<f32>(c);
    scaling(c);
}

criterion_group!(em, benches);
criterion_main!(em);
