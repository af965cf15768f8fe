//! The whole path on built-in data: fit a Gaussian mixture to what is normal,
//! score new points by how unlikely they are, flag the unlikely, and check how
//! well that worked.
//!
//! `cargo run --release --example quickstart`
//!
//! The data are deterministic: three elliptical clusters (the normal behaviour)
//! and a test set in which 2 % of the points are anomalies drawn from a broad
//! background. The threshold is the 99.5th percentile of the training scores (a
//! false-alarm rate of 0.5 % on normal data), chosen without the test labels.

use std::error::Error;
use std::time::Instant;

use mixtures::faer::{Mat, mat};
use mixtures::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The mixture that generates normal data.
fn truth() -> Result<GaussianMixtureModel<f64>, ModelError> {
    let comps = Gaussian::full(
        mat![[0.0, 0.0, 0.0], [6.0, 2.0, -1.0], [-3.0, 5.0, 2.0]],
        vec![
            mat![[1.0, 0.6, 0.0], [0.6, 1.0, 0.3], [0.0, 0.3, 0.5]],
            mat![[0.5, 0.0, 0.1], [0.0, 2.0, -0.4], [0.1, -0.4, 1.0]],
            mat![[1.5, -0.7, 0.0], [-0.7, 1.0, 0.0], [0.0, 0.0, 0.3]],
        ],
    )?;
    Mixture::new(vec![0.5, 0.3, 0.2], comps)
}

/// `n` points: normal ones from `model`, and a fraction `contamination` of
/// anomalies uniform on a box around the clusters. Returns the points and labels
/// (1 = anomaly).
fn make_set(
    model: &GaussianMixtureModel<f64>,
    n: usize,
    contamination: f64,
    rng: &mut StdRng,
) -> (Mat<f64>, Vec<u8>) {
    let n_bad = (n as f64 * contamination).round() as usize;
    let (normal, _) = model.sample(n - n_bad, rng);
    let d = normal.ncols();
    let mut x = Mat::zeros(n, d);
    let mut labels = vec![0u8; n];
    // Interleave anomalies at random positions so that order carries no signal.
    let mut bad_rows: Vec<usize> = (0..n).collect();
    for i in 0..n_bad {
        let j = rng.random_range(i..n);
        bad_rows.swap(i, j);
    }
    for &r in &bad_rows[..n_bad] {
        labels[r] = 1;
    }
    let mut next = 0;
    for (i, &label) in labels.iter().enumerate() {
        if label == 1 {
            for j in 0..d {
                x[(i, j)] = rng.random_range(-12.0..16.0);
            }
        } else {
            for j in 0..d {
                x[(i, j)] = normal[(next, j)];
            }
            next += 1;
        }
    }
    (x, labels)
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut rng = StdRng::seed_from_u64(2026);
    let truth = truth()?;
    let (train, _) = truth.sample(20_000, &mut rng);
    let (test, labels) = make_set(&truth, 10_000, 0.02, &mut rng);
    let train = Dataset::from_mat(train.as_ref())?;
    let test = Dataset::from_mat(test.as_ref())?;
    println!(
        "data: {} training rows (normal), {} test rows ({} anomalies), {} features",
        train.n_samples(),
        test.n_samples(),
        labels.iter().filter(|&&l| l == 1).count(),
        train.n_features()
    );

    // Fit: 3 components, full covariance, 4 restarts from k-means.
    let t = Instant::now();
    let fitted = GaussianMixture::params(3)
        .covariance(Covariance::Full)
        .n_init(4)
        .seed(7)
        .fit(&train)?;
    let r = &fitted.report;
    println!(
        "fit: {} iterations, converged = {}, mean log-likelihood {:.4} (true model: {:.4}), {:.1} ms",
        r.n_iter,
        r.converged,
        r.log_likelihood,
        truth.score(&train)?,
        t.elapsed().as_secs_f64() * 1e3
    );

    // Threshold: anomaly score = -log p(x); flag what scores above 99.5 % of the
    // training points.
    let train_scores: Vec<f64> = fitted.model.log_prob(&train)?.iter().map(|l| -l).collect();
    let mut sorted = train_scores.clone();
    sorted.sort_by(f64::total_cmp);
    let threshold = sorted[((0.995 * sorted.len() as f64) as usize).min(sorted.len() - 1)];
    println!("threshold: anomaly score > {threshold:.3} (99.5th percentile of training scores)");

    // Score the test set and judge the flags against the labels.
    let scores: Vec<f64> = fitted.model.log_prob(&test)?.iter().map(|l| -l).collect();
    let (mut tp, mut fp, mut fn_, mut tn) = (0usize, 0usize, 0usize, 0usize);
    for (s, &l) in scores.iter().zip(&labels) {
        match (*s > threshold, l == 1) {
            (true, true) => tp += 1,
            (true, false) => fp += 1,
            (false, true) => fn_ += 1,
            (false, false) => tn += 1,
        }
    }
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    let recall = tp as f64 / (tp + fn_).max(1) as f64;
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    println!("confusion: tp {tp}  fp {fp}  fn {fn_}  tn {tn}");
    println!("precision {precision:.3}  recall {recall:.3}  F1 {f1:.3}");

    // Models travel as JSON in scikit-learn's parameter shapes.
    let json = fitted.model.to_json();
    let back = GaussianMixtureModel::<f64>::from_json(&json)?;
    assert_eq!(back.log_prob(&test)?, fitted.model.log_prob(&test)?);
    println!("model file: {} bytes of JSON, round trip exact", json.len());
    Ok(())
}
