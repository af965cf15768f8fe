//! Closed-form checks: a one-component fit is the maximum-likelihood estimate,
//! which is known exactly. A Gaussian gives the (weighted) sample mean and the
//! biased sample covariance under each constraint, plus `reg_covar` on the
//! diagonal; a Laplace gives the weighted median and the mean absolute
//! deviation about it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::*;
use faer::Mat;
use mixtures_core::Scalar;
use mixtures_dist::{Covariance, LaplaceScales};
use mixtures_em::{GaussianMixture, LaplaceMixture};

const OFFSET: [f64; 3] = [5.0, -3.0, 1.0];

fn sample(n: usize, seed: u64) -> Vec<Vec<f64>> {
    let a = vec![
        vec![1.0, 0.0, 0.0],
        vec![0.6, 0.8, 0.0],
        vec![-0.3, 0.4, 0.5],
    ];
    correlated(seed, n, &OFFSET, &a)
}

/// Weights in [0, 3), a few of them exactly zero.
fn sample_weights(n: usize, seed: u64) -> Vec<f64> {
    use rand::Rng;
    let mut r = rng(seed);
    (0..n)
        .map(|i| {
            if i % 7 == 3 {
                0.0
            } else {
                3.0 * r.random::<f64>()
            }
        })
        .collect()
}

/// The covariance a one-component fit must give: the weighted biased sample
/// covariance, reduced to the constraint's structure, plus the ridge.
fn expected_cov(c: Covariance, s: &Mat<f64>, reg: f64) -> Mat<f64> {
    let d = s.nrows();
    let mean_var = (0..d).map(|j| s[(j, j)]).sum::<f64>() / d as f64;
    Mat::from_fn(d, d, |i, j| {
        let v = match c {
            Covariance::Full | Covariance::Tied => s[(i, j)],
            Covariance::Diag | Covariance::TiedDiag => {
                if i == j {
                    s[(i, i)]
                } else {
                    0.0
                }
            }
            _ => {
                if i == j {
                    mean_var
                } else {
                    0.0
                }
            }
        };
        v + if i == j { reg } else { 0.0 }
    })
}

fn expected_type(c: Covariance) -> Covariance {
    match c {
        Covariance::Full => Covariance::Full,
        Covariance::Tied => Covariance::Tied,
        Covariance::Diag | Covariance::TiedDiag => Covariance::Diag,
        _ => Covariance::Spherical,
    }
}

fn single_gaussian<T: Scalar>(weighted_fit: bool) {
    let n = 61;
    let raw = sample(n, 11);
    let rows = seen::<T>(&raw);
    let w = if weighted_fit {
        sample_weights(n, 12)
    } else {
        vec![1.0; n]
    };
    let data = if weighted_fit {
        weighted::<T>(&raw, &w)
    } else {
        dataset::<T>(&raw)
    };
    // Stored weights are rounded to T as well.
    let w: Vec<f64> = w.iter().map(|&v| T::c(v).as_f64()).collect();
    let mean = weighted_mean(&rows, &w);
    let s = weighted_cov(&rows, &w);
    let scale = max_abs(&s);
    for reg in [0.0, 0.05] {
        for c in Covariance::ALL {
            let fitted = GaussianMixture::params::<T>(1)
                .covariance(c)
                .reg_covar(reg)
                .fit(&data)
                .unwrap();
            let m = &fitted.model;
            let what = format!("{} {c} reg {reg} weighted {weighted_fit}", T::NAME);
            assert_eq!(m.n_components(), 1, "{what}");
            assert_eq!(m.weights()[0], T::one(), "{what}");
            // Stored in scikit-learn's shape, and known by its exact structure.
            let storage = m.components().covariances().covariance_type();
            assert_eq!(storage, expected_type(c), "{what}");
            assert_eq!(m.components().covariance_type(), c, "{what}");
            let mean_err = max_diff_slice(&means(m)[0], &mean);
            assert!(
                mean_err <= 50.0 * eps::<T>() * 10.0,
                "{what}: mean {:?} vs {mean:?} ({mean_err:e})",
                means(m)[0]
            );
            let want = expected_cov(c, &s, reg);
            let got = &cov_matrices(m)[0];
            let cov_err = max_diff(got, &want);
            assert!(
                cov_err <= 200.0 * eps::<T>() * (scale + reg),
                "{what}: covariance {got:?} vs {want:?} ({cov_err:e})"
            );
            // The log-likelihood reported is that of the fitted Gaussian.
            let ll = gauss_mean_loglik(&rows, &w, &mean, &want);
            let ll_err = (fitted.report.log_likelihood - ll).abs();
            assert!(
                ll_err <= 1e3 * eps::<T>() * (1.0 + ll.abs()),
                "{what}: log-likelihood {} vs {ll}",
                fitted.report.log_likelihood
            );
            // The first M-step already gives the answer: the second iteration
            // changes nothing and the fit converges at once.
            assert!(fitted.report.converged, "{what}");
            assert!(fitted.report.n_iter <= 2, "{what}: {:?}", fitted.report);
        }
    }
}

#[test]
fn single_gaussian_is_sample_mean_and_covariance_f64() {
    single_gaussian::<f64>(false);
}

#[test]
fn single_gaussian_is_sample_mean_and_covariance_f32() {
    single_gaussian::<f32>(false);
}

#[test]
fn single_gaussian_weighted_is_weighted_mean_and_covariance_f64() {
    single_gaussian::<f64>(true);
}

#[test]
fn single_gaussian_weighted_is_weighted_mean_and_covariance_f32() {
    single_gaussian::<f32>(true);
}

/// `Σᵢ wᵢ |xᵢ − m|`.
fn abs_dev(col: &[f64], w: &[f64], m: f64) -> f64 {
    col.iter().zip(w).map(|(x, w)| w * (x - m).abs()).sum()
}

fn single_laplace<T: Scalar>(weighted_fit: bool, structure: Covariance) {
    // Heavy tails and an odd count: the unweighted median is one data value.
    let n = 41;
    let mut r = rng(21);
    let raw: Vec<Vec<f64>> = (0..n)
        .map(|_| {
            vec![
                2.0 + laplace(&mut r),
                -1.0 + 0.3 * laplace(&mut r),
                10.0 + 4.0 * laplace(&mut r),
            ]
        })
        .collect();
    let rows = seen::<T>(&raw);
    let d = 3;
    let w = if weighted_fit {
        sample_weights(n, 22)
    } else {
        vec![1.0; n]
    };
    let data = if weighted_fit {
        weighted::<T>(&raw, &w)
    } else {
        dataset::<T>(&raw)
    };
    let w: Vec<f64> = w.iter().map(|&v| T::c(v).as_f64()).collect();
    let tw: f64 = w.iter().sum();
    let fitted = LaplaceMixture::params::<T>(1)
        .structure(structure)
        .fit(&data)
        .unwrap();
    let what = format!("{} {structure:?} weighted {weighted_fit}", T::NAME);
    let m = &fitted.model;
    assert_eq!(m.n_components(), 1, "{what}");
    let loc: Vec<f64> = m
        .components()
        .location(0)
        .iter()
        .map(|v| v.as_f64())
        .collect();
    let mut devs = Vec::with_capacity(d);
    for j in 0..d {
        let col: Vec<f64> = rows.iter().map(|r| r[j]).collect();
        // The location is a data value of positive weight ...
        assert!(
            col.iter().zip(&w).any(|(x, w)| *x == loc[j] && *w > 0.0),
            "{what}: location {} of feature {j} is not a data value",
            loc[j]
        );
        // ... that minimizes the weighted absolute deviation (exact ML).
        let best = col
            .iter()
            .map(|&x| abs_dev(&col, &w, x))
            .fold(f64::INFINITY, f64::min);
        let at = abs_dev(&col, &w, loc[j]);
        assert!(
            at <= best * (1.0 + 1e-12),
            "{what}: feature {j}: deviation {at} at the location, {best} at the best median"
        );
        if !weighted_fit {
            let mut sorted = col.clone();
            sorted.sort_by(|a, b| a.partial_cmp(b).unwrap());
            assert_eq!(loc[j], sorted[n / 2], "{what}: median of feature {j}");
        }
        devs.push(at / tw);
    }
    let scales = flat_scales(m.components().scales());
    let want: Vec<f64> = match structure {
        Covariance::Diag => {
            assert!(
                matches!(m.components().scales(), LaplaceScales::PerDimension(_)),
                "{what}"
            );
            devs.clone()
        }
        _ => {
            assert!(
                matches!(m.components().scales(), LaplaceScales::Spherical(_)),
                "{what}"
            );
            vec![devs.iter().sum::<f64>() / d as f64]
        }
    };
    for (b, e) in scales.iter().zip(&want) {
        assert!(
            (b - e).abs() <= 100.0 * eps::<T>() * e,
            "{what}: scales {scales:?}, expected {want:?}"
        );
    }
    // Mean log-likelihood of a Laplace at its ML estimate.
    let ll: f64 = match structure {
        Covariance::Diag => -devs.iter().map(|b| (2.0 * b).ln() + 1.0).sum::<f64>(),
        _ => -(d as f64) * ((2.0 * want[0]).ln() + 1.0),
    };
    assert!(
        (fitted.report.log_likelihood - ll).abs() <= 1e3 * eps::<T>() * (1.0 + ll.abs()),
        "{what}: log-likelihood {} vs {ll}",
        fitted.report.log_likelihood
    );
    assert!(fitted.report.converged, "{what}");
}

#[test]
fn single_laplace_is_median_and_mean_absolute_deviation_f64() {
    for s in [Covariance::Diag, Covariance::Spherical] {
        single_laplace::<f64>(false, s);
    }
}

#[test]
fn single_laplace_is_median_and_mean_absolute_deviation_f32() {
    for s in [Covariance::Diag, Covariance::Spherical] {
        single_laplace::<f32>(false, s);
    }
}

#[test]
fn single_laplace_weighted_is_weighted_median_f64() {
    for s in [Covariance::Diag, Covariance::Spherical] {
        single_laplace::<f64>(true, s);
    }
}

#[test]
fn single_laplace_weighted_is_weighted_median_f32() {
    for s in [Covariance::Diag, Covariance::Spherical] {
        single_laplace::<f32>(true, s);
    }
}
