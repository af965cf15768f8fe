//! Bad input gives typed errors that name the problem, before any fitting.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use faer::{Mat, mat};
use mixtures_core::Dataset;
use mixtures_dist::{Covariance, ModelSpec};

use mixtures_em::FitError;
use mixtures_select::{CovariancePrior, Grid, SelectError, VariationalGaussianMixture};

fn data() -> Dataset<f64> {
    let rows: Vec<[f64; 2]> = (0..50)
        .map(|i| [(i as f64 * 0.37).sin(), (i as f64 * 0.11).cos()])
        .collect();
    Dataset::from_rows(&rows).unwrap()
}

/// Four distinct points, each repeated.
fn four_points() -> Dataset<f64> {
    let rows: Vec<[f64; 2]> = (0..40).map(|i| [(i % 4) as f64, 1.0]).collect();
    Dataset::from_rows(&rows).unwrap()
}

fn invalid_param(e: SelectError) -> &'static str {
    match e {
        SelectError::InvalidParameter { name, .. } => name,
        other => panic!("expected InvalidParameter, got {other}"),
    }
}

/// The variational fit lives next to EM and reports `FitError`s.
fn vb_invalid_param(e: FitError) -> &'static str {
    match e {
        FitError::InvalidParameter { name, .. } => name,
        other => panic!("expected InvalidParameter, got {other}"),
    }
}

fn invalid_prior(e: FitError) -> &'static str {
    match e {
        FitError::InvalidPrior { name, .. } => name,
        other => panic!("expected InvalidPrior, got {other}"),
    }
}

#[test]
fn grid_empty_range() {
    #[allow(clippy::reversed_empty_ranges)]
    let e = Grid::<f64>::new(5..=2).fit(&data()).unwrap_err();
    assert_eq!(e, SelectError::EmptyKRange);
    assert!(e.to_string().contains("empty"));
    assert_eq!(
        Grid::<f64>::new(Vec::new()).fit(&data()).unwrap_err(),
        SelectError::EmptyKRange
    );
}

#[test]
fn grid_bad_settings() {
    let x = data();
    assert_eq!(invalid_param(Grid::new(0..=3).fit(&x).unwrap_err()), "k");
    assert_eq!(
        Grid::new(1..=3)
            .structures(Vec::<ModelSpec>::new())
            .fit(&x)
            .unwrap_err(),
        SelectError::NoStructures
    );
    assert_eq!(
        invalid_param(Grid::new(1..=2).n_init(0).fit(&x).unwrap_err()),
        "n_init"
    );
    assert_eq!(
        invalid_param(Grid::new(1..=2).max_iter(0).fit(&x).unwrap_err()),
        "max_iter"
    );
    assert_eq!(
        invalid_param(Grid::new(1..=2).tol(f64::NAN).fit(&x).unwrap_err()),
        "tol"
    );
    assert_eq!(
        invalid_param(Grid::new(1..=2).reg_covar(-1.0).fit(&x).unwrap_err()),
        "reg_covar"
    );
}

#[test]
fn grid_k_above_distinct_points() {
    let e = Grid::new(1..=6)
        .structures([Covariance::Diag])
        .fit(&four_points())
        .unwrap_err();
    assert_eq!(e, SelectError::TooFewDistinctPoints { distinct: 4, k: 6 });
    assert!(e.to_string().contains("only 4 distinct points"));
    // Rows of zero weight do not count.
    let w: Vec<f64> = (0..40)
        .map(|i| if i % 4 == 3 { 0.0 } else { 1.0 })
        .collect();
    let weighted = four_points().with_weights(w).unwrap();
    assert_eq!(
        Grid::new(1..=4).fit(&weighted).unwrap_err(),
        SelectError::TooFewDistinctPoints { distinct: 3, k: 4 }
    );
    // Up to the number of distinct points is fine.
    assert!(
        Grid::new(1..=4)
            .structures([Covariance::Diag])
            .fit(&four_points())
            .is_ok()
    );
}

#[test]
fn variational_k_above_distinct_points() {
    let e = VariationalGaussianMixture::params::<f64>(5)
        .fit(&four_points())
        .unwrap_err();
    assert_eq!(e, FitError::TooFewDistinctPoints { distinct: 4, k: 5 });
    assert_eq!(
        vb_invalid_param(
            VariationalGaussianMixture::params::<f64>(0)
                .fit(&data())
                .unwrap_err()
        ),
        "n_components"
    );
}

#[test]
fn variational_bad_concentrations() {
    let x = data();
    for v in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let p = VariationalGaussianMixture::params::<f64>(3);
        assert_eq!(
            invalid_prior(p.clone().weight_concentration(v).fit(&x).unwrap_err()),
            "weight_concentration"
        );
        assert_eq!(
            invalid_prior(p.mean_precision(v).fit(&x).unwrap_err()),
            "mean_precision"
        );
    }
}

#[test]
fn variational_degrees_of_freedom_above_d_minus_one() {
    let x = data(); // d = 2
    for nu in [1.0, 0.5, -3.0, f64::NAN] {
        let e = VariationalGaussianMixture::params::<f64>(3)
            .degrees_of_freedom(nu)
            .fit(&x)
            .unwrap_err();
        assert_eq!(invalid_prior(e.clone()), "degrees_of_freedom");
        assert!(e.to_string().contains("greater than D - 1 = 1"), "{e}");
    }
    // Just above D − 1 is allowed (as scikit-learn).
    assert!(
        VariationalGaussianMixture::params::<f64>(2)
            .degrees_of_freedom(1.01)
            .max_iter(3)
            .fit(&x)
            .is_ok()
    );
}

#[test]
fn variational_bad_mean_prior() {
    let x = data();
    let p = VariationalGaussianMixture::params::<f64>(3);
    assert_eq!(
        invalid_prior(p.clone().mean_prior(vec![0.0; 3]).fit(&x).unwrap_err()),
        "mean"
    );
    assert_eq!(
        invalid_prior(p.mean_prior(vec![0.0, f64::NAN]).fit(&x).unwrap_err()),
        "mean"
    );
}

#[test]
fn variational_bad_covariance_prior() {
    let x = data();
    let full = VariationalGaussianMixture::params::<f64>(3).covariance(Covariance::Full);
    // Wrong kind for the covariance type.
    let e = full
        .clone()
        .covariance_prior(CovariancePrior::Diagonal(vec![1.0, 1.0]))
        .fit(&x)
        .unwrap_err();
    assert_eq!(invalid_prior(e.clone()), "covariance");
    assert!(e.to_string().contains("needs a D x D matrix"), "{e}");
    // Wrong shape.
    let e = full
        .clone()
        .covariance_prior(CovariancePrior::Matrix(Mat::identity(3, 3)))
        .fit(&x)
        .unwrap_err();
    assert_eq!(invalid_prior(e), "covariance");
    // Not symmetric.
    let e = full
        .clone()
        .covariance_prior(CovariancePrior::Matrix(mat![[1.0, 0.5], [0.0, 1.0]]))
        .fit(&x)
        .unwrap_err();
    assert!(e.to_string().contains("symmetric"), "{e}");
    // Not positive definite.
    let e = full
        .covariance_prior(CovariancePrior::Matrix(mat![[1.0, 2.0], [2.0, 1.0]]))
        .fit(&x)
        .unwrap_err();
    assert!(
        matches!(e, FitError::CovariancePriorNotPositiveDefinite { .. }),
        "{e}"
    );
    // Diagonal: a non-positive variance, a wrong length; spherical: zero.
    let diag = VariationalGaussianMixture::params::<f64>(3).covariance(Covariance::Diag);
    for v in [vec![1.0, 0.0], vec![1.0, -2.0], vec![1.0]] {
        assert_eq!(
            invalid_prior(
                diag.clone()
                    .covariance_prior(CovariancePrior::Diagonal(v))
                    .fit(&x)
                    .unwrap_err()
            ),
            "covariance"
        );
    }
    let e = VariationalGaussianMixture::params::<f64>(3)
        .covariance(Covariance::Spherical)
        .covariance_prior(CovariancePrior::Spherical(0.0))
        .fit(&x)
        .unwrap_err();
    assert_eq!(invalid_prior(e), "covariance");
    let e = VariationalGaussianMixture::params::<f64>(3)
        .covariance(Covariance::Tied)
        .covariance_prior(CovariancePrior::Spherical(1.0))
        .fit(&x)
        .unwrap_err();
    assert_eq!(invalid_prior(e), "covariance");
}

#[test]
fn variational_bad_settings() {
    let x = data();
    let p = || VariationalGaussianMixture::params::<f64>(3);
    assert_eq!(
        vb_invalid_param(p().reg_covar(-1e-3).fit(&x).unwrap_err()),
        "reg_covar"
    );
    assert_eq!(vb_invalid_param(p().tol(-1.0).fit(&x).unwrap_err()), "tol");
    assert_eq!(
        vb_invalid_param(p().max_iter(0).fit(&x).unwrap_err()),
        "max_iter"
    );
    assert_eq!(
        vb_invalid_param(p().n_init(0).fit(&x).unwrap_err()),
        "n_init"
    );
    assert_eq!(
        vb_invalid_param(p().weight_threshold(1.0).fit(&x).unwrap_err()),
        "weight_threshold"
    );
}

#[test]
fn variational_bad_responsibilities() {
    let x = data();
    let p = VariationalGaussianMixture::params::<f64>(3);
    let e = p
        .fit_from_responsibilities(&x, Mat::<f64>::zeros(50, 2).as_ref())
        .unwrap_err();
    assert_eq!(
        e,
        FitError::ResponsibilitiesShape {
            expected: (50, 3),
            found: (50, 2)
        }
    );
    for bad in [-0.1, f64::NAN] {
        let mut r = Mat::from_fn(50, 3, |_, _| 1.0 / 3.0);
        r[(7, 2)] = bad;
        match p.fit_from_responsibilities(&x, r.as_ref()).unwrap_err() {
            FitError::InvalidResponsibility { row, component, .. } => {
                assert_eq!((row, component), (7, 2));
            }
            other => panic!("unexpected {other}"),
        }
    }
}

#[test]
fn variational_step_checks_the_data() {
    let x = data();
    let p = VariationalGaussianMixture::params::<f64>(2);
    let r = Mat::from_fn(50, 2, |i, c| if i % 2 == c { 1.0 } else { 0.0 });
    let s = p.init_from_responsibilities(&x, r.as_ref()).unwrap();
    let other = Dataset::from_rows(&[[1.0, 2.0, 3.0], [0.0, 1.0, 0.0]]).unwrap();
    assert!(matches!(p.step(&s, &other).unwrap_err(), FitError::Data(_)));
    let e = VariationalGaussianMixture::params::<f64>(3)
        .step(&s, &x)
        .unwrap_err();
    assert_eq!(vb_invalid_param(e), "n_components");
}

/// A range of numbers of components is read only up to the grid's limit, so
/// `1..usize::MAX` is a typed error at once (it was "capacity overflow"), and
/// a `k` above the rows is `TooFewDistinctPoints` without a list of `k`
/// entries being allocated.
#[test]
fn absurd_ranges_of_components_are_refused_before_any_work() {
    let t = std::time::Instant::now();
    for grid in [
        Grid::<f64>::new(1..usize::MAX),
        Grid::new(1..=mixtures_select::MAX_GRID_KS + 1),
    ] {
        let e = grid.check().unwrap_err();
        assert_eq!(invalid_param(e), "k");
        assert_eq!(invalid_param(grid.fit(&data()).unwrap_err()), "k");
    }
    assert!(
        Grid::<f64>::new(1..=mixtures_select::MAX_GRID_KS)
            .check()
            .is_ok()
    );
    for k in [4_611_686_018_427_387_904, usize::MAX] {
        match Grid::new([1, k]).fit(&data()).unwrap_err() {
            SelectError::TooFewDistinctPoints { distinct, k: asked } => {
                assert_eq!((distinct, asked), (50, k))
            }
            other => panic!("expected TooFewDistinctPoints, got {other}"),
        }
    }
    assert!(t.elapsed() < std::time::Duration::from_secs(2));
}
