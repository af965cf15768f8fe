//! Sample weights: an integer weight is the same as repeating the row, a zero
//! weight the same as removing it (from the same starting model), for every
//! covariance constraint and both Laplace structures.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::*;
use mixtures_core::{Dataset, Scalar};
use mixtures_dist::{GaussianMixtureModel, Laplace, LaplaceMixtureModel, Mixture};
use mixtures_em::{Covariance, GaussianMixture, LaplaceMixture};

fn two_clusters() -> Vec<Vec<f64>> {
    blobs(
        31,
        &[vec![0.0, 0.0, 1.0], vec![4.0, 3.0, -2.0]],
        &[1.0, 0.7],
        &[25, 20],
    )
    .0
}

/// Integer weights 1..=3 (and zeros where `zeros`).
fn int_weights(n: usize, zeros: bool) -> Vec<f64> {
    (0..n)
        .map(|i| {
            if zeros && i % 5 == 2 {
                0.0
            } else {
                (1 + (i * 7) % 3) as f64
            }
        })
        .collect()
}

/// Each row repeated by its (integer) weight.
fn repeat_rows(rows: &[Vec<f64>], w: &[f64]) -> Vec<Vec<f64>> {
    rows.iter()
        .zip(w)
        .flat_map(|(r, &w)| std::iter::repeat_n(r.clone(), w as usize))
        .collect()
}

/// A deliberately rough starting model: means off the truth, unit spherical
/// covariances, unequal weights.
fn start_gaussian<T: Scalar>() -> GaussianMixtureModel<T> {
    gaussian_model(
        &[0.3, 0.7],
        &[vec![1.0, -1.0, 0.0], vec![3.0, 2.0, -1.0]],
        spherical::<T>(&[1.0, 1.0]),
    )
}

fn start_laplace<T: Scalar>() -> LaplaceMixtureModel<T> {
    let l = Laplace::spherical(
        mat::<T>(&[vec![1.0, -1.0, 0.0], vec![3.0, 2.0, -1.0]]),
        vec![T::one(), T::one()],
    )
    .unwrap();
    Mixture::new(vec![T::c(0.3), T::c(0.7)], l).unwrap()
}

/// Relative tolerance for two fits that differ only in the order of their sums.
fn tol<T: Scalar>() -> f64 {
    1e5 * eps::<T>()
}

fn assert_close(a: &[f64], b: &[f64], rel: f64, what: &str) {
    let scale = b.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    let diff = max_diff_slice(a, b);
    assert!(
        diff <= rel * scale,
        "{what}: differ by {diff:e} (allowed {:e})\n{a:?}\n{b:?}",
        rel * scale
    );
}

fn same_gaussian<T: Scalar>(
    a: &GaussianMixtureModel<T>,
    b: &GaussianMixtureModel<T>,
    rel: f64,
    what: &str,
) {
    assert_eq!(a.n_components(), b.n_components(), "{what}");
    assert_close(
        &weights(a.weights()),
        &weights(b.weights()),
        rel,
        &format!("{what}: weights"),
    );
    assert_close(
        &means(a).concat(),
        &means(b).concat(),
        rel,
        &format!("{what}: means"),
    );
    let (ca, cb) = (a.components().covariances(), b.components().covariances());
    assert_eq!(
        core::mem::discriminant(ca),
        core::mem::discriminant(cb),
        "{what}"
    );
    assert_close(
        &flat_cov(ca),
        &flat_cov(cb),
        rel,
        &format!("{what}: covariances"),
    );
}

fn same_laplace<T: Scalar>(
    a: &LaplaceMixtureModel<T>,
    b: &LaplaceMixtureModel<T>,
    rel: f64,
    what: &str,
) {
    assert_eq!(a.n_components(), b.n_components(), "{what}");
    assert_close(
        &weights(a.weights()),
        &weights(b.weights()),
        rel,
        &format!("{what}: weights"),
    );
    assert_close(
        &rows_of(a.components().locations()).concat(),
        &rows_of(b.components().locations()).concat(),
        rel,
        &format!("{what}: locations"),
    );
    assert_close(
        &flat_scales(a.components().scales()),
        &flat_scales(b.components().scales()),
        rel,
        &format!("{what}: scales"),
    );
}

/// Fits `a` and `b` from the same Gaussian start with every constraint and
/// checks that they agree.
fn agree_gaussian<T: Scalar>(a: &Dataset<T>, b: &Dataset<T>, rel: f64, what: &str) {
    let start = start_gaussian::<T>();
    for c in Covariance::ALL {
        let what = format!("{} {c} {what}", T::NAME);
        let p = GaussianMixture::params::<T>(2)
            .covariance(c)
            .reg_covar(1e-4)
            .tol(0.0)
            .max_iter(25);
        let fa = p.fit_from(&start, a).unwrap();
        let fb = p.fit_from(&start, b).unwrap();
        same_gaussian(&fa.model, &fb.model, rel, &what);
        assert_eq!(fa.report.n_iter, fb.report.n_iter, "{what}");
        assert_close(
            &fa.report.lower_bound_trace,
            &fb.report.lower_bound_trace,
            rel,
            &format!("{what}: trace"),
        );
        assert!(
            (fa.report.log_likelihood - fb.report.log_likelihood).abs()
                <= rel * fb.report.log_likelihood.abs().max(1.0),
            "{what}: log-likelihood"
        );
        assert!(
            (fa.report.total_weight - fb.report.total_weight).abs() < 1e-9,
            "{what}: total weight {} vs {}",
            fa.report.total_weight,
            fb.report.total_weight
        );
    }
}

fn agree_laplace<T: Scalar>(a: &Dataset<T>, b: &Dataset<T>, rel: f64, what: &str) {
    let start = start_laplace::<T>();
    for s in [Covariance::Diag, Covariance::Spherical] {
        let what = format!("{} laplace {s:?} {what}", T::NAME);
        let p = LaplaceMixture::params::<T>(2)
            .structure(s)
            .tol(0.0)
            .max_iter(25);
        let fa = p.fit_from(&start, a).unwrap();
        let fb = p.fit_from(&start, b).unwrap();
        same_laplace(&fa.model, &fb.model, rel, &what);
        assert_close(
            &fa.report.lower_bound_trace,
            &fb.report.lower_bound_trace,
            rel,
            &format!("{what}: trace"),
        );
    }
}

fn integer_weights_repeat_rows<T: Scalar>() {
    let rows = two_clusters();
    let w = int_weights(rows.len(), false);
    let a = weighted::<T>(&rows, &w);
    let b = dataset::<T>(&repeat_rows(&rows, &w));
    agree_gaussian(&a, &b, tol::<T>(), "integer weights vs repeated rows");
    agree_laplace(&a, &b, tol::<T>(), "integer weights vs repeated rows");
}

#[test]
fn integer_weights_equal_repeated_rows_f64() {
    integer_weights_repeat_rows::<f64>();
}

#[test]
fn integer_weights_equal_repeated_rows_f32() {
    integer_weights_repeat_rows::<f32>();
}

fn zero_weights_remove_rows<T: Scalar>() {
    let rows = two_clusters();
    let w = int_weights(rows.len(), true);
    let a = weighted::<T>(&rows, &w);
    let kept: Vec<usize> = (0..rows.len()).filter(|&i| w[i] > 0.0).collect();
    let b = weighted::<T>(
        &kept.iter().map(|&i| rows[i].clone()).collect::<Vec<_>>(),
        &kept.iter().map(|&i| w[i]).collect::<Vec<_>>(),
    );
    // Zero-weight rows add exactly nothing: only rounding of the order of the
    // sums may differ.
    agree_gaussian(&a, &b, 100.0 * eps::<T>(), "zero weights vs removed rows");
    agree_laplace(&a, &b, 100.0 * eps::<T>(), "zero weights vs removed rows");
}

#[test]
fn zero_weights_equal_removed_rows_f64() {
    zero_weights_remove_rows::<f64>();
}

#[test]
fn zero_weights_equal_removed_rows_f32() {
    zero_weights_remove_rows::<f32>();
}

/// A far outlier of weight zero influences nothing, initialization included:
/// the fit from scratch recovers the two clusters and no mean goes near it.
fn zero_weight_outlier_is_ignored<T: Scalar>() {
    let (mut rows, _) = blobs(
        32,
        &[vec![0.0, 0.0], vec![10.0, 0.0]],
        &[1.0, 1.0],
        &[40, 40],
    );
    rows.push(vec![1e4, -1e4]);
    let mut w = vec![1.0; rows.len()];
    w[80] = 0.0;
    let data = weighted::<T>(&rows, &w);
    let clean = dataset::<T>(&rows[..80]);
    for c in [Covariance::Full, Covariance::Spherical] {
        let p = GaussianMixture::params::<T>(2).covariance(c).seed(5);
        let fitted = p.fit(&data).unwrap();
        let reference = p.fit(&clean).unwrap();
        let (dist, _) = match_rows(&means(&fitted.model), &means(&reference.model));
        assert!(
            dist < 1e-3,
            "{} {c}: means {:?} vs {:?}",
            T::NAME,
            means(&fitted.model),
            means(&reference.model)
        );
        assert!(
            (fitted.report.log_likelihood - reference.report.log_likelihood).abs() < 1e-3,
            "{} {c}",
            T::NAME
        );
        let lf = LaplaceMixture::params::<T>(2).seed(5).fit(&data).unwrap();
        let lr = LaplaceMixture::params::<T>(2).seed(5).fit(&clean).unwrap();
        let (dist, _) = match_rows(
            &rows_of(lf.model.components().locations()),
            &rows_of(lr.model.components().locations()),
        );
        assert!(dist < 1e-3, "{} laplace", T::NAME);
    }
}

#[test]
fn zero_weight_outlier_is_ignored_f64() {
    zero_weight_outlier_is_ignored::<f64>();
}

#[test]
fn zero_weight_outlier_is_ignored_f32() {
    zero_weight_outlier_is_ignored::<f32>();
}

/// Scaling every weight by a constant changes nothing but the total weight.
fn weights_are_relative<T: Scalar>() {
    let rows = two_clusters();
    let w = int_weights(rows.len(), true);
    let w4: Vec<f64> = w.iter().map(|v| 4.0 * v).collect();
    let a = weighted::<T>(&rows, &w);
    let b = weighted::<T>(&rows, &w4);
    let start = start_gaussian::<T>();
    let p = GaussianMixture::params::<T>(2).tol(0.0).max_iter(20);
    let fa = p.fit_from(&start, &a).unwrap();
    let fb = p.fit_from(&start, &b).unwrap();
    same_gaussian(&fa.model, &fb.model, 100.0 * eps::<T>(), "weights x4");
    assert!((fb.report.total_weight - 4.0 * fa.report.total_weight).abs() < 1e-6);
}

#[test]
fn weights_are_relative_f64() {
    weights_are_relative::<f64>();
}

#[test]
fn weights_are_relative_f32() {
    weights_are_relative::<f32>();
}
