//! Inputs found by the fuzz targets in `fuzz/` (see `fuzz/README.md`), kept as
//! regular tests: each failed before its fix.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use faer::mat;
use mixtures_core::Dataset;
use mixtures_dist::{Gaussian, Mixture};

/// `fuzz/corpus/score/weight-above-one`: weights that sum to one within
/// rounding were kept as given, so one of them could be `1 + ε`; a point far
/// from every component takes the weights as its responsibilities, which were
/// then above one.
#[test]
fn a_weight_one_ulp_above_one_is_clamped_to_one() {
    let above = 1.0 + f64::EPSILON;
    let model = Mixture::new(
        vec![0.0, above],
        Gaussian::diag(
            mat![[12.75, 11.375, 9.3e-27], [-14.125, 14.25, -2.875]],
            mat![[15.625, 3.4e9, 12.75], [13.125, 5.625, 11.0]],
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(model.weights(), [0.0, 1.0]);
    // Far enough that every component's log-density is −∞.
    let far = Dataset::from_rows(&[[1e300, -8e25, 14.625]]).unwrap();
    let r = model.responsibilities(&far).unwrap();
    assert_eq!((r[(0, 0)], r[(0, 1)]), (0.0, 1.0));
    // Rebuilding from the stored weights changes nothing (idempotent).
    let again = Mixture::new(model.weights().to_vec(), model.components().clone()).unwrap();
    assert_eq!(again.weights(), model.weights());
}
