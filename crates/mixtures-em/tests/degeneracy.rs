//! Degenerate components: a component that collapses is re-seeded (default) or
//! dropped, and the report says so; a component that keeps degenerating is
//! dropped after `MAX_RESEEDS` re-seeds; identical points give a typed error
//! with advice unless regularization makes them fittable; no NaN reaches a model.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::*;
use mixtures_core::Scalar;
use mixtures_dist::{Laplace, Mixture};
use mixtures_em::{
    Covariance, DegeneracyAction, DegeneracyPolicy, DegeneracyReason, FitError, GaussianMixture,
    LaplaceMixture, MAX_RESEEDS,
};

fn two_clusters() -> Vec<Vec<f64>> {
    blobs(
        61,
        &[vec![0.0, 0.0], vec![8.0, 0.0]],
        &[1.0, 1.0],
        &[40, 40],
    )
    .0
}

/// Three components, the third a thousand units from every point: no point
/// gives it any responsibility, so it collapses in the first M-step.
fn start_with_a_lost_component<T: Scalar>() -> mixtures_dist::GaussianMixtureModel<T> {
    gaussian_model(
        &[0.4, 0.4, 0.2],
        &[vec![0.5, 0.0], vec![7.5, 0.0], vec![1e3, 1e3]],
        spherical(&[1.0, 1.0, 1.0]),
    )
}

fn collapse_is_reseeded_or_dropped<T: Scalar>() {
    let data = dataset::<T>(&two_clusters());
    let start = start_with_a_lost_component::<T>();
    for c in Covariance::ALL {
        let what = format!("{} {c}", T::NAME);
        // Default policy: re-seed.
        let fitted = GaussianMixture::params::<T>(3)
            .covariance(c)
            .fit_from(&start, &data)
            .unwrap();
        assert_valid_gaussian(&fitted.model);
        assert_eq!(fitted.model.n_components(), 3, "{what}");
        let first = &fitted.report.degeneracies[0];
        assert_eq!(
            (first.restart, first.iteration, first.component),
            (0, 1, 2),
            "{what}: {first:?}"
        );
        assert_eq!(first.action, DegeneracyAction::Reseeded, "{what}");
        match first.reason {
            DegeneracyReason::Collapsed { weight } => assert!(weight < 1e-6, "{what}: {weight}"),
            ref other => panic!("{what}: {other:?}"),
        }
        // The re-seeded component came back among the data.
        assert!(
            means(&fitted.model)
                .iter()
                .all(|m| m.iter().all(|v| v.abs() < 20.0)),
            "{what}: {:?}",
            means(&fitted.model)
        );
        assert!(fitted.report.log_likelihood.is_finite(), "{what}");

        // Drop policy: the model ends with two components.
        let dropped = GaussianMixture::params::<T>(3)
            .covariance(c)
            .on_degenerate(DegeneracyPolicy::Drop)
            .fit_from(&start, &data)
            .unwrap();
        assert_valid_gaussian(&dropped.model);
        assert_eq!(dropped.model.n_components(), 2, "{what}");
        let first = &dropped.report.degeneracies[0];
        assert_eq!(first.action, DegeneracyAction::Dropped, "{what}");
        assert_eq!((first.iteration, first.component), (1, 2), "{what}");
        let (dist, _) = match_rows(&means(&dropped.model), &[vec![0.0, 0.0], vec![8.0, 0.0]]);
        assert!(dist < 0.5, "{what}: {:?}", means(&dropped.model));
        // The parameter count follows the components that are left.
        let free = match c {
            Covariance::Full => 2 * 3,
            Covariance::Tied => 3,
            Covariance::Diag => 2 * 2,
            Covariance::TiedDiag => 2,
            Covariance::Spherical => 2,
            _ => 1,
        };
        assert_eq!(dropped.report.n_parameters, free + 2 * 2 + 1, "{what}");
    }
}

#[test]
fn collapsed_component_is_reseeded_or_dropped_f64() {
    collapse_is_reseeded_or_dropped::<f64>();
}

#[test]
fn collapsed_component_is_reseeded_or_dropped_f32() {
    collapse_is_reseeded_or_dropped::<f32>();
}

fn laplace_collapse<T: Scalar>() {
    let data = dataset::<T>(&two_clusters());
    let start = Mixture::new(
        vec![T::c(0.4), T::c(0.4), T::c(0.2)],
        Laplace::spherical(
            mat::<T>(&[vec![0.5, 0.0], vec![7.5, 0.0], vec![1e4, 1e4]]),
            vec![T::one(); 3],
        )
        .unwrap(),
    )
    .unwrap();
    let fitted = LaplaceMixture::params::<T>(3)
        .fit_from(&start, &data)
        .unwrap();
    assert_valid_laplace(&fitted.model);
    assert_eq!(fitted.model.n_components(), 3);
    let first = &fitted.report.degeneracies[0];
    assert_eq!(
        (first.iteration, first.component, first.action),
        (1, 2, DegeneracyAction::Reseeded)
    );
    let dropped = LaplaceMixture::params::<T>(3)
        .on_degenerate(DegeneracyPolicy::Drop)
        .fit_from(&start, &data)
        .unwrap();
    assert_valid_laplace(&dropped.model);
    assert_eq!(dropped.model.n_components(), 2);
    assert_eq!(
        dropped.report.degeneracies[0].action,
        DegeneracyAction::Dropped
    );
}

#[test]
fn collapsed_laplace_component_is_reseeded_or_dropped_f64() {
    laplace_collapse::<f64>();
}

#[test]
fn collapsed_laplace_component_is_reseeded_or_dropped_f32() {
    laplace_collapse::<f32>();
}

/// A blob and twenty copies of one point, without regularization: the
/// component that settles on the copies is singular at every visit. It is
/// re-seeded `MAX_RESEEDS` times, then dropped, and the fit goes on with the
/// rest.
fn repeated_degeneracy_ends_in_a_drop<T: Scalar>() {
    let (mut rows, _) = blobs(62, &[vec![0.0, 0.0]], &[1.0], &[40]);
    rows.extend(std::iter::repeat_n(vec![8.0, 8.0], 20));
    let data = dataset::<T>(&rows);
    for c in [Covariance::Full, Covariance::Diag, Covariance::Spherical] {
        let what = format!("{} {c}", T::NAME);
        let fitted = GaussianMixture::params::<T>(2)
            .covariance(c)
            .reg_covar(0.0)
            .seed(1)
            .fit(&data)
            .unwrap();
        assert_valid_gaussian(&fitted.model);
        let ev = &fitted.report.degeneracies;
        let reseeds = ev
            .iter()
            .filter(|e| e.action == DegeneracyAction::Reseeded)
            .count();
        let drops: Vec<_> = ev
            .iter()
            .filter(|e| e.action == DegeneracyAction::Dropped)
            .collect();
        assert_eq!(reseeds, MAX_RESEEDS, "{what}: {ev:?}");
        assert_eq!(drops.len(), 1, "{what}: {ev:?}");
        assert!(
            ev.iter().all(|e| e.component == drops[0].component),
            "{what}"
        );
        assert_eq!(fitted.model.n_components(), 1, "{what}");
        // Events are in iteration order.
        assert!(ev.windows(2).all(|w| w[0].iteration <= w[1].iteration));
    }
}

#[test]
fn repeated_degeneracy_ends_in_a_drop_f64() {
    repeated_degeneracy_ends_in_a_drop::<f64>();
}

#[test]
fn repeated_degeneracy_ends_in_a_drop_f32() {
    repeated_degeneracy_ends_in_a_drop::<f32>();
}

/// Identical points: without regularization nothing can be fitted and the
/// error says what to try; the default ridge (or the Laplace scale floor) makes
/// them fittable, with the variance equal to the ridge.
fn identical_points<T: Scalar>() {
    let rows = vec![vec![1.5, -2.0, 3.0]; 12];
    let data = dataset::<T>(&rows);
    for c in Covariance::ALL {
        let what = format!("{} {c}", T::NAME);
        match GaussianMixture::params::<T>(1)
            .covariance(c)
            .reg_covar(0.0)
            .fit(&data)
        {
            Err(e @ FitError::Degenerate { .. }) => {
                let msg = e.to_string();
                assert!(msg.contains("reg_covar"), "{what}: {msg}");
            }
            other => panic!("{what}: expected a Degenerate error, got {other:?}"),
        }
        let fitted = GaussianMixture::params::<T>(1)
            .covariance(c)
            .fit(&data)
            .unwrap();
        assert_valid_gaussian(&fitted.model);
        assert!(fitted.report.degeneracies.is_empty(), "{what}");
        assert!(fitted.report.converged, "{what}");
        assert_eq!(means(&fitted.model)[0], seen::<T>(&rows)[0], "{what}");
        let cov = &cov_matrices(&fitted.model)[0];
        let want = T::c(1e-6).as_f64();
        for j in 0..3 {
            assert!(
                (cov[(j, j)] - want).abs() <= 10.0 * eps::<T>() * want,
                "{what}"
            );
        }
    }
    // Laplace: the scale floor (default 1e-6) plays the ridge's part.
    let fitted = LaplaceMixture::params::<T>(1).fit(&data).unwrap();
    assert_valid_laplace(&fitted.model);
    for b in flat_scales(fitted.model.components().scales()) {
        assert_eq!(b, T::c(1e-6).as_f64());
    }
    match LaplaceMixture::params::<T>(1).scale_floor(0.0).fit(&data) {
        Err(FitError::Degenerate { .. }) => {}
        other => panic!("{}: laplace without floor: {other:?}", T::NAME),
    }
    // More components than distinct points is refused before any work.
    match GaussianMixture::params::<T>(2).fit(&data) {
        Err(FitError::TooFewDistinctPoints { distinct: 1, k: 2 }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn identical_points_error_or_fit_with_regularization_f64() {
    identical_points::<f64>();
}

#[test]
fn identical_points_error_or_fit_with_regularization_f32() {
    identical_points::<f32>();
}

/// Extreme but valid data never put NaN in a model: huge offsets, tiny and
/// huge scales, duplicated rows.
fn no_nan<T: Scalar>() {
    let base = two_clusters();
    let scaled = |s: f64, off: f64| -> Vec<Vec<f64>> {
        base.iter()
            .map(|r| r.iter().map(|v| off + s * v).collect())
            .collect()
    };
    let mut dup = base.clone();
    dup.extend(base.iter().take(10).cloned());
    dup.extend(base.iter().take(10).cloned());
    let sets = [scaled(1.0, 1e4), scaled(1e-3, 0.0), scaled(1e3, -5e3), dup];
    for (s, rows) in sets.iter().enumerate() {
        let data = dataset::<T>(rows);
        for c in Covariance::ALL {
            for k in [1, 3] {
                if let Ok(f) = GaussianMixture::params::<T>(k)
                    .covariance(c)
                    .seed(s as u64)
                    .fit(&data)
                {
                    assert_valid_gaussian(&f.model);
                    assert!(f.report.log_likelihood.is_finite());
                } else if T::NAME == "f64" {
                    panic!("{} set {s} {c} k={k}: f64 fit failed", T::NAME);
                }
            }
        }
        let f = LaplaceMixture::params::<T>(3).fit(&data).unwrap();
        assert_valid_laplace(&f.model);
    }
}

#[test]
fn no_nan_reaches_the_model_f64() {
    no_nan::<f64>();
}

#[test]
fn no_nan_reaches_the_model_f32() {
    no_nan::<f32>();
}
