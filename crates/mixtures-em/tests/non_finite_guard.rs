//! No fit returns a model that gives its own data a non-finite log-likelihood
//! (the guard `final_log_likelihood` in `src/common.rs`): one input of each
//! class the fit fuzz target found before the guard existed
//! (`fuzz/corpus/fit/ll-guard-*`, decoded and written out here through the
//! public API). Without the guard each of these fits returns a model whose
//! log-likelihood is −∞; with it the fit is `FitError::Degenerate` naming the
//! value.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use mixtures_core::Dataset;
use mixtures_em::{
    ConjugatePrior, Covariance, DegeneracyPolicy, FitError, GaussianMixture, Init, VarianceFloor,
};

/// The fit is refused by the guard, not by an earlier check.
fn refused_by_the_guard<T: std::fmt::Debug>(fit: Result<T, FitError>, what: &str) {
    match fit {
        Err(FitError::Degenerate { reason }) => assert!(
            reason.contains("mean log-likelihood of -inf"),
            "{what}: {reason}"
        ),
        other => panic!("{what}: expected the guard's Degenerate error, got {other:?}"),
    }
}

/// `ll-guard-4d8ebfca69e1`: a variance floor of 1e-300 on a tied (full)
/// covariance whose variances differ by about 1e80 (values near 3.4e38 in one
/// column): the eigen-decomposition loses the small eigenvalue and the floored
/// matrix is rebuilt with a variance below the smallest normal number.
#[test]
fn a_floor_that_rebuilds_a_subnormal_variance_is_refused() {
    let values = [
        1e-150, 6.25, 0.125, -6.625, 0.0, 0.125, 6.5, 0.125, 6.5, 0.125, 1e-150, 6.625, -0.125,
        -6.625, 3.4e38, 3.4e38, -0.125, 0.0, 3.4e38, -1e150,
    ];
    let data = Dataset::from_row_major(&values, 10, 2).unwrap();
    let fit = GaussianMixture::params::<f64>(2)
        .covariance(Covariance::Tied)
        .init(Init::RandomPoints)
        .max_iter(6)
        .tol(0.001)
        .reg_covar(1e-6)
        .on_degenerate(DegeneracyPolicy::Drop)
        .prior(ConjugatePrior {
            shrinkage: 100.0,
            mean: None,
            dof: Some(3.0),
            scale_factor: 0.1,
        })
        .regularizer(VarianceFloor(1e-300))
        .seed(52)
        .fit(&data);
    refused_by_the_guard(fit, "floor rebuilding a subnormal variance");
}

/// `ll-guard-580a30f2d4be`: a sample weight of 1e150 among weights near 3
/// (most rows weigh 0), with a ridge of 5e-324 (tied-diag): the variances
/// collapse onto the heavy row, and the other rows of positive weight get
/// density 0 without a degeneracy being reported.
#[test]
fn an_overwhelming_weight_with_a_subnormal_ridge_is_refused() {
    let values = [
        0.0, 0.0, 0.0, 6.875, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 6.875, -6.75, 0.0, 0.0, 0.0,
        0.0, 0.0, 0.0, 53.0, -6.75, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 6.875, 0.0, 0.0, 0.0,
        0.0, 6.875, -6.75, 0.0, 0.0, -6.75, 0.0, 0.0, 0.0, -6.75,
    ];
    let weights = vec![0.0, 0.0, 0.0, 0.0, 0.0, 1e150, 0.0, 0.0, 0.0, 3.25, 6.375];
    let data = Dataset::from_row_major(&values, 11, 4)
        .unwrap()
        .with_weights(weights)
        .unwrap();
    let fit = GaussianMixture::params::<f64>(2)
        .covariance(Covariance::TiedDiag)
        .init(Init::KMeans)
        .max_iter(20)
        .tol(f64::MIN_POSITIVE)
        .reg_covar(5e-324)
        .prior(ConjugatePrior {
            shrinkage: 2.48e-38,
            mean: None,
            dof: None,
            scale_factor: 2.02e20,
        })
        .seed(202)
        .fit(&data);
    refused_by_the_guard(fit, "weight 1e150 with a ridge of 5e-324");
}

/// `ll-guard-41d2f21be6dd`: values of 1e150 (inside the data-range check,
/// which bounds sums of squares, not squared distances over a variance), a
/// tied covariance with no ridge and a variance floor of 1e-300.
#[test]
fn huge_values_over_a_tiny_variance_floor_are_refused() {
    let values = [
        1e-150, 6.625, 0.125, -6.625, 0.0, 0.125, 6.5, -0.125, 5.2e-30, -0.125, 9.75, 6.625,
        -0.125, 3.4e38, 1e-30, 6.625, 1e-30, 1e-150, 3.4e38, -1e150,
    ];
    let data = Dataset::from_row_major(&values, 10, 2).unwrap();
    let fit = GaussianMixture::params::<f64>(2)
        .covariance(Covariance::Tied)
        .init(Init::RandomPoints)
        .max_iter(6)
        .tol(1.0)
        .reg_covar(0.0)
        .on_degenerate(DegeneracyPolicy::Drop)
        .prior(ConjugatePrior {
            shrinkage: 100.0,
            mean: None,
            dof: Some(3.0),
            scale_factor: 0.1,
        })
        .regularizer(VarianceFloor(1e-300))
        .seed(52)
        .fit(&data);
    refused_by_the_guard(fit, "values 1e150 over a floor of 1e-300");
}
