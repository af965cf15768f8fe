//! Every constructor refuses bad input with its typed error; data of the wrong
//! dimension is refused at evaluation; `predict` is the argmax of the
//! responsibilities; parameter counts match scikit-learn's `_n_parameters`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_range_loop,
    missing_docs
)]

mod common;

use common::{FAMILIES, Family, Model, random_model, random_points};
use faer::{Mat, mat};
use mixtures_core::{DataError, Dataset, LinalgError, Scalar};
use mixtures_dist::{
    Components, Covariance, Covariances, FreeParameters, Gaussian, Laplace, LaplaceScales, Mixture,
    ModelError, WEIGHT_SUM_TOLERANCE,
};

fn g2<T: Scalar>() -> Gaussian<T> {
    Gaussian::spherical(
        Mat::from_fn(2, 3, |k, j| T::c((k * 3 + j) as f64)),
        vec![T::one(); 2],
    )
    .unwrap()
}

fn mixture_weights<T: Scalar>() {
    let g = g2::<T>();
    // Wrong count.
    for w in [vec![T::one()], vec![T::c(0.2); 3], vec![]] {
        let n = w.len();
        assert_eq!(
            Mixture::new(w, g.clone()).unwrap_err(),
            ModelError::WrongCount {
                what: "weights",
                expected: 2,
                found: n
            }
        );
    }
    // Negative, NaN and infinite weights name the component.
    for c in 0..2 {
        for bad in [T::c(-0.1), T::nan(), T::infinity(), T::neg_infinity()] {
            let mut w = vec![T::c(0.5); 2];
            w[c] = bad;
            match Mixture::new(w, g.clone()).unwrap_err() {
                ModelError::InvalidWeight { component, value } => {
                    assert_eq!(component, c);
                    assert!(value.is_nan() || value == bad.as_f64());
                }
                other => panic!("expected InvalidWeight, got {other:?}"),
            }
        }
    }
    // Far from one.
    for w in [[0.5, 0.6], [0.1, 0.1], [0.0, 0.0], [1.0, 1.0]] {
        let sum = w[0] + w[1];
        match Mixture::new(vec![T::c(w[0]), T::c(w[1])], g.clone()).unwrap_err() {
            ModelError::WeightSum { sum: s, tolerance } => {
                assert!((s - sum).abs() < 1e-6, "{s} vs {sum}");
                assert_eq!(tolerance, WEIGHT_SUM_TOLERANCE);
            }
            other => panic!("expected WeightSum, got {other:?}"),
        }
    }
    // Just outside the tolerance.
    let off = 1.0 + 3.0 * WEIGHT_SUM_TOLERANCE;
    assert!(matches!(
        Mixture::new(vec![T::c(0.5 * off), T::c(0.5 * off)], g.clone()).unwrap_err(),
        ModelError::WeightSum { .. }
    ));
    // Within the tolerance: accepted and renormalized to sum to one.
    for scale in [
        1.0 + 0.5 * WEIGHT_SUM_TOLERANCE,
        1.0 - 0.5 * WEIGHT_SUM_TOLERANCE,
    ] {
        let w = vec![T::c(0.25 * scale), T::c(0.75 * scale)];
        let m = Mixture::new(w, g.clone()).unwrap();
        let s: f64 = m.weights().iter().map(|w| w.as_f64()).sum();
        assert!((s - 1.0).abs() <= 2.0 * T::epsilon().as_f64(), "sum {s}");
        assert!((m.weights()[0].as_f64() - 0.25).abs() <= 2.0 * T::epsilon().as_f64());
        assert!((m.weights()[1].as_f64() - 0.75).abs() <= 2.0 * T::epsilon().as_f64());
    }
    // Exactly one is kept as given; a zero weight is allowed.
    let m = Mixture::new(vec![T::c(0.25), T::c(0.75)], g.clone()).unwrap();
    assert_eq!(m.weights(), &[T::c(0.25), T::c(0.75)]);
    let m = Mixture::new(vec![T::zero(), T::one()], g.clone()).unwrap();
    assert_eq!(m.weights(), &[T::zero(), T::one()]);
    // A zero-weight component gets zero responsibility and is never predicted.
    let x = Dataset::from_row_major(&[T::zero(), T::one(), T::c(2.0)], 1, 3).unwrap();
    assert_eq!(m.responsibilities(&x).unwrap()[(0, 0)], T::zero());
    assert_eq!(m.predict(&x).unwrap(), vec![1]);
    assert!(m.log_prob(&x).unwrap()[0].is_finite());
}

#[test]
fn mixture_weights_f64() {
    mixture_weights::<f64>();
}

#[test]
fn mixture_weights_f32() {
    mixture_weights::<f32>();
}

#[test]
fn renormalized_weights_are_stable() {
    // Building a mixture from the weights of another gives the same weights
    // (renormalization is idempotent), so save/load cycles do not drift.
    stable_weights::<f64>();
    stable_weights::<f32>();
}

fn stable_weights<T: Scalar>() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    for k in [2, 3, 5, 9] {
        let g = Gaussian::spherical(Mat::<T>::zeros(k, 1), vec![T::one(); k]).unwrap();
        for _ in 0..200 {
            let raw: Vec<f64> = (0..k).map(|_| rng.random_range(0.0..1.0)).collect();
            let s: f64 = raw.iter().sum();
            // Normalized in f64 (then rounded to T), or off by up to the tolerance.
            let off = 1.0 + rng.random_range(-0.9..0.9) * WEIGHT_SUM_TOLERANCE;
            let w: Vec<T> = raw.iter().map(|v| T::c(v / s * off)).collect();
            let a = Mixture::new(w, g.clone()).unwrap();
            let total: f64 = a.weights().iter().map(|w| w.as_f64()).sum();
            assert!((total - 1.0).abs() <= 2.0 * k as f64 * T::epsilon().as_f64());
            let b = Mixture::new(a.weights().to_vec(), g.clone()).unwrap();
            assert_eq!(a.weights(), b.weights(), "{} k={k}", T::NAME);
        }
    }
}

fn gaussian_bad_inputs<T: Scalar>() {
    let c = T::c;
    let means = Mat::<T>::from_fn(2, 2, |k, j| c((k + j) as f64));
    let eye = Mat::<T>::identity(2, 2);

    // Empty means.
    assert_eq!(
        Gaussian::spherical(Mat::<T>::zeros(0, 2), vec![]).unwrap_err(),
        ModelError::NoComponents
    );
    assert_eq!(
        Gaussian::spherical(Mat::<T>::zeros(2, 0), vec![T::one(); 2]).unwrap_err(),
        ModelError::NoDimensions
    );
    // Non-finite means name the component and index.
    let mut bad = means.clone();
    bad[(1, 0)] = T::nan();
    match Gaussian::full(bad, vec![eye.clone(); 2]).unwrap_err() {
        ModelError::NonFiniteParameter {
            what,
            component,
            index,
            value,
        } => {
            assert_eq!((what, component, index), ("means", 1, 0));
            assert!(value.is_nan());
        }
        other => panic!("{other:?}"),
    }

    // Count and dimension mismatches between means and covariances.
    assert_eq!(
        Gaussian::full(means.clone(), vec![eye.clone()]).unwrap_err(),
        ModelError::WrongCount {
            what: "covariances",
            expected: 2,
            found: 1
        }
    );
    assert_eq!(
        Gaussian::full(means.clone(), vec![eye.clone(), Mat::identity(3, 3)]).unwrap_err(),
        ModelError::WrongShape {
            what: "covariance",
            component: Some(1),
            expected: (2, 2),
            found: (3, 3)
        }
    );
    assert_eq!(
        Gaussian::full(means.clone(), vec![Mat::zeros(2, 3), eye.clone()]).unwrap_err(),
        ModelError::WrongShape {
            what: "covariance",
            component: Some(0),
            expected: (2, 2),
            found: (2, 3)
        }
    );
    assert_eq!(
        Gaussian::tied(means.clone(), Mat::identity(3, 3)).unwrap_err(),
        ModelError::WrongShape {
            what: "tied covariance",
            component: None,
            expected: (2, 2),
            found: (3, 3)
        }
    );
    assert_eq!(
        Gaussian::diag(means.clone(), Mat::from_fn(2, 3, |_, _| T::one())).unwrap_err(),
        ModelError::WrongShape {
            what: "variances",
            component: None,
            expected: (2, 2),
            found: (2, 3)
        }
    );
    assert_eq!(
        Gaussian::diag(means.clone(), Mat::from_fn(1, 2, |_, _| T::one())).unwrap_err(),
        ModelError::WrongShape {
            what: "variances",
            component: None,
            expected: (2, 2),
            found: (1, 2)
        }
    );
    assert_eq!(
        Gaussian::spherical(means.clone(), vec![T::one(); 3]).unwrap_err(),
        ModelError::WrongCount {
            what: "variances",
            expected: 2,
            found: 3
        }
    );

    // Non-symmetric covariance (full and tied) names the entries.
    let ns = mat![[c(2.0), c(0.5)], [c(0.1), c(2.0)]];
    match Gaussian::full(means.clone(), vec![eye.clone(), ns.clone()]).unwrap_err() {
        ModelError::NotSymmetric {
            component,
            row,
            col,
            upper,
            lower,
        } => {
            assert_eq!((component, row, col), (Some(1), 0, 1));
            assert_eq!((upper, lower), (c(0.5).as_f64(), c(0.1).as_f64()));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        Gaussian::tied(means.clone(), ns).unwrap_err(),
        ModelError::NotSymmetric {
            component: None,
            ..
        }
    ));
    // Asymmetry at the rounding level is accepted and symmetrized.
    let nearly = mat![
        [c(2.0), c(0.5)],
        [c(0.5) * (T::one() + T::epsilon()), c(2.0)]
    ];
    let g = Gaussian::full(means.clone(), vec![eye.clone(), nearly]).unwrap();
    let m = g.covariance_matrix(1);
    assert_eq!(m[(0, 1)], m[(1, 0)]);

    // Not positive definite (full and tied), and numerically singular.
    let indefinite = mat![[c(1.0), c(2.0)], [c(2.0), c(1.0)]];
    assert_eq!(
        Gaussian::full(means.clone(), vec![eye.clone(), indefinite.clone()]).unwrap_err(),
        ModelError::NotPositiveDefinite {
            component: Some(1),
            source: LinalgError::NotPositiveDefinite { pivot: 1 }
        }
    );
    assert_eq!(
        Gaussian::tied(means.clone(), indefinite).unwrap_err(),
        ModelError::NotPositiveDefinite {
            component: None,
            source: LinalgError::NotPositiveDefinite { pivot: 1 }
        }
    );
    let negative = mat![[c(-1.0), c(0.0)], [c(0.0), c(1.0)]];
    assert!(matches!(
        Gaussian::full(means.clone(), vec![negative, eye.clone()]).unwrap_err(),
        ModelError::NotPositiveDefinite {
            component: Some(0),
            source: LinalgError::NotPositiveDefinite { pivot: 0 }
        }
    ));
    let singular = mat![[T::one(), T::one()], [T::one(), T::one() + T::epsilon()]];
    assert!(matches!(
        Gaussian::full(means.clone(), vec![eye.clone(), singular]).unwrap_err(),
        ModelError::NotPositiveDefinite {
            component: Some(1),
            source: LinalgError::IllConditioned { pivot: 1, .. }
        }
    ));
    let zero = Mat::<T>::zeros(2, 2);
    assert!(matches!(
        Gaussian::tied(means.clone(), zero).unwrap_err(),
        ModelError::NotPositiveDefinite {
            component: None,
            ..
        }
    ));
    // Non-finite covariance entries.
    let mut inf = eye.clone();
    inf[(1, 1)] = T::infinity();
    assert!(matches!(
        Gaussian::full(means.clone(), vec![eye.clone(), inf]).unwrap_err(),
        ModelError::NonFiniteParameter { index: 1, .. }
    ));

    // Non-positive and non-finite variances (diag and spherical).
    for bad in [T::zero(), c(-1.0), T::nan(), T::infinity(), c(-0.0)] {
        let mut v = Mat::<T>::from_fn(2, 2, |_, _| T::one());
        v[(1, 0)] = bad;
        match Gaussian::diag(means.clone(), v).unwrap_err() {
            ModelError::InvalidVariance {
                component,
                feature,
                value,
            } => {
                assert_eq!((component, feature), (1, 0), "{bad}");
                assert!(value.is_nan() || value == bad.as_f64());
            }
            other => panic!("diag {bad}: {other:?}"),
        }
        match Gaussian::spherical(means.clone(), vec![T::one(), bad]).unwrap_err() {
            ModelError::InvalidVariance {
                component, feature, ..
            } => assert_eq!((component, feature), (1, 0), "{bad}"),
            other => panic!("spherical {bad}: {other:?}"),
        }
    }

    // Good input of every type builds.
    for cv in [
        Covariances::Full(vec![eye.clone(); 2]),
        Covariances::Diag(Mat::from_fn(2, 2, |_, _| T::one())),
        Covariances::Spherical(vec![T::one(); 2]),
        Covariances::Tied(eye.clone()),
    ] {
        let ct = cv.covariance_type();
        let g = Gaussian::new(means.clone(), cv.clone()).unwrap();
        assert_eq!(g.covariance_type(), ct);
        assert_eq!(g.covariances(), &cv);
        assert_eq!((g.n_components(), g.dim()), (2, 2));
        assert_eq!(g.family(), "gaussian");
        assert_eq!(g.mean(1), &[T::one(), c(2.0)]);
        for k in 0..2 {
            assert_eq!(g.covariance_matrix(k), eye);
        }
    }
}

#[test]
fn gaussian_bad_inputs_f64() {
    gaussian_bad_inputs::<f64>();
}

#[test]
fn gaussian_bad_inputs_f32() {
    gaussian_bad_inputs::<f32>();
}

fn laplace_bad_inputs<T: Scalar>() {
    let locs = Mat::<T>::from_fn(3, 2, |k, j| T::c((k * 2 + j) as f64));
    assert_eq!(
        Laplace::spherical(Mat::<T>::zeros(0, 2), vec![]).unwrap_err(),
        ModelError::NoComponents
    );
    assert_eq!(
        Laplace::spherical(Mat::<T>::zeros(1, 0), vec![T::one()]).unwrap_err(),
        ModelError::NoDimensions
    );
    let mut bad = locs.clone();
    bad[(2, 1)] = T::neg_infinity();
    assert!(matches!(
        Laplace::spherical(bad, vec![T::one(); 3]).unwrap_err(),
        ModelError::NonFiniteParameter {
            what: "locations",
            component: 2,
            index: 1,
            ..
        }
    ));
    assert_eq!(
        Laplace::spherical(locs.clone(), vec![T::one(); 2]).unwrap_err(),
        ModelError::WrongCount {
            what: "scales",
            expected: 3,
            found: 2
        }
    );
    assert_eq!(
        Laplace::per_dimension(locs.clone(), Mat::from_fn(3, 3, |_, _| T::one())).unwrap_err(),
        ModelError::WrongShape {
            what: "scales",
            component: None,
            expected: (3, 2),
            found: (3, 3)
        }
    );
    for bad in [T::zero(), T::c(-2.0), T::nan(), T::infinity(), T::c(-0.0)] {
        let mut b = Mat::<T>::from_fn(3, 2, |_, _| T::one());
        b[(2, 1)] = bad;
        match Laplace::per_dimension(locs.clone(), b).unwrap_err() {
            ModelError::InvalidScale {
                component,
                feature,
                value,
            } => {
                assert_eq!((component, feature), (2, 1));
                assert!(value.is_nan() || value == bad.as_f64());
            }
            other => panic!("{bad}: {other:?}"),
        }
        match Laplace::spherical(locs.clone(), vec![T::one(), bad, T::one()]).unwrap_err() {
            ModelError::InvalidScale {
                component, feature, ..
            } => assert_eq!((component, feature), (1, 0)),
            other => panic!("{bad}: {other:?}"),
        }
    }
    // A subnormal scale whose inverse overflows is refused too.
    let tiny = T::min_positive_value() / T::c(1e3);
    assert!(matches!(
        Laplace::spherical(locs.clone(), vec![T::one(), T::one(), tiny]).unwrap_err(),
        ModelError::InvalidScale { component: 2, .. }
    ));
    // Good input.
    let l = Laplace::new(locs.clone(), LaplaceScales::Spherical(vec![T::c(0.5); 3])).unwrap();
    assert_eq!((l.n_components(), l.dim(), l.family()), (3, 2, "laplace"));
    assert_eq!(l.location(2), &[T::c(4.0), T::c(5.0)]);
    assert_eq!(l.scale(1, 1), T::c(0.5));
    assert_eq!(l.locations(), locs.as_ref());
}

#[test]
fn laplace_bad_inputs_f64() {
    laplace_bad_inputs::<f64>();
}

#[test]
fn laplace_bad_inputs_f32() {
    laplace_bad_inputs::<f32>();
}

#[test]
fn feature_names_must_match_dimension() {
    let m = Mixture::new(vec![0.5, 0.5], g2::<f64>()).unwrap();
    assert_eq!(
        m.clone()
            .with_feature_names(vec!["a".into(), "b".into()])
            .unwrap_err(),
        ModelError::FeatureNames {
            expected: 3,
            found: 2
        }
    );
    let named = m
        .with_feature_names(vec!["a".into(), "b".into(), "c".into()])
        .unwrap();
    assert_eq!(named.feature_names().unwrap()[2], "c");
}

#[test]
fn wrong_data_dimension_is_a_typed_error() {
    for fam in FAMILIES {
        let m = random_model::<f64>(fam, 2, 3, 5);
        for d in [1, 2, 4] {
            let x = random_points::<f64>(10, d, -1.0, 1.0, 1);
            let want = DataError::DimensionMismatch {
                expected: 3,
                found: d,
            };
            let check = |r: Result<(), DataError>| assert_eq!(r.unwrap_err(), want, "{fam:?}");
            match &m {
                Model::G(m) => {
                    check(m.log_prob(&x).map(drop));
                    check(m.responsibilities(&x).map(drop));
                    check(m.log_prob_and_responsibilities(&x).map(drop));
                    check(m.weighted_log_prob(&x).map(drop));
                    check(m.predict(&x).map(drop));
                    check(m.score(&x).map(drop));
                }
                Model::L(m) => {
                    check(m.log_prob(&x).map(drop));
                    check(m.responsibilities(&x).map(drop));
                    check(m.log_prob_and_responsibilities(&x).map(drop));
                    check(m.weighted_log_prob(&x).map(drop));
                    check(m.predict(&x).map(drop));
                    check(m.score(&x).map(drop));
                }
            }
        }
    }
}

fn predict_is_argmax<T: Scalar>() {
    for (s, fam) in FAMILIES.iter().enumerate() {
        for (k, d) in [(1, 2), (3, 2), (5, 4)] {
            let m = random_model::<T>(*fam, k, d, 40 + s as u64 * 10 + k as u64);
            // More than one chunk of rows.
            let x = random_points::<T>(1300, d, -6.0, 6.0, 3 + s as u64);
            let labels = m.predict(&x);
            let resp = m.responsibilities(&x);
            let wlp = m.weighted_log_prob(&x);
            assert_eq!(labels.len(), 1300);
            for i in 0..1300 {
                // argmax of the weighted log-probabilities, lower index on ties.
                let mut best = 0;
                for c in 1..k {
                    if wlp[(i, c)] > wlp[(i, best)] {
                        best = c;
                    }
                }
                assert_eq!(labels[i], best, "{fam:?} row {i}");
                // ... which is the argmax of the responsibilities.
                for c in 0..k {
                    assert!(
                        resp[(i, c)] <= resp[(i, labels[i])],
                        "{fam:?} row {i}: resp {c} > resp of label"
                    );
                }
            }
        }
    }
}

#[test]
fn predict_is_argmax_of_responsibilities_f64() {
    predict_is_argmax::<f64>();
}

#[test]
fn predict_is_argmax_of_responsibilities_f32() {
    predict_is_argmax::<f32>();
}

#[test]
fn predict_on_ties_takes_the_lower_index() {
    let g = Gaussian::spherical(mat![[-1.0_f64], [1.0], [1.0]], vec![1.0; 3]).unwrap();
    let m = Mixture::new(vec![0.25, 0.375, 0.375], g).unwrap();
    let x = Dataset::from_rows(&[[0.0], [5.0], [-5.0]]).unwrap();
    assert_eq!(m.predict(&x).unwrap(), vec![1, 1, 0]);
}

/// scikit-learn's `GaussianMixture._n_parameters`.
fn sklearn_n_parameters(ct: Covariance, k: usize, d: usize) -> usize {
    let cov = match ct {
        Covariance::Full => k * d * (d + 1) / 2,
        Covariance::Diag => k * d,
        Covariance::Spherical => k,
        _ => d * (d + 1) / 2,
    };
    cov + k * d + k - 1
}

#[test]
fn n_parameters_match_scikit_learn() {
    // Hand-computed values of sklearn's formula.
    assert_eq!(sklearn_n_parameters(Covariance::Full, 3, 4), 44);
    assert_eq!(sklearn_n_parameters(Covariance::Diag, 3, 4), 26);
    assert_eq!(sklearn_n_parameters(Covariance::Spherical, 3, 4), 17);
    assert_eq!(sklearn_n_parameters(Covariance::Tied, 3, 4), 24);
    for k in [1, 2, 3, 7] {
        for d in [1, 2, 3, 5, 10] {
            for fam in FAMILIES {
                let m = random_model::<f64>(fam, k, d, (k * 31 + d) as u64);
                let (n, free) = match &m {
                    Model::G(m) => (m.n_parameters(), m.components().n_free_parameters()),
                    Model::L(m) => (m.n_parameters(), m.components().n_free_parameters()),
                };
                assert_eq!(n, free + k - 1);
                let want = match fam {
                    Family::Gauss(ct) => sklearn_n_parameters(ct, k, d),
                    // Location and scale per dimension.
                    Family::LaplaceDiag => k * d + k * d + k - 1,
                    Family::LaplaceSpherical => k * d + k + k - 1,
                };
                assert_eq!(n, want, "{fam:?} k={k} d={d}");
            }
        }
    }
}

#[test]
fn covariance_type_names() {
    for ct in Covariance::SKLEARN {
        assert_eq!(ct.as_str().parse::<Covariance>().unwrap(), ct);
        assert_eq!(ct.to_string(), ct.as_str());
    }
    assert!(matches!(
        "Full".parse::<Covariance>().unwrap_err(),
        ModelError::InvalidParameter {
            name: "covariance",
            ..
        }
    ));
}
