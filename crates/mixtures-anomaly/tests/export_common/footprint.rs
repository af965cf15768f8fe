//! The model of the footprint measurement (docs/benchmarks.md, "Scoring on
//! devices"): a detector of 4 full-covariance Gaussian components in 16
//! dimensions, fixed by a seed. Shared by `tests/export_rust.rs` (which
//! checks the generated files in `crates/mixtures-score/footprint/`) and
//! `examples/score_timing.rs`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use faer::Mat;
use mixtures_anomaly::{AnyDetector, Detector, Threshold};
use mixtures_dist::{AnyMixture, Gaussian, Mixture};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Components of the footprint model.
pub const K: usize = 4;
/// Features of the footprint model.
pub const D: usize = 16;

/// The footprint detector: `K` full Gaussians in `D` dimensions, threshold 40.
pub fn footprint_detector() -> AnyDetector<f64> {
    let r = &mut StdRng::seed_from_u64(2316);
    let mut u = || r.random::<f64>() - 0.5;
    let means = Mat::from_fn(K, D, |c, _| 6.0 * c as f64 + u());
    let covs = (0..K)
        .map(|_| {
            let a = Mat::from_fn(D, D, |_, _| u());
            Mat::from_fn(D, D, |i, j| {
                (0..D).map(|l| a[(i, l)] * a[(j, l)]).sum::<f64>() + if i == j { 0.5 } else { 0.0 }
            })
        })
        .collect();
    let g = Gaussian::full(means, covs).unwrap();
    let model = AnyMixture::from(Mixture::new(vec![0.4, 0.3, 0.2, 0.1], g).unwrap());
    Detector::from_parts(model, Threshold::new(40.0, "fixed", []).unwrap())
}
