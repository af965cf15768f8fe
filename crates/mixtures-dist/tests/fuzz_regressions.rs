//! Inputs found by the fuzz targets in `fuzz/` (see `fuzz/README.md`), kept as
//! regular tests: each failed before its fix.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use faer::mat;
use mixtures_core::Dataset;
use mixtures_dist::{Gaussian, Laplace, Mixture};

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

/// `fuzz/corpus/fit/zero-weight-far-row`: a Laplace fit in f32 to one row of
/// positive weight among rows of weight zero, one of them at 3.4e38. The
/// fitted scale is tiny, so that row's log-density is −∞, and the weighted
/// mean log-density (the fit report's log-likelihood) was `0 × −∞ = NaN`. A
/// row of weight zero does not count.
#[test]
fn rows_of_weight_zero_do_not_count_in_the_weighted_score() {
    let model = Mixture::new(
        vec![1.0_f32],
        Laplace::spherical(mat![[0.0_f32, 2.0]], vec![1e-6]).unwrap(),
    )
    .unwrap();
    let data = Dataset::from_rows(&[[3.4e38_f32, 1e30], [0.0, 2.0]])
        .unwrap()
        .with_weights(vec![0.0, 15.0])
        .unwrap();
    assert_eq!(model.log_prob(&data).unwrap()[0], f32::NEG_INFINITY);
    let only = Dataset::from_rows(&[[0.0_f32, 2.0]]).unwrap();
    assert_eq!(model.score(&data).unwrap(), model.score(&only).unwrap());
    assert!(model.score(&data).unwrap().is_finite());
}

/// `fuzz/corpus/score/tied-mean-near-max`: a tied covariance whitens every
/// point once about the centre of the means; with a mean near `f64::MAX` the
/// whitened offsets overflow to ±∞ and their difference was `∞ − ∞ = NaN`, a
/// NaN log-density. Overflowing distances mean a point infinitely far away in
/// floating point: its log-density under that component is `−∞`, as for any
/// distance that overflows.
#[test]
fn overflowing_distances_give_minus_infinity_never_nan() {
    let model = Mixture::new(
        vec![0.0, 1.0],
        Gaussian::tied(mat![[-2.375], [f64::MAX]], mat![[0.015625]]).unwrap(),
    )
    .unwrap();
    let data = Dataset::from_rows(&[[0.0]]).unwrap();
    let lp = model.log_prob(&data).unwrap();
    assert_eq!(lp[0], f64::NEG_INFINITY);
    let r = model.responsibilities(&data).unwrap();
    assert_eq!((r[(0, 0)], r[(0, 1)]), (0.0, 1.0));
    assert_eq!(model.predict(&data).unwrap(), [0]);

    // The same with correlated features: whitening mixes the overflowed
    // coordinates.
    let model = Mixture::new(
        vec![0.0, 1.0],
        Gaussian::tied(
            mat![[2.625, f64::MAX], [9.75, 0.0]],
            mat![[231.890625, -0.65625], [-0.65625, 0.0625]],
        )
        .unwrap(),
    )
    .unwrap();
    let data = Dataset::from_rows(&[[0.0, 0.0]]).unwrap();
    assert!(!model.log_prob(&data).unwrap()[0].is_nan());
    let r = model.responsibilities(&data).unwrap();
    assert!((r[(0, 0)] + r[(0, 1)] - 1.0).abs() < 1e-15);
}

/// `fuzz/corpus/score/laplace-scale-near-max`: `Laplace::scale` returned
/// `1 / (1 / b)`, which is `∞` for `b = f64::MAX`.
#[test]
fn laplace_scale_returns_the_scale_given() {
    let l = Laplace::per_dimension(mat![[0.0, 1.0]], mat![[f64::MAX, 1.375]]).unwrap();
    assert_eq!((l.scale(0, 0), l.scale(0, 1)), (f64::MAX, 1.375));
    let l = Laplace::spherical(mat![[0.0, 1.0]], vec![f64::MAX]).unwrap();
    assert_eq!((l.scale(0, 0), l.scale(0, 1)), (f64::MAX, f64::MAX));
}
