//! Inputs found by the fuzz targets in `fuzz/` (see `fuzz/README.md`), kept as
//! regular tests: each failed before its fix.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use faer::mat;
use mixtures_anomaly::Explain;
use mixtures_core::Dataset;
use mixtures_dist::{Gaussian, Mixture};

/// `fuzz/corpus/score/subnormal-variance`: a variance of 5e-324 is valid, but
/// its reciprocal overflows; a feature at the component's centre got the
/// contribution `½ · 0² · ∞ = NaN` instead of 0 (diagonal and full alike).
#[test]
fn subnormal_variances_give_zero_at_the_centre_and_never_nan() {
    let at_centre = Dataset::from_rows(&[[0.0, 1.0], [0.0, 3.4e38]]).unwrap();
    let diag = Mixture::new(
        vec![1.0],
        Gaussian::diag(mat![[0.0, 1.0]], mat![[5e-324, 1.0]]).unwrap(),
    )
    .unwrap();
    let full = Mixture::new(
        vec![1.0],
        Gaussian::full(mat![[0.0, 1.0]], vec![mat![[5e-324, 0.0], [0.0, 1.0]]]).unwrap(),
    )
    .unwrap();
    for ex in [
        diag.explain(&at_centre).unwrap(),
        full.explain(&at_centre).unwrap(),
    ] {
        let c = ex.contributions();
        assert_eq!((c[(0, 0)], c[(0, 1)]), (0.0, 0.0));
        assert_eq!(c[(1, 0)], 0.0);
        assert!(c[(1, 1)] > 1e70, "{:?}", c[(1, 1)]);
    }
}

/// `fuzz/corpus/score/full-overflowed-offset`: a point so far from the mean
/// that its offset overflows. The far feature's contribution is `∞`; the other,
/// uncorrelated one keeps its finite value instead of `0 · ∞ = NaN`.
#[test]
fn an_overflowed_offset_does_not_spill_into_other_features() {
    let model = Mixture::new(
        vec![1.0],
        Gaussian::full(mat![[-f64::MAX, 0.0]], vec![mat![[1.0, 0.0], [0.0, 4.0]]]).unwrap(),
    )
    .unwrap();
    let far = Dataset::from_rows(&[[f64::MAX, 2.0]]).unwrap();
    let ex = model.explain(&far).unwrap();
    let c = ex.contributions();
    assert_eq!(c[(0, 0)], f64::INFINITY);
    assert_eq!(c[(0, 1)], 0.5);
}

/// `fuzz/corpus/score/laplace-scale-near-max`: a Laplace scale of `f64::MAX`
/// read back through `Laplace::scale` was `1 / (1 / MAX) = ∞`, and the
/// explanation's `∞ · 0` was NaN.
#[test]
fn a_laplace_scale_near_the_top_of_the_range_explains_without_nan() {
    let model = Mixture::new(
        vec![1.0],
        mixtures_dist::Laplace::per_dimension(
            mat![[0.0, 1.0, -0.125, f64::MAX]],
            mat![[3.4e38, 1.375, 1.375, f64::MAX]],
        )
        .unwrap(),
    )
    .unwrap();
    let far = Dataset::from_rows(&[[1.375, 4.0, 7.125, -f64::MAX]]).unwrap();
    let ex = model.explain(&far).unwrap();
    assert_eq!(ex.contributions()[(0, 3)], f64::INFINITY);
}
