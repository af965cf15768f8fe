//! Analytic density values for every Gaussian covariance type and both Laplace
//! scale variants, in f32 and f64 through one generic body each; far points;
//! responsibilities; one-dimensional densities integrating to one.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_range_loop,
    missing_docs
)]

mod common;

use common::{FAMILIES, close, eps, random_model};
use faer::Mat;
use mixtures_core::{Dataset, LN_2PI, Scalar};
use mixtures_dist::{
    Covariance, Covariances, Gaussian, Laplace, LaplaceScales, LogDensity, Mixture,
};

const DIMS: [usize; 3] = [1, 2, 5];

/// `value` rounded to `T` and widened back: what the library actually sees.
fn r<T: Scalar>(v: f64) -> f64 {
    T::c(v).as_f64()
}

/// `ln pₖ(xᵢ)` of every row and component, through the `LogDensity` trait.
fn component_log_density<T: Scalar, C: LogDensity<T>>(c: &C, x: &Dataset<T>) -> Mat<T> {
    let mut s = c.scratch(x.n_samples());
    let mut out = Mat::<T>::zeros(x.n_samples(), c.n_components());
    c.log_density_block(x.view(), out.as_mut(), &mut s);
    out
}

/// Evaluation points of dimension `d`, rounded to `T`: the origin, a unit vector,
/// all ones, an alternating ramp and a point a few units out.
fn points<T: Scalar>(d: usize) -> Vec<Vec<f64>> {
    let mut p = vec![vec![0.0; d], vec![1.0; d]];
    let mut e = vec![0.0; d];
    e[d - 1] = 1.0;
    p.push(e);
    p.push(
        (0..d)
            .map(|j| if j % 2 == 0 { 0.5 } else { -1.0 } * (j + 1) as f64)
            .collect(),
    );
    p.push((0..d).map(|j| 3.0 - 0.7 * j as f64).collect());
    p.into_iter()
        .map(|v| v.into_iter().map(r::<T>).collect())
        .collect()
}

fn dataset<T: Scalar>(pts: &[Vec<f64>]) -> Dataset<T> {
    let rows: Vec<Vec<T>> = pts
        .iter()
        .map(|p| p.iter().map(|&v| T::c(v)).collect())
        .collect();
    Dataset::from_rows(&rows).unwrap()
}

/// Tolerance for a log-density of magnitude `want` in dimension `d`.
fn tol<T: Scalar>(d: usize, want: f64) -> f64 {
    16.0 * (d + 1) as f64 * eps::<T>() * (1.0 + want.abs())
}

/// Compares component `k` of `c` (and, for a single component, the mixture's
/// `log_prob`) with `want(x)` at every point.
fn check_component<T: Scalar, C: LogDensity<T>>(
    c: &C,
    k: usize,
    pts: &[Vec<f64>],
    want: impl Fn(&[f64]) -> f64,
    what: &str,
) {
    let x = dataset::<T>(pts);
    let d = x.n_features();
    let lp = component_log_density(c, &x);
    for (i, p) in pts.iter().enumerate() {
        let w = want(p);
        close(
            lp[(i, k)].as_f64(),
            w,
            tol::<T>(d, w),
            &format!("{} {what} d={d} component {k} point {p:?}", T::NAME),
        );
    }
    if c.n_components() == 1 {
        let m = Mixture::new(vec![T::one()], c.clone()).unwrap();
        let mp = m.log_prob(&x).unwrap();
        for (i, p) in pts.iter().enumerate() {
            let w = want(p);
            close(
                mp[i].as_f64(),
                w,
                tol::<T>(d, w),
                &format!("{} {what} mixture d={d} point {p:?}", T::NAME),
            );
        }
    }
}

/// The four representations of `σ² I` around the means `means` (`K x D`).
fn isotropic<T: Scalar>(means: &Mat<T>, var: f64) -> Vec<(Covariance, Gaussian<T>)> {
    let (k, d) = (means.nrows(), means.ncols());
    let v = T::c(var);
    let eye = Mat::<T>::from_fn(d, d, |i, j| if i == j { v } else { T::zero() });
    vec![
        (
            Covariance::Full,
            Gaussian::full(means.clone(), vec![eye.clone(); k]).unwrap(),
        ),
        (
            Covariance::Diag,
            Gaussian::diag(means.clone(), Mat::from_fn(k, d, |_, _| v)).unwrap(),
        ),
        (
            Covariance::Spherical,
            Gaussian::spherical(means.clone(), vec![v; k]).unwrap(),
        ),
        (
            Covariance::Tied,
            Gaussian::tied(means.clone(), eye).unwrap(),
        ),
    ]
}

fn gaussian_analytic<T: Scalar>() {
    for d in DIMS {
        let pts = points::<T>(d);
        let dd = d as f64;

        // Standard normal: ln φ(x) = −½ (d ln 2π + ‖x‖²).
        let std_normal = |x: &[f64]| -0.5 * (dd * LN_2PI + x.iter().map(|v| v * v).sum::<f64>());
        for (ct, g) in isotropic(&Mat::<T>::zeros(1, d), 1.0) {
            assert_eq!(g.covariance_type(), ct);
            check_component(&g, 0, &pts, std_normal, &format!("standard normal {ct}"));
            close(g.log_det(0).as_f64(), 0.0, tol::<T>(d, 0.0), "log det I");
        }

        // Shifted and scaled, σ² = 2.25, several components (the tied form
        // whitens around the mean of the means: components must not interfere).
        let var = 2.25;
        let mu: Vec<Vec<f64>> = (0..3)
            .map(|k| {
                (0..d)
                    .map(|j| r::<T>(0.5 * j as f64 - 1.0 + 2.5 * k as f64))
                    .collect()
            })
            .collect();
        let means = Mat::<T>::from_fn(3, d, |k, j| T::c(mu[k][j]));
        for (ct, g) in isotropic(&means, var) {
            for (k, m) in mu.iter().enumerate() {
                let want = |x: &[f64]| {
                    let q: f64 = x.iter().zip(m).map(|(a, b)| (a - b) * (a - b)).sum();
                    -0.5 * (dd * (LN_2PI + var.ln()) + q / var)
                };
                check_component(&g, k, &pts, want, &format!("isotropic {ct}"));
                close(
                    g.log_det(k).as_f64(),
                    dd * var.ln(),
                    tol::<T>(d, dd * var.ln()),
                    &format!("log det {ct}"),
                );
            }
        }

        // Diagonal with distinct variances vⱼ = 0.5 + j, as diag and as full.
        let v: Vec<f64> = (0..d).map(|j| 0.5 + j as f64).collect();
        let want = |x: &[f64]| {
            -0.5 * x
                .iter()
                .zip(&v)
                .map(|(x, v)| LN_2PI + v.ln() + x * x / v)
                .sum::<f64>()
        };
        let zero = Mat::<T>::zeros(1, d);
        let diag = Gaussian::diag(zero.clone(), Mat::from_fn(1, d, |_, j| T::c(v[j]))).unwrap();
        check_component(&diag, 0, &pts, want, "diag distinct variances");
        let full = Gaussian::full(
            zero.clone(),
            vec![Mat::from_fn(d, d, |i, j| {
                if i == j { T::c(v[i]) } else { T::zero() }
            })],
        )
        .unwrap();
        check_component(&full, 0, &pts, want, "full diagonal matrix");

        // Correlated: Σ = I + u uᵀ, det Σ = 1 + ‖u‖², Σ⁻¹ = I − u uᵀ / (1 + ‖u‖²)
        // (Sherman–Morrison). As full (K = 1) and tied (K = 2, distinct means).
        let u: Vec<f64> = (0..d)
            .map(|j| r::<T>(0.3 * (j + 1) as f64 * if j % 2 == 0 { 1.0 } else { -1.0 }))
            .collect();
        let uu: f64 = u.iter().map(|v| v * v).sum();
        let sigma = Mat::<T>::from_fn(d, d, |i, j| {
            T::c(u[i] * u[j] + if i == j { 1.0 } else { 0.0 })
        });
        let correlated = |m: &[f64]| {
            let m = m.to_vec();
            let u = u.clone();
            move |x: &[f64]| {
                let rr: Vec<f64> = x.iter().zip(&m).map(|(a, b)| a - b).collect();
                let ur: f64 = rr.iter().zip(&u).map(|(a, b)| a * b).sum();
                let q = rr.iter().map(|v| v * v).sum::<f64>() - ur * ur / (1.0 + uu);
                -0.5 * (dd * LN_2PI + (1.0 + uu).ln() + q)
            }
        };
        let full = Gaussian::full(zero.clone(), vec![sigma.clone()]).unwrap();
        check_component(&full, 0, &pts, correlated(&vec![0.0; d]), "full correlated");
        close(
            full.log_det(0).as_f64(),
            (1.0 + uu).ln(),
            tol::<T>(d, 1.0),
            "log det I + uuᵀ",
        );
        let two_means = Mat::<T>::from_fn(2, d, |k, j| T::c(mu[k][j]));
        let tied = Gaussian::tied(two_means, sigma).unwrap();
        for (k, m) in mu.iter().enumerate().take(2) {
            check_component(&tied, k, &pts, correlated(m), "tied correlated");
        }
    }
}

#[test]
fn gaussian_analytic_f64() {
    gaussian_analytic::<f64>();
}

#[test]
fn gaussian_analytic_f32() {
    gaussian_analytic::<f32>();
}

#[test]
fn standard_normal_literal_values() {
    // ln φ(0) = −½ ln 2π and ln φ(1) = −½ ln 2π − ½, to the last digit.
    let g = Gaussian::spherical(Mat::<f64>::zeros(1, 1), vec![1.0]).unwrap();
    let m = Mixture::new(vec![1.0], g).unwrap();
    let x = Dataset::from_rows(&[[0.0], [1.0], [-2.0]]).unwrap();
    let lp = m.log_prob(&x).unwrap();
    close(lp[0], -0.918_938_533_204_672_7, 1e-15, "ln φ(0)");
    close(lp[1], -1.418_938_533_204_672_7, 1e-15, "ln φ(1)");
    close(lp[2], -2.918_938_533_204_672_7, 1e-15, "ln φ(-2)");
    // Two dimensions at the origin: −ln 2π; five: −2.5 ln 2π.
    for (d, want) in [(2, -1.837_877_066_409_345_5), (5, -4.594_692_666_023_364)] {
        let g = Gaussian::full(Mat::<f64>::zeros(1, d), vec![Mat::identity(d, d)]).unwrap();
        let m = Mixture::new(vec![1.0], g).unwrap();
        let x = Dataset::from_row_major(&vec![0.0; d], 1, d).unwrap();
        close(m.log_prob(&x).unwrap()[0], want, 1e-14, "origin");
    }
    // Standard Laplace: ln ½ e^{−|x|}.
    let l = Laplace::spherical(Mat::<f64>::zeros(1, 1), vec![1.0]).unwrap();
    let m = Mixture::new(vec![1.0], l).unwrap();
    let lp = m.log_prob(&x).unwrap();
    close(lp[0], -std::f64::consts::LN_2, 1e-15, "Laplace at 0");
    close(lp[1], -std::f64::consts::LN_2 - 1.0, 1e-15, "Laplace at 1");
    close(lp[2], -std::f64::consts::LN_2 - 2.0, 1e-15, "Laplace at -2");
}

fn laplace_analytic<T: Scalar>() {
    for d in DIMS {
        let pts = points::<T>(d);
        let loc: Vec<Vec<f64>> = (0..2)
            .map(|k| {
                (0..d)
                    .map(|j| r::<T>(0.25 * j as f64 - 0.5 + 3.0 * k as f64))
                    .collect()
            })
            .collect();
        let locations = Mat::<T>::from_fn(2, d, |k, j| T::c(loc[k][j]));
        let want_for = |k: usize, b: Vec<f64>| {
            let m = loc[k].clone();
            move |x: &[f64]| -> f64 {
                x.iter()
                    .zip(&m)
                    .zip(&b)
                    .map(|((x, m), b)| -(2.0 * b).ln() - (x - m).abs() / b)
                    .sum()
            }
        };

        // Standard Laplace (location 0, scale 1) in both variants.
        let zero = Mat::<T>::zeros(1, d);
        let std_laplace =
            |x: &[f64]| -> f64 { x.iter().map(|v| -std::f64::consts::LN_2 - v.abs()).sum() };
        let a = Laplace::spherical(zero.clone(), vec![T::one()]).unwrap();
        check_component(&a, 0, &pts, std_laplace, "standard Laplace spherical");
        let b = Laplace::per_dimension(zero, Mat::from_fn(1, d, |_, _| T::one())).unwrap();
        check_component(&b, 0, &pts, std_laplace, "standard Laplace per-dimension");

        // Per-dimension scales bₖⱼ = 0.5 + 0.25 j + 0.5 k.
        let scales: Vec<Vec<f64>> = (0..2)
            .map(|k| {
                (0..d)
                    .map(|j| 0.5 + 0.25 * j as f64 + 0.5 * k as f64)
                    .collect()
            })
            .collect();
        let l = Laplace::per_dimension(
            locations.clone(),
            Mat::from_fn(2, d, |k, j| T::c(scales[k][j])),
        )
        .unwrap();
        for k in 0..2 {
            check_component(
                &l,
                k,
                &pts,
                want_for(k, scales[k].clone()),
                "Laplace per-dim",
            );
            for j in 0..d {
                close(
                    l.scale(k, j).as_f64(),
                    scales[k][j],
                    4.0 * eps::<T>() * scales[k][j],
                    "scale",
                );
            }
        }
        // Spherical scales 0.75 and 1.5.
        let sph = [0.75, 1.5];
        let l = Laplace::spherical(locations, sph.iter().map(|&b| T::c(b)).collect()).unwrap();
        for (k, &b) in sph.iter().enumerate() {
            check_component(&l, k, &pts, want_for(k, vec![b; d]), "Laplace spherical");
        }
        assert!(matches!(l.scales(), LaplaceScales::Spherical(v) if v.len() == 2));
    }
}

#[test]
fn laplace_analytic_f64() {
    laplace_analytic::<f64>();
}

#[test]
fn laplace_analytic_f32() {
    laplace_analytic::<f32>();
}

/// ln Σ wₖ exp(aₖ) in f64 with a max shift (for far points).
fn lse(w: &[f64], a: &[f64]) -> f64 {
    let m = a.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    m + w
        .iter()
        .zip(a)
        .map(|(w, a)| w * (a - m).exp())
        .sum::<f64>()
        .ln()
}

fn far_points<T: Scalar>() {
    for d in DIMS {
        // Two unit-variance components at 0 and 3·1; a point 1000 standard
        // deviations out along the first axis, and one along the diagonal.
        let means = Mat::<T>::from_fn(2, d, |k, _| T::c(3.0 * k as f64));
        let mut far = vec![0.0; d];
        far[0] = 1000.0;
        let diag_far: Vec<f64> = vec![-1000.0; d];
        let x = dataset::<T>(&[far.clone(), diag_far.clone()]);
        let w = [0.3, 0.7];
        for (ct, g) in isotropic(&means, 1.0) {
            let m = Mixture::new(vec![T::c(0.3), T::c(0.7)], g).unwrap();
            let (lp, resp) = m.log_prob_and_responsibilities(&x).unwrap();
            for (i, p) in [&far, &diag_far].into_iter().enumerate() {
                let a: Vec<f64> = (0..2)
                    .map(|k| {
                        let q: f64 = p.iter().map(|v| (v - 3.0 * k as f64).powi(2)).sum();
                        -0.5 * (d as f64 * LN_2PI + q)
                    })
                    .collect();
                let want = lse(&w, &a);
                let got = lp[i].as_f64();
                assert!(got.is_finite(), "{ct} d={d}: far log-density {got}");
                close(
                    got,
                    want,
                    tol::<T>(d, want),
                    &format!("{} {ct} far d={d}", T::NAME),
                );
                let s: f64 = (0..2).map(|k| resp[(i, k)].as_f64()).sum();
                close(s, 1.0, 4.0 * eps::<T>(), "far responsibilities sum");
                for k in 0..2 {
                    let v = resp[(i, k)];
                    assert!(v.is_finite() && v >= T::zero() && v <= T::one());
                }
            }
            // Along +x the component at 3 wins, along −x the one at 0.
            assert_eq!(m.predict(&x).unwrap(), vec![1, 0]);
        }
        // Laplace: 1000 scales away.
        let l = Laplace::spherical(means, vec![T::one(), T::c(2.0)]).unwrap();
        let m = Mixture::new(vec![T::c(0.3), T::c(0.7)], l).unwrap();
        let (lp, resp) = m.log_prob_and_responsibilities(&x).unwrap();
        for (i, p) in [&far, &diag_far].into_iter().enumerate() {
            let a: Vec<f64> = [(0.0, 1.0), (3.0, 2.0)]
                .iter()
                .map(|&(mu, b): &(f64, f64)| {
                    p.iter().map(|v| -(2.0 * b).ln() - (v - mu).abs() / b).sum()
                })
                .collect();
            let want = lse(&w, &a);
            close(lp[i].as_f64(), want, tol::<T>(d, want), "Laplace far");
            let s: f64 = (0..2).map(|k| resp[(i, k)].as_f64()).sum();
            close(s, 1.0, 4.0 * eps::<T>(), "Laplace far responsibilities");
        }
    }
    // Random models of every family: a point 1e3 of its largest standard
    // deviation away still has a finite log-density and valid responsibilities.
    for (s, fam) in FAMILIES.iter().enumerate() {
        let m = random_model::<T>(*fam, 3, 4, 100 + s as u64);
        let x = dataset::<T>(&[vec![5e3, -5e3, 5e3, 0.0], vec![0.0, 0.0, 0.0, -6e3]]);
        let (lp, resp) = m.log_prob_and_responsibilities(&x);
        for i in 0..2 {
            assert!(
                lp[i].is_finite() && lp[i] < T::c(-1e3),
                "{fam:?}: {}",
                lp[i]
            );
            let row: f64 = (0..3).map(|k| resp[(i, k)].as_f64()).sum();
            close(row, 1.0, 4.0 * eps::<T>(), "random far responsibilities");
        }
    }
}

#[test]
fn far_points_f64() {
    far_points::<f64>();
}

#[test]
fn far_points_f32() {
    far_points::<f32>();
}

/// Two components equally far from a point 10⁴ standard deviations away: each
/// has responsibility ½. In f32 the log-density there is about −5·10⁷, whose ulp
/// (4) swallows the ln 2 of the log-sum-exp, so responsibilities computed as
/// `exp(ln wₖpₖ − ln p)` came out as 1 and 1; they must be normalized.
fn symmetric_far_point<T: Scalar>() {
    let means = Mat::<T>::from_fn(2, 2, |k, j| {
        if j == 1 {
            T::c(2.0 * k as f64 - 1.0)
        } else {
            T::zero()
        }
    });
    let x = Dataset::from_row_major(&[T::c(1e4), T::zero(), T::c(-3e4), T::zero()], 2, 2).unwrap();
    for (ct, g) in isotropic(&means, 1.0) {
        let m = Mixture::new(vec![T::c(0.5), T::c(0.5)], g).unwrap();
        let resp = m.responsibilities(&x).unwrap();
        for i in 0..2 {
            for k in 0..2 {
                close(
                    resp[(i, k)].as_f64(),
                    0.5,
                    4.0 * eps::<T>(),
                    &format!("{} {ct}", T::NAME),
                );
            }
        }
    }
    let l = Laplace::spherical(means, vec![T::c(0.5), T::c(0.5)]).unwrap();
    let m = Mixture::new(vec![T::c(0.5), T::c(0.5)], l).unwrap();
    let resp = m.responsibilities(&x).unwrap();
    for i in 0..2 {
        for k in 0..2 {
            close(resp[(i, k)].as_f64(), 0.5, 4.0 * eps::<T>(), "Laplace");
        }
    }
}

#[test]
fn symmetric_far_point_f64() {
    symmetric_far_point::<f64>();
}

#[test]
fn symmetric_far_point_f32() {
    symmetric_far_point::<f32>();
}

/// Beyond the floating-point range of the squared distance the log-density is
/// `-inf` (documented), but responsibilities are the weights, never NaN.
fn overflowing_distance<T: Scalar>() {
    let huge = T::max_value().sqrt() * T::c(16.0);
    let x = Dataset::from_row_major(&[huge, T::zero(), -huge, huge], 2, 2).unwrap();
    let w = vec![T::c(0.25), T::c(0.75)];
    let means = Mat::<T>::from_fn(2, 2, |k, _| T::c(k as f64));
    for (ct, g) in isotropic(&means, 1.0) {
        let m = Mixture::new(w.clone(), g).unwrap();
        let (lp, resp) = m.log_prob_and_responsibilities(&x).unwrap();
        for i in 0..2 {
            assert!(!lp[i].is_nan(), "{ct}: NaN log-density");
            assert_eq!(lp[i], T::neg_infinity(), "{ct}");
            for k in 0..2 {
                assert_eq!(resp[(i, k)], w[k], "{ct} responsibility");
            }
        }
        let score = m.log_prob(&x).unwrap();
        assert!(score.iter().all(|v| !v.is_nan()));
    }
}

#[test]
fn overflowing_distance_f64() {
    overflowing_distance::<f64>();
}

#[test]
fn overflowing_distance_f32() {
    overflowing_distance::<f32>();
}

fn responsibilities_sum_to_one<T: Scalar>() {
    for (s, fam) in FAMILIES.iter().enumerate() {
        for (k, d) in [(1, 1), (2, 3), (4, 2), (3, 5)] {
            let m = random_model::<T>(*fam, k, d, 7 * s as u64 + k as u64);
            let x = common::random_points::<T>(300, d, -8.0, 8.0, 99);
            let (lp, resp) = m.log_prob_and_responsibilities(&x);
            let lp2 = m.log_prob(&x);
            let wlp = m.weighted_log_prob(&x);
            for i in 0..300 {
                let sum: f64 = (0..k).map(|c| resp[(i, c)].as_f64()).sum();
                close(
                    sum,
                    1.0,
                    2.0 * k as f64 * eps::<T>(),
                    &format!("{fam:?} row {i}"),
                );
                for c in 0..k {
                    let v = resp[(i, c)];
                    assert!(v >= T::zero() && v <= T::one(), "{fam:?}: {v}");
                }
                // Both paths give the same log-density; responsibilities are
                // exp(weighted log-prob − log-density).
                close(
                    lp[i].as_f64(),
                    lp2[i].as_f64(),
                    4.0 * eps::<T>() * (1.0 + lp[i].as_f64().abs()),
                    "log_prob paths",
                );
                for c in 0..k {
                    let want = (wlp[(i, c)].as_f64() - lp[i].as_f64()).exp();
                    close(
                        resp[(i, c)].as_f64(),
                        want,
                        16.0 * eps::<T>() * (1.0 + lp[i].as_f64().abs()),
                        "resp = exp(wlp − lp)",
                    );
                }
            }
        }
    }
}

#[test]
fn responsibilities_rows_sum_to_one_f64() {
    responsibilities_sum_to_one::<f64>();
}

#[test]
fn responsibilities_rows_sum_to_one_f32() {
    responsibilities_sum_to_one::<f32>();
}

// ---------------------------------------------------------------- integration

/// Composite Simpson's rule of the density `exp(log_prob)` on `[lo, hi]` with
/// `n` (even) intervals, accumulated in f64.
fn integrate<T: Scalar>(
    log_prob: impl Fn(&Dataset<T>) -> Vec<T>,
    lo: f64,
    hi: f64,
    n: usize,
) -> f64 {
    assert!(n % 2 == 0);
    let h = (hi - lo) / n as f64;
    let xs: Vec<T> = (0..=n).map(|i| T::c(lo + i as f64 * h)).collect();
    let x = Dataset::from_row_major(&xs, n + 1, 1).unwrap();
    let lp = log_prob(&x);
    let s: f64 = lp
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let c = if i == 0 || i == n {
                1.0
            } else if i % 2 == 1 {
                4.0
            } else {
                2.0
            };
            c * v.as_f64().exp()
        })
        .sum();
    s * h / 3.0
}

fn integrates_to_one<T: Scalar>() {
    let tol = (1e3 * eps::<T>()).max(1e-9);
    // Three Gaussian components, written in each covariance type (all the same
    // in one dimension).
    let means = Mat::<T>::from_fn(3, 1, |k, _| T::c([-4.0, 0.5, 6.0][k]));
    let vars = [0.3, 2.0, 0.8];
    let w = vec![T::c(0.2), T::c(0.5), T::c(0.3)];
    let covs = [
        Covariances::Full(
            vars.iter()
                .map(|&v| Mat::from_fn(1, 1, |_, _| T::c(v)))
                .collect(),
        ),
        Covariances::Diag(Mat::from_fn(3, 1, |k, _| T::c(vars[k]))),
        Covariances::Spherical(vars.iter().map(|&v| T::c(v)).collect()),
    ];
    for c in covs {
        let ct = c.covariance_type();
        let m = Mixture::new(w.clone(), Gaussian::new(means.clone(), c).unwrap()).unwrap();
        let i = integrate::<T>(|x| m.log_prob(x).unwrap(), -40.0, 40.0, 16_000);
        close(i, 1.0, tol, &format!("{} Gaussian {ct} integral", T::NAME));
        // Each component alone integrates to one too: weights are not folded
        // into the components' densities, and no component's mass is lost.
        for k in 0..3 {
            let component = |x: &Dataset<T>| -> Vec<T> {
                let lp = component_log_density(m.components(), x);
                (0..x.n_samples()).map(|i| lp[(i, k)]).collect()
            };
            let ik = integrate::<T>(component, -40.0, 40.0, 16_000);
            close(
                ik,
                1.0,
                tol,
                &format!("{} {ct} component {k} integral", T::NAME),
            );
        }
    }
    let tied = Gaussian::tied(means.clone(), Mat::from_fn(1, 1, |_, _| T::c(1.7))).unwrap();
    let m = Mixture::new(w.clone(), tied).unwrap();
    let i = integrate::<T>(|x| m.log_prob(x).unwrap(), -40.0, 40.0, 16_000);
    close(i, 1.0, tol, &format!("{} Gaussian tied integral", T::NAME));

    // Laplace mixtures. The density has kinks at the locations; they sit on
    // panel boundaries (multiples of 2h = 0.01), where Simpson's rule stays
    // accurate.
    let locs = Mat::<T>::from_fn(3, 1, |k, _| T::c([-3.0, 0.0, 2.5][k]));
    let per_dim = Laplace::per_dimension(
        locs.clone(),
        Mat::from_fn(3, 1, |k, _| T::c([0.5, 1.5, 1.0][k])),
    )
    .unwrap();
    let m = Mixture::new(w.clone(), per_dim).unwrap();
    let i = integrate::<T>(|x| m.log_prob(x).unwrap(), -60.0, 60.0, 24_000);
    close(
        i,
        1.0,
        tol,
        &format!("{} Laplace per-dimension integral", T::NAME),
    );
    let sph = Laplace::spherical(locs, vec![T::c(0.25), T::c(2.0), T::c(0.75)]).unwrap();
    let m = Mixture::new(w, sph).unwrap();
    let i = integrate::<T>(|x| m.log_prob(x).unwrap(), -60.0, 60.0, 24_000);
    close(
        i,
        1.0,
        tol,
        &format!("{} Laplace spherical integral", T::NAME),
    );
}

#[test]
fn one_dimensional_densities_integrate_to_one_f64() {
    integrates_to_one::<f64>();
}

#[test]
fn one_dimensional_densities_integrate_to_one_f32() {
    integrates_to_one::<f32>();
}

#[test]
fn two_dimensional_density_integrates_to_one() {
    // A correlated full-covariance pair and a tied pair on a 2-D grid
    // (tensor-product Simpson), f64.
    let n = 400;
    let (lo, hi) = (-12.0, 12.0);
    let h = (hi - lo) / n as f64;
    let mut pts = Vec::with_capacity((n + 1) * (n + 1) * 2);
    for i in 0..=n {
        for j in 0..=n {
            pts.push(lo + i as f64 * h);
            pts.push(lo + j as f64 * h);
        }
    }
    let x = Dataset::from_row_major(&pts, (n + 1) * (n + 1), 2).unwrap();
    let c = |i: usize| {
        if i == 0 || i == n {
            1.0
        } else if i % 2 == 1 {
            4.0
        } else {
            2.0
        }
    };
    let means = faer::mat![[-1.0, 0.5], [2.0, -1.0_f64]];
    let full = Gaussian::full(
        means.clone(),
        vec![
            faer::mat![[1.0, 0.6], [0.6, 0.8]],
            faer::mat![[0.5, -0.2], [-0.2, 1.5]],
        ],
    )
    .unwrap();
    let tied = Gaussian::tied(means, faer::mat![[1.2, -0.5], [-0.5, 0.9]]).unwrap();
    for g in [full, tied] {
        let m = Mixture::new(vec![0.4, 0.6], g).unwrap();
        let lp = m.log_prob(&x).unwrap();
        let mut s = 0.0;
        for i in 0..=n {
            for j in 0..=n {
                s += c(i) * c(j) * lp[i * (n + 1) + j].exp();
            }
        }
        close(s * h * h / 9.0, 1.0, 1e-7, "2-D integral");
    }
}
