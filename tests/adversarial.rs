//! Adversarial data, one test per case, each with a named outcome: a typed
//! error of a stated variant, or a fit whose parameters and log-likelihood are
//! finite and meet a stated property. Every case runs through the EM fit (every
//! covariance structure, and Laplace where the case concerns it) and through
//! the default detector, `Detector::auto()`, in `f32` and `f64`.
//! `docs/numerics.md` ("Adversarial inputs") lists the outcomes.
//!
//! Parts covered elsewhere are not repeated: identical points without
//! regularization and component collapse (`crates/mixtures-em/tests/degeneracy.rs`),
//! fewer distinct points than components through EM and warm starts
//! (`crates/mixtures-em/tests/fit_control.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[path = "support/benchdata.rs"]
mod benchdata;

use mixtures::ModelSpec;
use mixtures::mixtures_em::{Covariance, LaplaceMixture};
use mixtures::prelude::*;
use mixtures::{Cholesky, DataError, FitError, LinalgError};

/// Every Gaussian covariance structure.
const ALL: [Covariance; 6] = Covariance::ALL;

fn data<T: Scalar>(rows: &[Vec<f64>]) -> Dataset<T> {
    let rows: Vec<Vec<T>> = rows
        .iter()
        .map(|r| r.iter().map(|&v| T::c(v)).collect())
        .collect();
    Dataset::from_rows(&rows).unwrap()
}

/// A deterministic pseudo-random number in [0, 1) (no generator needed).
fn unit(i: usize, salt: usize) -> f64 {
    let x = ((i * 7919 + salt * 104_729) as f64 * 0.618_033_988_749_895).fract();
    (x * 1e4).fract()
}

/// Two groups of points in `d` dimensions, `n` rows, values of order 1.
fn two_groups(n: usize, d: usize) -> Vec<Vec<f64>> {
    (0..n)
        .map(|i| {
            let off = if i % 2 == 0 { 0.0 } else { 6.0 };
            (0..d)
                .map(|j| off + unit(i, j) - 0.5 + 0.1 * j as f64)
                .collect()
        })
        .collect()
}

fn finite_model<T: Scalar>(m: &GaussianMixtureModel<T>, what: &str) {
    let g = m.components();
    let w: f64 = m.weights().iter().map(|v| v.as_f64()).sum();
    assert!((w - 1.0).abs() < 1e-4, "{what}: weights sum to {w}");
    for k in 0..m.n_components() {
        for j in 0..m.dim() {
            assert!(g.means()[(k, j)].is_finite(), "{what}: mean");
        }
        let c = g.covariance_matrix(k);
        for i in 0..m.dim() {
            assert!(c[(i, i)].as_f64() > 0.0, "{what}: variance {i}");
            for j in 0..m.dim() {
                assert!(c[(i, j)].is_finite(), "{what}: covariance");
            }
        }
    }
}

fn finite_scores<T: Scalar>(scores: &[T], what: &str) {
    assert!(
        scores.iter().all(|s| s.is_finite()),
        "{what}: non-finite score"
    );
}

/// The default detector fitted and scored on its own training data.
fn auto_scores<T: Scalar>(x: &Dataset<T>) -> Result<Vec<T>, AnomalyError> {
    let fit = Detector::<T, Ensemble<T>>::auto().fit(x)?;
    fit.detector.score(x)
}

// ------------------------------------------------------------- identical

/// All points identical: with the default ridge every structure fits one
/// component at the point with variances equal to the ridge; Laplace fits its
/// scale floor; the default detector gives every row the same finite score.
fn identical<T: Scalar>() {
    let rows = vec![vec![3.25, -1.5, 0.75]; 40];
    let x = data::<T>(&rows);
    for c in ALL {
        let what = format!("{} {c}", T::NAME);
        let f = GaussianMixture::params::<T>(1)
            .covariance(c)
            .fit(&x)
            .unwrap();
        finite_model(&f.model, &what);
        assert!(f.report.log_likelihood.is_finite(), "{what}");
        let cov = f.model.components().covariance_matrix(0);
        for j in 0..3 {
            let v = cov[(j, j)].as_f64();
            assert!((v / T::c(1e-6).as_f64() - 1.0).abs() < 1e-4, "{what}: {v}");
        }
    }
    let lap = LaplaceMixture::params::<T>(1).fit(&x).unwrap();
    assert!(lap.report.log_likelihood.is_finite());
    let s = auto_scores(&x).unwrap();
    finite_scores(&s, T::NAME);
    assert!(s.iter().all(|v| *v == s[0]), "{}: scores differ", T::NAME);
}

#[test]
fn all_points_identical_fit_at_the_ridge() {
    identical::<f64>();
    identical::<f32>();
}

// ---------------------------------------------------- few distinct points

/// Three distinct points repeated: five components are refused before any
/// work (`TooFewDistinctPoints { distinct: 3, k: 5 }`) by EM of both families
/// and by a grid; the default detector leaves out the numbers of components
/// above 3 and fits.
fn few_distinct<T: Scalar>() {
    let base = [vec![0.0, 0.0], vec![4.0, 1.0], vec![-2.0, 5.0]];
    let rows: Vec<Vec<f64>> = (0..30).map(|i| base[i % 3].clone()).collect();
    let x = data::<T>(&rows);
    for c in ALL {
        match GaussianMixture::params::<T>(5).covariance(c).fit(&x) {
            Err(FitError::TooFewDistinctPoints { distinct: 3, k: 5 }) => {}
            other => panic!("{} {c}: {other:?}", T::NAME),
        }
    }
    match LaplaceMixture::params::<T>(5).fit(&x) {
        Err(FitError::TooFewDistinctPoints { distinct: 3, k: 5 }) => {}
        other => panic!("{other:?}"),
    }
    match Grid::<T>::new(1..=5).fit(&x) {
        Err(SelectError::TooFewDistinctPoints { distinct: 3, k: 5 }) => {}
        other => panic!("{other:?}"),
    }
    let fit = Detector::<T, Ensemble<T>>::auto().fit(&x).unwrap();
    assert!(fit.detector.model().n_components() <= 3);
    finite_scores(&fit.detector.score(&x).unwrap(), T::NAME);
}

#[test]
fn fewer_distinct_points_than_components_is_a_typed_error() {
    few_distinct::<f64>();
    few_distinct::<f32>();
}

// -------------------------------------------------------- constant column

/// One constant column: with the default ridge every structure fits, the
/// constant column's mean is the constant and its variance the ridge (the
/// shared and spherical structures pool it with the others); without
/// regularization the per-dimension structures are `Degenerate` (a zero
/// variance); Laplace fits with its scale floor; the detector fits.
fn constant_column<T: Scalar>() {
    let mut rows = two_groups(200, 2);
    for r in &mut rows {
        r.insert(1, 7.5);
    }
    let x = data::<T>(&rows);
    for c in ALL {
        let what = format!("{} {c}", T::NAME);
        let f = GaussianMixture::params::<T>(2)
            .covariance(c)
            .seed(1)
            .fit(&x)
            .unwrap();
        finite_model(&f.model, &what);
        assert!(f.report.log_likelihood.is_finite(), "{what}");
        let g = f.model.components();
        for k in 0..2 {
            assert_eq!(g.means()[(k, 1)].as_f64(), 7.5, "{what}");
        }
        if matches!(c, Covariance::Full | Covariance::Diag | Covariance::Tied) {
            let v = g.covariance_matrix(0)[(1, 1)].as_f64();
            assert!((v / T::c(1e-6).as_f64() - 1.0).abs() < 1e-3, "{what}: {v}");
        }
        if matches!(
            c,
            Covariance::Full | Covariance::Diag | Covariance::Tied | Covariance::TiedDiag
        ) {
            match GaussianMixture::params::<T>(2)
                .covariance(c)
                .reg_covar(0.0)
                .seed(1)
                .fit(&x)
            {
                Err(FitError::Degenerate { .. }) => {}
                other => panic!("{what}: expected Degenerate, got {other:?}"),
            }
        }
    }
    for s in [Covariance::Diag, Covariance::Spherical] {
        let f = LaplaceMixture::params::<T>(2).structure(s).fit(&x).unwrap();
        assert!(f.report.log_likelihood.is_finite());
    }
    finite_scores(&auto_scores(&x).unwrap(), T::NAME);
}

#[test]
fn one_constant_column_fits_with_the_ridge_or_is_degenerate_without() {
    constant_column::<f64>();
    constant_column::<f32>();
}

// ---------------------------------------------------- collinear columns

/// Rows whose third column is exactly `2 a − b + 1` (values on a grid of
/// 1/8, so every column is exact in `f32` too).
fn collinear_rows(n: usize) -> Vec<Vec<f64>> {
    (0..n)
        .map(|i| {
            let off = if i % 2 == 0 { 0.0 } else { 5.0 };
            let a = off + ((i * 37) % 29) as f64 / 8.0;
            let b = ((i * 53) % 31) as f64 / 8.0 - off;
            vec![a, b, 2.0 * a - b + 1.0]
        })
        .collect()
}

/// Perfectly collinear columns: without regularization a covariance matrix
/// over all three columns is singular, and rounding must not let it through
/// (it used to: a pivot of a few ε, and a log-likelihood some 700 too high),
/// so full and tied fits are `Degenerate`; structures that ignore correlations
/// fit. With the default ridge every structure fits, and the log-likelihood
/// is bounded by what the ridge allows.
fn collinear<T: Scalar>() {
    let rows = collinear_rows(300);
    let x = data::<T>(&rows);
    for c in [Covariance::Full, Covariance::Tied] {
        for k in [1, 2] {
            let what = format!("{} {c} k={k}", T::NAME);
            match GaussianMixture::params::<T>(k)
                .covariance(c)
                .reg_covar(0.0)
                .seed(3)
                .fit(&x)
            {
                Err(FitError::Degenerate { reason }) => {
                    assert!(
                        reason.contains("singular")
                            || reason.contains("positive definite")
                            || reason.contains("degenerat"),
                        "{what}: {reason}"
                    );
                }
                Ok(f) => panic!(
                    "{what}: a singular fit was accepted, log-likelihood {}",
                    f.report.log_likelihood
                ),
                Err(e) => panic!("{what}: {e:?}"),
            }
        }
    }
    for c in [
        Covariance::Diag,
        Covariance::Spherical,
        Covariance::TiedDiag,
        Covariance::TiedSpherical,
    ] {
        let f = GaussianMixture::params::<T>(2)
            .covariance(c)
            .reg_covar(0.0)
            .seed(3)
            .fit(&x)
            .unwrap();
        finite_model(&f.model, &format!("{} {c}", T::NAME));
    }
    // The shared covariance sees the third column's variance across both
    // groups (about 30): the default ridge is 3e-8 of it, below f32's
    // rounding, so in f32 a tied fit is `Degenerate` until the ridge grows.
    if T::NAME == "f32" {
        match GaussianMixture::params::<T>(2)
            .covariance(Covariance::Tied)
            .seed(3)
            .fit(&x)
        {
            Err(FitError::Degenerate { .. }) => {}
            other => panic!("f32 tied, default ridge: {other:?}"),
        }
    }
    // A full covariance in f32 with the default ridge: the collinear
    // direction holds 1e-6 of a variance of about 1, which f32 rounding
    // makes uncertain by far more than 1e-2 per row of log-likelihood
    // (numerics.md, "What f32 guarantees"): refused by the precision check.
    if T::NAME == "f32" {
        match GaussianMixture::params::<T>(2)
            .covariance(Covariance::Full)
            .seed(3)
            .fit(&x)
        {
            Err(FitError::Precision { uncertainty, .. }) => assert!(uncertainty > 1e-2),
            other => panic!("f32 full, default ridge: {other:?}"),
        }
    }
    for c in ALL {
        let what = format!("{} {c} ridge", T::NAME);
        let ridge = if T::NAME == "f32" && matches!(c, Covariance::Tied | Covariance::Full) {
            1e-4
        } else {
            1e-6
        };
        let f = GaussianMixture::params::<T>(2)
            .covariance(c)
            .reg_covar(ridge)
            .seed(3)
            .fit(&x)
            .unwrap();
        finite_model(&f.model, &what);
        // A Gaussian with a variance of 1e-6 along one direction and the
        // data's spread (> 0.1) along the others has a log-density below
        // −½ ln(2π 1e-6) + 3 (< 10) wherever it is evaluated.
        assert!(f.report.log_likelihood < 10.0, "{what}: {}", f.report);
    }
    finite_scores(&auto_scores(&x).unwrap(), T::NAME);
}

#[test]
fn collinear_columns_are_degenerate_without_regularization() {
    collinear::<f64>();
    collinear::<f32>();
}

/// Both sides of the conditioning check at the boundary that matters, through
/// the fit (whose scatter the check sees): exactly collinear columns without
/// regularization are refused however rounding leaves the last pivot (40
/// different data sets), while `f32` fits with the default ridge on unit-
/// variance data pass when the columns are correlated at 0.9999 or even
/// equal (the ridge is then the only variance left in one direction).
#[test]
fn conditioning_check_separates_rounding_from_real_variance() {
    fn check<T: Scalar>() {
        for seed in 0..40 {
            let rows: Vec<Vec<f64>> = (0..200)
                .map(|i| {
                    let a = ((i * 37 + seed * 11) % 29) as f64 / 8.0;
                    let b = ((i * 53 + seed * 7) % 31) as f64 / 8.0;
                    vec![a, b, 2.0 * a - b + 1.0]
                })
                .collect();
            for c in [Covariance::Full, Covariance::Tied] {
                match GaussianMixture::params::<T>(1)
                    .covariance(c)
                    .reg_covar(0.0)
                    .fit(&data::<T>(&rows))
                {
                    Err(FitError::Degenerate { .. }) => {}
                    Ok(f) => panic!(
                        "{} {c} seed {seed}: singular fit accepted, log-likelihood {}",
                        T::NAME,
                        f.report.log_likelihood
                    ),
                    Err(e) => panic!("{e:?}"),
                }
            }
            let rho: f64 = 0.9999;
            let unit_var = |i: usize, s: usize| (unit(i, s) - 0.5) * 12f64.sqrt();
            let correlated: Vec<Vec<f64>> = (0..200)
                .map(|i| {
                    let (u, v) = (unit_var(i, seed), unit_var(i, seed + 100));
                    vec![u, rho * u + (1.0 - rho * rho).sqrt() * v]
                })
                .collect();
            let equal: Vec<Vec<f64>> = (0..200).map(|i| vec![unit_var(i, seed); 2]).collect();
            for (name, rows) in [("correlated", correlated), ("equal", equal)] {
                for c in [Covariance::Full, Covariance::Tied] {
                    let fitted = GaussianMixture::params::<T>(1)
                        .covariance(c)
                        .fit(&data::<T>(&rows));
                    // Equal columns in f32 keep only the default ridge (1e-6
                    // of unit variances, 8ε) in one direction: above the
                    // factor's conditioning limit, but too few digits for a
                    // log-likelihood within 1e-2 (the precision check).
                    if T::NAME == "f32" && name == "equal" {
                        assert!(
                            matches!(fitted, Err(FitError::Precision { .. })),
                            "{c} seed {seed}: {:?}",
                            fitted.map(|f| f.report.log_likelihood)
                        );
                        continue;
                    }
                    let f = fitted
                        .unwrap_or_else(|e| panic!("{} {name} {c} seed {seed}: {e}", T::NAME));
                    assert!(f.report.degeneracies.is_empty());
                    assert!(f.report.log_likelihood.is_finite());
                }
            }
        }
    }
    check::<f64>();
    check::<f32>();
    // The check itself, on a matrix: singular to rounding is refused with
    // the variable and the limit named.
    let a = mixtures::faer::mat![[1.0f32, 1.0], [1.0, 1.0 + f32::EPSILON]];
    match Cholesky::new(a.as_ref()) {
        Err(LinalgError::IllConditioned { ratio, limit, .. }) => {
            assert!(ratio <= limit && limit == 5.0 * f64::from(f32::EPSILON));
        }
        other => panic!("{other:?}"),
    }
}

// ------------------------------------------------------------ d > n

/// More columns than rows (12 columns, 8 rows): the sample covariance is
/// singular, so without regularization full and tied fits are `Degenerate`;
/// with the default ridge every structure fits in f64, and in f32 all but
/// full and tied, which need a ridge above f32's rounding (1e-4 here); the
/// detector (which then compares diagonal structures only) fits.
fn wide<T: Scalar>() {
    let rows = two_groups(8, 12);
    let x = data::<T>(&rows);
    // The columns' variance is about 9, and most directions of the matrix
    // carry only the ridge: 1e-6 is resolvable in f64, but below f32's
    // rounding at that scale, so f32 full and tied fits need a larger ridge
    // (with the default they are `Degenerate`).
    for c in ALL {
        let what = format!("{} {c}", T::NAME);
        let wide_f32 = T::NAME == "f32" && matches!(c, Covariance::Full | Covariance::Tied);
        if wide_f32 {
            match GaussianMixture::params::<T>(1).covariance(c).fit(&x) {
                Err(FitError::Degenerate { .. }) => {}
                other => panic!("{what}: {other:?}"),
            }
        }
        let f = GaussianMixture::params::<T>(1)
            .covariance(c)
            .reg_covar(if wide_f32 { 1e-4 } else { 1e-6 })
            .fit(&x)
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        finite_model(&f.model, &what);
        assert!(f.report.log_likelihood.is_finite(), "{what}");
    }
    for c in [Covariance::Full, Covariance::Tied] {
        match GaussianMixture::params::<T>(1)
            .covariance(c)
            .reg_covar(0.0)
            .fit(&x)
        {
            Err(FitError::Degenerate { .. }) => {}
            other => panic!("{} {c}: {other:?}", T::NAME),
        }
    }
    let lap = LaplaceMixture::params::<T>(2).fit(&x).unwrap();
    assert!(lap.report.log_likelihood.is_finite());
    finite_scores(&auto_scores(&x).unwrap(), T::NAME);
}

#[test]
fn more_columns_than_rows_fits_with_the_ridge() {
    wide::<f64>();
    wide::<f32>();
}

// ------------------------------------------------- huge and tiny values

/// Two groups scaled by `s`.
fn scaled(s: f64) -> Vec<Vec<f64>> {
    two_groups(200, 2)
        .into_iter()
        .map(|r| r.into_iter().map(|v| v * s).collect())
        .collect()
}

/// Values near 1e150 (f64): fitted as they are (squares near 1e300 stay in
/// range), and the model equals the unit-scale fit scaled; a spread whose
/// squares would overflow (1e154) is `DataScale`, before any work, for every
/// family (the k-means initialization squares distances), the grid, the
/// variational fit and the detector. Values near
/// 1e−150: squares stay normal, so a fit without regularization equals the
/// scaled unit fit; with the default ridge the ridge sets the variance.
#[test]
fn values_near_1e150_in_f64() {
    let unit_fit = |c: Covariance| {
        GaussianMixture::params::<f64>(2)
            .covariance(c)
            .reg_covar(0.0)
            .seed(2)
            .fit(&data::<f64>(&scaled(1.0)))
            .unwrap()
    };
    for (s, ridge) in [(1e150, 1e-6), (1e-150, 0.0)] {
        let x = data::<f64>(&scaled(s));
        for c in ALL {
            let what = format!("scale {s:e} {c}");
            let f = GaussianMixture::params::<f64>(2)
                .covariance(c)
                .reg_covar(ridge)
                .seed(2)
                .fit(&x)
                .unwrap();
            finite_model(&f.model, &what);
            let u = unit_fit(c);
            // ln p shifts by −d ln s; the rest agrees to rounding.
            let shifted = f.report.log_likelihood + 2.0 * s.ln();
            assert!(
                (shifted - u.report.log_likelihood).abs() < 1e-6,
                "{what}: {shifted} vs {}",
                u.report.log_likelihood
            );
            for k in 0..2 {
                for j in 0..2 {
                    let m = f.model.components().means()[(k, j)] / s;
                    let mu = u.model.components().means()[(k, j)];
                    assert!((m - mu).abs() < 1e-9, "{what}: mean {m} vs {mu}");
                }
            }
        }
        let lap = LaplaceMixture::params::<f64>(2).fit(&x).unwrap();
        assert!(lap.report.log_likelihood.is_finite());
        let scores = auto_scores(&x).unwrap();
        finite_scores(&scores, "auto");
        let unit_scores = auto_scores(&data::<f64>(&scaled(1.0))).unwrap();
        // Each part's −ln p(x) = −ln p(x/s) + d ln s, and the default
        // detector centres it on the median training score: in exact
        // arithmetic the scales give the same scores. Two tight groups put
        // the rows of one at ~1e12 training IQRs from the MCD's ellipsoid of
        // the other, where rounding shows: the order of the rows is compared.
        let n = scores.len();
        let mut agree = 0usize;
        let mut pairs = 0usize;
        for i in 0..n {
            for j in 0..i {
                if (unit_scores[i] - unit_scores[j]).abs() > 1e-6 * unit_scores[i].abs() {
                    pairs += 1;
                    agree +=
                        usize::from((scores[i] > scores[j]) == (unit_scores[i] > unit_scores[j]));
                }
            }
        }
        assert!(
            agree as f64 >= 0.99 * pairs as f64,
            "scale {s:e}: {agree} of {pairs} pairs in the same order"
        );
    }
    // With the default ridge, tiny data are one blob at the ridge's variance.
    let f = GaussianMixture::params::<f64>(2)
        .fit(&data::<f64>(&scaled(1e-150)))
        .unwrap();
    let v = f.model.components().covariance_matrix(0)[(0, 0)];
    assert!((v / 1e-6 - 1.0).abs() < 1e-9, "{v}");
    // Squares of a spread of 6e154 overflow.
    let x = data::<f64>(&scaled(1e154));
    for c in ALL {
        match GaussianMixture::params::<f64>(2).covariance(c).fit(&x) {
            Err(FitError::DataScale {
                precision: "f64", ..
            }) => {}
            other => panic!("{c}: {other:?}"),
        }
    }
    match auto_scores(&x) {
        Err(AnomalyError::Fit(FitError::DataScale {
            precision: "f64", ..
        })) => {}
        other => panic!("auto: {other:?}"),
    }
    // The grid and the variational fit check once, before any cell or
    // restart.
    match Grid::<f64>::new(1..=2).fit(&x) {
        Err(SelectError::Fit(FitError::DataScale { .. })) => {}
        other => panic!("grid: {other:?}"),
    }
    match VariationalGaussianMixture::params::<f64>(2).fit(&x) {
        Err(FitError::DataScale { .. }) => {}
        other => panic!("variational: {other:?}"),
    }
    // Laplace's k-means initialization squares distances in f64 too.
    assert!(matches!(
        LaplaceMixture::params::<f64>(2).fit(&x),
        Err(FitError::DataScale { .. })
    ));
}

/// Values near 1e30 in f32: a Gaussian model of them needs variances near
/// 1e60, beyond f32, so EM, the variational fit and the default detector
/// refuse them with `DataScale` before any work (the message suggests f64);
/// Laplace, whose scales are of the order of the values, fits (alone and in
/// a grid). Values near 1e−30: their
/// squares underflow, so with the default ridge the ridge sets the variance
/// (finite fit) and without it the fit is `Degenerate`; the default detector
/// treats such a feature as constant (every score equal and finite).
#[test]
fn values_near_1e30_in_f32() {
    let x = data::<f32>(&scaled(1e30));
    for c in ALL {
        match GaussianMixture::params::<f32>(2).covariance(c).fit(&x) {
            Err(
                e @ FitError::DataScale {
                    precision: "f32", ..
                },
            ) => assert!(e.to_string().contains("f64"), "{e}"),
            other => panic!("{c}: {other:?}"),
        }
    }
    match auto_scores(&x) {
        Err(AnomalyError::Fit(FitError::DataScale {
            precision: "f32", ..
        })) => {}
        other => panic!("auto: {other:?}"),
    }
    match VariationalGaussianMixture::params::<f32>(2).fit(&x) {
        Err(FitError::DataScale { .. }) => {}
        other => panic!("variational: {other:?}"),
    }
    // A grid of Laplace structures only needs no squares in f32.
    let laplace_grid = Grid::<f32>::new(1..=2)
        .structures([ModelSpec::LAPLACE_DIAG])
        .fit(&x)
        .unwrap();
    assert!(laplace_grid.report.log_likelihood.is_finite());
    for s in [Covariance::Diag, Covariance::Spherical] {
        let f = LaplaceMixture::params::<f32>(2)
            .structure(s)
            .fit(&x)
            .unwrap();
        assert!(f.report.log_likelihood.is_finite(), "{s:?}");
    }

    let x = data::<f32>(&scaled(1e-30));
    for c in ALL {
        let f = GaussianMixture::params::<f32>(2)
            .covariance(c)
            .fit(&x)
            .unwrap();
        finite_model(&f.model, &format!("tiny {c}"));
        assert!(f.report.log_likelihood.is_finite(), "{c}");
        match GaussianMixture::params::<f32>(2)
            .covariance(c)
            .reg_covar(0.0)
            .fit(&x)
        {
            Err(FitError::Degenerate { .. }) => {}
            other => panic!("tiny {c} without ridge: {other:?}"),
        }
    }
    let scores = auto_scores(&x).unwrap();
    finite_scores(&scores, "auto tiny");
    assert!(scores.iter().all(|v| *v == scores[0]));
}

// ------------------------------------------------------------ single row

/// A single row: one component fits at the row with variances equal to the
/// ridge (Laplace: the scale floor), two are `TooFewDistinctPoints`, and the
/// default detector fits and scores it.
fn single_row<T: Scalar>() {
    let x = data::<T>(&[vec![1.0, -2.0, 0.5]]);
    for c in ALL {
        let f = GaussianMixture::params::<T>(1)
            .covariance(c)
            .fit(&x)
            .unwrap();
        finite_model(&f.model, &format!("{} {c}", T::NAME));
        assert_eq!(f.model.components().means()[(0, 1)].as_f64(), -2.0);
        match GaussianMixture::params::<T>(2).covariance(c).fit(&x) {
            Err(FitError::TooFewDistinctPoints { distinct: 1, k: 2 }) => {}
            other => panic!("{other:?}"),
        }
    }
    assert!(
        LaplaceMixture::params::<T>(1)
            .fit(&x)
            .unwrap()
            .report
            .log_likelihood
            .is_finite()
    );
    finite_scores(&auto_scores(&x).unwrap(), T::NAME);
}

#[test]
fn a_single_row_fits_one_component() {
    single_row::<f64>();
    single_row::<f32>();
}

// ------------------------------------------- a million identical + one

/// A million copies of one point and one outlier: two components fit (one
/// of them on the outlier, whose weight of 1e−6 is far above the collapse
/// limit), and the default detector scores the outlier far above the rest.
fn million_plus_one<T: Scalar>() {
    let n = 1_000_000;
    let mut v: Vec<T> = Vec::with_capacity(2 * (n + 1));
    for _ in 0..n {
        v.extend([T::c(1.0), T::c(2.0)]);
    }
    v.extend([T::c(100.0), T::c(-50.0)]);
    let x = Dataset::from_row_major(&v, n + 1, 2).unwrap();
    for c in ALL {
        let what = format!("{} {c}", T::NAME);
        let f = GaussianMixture::params::<T>(2)
            .covariance(c)
            .fit(&x)
            .unwrap();
        finite_model(&f.model, &what);
        assert!(f.report.log_likelihood.is_finite(), "{what}");
        outlier_keeps_its_component(f.model.weights(), f.model.components().means(), n, &what);
    }
    let lap = LaplaceMixture::params::<T>(2).fit(&x).unwrap();
    assert!(lap.report.log_likelihood.is_finite());
    let what = format!("{} Laplace", T::NAME);
    outlier_keeps_its_component(
        lap.model.weights(),
        lap.model.components().locations(),
        n,
        &what,
    );
    let s = auto_scores(&x).unwrap();
    finite_scores(&s, T::NAME);
    assert!(s[n].as_f64() > s[0].as_f64() + 10.0, "{}", T::NAME);
}

/// k = 2 survives: one component holds the outlier alone (weight 1/(n + 1),
/// mean at the outlier), the other the million copies.
fn outlier_keeps_its_component<T: Scalar>(
    weights: &[T],
    means: mixtures::faer::MatRef<'_, T>,
    n: usize,
    what: &str,
) {
    assert_eq!(weights.len(), 2, "{what}: k = 2 did not survive");
    let small = usize::from(weights[1] < weights[0]);
    let w = weights[small].as_f64();
    let want = 1.0 / (n + 1) as f64;
    // f32 sums a million responsibilities of 1 and one of 0 exactly (2^24 > n);
    // the weight is that count over n + 1, rounded.
    assert!(
        (w - want).abs() <= 1e-3 * want,
        "{what}: outlier weight {w}"
    );
    let near = |k: usize, want: [f64; 2]| {
        (0..2).all(|j| (means[(k, j)].as_f64() - want[j]).abs() <= 1e-4 * want[j].abs())
    };
    assert!(
        near(small, [100.0, -50.0]),
        "{what}: outlier component {means:?}"
    );
    assert!(
        near(1 - small, [1.0, 2.0]),
        "{what}: bulk component {means:?}"
    );
}

#[test]
#[ignore = "a million rows: slow in debug; CI runs ignored tests in release"]
fn a_million_identical_rows_plus_one_outlier() {
    million_plus_one::<f64>();
    million_plus_one::<f32>();
}

// --------------------------------------------------------- duplicated rows

/// breastw (683 rows, 234 of them duplicates, integer features from 1 to
/// 10): every structure fits with the default ridge, in f32 and f64, and the
/// default detector separates its anomalies (AUCROC above 0.9).
#[test]
fn duplicated_rows_of_the_benchmark_data() {
    let Some(path) = benchdata::required(benchdata::data_dir().join("breastw.csv")) else {
        return;
    };
    let table = benchdata::read_csv(&path).unwrap();
    let idx: Vec<usize> = (0..table.n).collect();
    let m = table.rows(&idx);
    let labels = table.labels_of(&idx);
    let x = Dataset::from_mat(m.as_ref()).unwrap();
    let m32 = mixtures::faer::Mat::from_fn(m.nrows(), m.ncols(), |i, j| m[(i, j)] as f32);
    let x32 = Dataset::from_mat(m32.as_ref()).unwrap();
    for c in ALL {
        let f = GaussianMixture::params::<f64>(3)
            .covariance(c)
            .fit(&x)
            .unwrap();
        finite_model(&f.model, &format!("f64 {c}"));
        let f = GaussianMixture::params::<f32>(3)
            .covariance(c)
            .fit(&x32)
            .unwrap();
        finite_model(&f.model, &format!("f32 {c}"));
    }
    let s = auto_scores(&x).unwrap();
    finite_scores(&s, "auto");
    let auc = roc_auc(&s, &labels).unwrap();
    assert!(auc > 0.9, "{auc}");
    let s = auto_scores(&x32).unwrap();
    finite_scores(&s, "auto f32");
    assert!(roc_auc(&s, &labels).unwrap() > 0.9);
}

// ------------------------------------------------------------- NaN, ±inf

/// NaN or ±∞ in the first row, the last row or a weight: the data set is
/// refused when it is built (`NonFinite { row, col }`, `InvalidWeight
/// { row }`), so no fit or score ever sees it.
fn non_finite<T: Scalar>() {
    let rows = two_groups(20, 3);
    for bad in [T::nan(), T::infinity(), T::neg_infinity()] {
        for (row, col) in [(0, 0), (19, 2), (7, 1)] {
            let mut v: Vec<Vec<T>> = rows
                .iter()
                .map(|r| r.iter().map(|&x| T::c(x)).collect())
                .collect();
            v[row][col] = bad;
            match Dataset::from_rows(&v) {
                Err(DataError::NonFinite { row: r, col: c, .. }) => {
                    assert_eq!((r, c), (row, col));
                }
                other => panic!("{bad:?} at ({row}, {col}): {other:?}"),
            }
            let flat: Vec<T> = v.concat();
            assert!(matches!(
                Dataset::from_row_major(&flat, 20, 3),
                Err(DataError::NonFinite { .. })
            ));
        }
        for row in [0, 19] {
            let mut w = vec![T::one(); 20];
            w[row] = bad;
            match data::<T>(&rows).with_weights(w) {
                Err(DataError::InvalidWeight { row: r, .. }) => assert_eq!(r, row),
                other => panic!("weight {bad:?} at {row}: {other:?}"),
            }
        }
    }
}

#[test]
fn nan_or_infinity_anywhere_is_refused_with_its_position() {
    non_finite::<f64>();
    non_finite::<f32>();
}

// ------------------------------------------------- a million rows, 1 column

/// 10⁶ rows in one column, two groups: every structure recovers both means
/// (to 0.01) in f32 and f64, Laplace fits, the default detector scores
/// finitely.
fn million_rows_one_column<T: Scalar>() {
    let n = 1_000_000;
    let v: Vec<T> = (0..n)
        .map(|i| {
            let off = if i % 4 == 0 { 10.0 } else { 0.0 };
            T::c(off + unit(i, 3) - 0.5)
        })
        .collect();
    let x = Dataset::from_row_major(&v, n, 1).unwrap();
    for c in ALL {
        let what = format!("{} {c}", T::NAME);
        let f = GaussianMixture::params::<T>(2)
            .covariance(c)
            .fit(&x)
            .unwrap();
        finite_model(&f.model, &what);
        let mut m: Vec<f64> = (0..2)
            .map(|k| f.model.components().means()[(k, 0)].as_f64())
            .collect();
        m.sort_by(f64::total_cmp);
        assert!(
            (m[0] - 0.0).abs() < 0.01 && (m[1] - 10.0).abs() < 0.01,
            "{what}: {m:?}"
        );
    }
    assert!(
        LaplaceMixture::params::<T>(2)
            .fit(&x)
            .unwrap()
            .report
            .log_likelihood
            .is_finite()
    );
    finite_scores(&auto_scores(&x).unwrap(), T::NAME);
}

#[test]
#[ignore = "a million rows: slow in debug; CI runs ignored tests in release"]
fn a_million_rows_in_one_column() {
    million_rows_one_column::<f64>();
    million_rows_one_column::<f32>();
}
