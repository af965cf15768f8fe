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
                let f = GaussianMixture::params::<T>(k)
                    .covariance(c)
                    .seed(s as u64)
                    .fit(&data)
                    .unwrap_or_else(|e| panic!("{} set {s} {c} k={k}: {e}", T::NAME));
                assert_valid_gaussian(&f.model);
                assert!(f.report.log_likelihood.is_finite());
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

/// The re-seeding rule: the first collapsed component moves to the least
/// likely row of positive weight under the model of the E-step, with weight
/// `1/K` (the others scaled to keep the sum) and the fallback variance, the
/// data's variance shrunk by `K^(2/D)` plus the ridge; later ones to random
/// rows of positive weight.
fn reseeding_rule<T: Scalar>() {
    // Two clusters, one row of positive weight 12 units above them (the least
    // likely one) and 200 rows of weight 0 even farther away, which must never
    // be chosen.
    let mut rows = two_clusters();
    rows.push(vec![4.0, 12.0]);
    let mut w = vec![1.0; rows.len()];
    for i in 0..200 {
        rows.push(vec![f64::from(i) * 0.25 - 25.0, 40.0]);
        w.push(0.0);
    }
    let data = weighted::<T>(&rows, &w);
    let positive: Vec<Vec<f64>> = seen::<T>(&rows)
        .into_iter()
        .zip(&w)
        .filter(|&(_, &w)| w > 0.0)
        .map(|(r, _)| r)
        .collect();
    let worst = seen::<T>(&rows)[80].clone();
    // The fallback variance, from the rows of positive weight (the unbiased
    // variance, with these unit weights).
    let n = positive.len() as f64;
    let var: Vec<f64> = (0..2)
        .map(|j| {
            let m = positive.iter().map(|r| r[j]).sum::<f64>() / n;
            positive.iter().map(|r| (r[j] - m).powi(2)).sum::<f64>() / (n - 1.0)
        })
        .collect();

    // One lost component, one iteration: the model after the repair.
    let start = start_with_a_lost_component::<T>();
    for c in [Covariance::Diag, Covariance::Full, Covariance::Spherical] {
        let what = format!("{} {c}", T::NAME);
        let f = GaussianMixture::params::<T>(3)
            .covariance(c)
            .max_iter(1)
            .fit_from(&start, &data)
            .unwrap();
        assert_eq!(f.report.degeneracies.len(), 1, "{what}");
        assert_eq!(f.report.degeneracies[0].action, DegeneracyAction::Reseeded);
        assert_eq!(
            means(&f.model)[2],
            worst,
            "{what}: re-seeded at the worst row"
        );
        let weights: Vec<f64> = f.model.weights().iter().map(|v| v.as_f64()).collect();
        assert!(
            (weights[2] - 1.0 / 3.0).abs() <= 4.0 * eps::<T>(),
            "{what}: {weights:?}"
        );
        let total: f64 = weights.iter().sum();
        assert!(
            (total - 1.0).abs() <= 4.0 * eps::<T>(),
            "{what}: {weights:?}"
        );
        // K^(2/D) = 3 in two dimensions; the default ridge is 1e-6.
        let want: Vec<f64> = var.iter().map(|v| v / 3.0 + 1e-6).collect();
        let cov = &cov_matrices(&f.model)[2];
        let tol = 1e3 * eps::<T>();
        if c == Covariance::Spherical {
            let s = (want[0] + want[1]) / 2.0;
            assert!(
                (cov[(0, 0)] - s).abs() <= tol * s,
                "{what}: {:?} vs {s}",
                cov
            );
        } else {
            for j in 0..2 {
                let got = cov[(j, j)];
                assert!(
                    (got - want[j]).abs() <= tol * want[j],
                    "{what}: {got} vs {}",
                    want[j]
                );
            }
            assert_eq!(cov[(0, 1)], 0.0, "{what}");
        }
    }

    // Two lost components: the second goes to a random row of positive weight
    // (200 of the 281 rows have weight 0), different for different seeds.
    let start: mixtures_dist::GaussianMixtureModel<T> = gaussian_model(
        &[0.4, 0.4, 0.1, 0.1],
        &[
            vec![0.5, 0.0],
            vec![7.5, 0.0],
            vec![1e3, 1e3],
            vec![-1e3, 1e3],
        ],
        spherical(&[1.0; 4]),
    );
    let mut random_rows = Vec::new();
    for seed in 0..20 {
        let f = GaussianMixture::params::<T>(4)
            .covariance(Covariance::Diag)
            .max_iter(1)
            .seed(seed)
            .fit_from(&start, &data)
            .unwrap();
        let what = format!("{} seed {seed}", T::NAME);
        assert_eq!(f.report.degeneracies.len(), 2, "{what}");
        let m = means(&f.model);
        let (first, second) = (
            f.report.degeneracies[0].component,
            f.report.degeneracies[1].component,
        );
        assert_eq!(m[first], worst, "{what}: first re-seed at the worst row");
        assert!(
            positive.contains(&m[second]),
            "{what}: {:?} has weight 0",
            m[second]
        );
        random_rows.push(m[second].clone());
    }
    random_rows.dedup();
    assert!(random_rows.len() > 5, "{random_rows:?}");
}

#[test]
fn reseeding_follows_the_rule_f64() {
    reseeding_rule::<f64>();
}

#[test]
fn reseeding_follows_the_rule_f32() {
    reseeding_rule::<f32>();
}
