//! Criterion benchmark of `Mixture::log_prob` (scikit-learn's `score_samples`) for
//! n = 100 000, d = 16, k = 8: every Gaussian covariance type and Laplace, in f32
//! and f64, on all threads of the default rayon pool.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mixtures::faer::Mat;
use mixtures::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const N: usize = 100_000;
const D: usize = 16;
const K: usize = 8;

/// A random well-conditioned covariance `A Aᵀ / D + I`.
fn spd<T: Scalar>(rng: &mut StdRng) -> Mat<T> {
    let a = Mat::<f64>::from_fn(D, D, |_, _| rng.random::<f64>() - 0.5);
    Mat::from_fn(D, D, |i, j| {
        let s: f64 = (0..D).map(|l| a[(i, l)] * a[(j, l)]).sum::<f64>() / D as f64;
        T::c(s + if i == j { 1.0 } else { 0.0 })
    })
}

fn components<T: Scalar>(ct: Covariance, rng: &mut StdRng) -> Gaussian<T> {
    let means = Mat::from_fn(K, D, |_, _| T::c(rng.random::<f64>() * 10.0));
    let cov = match ct {
        Covariance::Full => Covariances::Full((0..K).map(|_| spd(rng)).collect()),
        Covariance::Tied => Covariances::Tied(spd(rng)),
        Covariance::Diag => {
            Covariances::Diag(Mat::from_fn(K, D, |_, _| T::c(0.5 + rng.random::<f64>())))
        }
        _ => Covariances::Spherical((0..K).map(|_| T::c(0.5 + rng.random::<f64>())).collect()),
    };
    Gaussian::new(means, cov).unwrap()
}

fn data<T: Scalar>(rng: &mut StdRng) -> Dataset<T> {
    let x = Mat::from_fn(N, D, |_, _| T::c(rng.random::<f64>() * 10.0));
    Dataset::from_mat(x.as_ref()).unwrap()
}

fn bench_type<T: Scalar>(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(42);
    let x = data::<T>(&mut rng);
    let w = vec![T::c(1.0 / K as f64); K];
    let mut group = c.benchmark_group(format!("log_prob/{}/n{N}_d{D}_k{K}", T::NAME));
    group.throughput(Throughput::Elements(N as u64));
    group.sample_size(20);
    for ct in Covariance::SKLEARN {
        let model = Mixture::new(w.clone(), components::<T>(ct, &mut rng)).unwrap();
        group.bench_function(ct.as_str(), |b| b.iter(|| model.log_prob(&x).unwrap()));
    }
    let laplace = Laplace::per_dimension(
        Mat::from_fn(K, D, |_, _| T::c(rng.random::<f64>() * 10.0)),
        Mat::from_fn(K, D, |_, _| T::c(0.5 + rng.random::<f64>())),
    )
    .unwrap();
    let model = Mixture::new(w, laplace).unwrap();
    group.bench_function("laplace", |b| b.iter(|| model.log_prob(&x).unwrap()));
    group.finish();
}

fn benches(c: &mut Criterion) {
    bench_type::<f64>(c);
    bench_type::<f32>(c);
}

criterion_group!(log_prob, benches);
criterion_main!(log_prob);
