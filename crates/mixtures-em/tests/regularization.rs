//! Regularization: the ridge (`reg_covar`, default 1e-6), shrinkage towards the
//! diagonal or a scaled identity, the variance floor, and maximum a posteriori
//! estimation under mclust's conjugate prior.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use faer::Mat;
use mixtures_core::{Dataset, Scalar};
use mixtures_dist::Covariances;
use mixtures_em::{
    ConjugatePrior, Control, Covariance, FitError, GaussianMixture, GaussianParams, Iteration,
    ShrinkTarget, Shrinkage, VarianceFloor,
};

const A: [[f64; 3]; 3] = [[1.0, 0.0, 0.0], [0.8, 0.6, 0.0], [-0.5, 0.3, 0.4]];

fn correlated_rows(n: usize, seed: u64) -> Vec<Vec<f64>> {
    let a: Vec<Vec<f64>> = A.iter().map(|r| r.to_vec()).collect();
    correlated(seed, n, &[2.0, -1.0, 0.5], &a)
}

fn add_diag(m: &Mat<f64>, r: f64) -> Mat<f64> {
    Mat::from_fn(m.nrows(), m.ncols(), |i, j| {
        m[(i, j)] + if i == j { r } else { 0.0 }
    })
}

fn one_component_cov<T: Scalar>(p: GaussianParams<T>, data: &Dataset<T>) -> Mat<f64> {
    let fitted = p.fit(data).unwrap();
    assert_valid_gaussian(&fitted.model);
    cov_matrices(&fitted.model).remove(0)
}

#[test]
fn default_ridge_is_1e_6() {
    let rows = correlated_rows(50, 1);
    let data = dataset::<f64>(&rows);
    for c in Covariance::ALL {
        let plain = one_component_cov(
            GaussianMixture::params(1).covariance(c).reg_covar(0.0),
            &data,
        );
        let default = one_component_cov(GaussianMixture::params(1).covariance(c), &data);
        let d = plain.nrows();
        for i in 0..d {
            for j in 0..d {
                let want = plain[(i, j)] + if i == j { 1e-6 } else { 0.0 };
                assert!(
                    (default[(i, j)] - want).abs() < 1e-14,
                    "{c} ({i}, {j}): {} vs {want}",
                    default[(i, j)]
                );
            }
        }
    }
}

/// `reg_covar` adds exactly to the variances of every constraint, with several
/// components too (compared through one M-step from the same model).
fn ridge_adds_to_diagonal<T: Scalar>() {
    let (rows, _) = blobs(2, &[vec![0.0, 0.0], vec![6.0, 1.0]], &[1.0, 0.5], &[30, 30]);
    let data = dataset::<T>(&rows);
    let model = gaussian_model::<T>(
        &[0.5, 0.5],
        &[vec![0.5, 0.0], vec![5.0, 1.0]],
        spherical(&[2.0, 2.0]),
    );
    for c in Covariance::ALL {
        let step = |r: f64| {
            GaussianMixture::params::<T>(2)
                .covariance(c)
                .reg_covar(r)
                .step(&model, &data)
                .unwrap()
                .1
        };
        let (a, b) = (step(0.0), step(0.25));
        for (x, y) in cov_matrices(&a).iter().zip(&cov_matrices(&b)) {
            let diff = max_diff(&add_diag(x, 0.25), y);
            assert!(diff <= 10.0 * eps::<T>(), "{} {c}: {diff:e}", T::NAME);
        }
        assert_eq!(
            means(&a),
            means(&b),
            "{} {c}: the ridge moved the means",
            T::NAME
        );
    }
}

#[test]
fn ridge_adds_to_the_diagonal_f64() {
    ridge_adds_to_diagonal::<f64>();
}

#[test]
fn ridge_adds_to_the_diagonal_f32() {
    ridge_adds_to_diagonal::<f32>();
}

fn shrinkage<T: Scalar>() {
    let rows = correlated_rows(60, 3);
    let data = dataset::<T>(&rows);
    let s = weighted_cov(&seen::<T>(&rows), &vec![1.0; rows.len()]);
    let reg = 1e-3;
    let base = add_diag(&s, reg);
    let d = 3;
    let mean_var = (0..d).map(|j| base[(j, j)]).sum::<f64>() / d as f64;
    let tol = 100.0 * eps::<T>() * max_abs(&base);
    for target in [ShrinkTarget::Diagonal, ShrinkTarget::ScaledIdentity] {
        for lam in [0.0, 0.3, 1.0] {
            let t = |i: usize, j: usize| match (target, i == j) {
                (_, false) => 0.0,
                (ShrinkTarget::Diagonal, true) => base[(i, i)],
                (ShrinkTarget::ScaledIdentity, true) => mean_var,
            };
            let want = Mat::from_fn(d, d, |i, j| (1.0 - lam) * base[(i, j)] + lam * t(i, j));
            let what = format!("{} {target:?} {lam}", T::NAME);
            for c in [Covariance::Full, Covariance::Tied] {
                let got = one_component_cov(
                    GaussianMixture::params::<T>(1)
                        .covariance(c)
                        .reg_covar(reg)
                        .regularizer(Shrinkage {
                            coefficient: lam,
                            target,
                        }),
                    &data,
                );
                assert!(
                    max_diff(&got, &want) <= tol,
                    "{what} {c}: {got:?} vs {want:?}"
                );
                if lam == 1.0 {
                    // Coefficient 1 gives the target itself: no correlation left.
                    for i in 0..d {
                        for j in 0..d {
                            if i != j {
                                assert_eq!(got[(i, j)], 0.0, "{what} {c}");
                            }
                        }
                    }
                }
            }
            // Diagonal covariances: only the scaled identity pulls them.
            let got = one_component_cov(
                GaussianMixture::params::<T>(1)
                    .covariance(Covariance::Diag)
                    .reg_covar(reg)
                    .regularizer(Shrinkage {
                        coefficient: lam,
                        target,
                    }),
                &data,
            );
            let want_diag = Mat::from_fn(d, d, |i, j| if i == j { want[(i, i)] } else { 0.0 });
            assert!(
                max_diff(&got, &want_diag) <= tol,
                "{what} diag: {got:?} vs {want_diag:?}"
            );
            // Spherical covariances equal both targets already.
            let sph = one_component_cov(
                GaussianMixture::params::<T>(1)
                    .covariance(Covariance::Spherical)
                    .reg_covar(reg)
                    .regularizer(Shrinkage {
                        coefficient: lam,
                        target,
                    }),
                &data,
            );
            assert!((sph[(0, 0)] - mean_var).abs() <= tol, "{what} spherical");
        }
    }
}

#[test]
fn shrinkage_interpolates_towards_its_target_f64() {
    shrinkage::<f64>();
}

#[test]
fn shrinkage_interpolates_towards_its_target_f32() {
    shrinkage::<f32>();
}

/// Shrinkage of several full covariances with coefficient 1 towards the
/// diagonal leaves diagonal matrices, each with its own variances.
#[test]
fn full_shrinkage_to_diagonal_with_several_components() {
    let (rows, _) = blobs(
        4,
        &[vec![0.0, 0.0, 0.0], vec![8.0, 8.0, 0.0]],
        &[1.0, 2.0],
        &[40, 40],
    );
    let data = dataset::<f64>(&rows);
    let fitted = GaussianMixture::params(2)
        .regularizer(Shrinkage {
            coefficient: 1.0,
            target: ShrinkTarget::Diagonal,
        })
        .fit(&data)
        .unwrap();
    let Covariances::Full(m) = fitted.model.components().covariances() else {
        panic!("full expected");
    };
    for a in m {
        for i in 0..3 {
            for j in 0..3 {
                if i != j {
                    assert_eq!(a[(i, j)], 0.0);
                }
            }
        }
    }
    assert!((m[0][(0, 0)] - m[1][(0, 0)]).abs() > 0.5, "{m:?}");
}

/// A feature with a tiny spread: the floor lifts its variance (or the smallest
/// eigenvalue of a full matrix) and leaves the rest alone.
fn variance_floor<T: Scalar>() {
    let mut r = rng(5);
    let rows: Vec<Vec<f64>> = (0..60)
        .map(|_| {
            let z = normal(&mut r);
            vec![
                3.0 + z + 0.3 * normal(&mut r),
                -1.0 + 0.5 * z + normal(&mut r),
                0.01 * normal(&mut r),
            ]
        })
        .collect();
    let data = dataset::<T>(&rows);
    let s = weighted_cov(&seen::<T>(&rows), &vec![1.0; rows.len()]);
    let floor = 0.01;
    let reg = 1e-6;
    let base = add_diag(&s, reg);
    assert!(base[(2, 2)] < floor / 10.0);
    let tol = 1e3 * eps::<T>() * max_abs(&base);
    let fit = |c: Covariance| {
        one_component_cov(
            GaussianMixture::params::<T>(1)
                .covariance(c)
                .reg_covar(reg)
                .regularizer(VarianceFloor(floor)),
            &data,
        )
    };
    // Diagonal: each variance raised to the floor independently.
    for c in [Covariance::Diag, Covariance::TiedDiag] {
        let got = fit(c);
        for j in 0..3 {
            let want = base[(j, j)].max(floor);
            assert!(
                (got[(j, j)] - want).abs() <= tol,
                "{} {c}: variance {j} = {}, want {want}",
                T::NAME,
                got[(j, j)]
            );
        }
    }
    // Full and tied: the eigenvalues are clamped, the eigenvectors kept.
    let want_ev: Vec<f64> = eigenvalues(&base).iter().map(|v| v.max(floor)).collect();
    for c in [Covariance::Full, Covariance::Tied] {
        let got = fit(c);
        let ev = eigenvalues(&got);
        assert!(
            max_diff_slice(&ev, &want_ev) <= tol,
            "{} {c}: eigenvalues {ev:?}, want {want_ev:?}",
            T::NAME
        );
        assert!(ev[0] >= floor - tol, "{} {c}", T::NAME);
    }
    // Spherical: the mean variance is above the floor already.
    let sph = fit(Covariance::Spherical);
    let mean_var = (0..3).map(|j| base[(j, j)]).sum::<f64>() / 3.0;
    assert!((sph[(0, 0)] - mean_var).abs() <= tol, "{}", T::NAME);
    // A floor above every variance sets all of them to the floor.
    let high = one_component_cov(
        GaussianMixture::params::<T>(1)
            .covariance(Covariance::TiedSpherical)
            .regularizer(VarianceFloor(100.0)),
        &data,
    );
    assert!((high[(0, 0)] - 100.0).abs() <= 1e3 * eps::<T>() * 100.0);
}

#[test]
fn variance_floor_is_respected_f64() {
    variance_floor::<f64>();
}

#[test]
fn variance_floor_is_respected_f32() {
    variance_floor::<f32>();
}

/// One-component MAP estimates against Fraley & Raftery (2007) with mclust's
/// default prior: the prior mean is the data mean (so the mean stays the
/// sample mean), `ν = D + 2`, the scale is the unbiased sample covariance (its
/// mean variance for diagonal and spherical structures), `K^(2/D) = 1`.
fn map_one_component<T: Scalar>() {
    let n = 40;
    let rows = correlated_rows(n, 6);
    let data = dataset::<T>(&rows);
    let seen_rows = seen::<T>(&rows);
    let s = weighted_cov(&seen_rows, &vec![1.0; n]);
    let (nf, d) = (n as f64, 3.0);
    let w = Mat::from_fn(3, 3, |i, j| nf * s[(i, j)]);
    let unbiased = Mat::from_fn(3, 3, |i, j| nf * s[(i, j)] / (nf - 1.0));
    let mean_var = (0..3).map(|j| unbiased[(j, j)]).sum::<f64>() / d;
    let dof = d + 2.0;
    let reg = 1e-6;
    let want_full = add_diag(
        &Mat::from_fn(3, 3, |i, j| {
            (w[(i, j)] + unbiased[(i, j)]) / (nf + dof + d + 2.0)
        }),
        reg,
    );
    let want_diag = add_diag(
        &Mat::from_fn(3, 3, |i, j| {
            if i == j {
                (w[(i, i)] + mean_var) / (nf + dof + 3.0)
            } else {
                0.0
            }
        }),
        reg,
    );
    let tr: f64 = (0..3).map(|j| w[(j, j)]).sum();
    let sph = (tr + mean_var) / ((nf + 1.0) * d + dof + 2.0) + reg;
    let want_sph = Mat::from_fn(3, 3, |i, j| if i == j { sph } else { 0.0 });
    let tol = 1e3 * eps::<T>() * max_abs(&s);
    for c in Covariance::ALL {
        let fitted = GaussianMixture::params::<T>(1)
            .covariance(c)
            .prior(ConjugatePrior::default())
            .fit(&data)
            .unwrap();
        assert_valid_gaussian(&fitted.model);
        let got = cov_matrices(&fitted.model).remove(0);
        let want = match c {
            Covariance::Full | Covariance::Tied => &want_full,
            Covariance::Diag | Covariance::TiedDiag => &want_diag,
            _ => &want_sph,
        };
        assert!(
            max_diff(&got, want) <= tol,
            "{} {c}: {got:?} vs {want:?}",
            T::NAME
        );
        let mean = weighted_mean(&seen_rows, &vec![1.0; n]);
        assert!(max_diff_slice(&means(&fitted.model)[0], &mean) <= tol * 10.0);
        // MAP shrinks the covariance: smaller than the ML estimate here.
        let ml = one_component_cov(GaussianMixture::params::<T>(1).covariance(c), &data);
        assert!(
            (0..3).all(|j| got[(j, j)] < ml[(j, j)]),
            "{} {c}: MAP {got:?} vs ML {ml:?}",
            T::NAME
        );
    }
}

#[test]
fn map_one_component_matches_fraley_raftery_f64() {
    map_one_component::<f64>();
}

#[test]
fn map_one_component_matches_fraley_raftery_f32() {
    map_one_component::<f32>();
}

/// A big cluster and a small one of four nearly coplanar points: the ML
/// covariance of the small component is (nearly) singular, the MAP one is
/// well-conditioned; MAP means move towards the prior mean by `κ / (nₖ + κ)`.
fn map_small_sample<T: Scalar>() {
    let (mut rows, _) = blobs(7, &[vec![0.0, 0.0, 0.0]], &[1.0], &[40]);
    for (a, b) in [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)] {
        rows.push(vec![10.0 + a, 10.0 + b, 10.0 + 1e-6 * (a - b)]);
    }
    let data = dataset::<T>(&rows);
    let start = gaussian_model::<T>(
        &[0.9, 0.1],
        &[vec![0.0, 0.0, 0.0], vec![10.5, 10.5, 10.0]],
        spherical(&[1.0, 1.0]),
    );
    let ml = GaussianMixture::params::<T>(2)
        .reg_covar(0.0)
        .max_iter(20)
        .fit_from(&start, &data);
    let map = GaussianMixture::params::<T>(2)
        .reg_covar(0.0)
        .max_iter(20)
        .prior(ConjugatePrior::default())
        .fit_from(&start, &data)
        .unwrap();
    assert_valid_gaussian(&map.model);
    assert!(map.report.degeneracies.is_empty(), "{:?}", map.report);
    assert_eq!(map.model.n_components(), 2);
    let small = nearest_row(&means(&map.model), &[10.5, 10.5, 10.0]);
    let ev = eigenvalues(&cov_matrices(&map.model)[small]);
    let cond = ev[2] / ev[0];
    assert!(
        cond < 1e3 && ev[0] > 1e-3,
        "{}: MAP eigenvalues {ev:?}",
        T::NAME
    );
    // ML: either the small component degenerated (and the report says so) or
    // its covariance is numerically singular.
    match ml {
        Ok(f) => {
            let ill = cov_matrices(&f.model).iter().any(|m| {
                let ev = eigenvalues(m);
                ev[0] <= 1e-8 * ev[2]
            });
            assert!(
                ill || !f.report.degeneracies.is_empty(),
                "{}: ML without regularization should be singular",
                T::NAME
            );
        }
        Err(e) => assert!(matches!(e, FitError::Degenerate { .. }), "{e}"),
    }

    // One M-step from the same model: MAP means are ML means pulled towards
    // the data mean by κ / (nₖ + κ); MAP weights are the ML weights.
    let model = gaussian_model::<T>(
        &[0.9, 0.1],
        &[vec![0.0, 0.0, 0.0], vec![10.5, 10.5, 10.0]],
        spherical(&[1.0, 1.0]),
    );
    let kappa = 0.5;
    let p = GaussianMixture::params::<T>(2);
    let ml = p.step(&model, &data).unwrap().1;
    let map = p
        .clone()
        .prior(ConjugatePrior {
            shrinkage: kappa,
            ..ConjugatePrior::default()
        })
        .step(&model, &data)
        .unwrap()
        .1;
    let mean = weighted_mean(&seen::<T>(&rows), &vec![1.0; rows.len()]);
    let n = rows.len() as f64;
    for c in 0..2 {
        let nk = ml.weights()[c].as_f64() * n;
        let f = kappa / (nk + kappa);
        let want: Vec<f64> = (0..3)
            .map(|j| means(&ml)[c][j] + f * (mean[j] - means(&ml)[c][j]))
            .collect();
        assert!(
            max_diff_slice(&means(&map)[c], &want) <= 1e3 * eps::<T>() * 10.0,
            "{}: component {c}: {:?} vs {want:?}",
            T::NAME,
            means(&map)[c]
        );
        assert!((map.weights()[c].as_f64() - ml.weights()[c].as_f64()).abs() <= 10.0 * eps::<T>());
    }
}

#[test]
fn map_keeps_a_small_component_well_conditioned_f64() {
    map_small_sample::<f64>();
}

#[test]
fn map_keeps_a_small_component_well_conditioned_f32() {
    map_small_sample::<f32>();
}

fn counting_observer() -> (
    Arc<AtomicUsize>,
    impl Fn(&Iteration) -> Control + Send + Sync,
) {
    let count = Arc::new(AtomicUsize::new(0));
    let c = Arc::clone(&count);
    (count, move |_: &Iteration| {
        c.fetch_add(1, Ordering::Relaxed);
        Control::Continue
    })
}

fn rejects(p: GaussianParams<f64>, name: &str) {
    let data = dataset::<f64>(&correlated_rows(30, 8));
    let (count, obs) = counting_observer();
    match p.observer(obs).fit(&data) {
        Err(FitError::InvalidParameter { name: n, .. }) => assert_eq!(n, name),
        other => panic!("{name}: expected InvalidParameter, got {other:?}"),
    }
    assert_eq!(count.load(Ordering::Relaxed), 0, "{name}: work was done");
}

#[test]
fn bad_prior_is_rejected_before_any_work() {
    let p = || GaussianMixture::params::<f64>(2);
    let prior = |f: &dyn Fn(&mut ConjugatePrior)| {
        let mut c = ConjugatePrior::default();
        f(&mut c);
        c
    };
    rejects(
        p().prior(prior(&|c| c.shrinkage = f64::NAN)),
        "prior.shrinkage",
    );
    rejects(p().prior(prior(&|c| c.shrinkage = -1.0)), "prior.shrinkage");
    rejects(p().prior(prior(&|c| c.dof = Some(1.5))), "prior.dof");
    rejects(p().prior(prior(&|c| c.dof = Some(f64::NAN))), "prior.dof");
    rejects(
        p().prior(prior(&|c| c.mean = Some(vec![0.0; 2]))),
        "prior.mean",
    );
    rejects(
        p().prior(prior(&|c| c.mean = Some(vec![0.0, f64::INFINITY, 0.0]))),
        "prior.mean",
    );
    rejects(
        p().prior(prior(&|c| c.scale_factor = 0.0)),
        "prior.scale_factor",
    );
}

#[test]
fn bad_regularizers_are_rejected_before_any_work() {
    let p = || GaussianMixture::params::<f64>(2);
    for lam in [f64::NAN, -0.1, 1.5, f64::INFINITY] {
        rejects(
            p().regularizer(Shrinkage {
                coefficient: lam,
                target: ShrinkTarget::Diagonal,
            }),
            "shrinkage.coefficient",
        );
    }
    for f in [f64::NAN, -1e-3, f64::INFINITY] {
        rejects(p().regularizer(VarianceFloor(f)), "variance_floor");
    }
    for r in [f64::NAN, -1.0, f64::NEG_INFINITY] {
        rejects(p().reg_covar(r), "reg_covar");
    }
}
