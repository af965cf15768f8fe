//! Synthetic mixtures with a known number of components and covariance
//! structure, for the recovery tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use faer::Mat;
use mixtures_core::Dataset;
use mixtures_dist::{Covariance, Covariances, Gaussian, Mixture};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};

/// A well-separated Gaussian mixture: `k` components in `d` dimensions with the
/// given covariance structure, every pair of means at least `separation`
/// (largest) standard deviations apart, weights between 0.5/k and 1.5/k.
///
/// The structures differ clearly, so that a criterion has something to find:
/// spherical variances differ between components by up to 4x; diagonal ones
/// differ between features by up to 9x; full and tied covariances have strong
/// correlations (random rotations of anisotropic spectra).
pub fn truth(
    k: usize,
    d: usize,
    structure: Covariance,
    separation: f64,
    rng: &mut StdRng,
) -> Mixture<f64, Gaussian<f64>> {
    let normal = |rng: &mut StdRng| -> f64 { StandardNormal.sample(rng) };
    // Random anisotropic covariance: Q diag(s) Qᵀ with Q from a QR-like
    // orthogonalization of a Gaussian matrix and spectrum in [0.2, 2.5].
    let rotated = |rng: &mut StdRng| -> Mat<f64> {
        let mut q: Vec<Vec<f64>> = (0..d)
            .map(|_| (0..d).map(|_| normal(rng)).collect())
            .collect();
        // Gram–Schmidt on the rows.
        for i in 0..d {
            let (done, rest) = q.split_at_mut(i);
            let row = &mut rest[0];
            for prev in done.iter() {
                let dot: f64 = row.iter().zip(prev).map(|(a, b)| a * b).sum();
                for (a, b) in row.iter_mut().zip(prev) {
                    *a -= dot * b;
                }
            }
            let norm = row.iter().map(|v| v * v).sum::<f64>().sqrt();
            for a in row.iter_mut() {
                *a /= norm;
            }
        }
        let s: Vec<f64> = (0..d)
            .map(|i| {
                if d == 1 {
                    1.0
                } else {
                    0.2 + 2.3 * i as f64 / (d - 1) as f64
                }
            })
            .collect();
        Mat::from_fn(d, d, |a, b| (0..d).map(|t| q[t][a] * s[t] * q[t][b]).sum())
    };
    let covariances = match structure {
        Covariance::Spherical => Covariances::Spherical(
            (0..k)
                .map(|c| 0.5 * 4f64.powf(c as f64 / k.max(2) as f64))
                .collect(),
        ),
        Covariance::Diag => Covariances::Diag(Mat::from_fn(k, d, |_, _| {
            0.3 * 9f64.powf(rng.random::<f64>())
        })),
        Covariance::Tied => Covariances::Tied(rotated(rng)),
        _ => Covariances::Full((0..k).map(|_| rotated(rng)).collect()),
    };
    // The largest variance above is 2.7 (diagonal); distances are measured in
    // that standard deviation.
    let max_sd = 2.7f64.sqrt();
    let min_dist = separation * max_sd;
    let side = min_dist * (k as f64).powf(1.0 / d as f64) * 2.0;
    let mut means: Vec<Vec<f64>> = Vec::new();
    while means.len() < k {
        let m: Vec<f64> = (0..d).map(|_| (rng.random::<f64>() - 0.5) * side).collect();
        let far = means.iter().all(|o| {
            o.iter()
                .zip(&m)
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f64>()
                .sqrt()
                >= min_dist
        });
        if far {
            means.push(m);
        }
    }
    let raw: Vec<f64> = (0..k).map(|_| 0.5 + rng.random::<f64>()).collect();
    let total: f64 = raw.iter().sum();
    let weights = raw.iter().map(|w| w / total).collect();
    let means = Mat::from_fn(k, d, |c, j| means[c][j]);
    Mixture::new(weights, Gaussian::new(means, covariances).unwrap()).unwrap()
}

/// `n` draws from `model` as a data set.
pub fn sample(model: &Mixture<f64, Gaussian<f64>>, n: usize, rng: &mut StdRng) -> Dataset<f64> {
    let (x, _) = model.sample(n, rng);
    Dataset::from_mat(x.as_ref()).unwrap()
}

/// One trial's setting, drawn from the seed: `k` in 2..=6, `d` in 2..=10, the
/// structure cycling through scikit-learn's four types.
pub fn setting(seed: u64) -> (usize, usize, Covariance, StdRng) {
    let mut rng = StdRng::seed_from_u64(seed);
    let k = rng.random_range(2..=6);
    let d = rng.random_range(2..=10);
    let structure = Covariance::SKLEARN[(seed % 4) as usize];
    (k, d, structure, rng)
}
