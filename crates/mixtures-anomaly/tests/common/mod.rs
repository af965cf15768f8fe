//! Helpers shared by the integration tests: seeded generators and data.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use faer::Mat;
use mixtures_core::Dataset;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A seeded generator.
pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// A standard normal draw (Box–Muller).
pub fn normal(r: &mut StdRng) -> f64 {
    let u1: f64 = 1.0 - r.random::<f64>();
    let u2: f64 = r.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * core::f64::consts::PI * u2).cos()
}

/// A data set from rows.
pub fn dataset(rows: &[Vec<f64>]) -> Dataset<f64> {
    Dataset::from_rows(rows).unwrap()
}

/// The same rows in f32.
pub fn dataset32(rows: &[Vec<f64>]) -> Dataset<f32> {
    let r: Vec<Vec<f32>> = rows
        .iter()
        .map(|r| r.iter().map(|&v| v as f32).collect())
        .collect();
    Dataset::from_rows(&r).unwrap()
}

/// Correlated normal data in `d` dimensions: two clusters whose features all
/// follow one latent factor (x = centre + load · f + 0.3 ε), plus a fraction of
/// anomalies that break the correlation (each feature drawn on its own, at the
/// same spread as the normal data). Returns the rows and the 0/1 labels, with
/// the anomalies scattered among the normal rows.
pub fn contaminated(seed: u64, n: usize, d: usize, fraction: f64) -> (Vec<Vec<f64>>, Vec<u8>) {
    let mut r = rng(seed);
    let mut rows = Vec::with_capacity(n);
    let mut labels = Vec::with_capacity(n);
    let n_anom = (fraction * n as f64).round() as usize;
    for i in 0..n {
        // Every (n / n_anom)-th row is an anomaly.
        let anomaly = n_anom > 0
            && i % (n / n_anom) == 0
            && labels.iter().filter(|&&l| l == 1).count() < n_anom;
        let centre = if r.random::<f64>() < 0.5 { 0.0 } else { 6.0 };
        let row: Vec<f64> = if anomaly {
            (0..d).map(|_| centre + 2.5 * normal(&mut r)).collect()
        } else {
            let f = normal(&mut r);
            (0..d).map(|_| centre + f + 0.3 * normal(&mut r)).collect()
        };
        rows.push(row);
        labels.push(u8::from(anomaly));
    }
    (rows, labels)
}

/// An `n x d` matrix from rows.
pub fn mat(rows: &[Vec<f64>]) -> Mat<f64> {
    Mat::from_fn(rows.len(), rows[0].len(), |i, j| rows[i][j])
}
