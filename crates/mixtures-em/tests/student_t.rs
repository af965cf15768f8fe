//! Student-t mixtures: the Gaussian limit, agreement with a direct numerical
//! maximization of the likelihood, recovery of simulated mixtures, and a
//! likelihood that never decreases; the same bits whatever the number of
//! threads.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_range_loop,
    missing_docs
)]

use faer::{Mat, mat};
use mixtures_core::{Dataset, Scalar};
use mixtures_dist::{Covariance, Covariances, Mixture, StudentT};
use mixtures_em::{DegreesOfFreedom, EmControl, GaussianMixture, StudentTMixture};
use rand::SeedableRng;
use rand::rngs::StdRng;

fn t_mixture(dof: [f64; 2]) -> Mixture<f64, StudentT<f64>> {
    let t = StudentT::new(
        mat![[0.0, 0.0], [6.0, 3.0]],
        Covariances::Full(vec![
            mat![[1.0, 0.3], [0.3, 0.5]],
            mat![[0.6, -0.2], [-0.2, 1.2]],
        ]),
        dof.to_vec(),
    )
    .unwrap();
    Mixture::new(vec![0.6, 0.4], t).unwrap()
}

fn sample<T: Scalar>(m: &Mixture<f64, StudentT<f64>>, n: usize, seed: u64) -> Dataset<T> {
    let (x, _) = m.sample(n, &mut StdRng::seed_from_u64(seed));
    let xt = Mat::from_fn(x.nrows(), x.ncols(), |i, j| T::c(x[(i, j)]));
    Dataset::from_mat(xt.as_ref()).unwrap()
}

#[test]
fn infinite_degrees_of_freedom_give_the_gaussian_fit() {
    let x = sample::<f64>(&t_mixture([4.0, 4.0]), 600, 1);
    let c = EmControl::default().seed(3).tol(0.0).max_iter(25);
    for cov in [
        Covariance::Full,
        Covariance::Diag,
        Covariance::Tied,
        Covariance::Spherical,
    ] {
        let g = GaussianMixture::params(2)
            .covariance(cov)
            .control(c.clone())
            .fit(&x)
            .unwrap();
        let t = StudentTMixture::params(2)
            .covariance(cov)
            .degrees_of_freedom(DegreesOfFreedom::Fixed(1e12))
            .control(c.clone())
            .fit(&x)
            .unwrap();
        let (gm, tm) = (g.model.components(), t.model.components());
        for k in 0..2 {
            for j in 0..2 {
                let a = gm.means()[(k, j)];
                let b = tm.means()[(k, j)];
                assert!((a - b).abs() < 1e-7 * (1.0 + a.abs()), "{cov} mean {a} {b}");
            }
            let (ga, ta) = (gm.covariance_matrix(k), tm.scale().covariance_matrix(k));
            for i in 0..2 {
                for j in 0..2 {
                    let (a, b) = (ga[(i, j)], ta[(i, j)]);
                    assert!((a - b).abs() < 1e-7 * (1.0 + a.abs()), "{cov} cov {a} {b}");
                }
            }
        }
        let (lg, lt) = (g.model.log_prob(&x).unwrap(), t.model.log_prob(&x).unwrap());
        for (a, b) in lg.iter().zip(&lt) {
            assert!(
                (a - b).abs() < 1e-7 * (1.0 + a.abs()),
                "{cov} log density {a} {b}"
            );
        }
        assert_eq!(t.report.n_parameters, g.report.n_parameters);
    }
}

/// The log-likelihood of 1-D data under one t with location `m`, scale
/// `exp(2 ls)` and fixed `nu`.
fn t_loglik(x: &[f64], m: f64, ls: f64, nu: f64) -> f64 {
    let s2 = (2.0 * ls).exp();
    let c = mixtures_core::special::ln_gamma(0.5 * (nu + 1.0))
        - mixtures_core::special::ln_gamma(0.5 * nu)
        - 0.5 * (nu * std::f64::consts::PI * s2).ln();
    x.iter()
        .map(|&v| c - 0.5 * (nu + 1.0) * ((v - m) * (v - m) / (nu * s2)).ln_1p())
        .sum()
}

/// Nelder–Mead on two parameters, to convergence of the simplex.
fn maximize(f: impl Fn(f64, f64) -> f64, start: (f64, f64)) -> (f64, f64) {
    let mut s = [start, (start.0 + 0.5, start.1), (start.0, start.1 + 0.5)];
    for _ in 0..5000 {
        s.sort_by(|a, b| f(b.0, b.1).total_cmp(&f(a.0, a.1)));
        let (best, mid, worst) = (s[0], s[1], s[2]);
        if ((best.0 - worst.0).abs() + (best.1 - worst.1).abs()) < 1e-13 {
            break;
        }
        let c = ((best.0 + mid.0) / 2.0, (best.1 + mid.1) / 2.0);
        let at = |t: f64| (c.0 + t * (worst.0 - c.0), c.1 + t * (worst.1 - c.1));
        let r = at(-1.0);
        if f(r.0, r.1) > f(best.0, best.1) {
            let e = at(-2.0);
            s[2] = if f(e.0, e.1) > f(r.0, r.1) { e } else { r };
        } else if f(r.0, r.1) > f(mid.0, mid.1) {
            s[2] = r;
        } else {
            let k = at(0.5);
            if f(k.0, k.1) > f(worst.0, worst.1) {
                s[2] = k;
            } else {
                s[1] = ((best.0 + mid.0) / 2.0, (best.1 + mid.1) / 2.0);
                s[2] = ((best.0 + worst.0) / 2.0, (best.1 + worst.1) / 2.0);
            }
        }
    }
    s[0]
}

#[test]
fn one_component_with_fixed_dof_is_the_maximum_likelihood_estimate() {
    let t = StudentT::new(mat![[2.0]], Covariances::Spherical(vec![1.5]), vec![4.0]).unwrap();
    let m = Mixture::new(vec![1.0], t).unwrap();
    let (x, _) = m.sample(400, &mut StdRng::seed_from_u64(9));
    let xs: Vec<f64> = (0..x.nrows()).map(|i| x[(i, 0)]).collect();
    let data = Dataset::from_mat(x.as_ref()).unwrap();
    let fit = StudentTMixture::params(1)
        .covariance(Covariance::Spherical)
        .degrees_of_freedom(DegreesOfFreedom::Fixed(4.0))
        .reg_covar(0.0)
        .tol(1e-13)
        .max_iter(2000)
        .fit(&data)
        .unwrap();
    let ecm_m = fit.model.components().means()[(0, 0)];
    let ecm_s2 = fit.model.components().scale().covariance_matrix(0)[(0, 0)];
    let (m_hat, ls_hat) = maximize(|m, ls| t_loglik(&xs, m, ls, 4.0), (0.0, 0.0));
    assert!((ecm_m - m_hat).abs() < 1e-6, "location {ecm_m} vs {m_hat}");
    let s2_hat = (2.0 * ls_hat).exp();
    assert!(
        (ecm_s2 / s2_hat - 1.0).abs() < 1e-6,
        "scale {ecm_s2} vs {s2_hat}"
    );
    // The model's log-likelihood is the one maximized.
    let ll = fit.report.log_likelihood * 400.0;
    assert!((ll - t_loglik(&xs, m_hat, ls_hat, 4.0)).abs() < 1e-8 * ll.abs());
}

fn recovers<T: Scalar>(tol: f64) {
    let truth = t_mixture([3.0, 12.0]);
    let x = sample::<T>(&truth, 6000, 5);
    // ν converges slowly under ECM: a tight tolerance (see the docs of
    // `StudentTParams`).
    let fit = StudentTMixture::params::<T>(2)
        .n_init(3)
        .seed(1)
        .tol(1e-9)
        .max_iter(2000)
        .fit(&x)
        .unwrap();
    let m = &fit.model;
    // The component near the origin is the first truth.
    let first = usize::from(m.components().means()[(0, 0)].as_f64() > 3.0);
    let order = [first, 1 - first];
    let want_means = [[0.0, 0.0], [6.0, 3.0]];
    for (truth_k, &k) in order.iter().enumerate() {
        for j in 0..2 {
            let got = m.components().means()[(k, j)].as_f64();
            assert!(
                (got - want_means[truth_k][j]).abs() < 0.08,
                "{} mean {got}",
                T::NAME
            );
        }
        let w = m.weights()[k].as_f64();
        assert!(
            (w - [0.6, 0.4][truth_k]).abs() < 0.03,
            "{} weight {w}",
            T::NAME
        );
    }
    let nu = [
        m.components().dof()[order[0]].as_f64(),
        m.components().dof()[order[1]].as_f64(),
    ];
    assert!((nu[0] - 3.0).abs() < tol * 3.0, "{} dof {nu:?}", T::NAME);
    assert!((nu[1] - 12.0).abs() < 0.6 * 12.0, "{} dof {nu:?}", T::NAME);
    assert!(nu[0] < nu[1], "{nu:?}");
}

#[test]
fn simulated_t_mixtures_are_recovered_f64() {
    recovers::<f64>(0.25);
}

#[test]
#[ignore = "heavy; CI runs ignored tests in release"]
fn simulated_t_mixtures_are_recovered_f32() {
    recovers::<f32>(0.25);
}

#[test]
fn the_likelihood_never_decreases() {
    let x = sample::<f64>(&t_mixture([2.5, 6.0]), 800, 2);
    for cov in Covariance::ALL {
        for dof in [
            DegreesOfFreedom::PerComponent,
            DegreesOfFreedom::Shared,
            DegreesOfFreedom::Fixed(5.0),
        ] {
            let fit = StudentTMixture::params(3)
                .covariance(cov)
                .degrees_of_freedom(dof)
                .tol(0.0)
                .max_iter(60)
                .seed(4)
                .fit(&x)
                .unwrap();
            let tr = &fit.report.lower_bound_trace;
            assert!(fit.report.degeneracies.is_empty(), "{cov} {dof:?}");
            for w in tr.windows(2) {
                assert!(
                    w[1] >= w[0] - 1e-10 * w[0].abs(),
                    "{cov} {dof:?}: {} then {}",
                    w[0],
                    w[1]
                );
            }
            if dof == DegreesOfFreedom::Shared {
                let d = fit.model.components().dof();
                assert!(d.iter().all(|v| *v == d[0]), "{d:?}");
            }
            let per = match dof {
                DegreesOfFreedom::PerComponent => 3,
                DegreesOfFreedom::Shared => 1,
                _ => 0,
            };
            let cov_params = mixtures_dist::ModelSpec::student_t(cov)
                .covariance()
                .n_free_parameters(3, 2);
            assert_eq!(
                fit.report.n_parameters,
                cov_params + 3 * 2 + 2 + per,
                "{cov} {dof:?}"
            );
        }
    }
}

#[test]
fn heavy_tails_resist_gross_outliers() {
    // One cluster at the origin and 5 % of points far off to one side: the
    // Gaussian's mean moves towards them, the t's location hardly does.
    let mut rows: Vec<[f64; 2]> = Vec::new();
    let clean = sample::<f64>(&t_mixture([1e6, 1e6]), 2000, 8);
    for i in 0..clean.n_samples() {
        let v = clean.view();
        if v[(i, 0)] < 3.0 {
            rows.push([v[(i, 0)], v[(i, 1)]]);
        }
    }
    let n = rows.len();
    for i in 0..n / 19 {
        rows.push([40.0 + (i % 7) as f64, -30.0 + (i % 5) as f64]);
    }
    let x = Dataset::from_rows(&rows).unwrap();
    let g = GaussianMixture::params(1).fit(&x).unwrap();
    let t = StudentTMixture::params(1).fit(&x).unwrap();
    let g0 = g.model.components().means()[(0, 0)];
    let t0 = t.model.components().means()[(0, 0)];
    assert!(g0 > 1.5, "Gaussian mean {g0}");
    assert!(t0.abs() < 0.15, "t location {t0}");
}

#[test]
fn bad_parameters_are_refused_before_any_work() {
    let x = sample::<f64>(&t_mixture([4.0, 4.0]), 50, 1);
    for p in [
        StudentTMixture::params::<f64>(2).degrees_of_freedom(DegreesOfFreedom::Fixed(0.0)),
        StudentTMixture::params::<f64>(2).degrees_of_freedom(DegreesOfFreedom::Fixed(f64::NAN)),
        StudentTMixture::params::<f64>(2).initial_dof(-1.0),
        StudentTMixture::params::<f64>(2).tol(-1.0),
    ] {
        assert!(matches!(
            p.fit(&x),
            Err(mixtures_em::FitError::InvalidParameter { .. })
        ));
    }
}

/// The profile log-likelihood of 1-D data at `nu`: maximized over location
/// and scale.
fn profile(x: &[f64], nu: f64) -> f64 {
    let (m, ls) = maximize(|a, b| t_loglik(x, a, b, nu), (0.0, 0.0));
    t_loglik(x, m, ls, nu)
}

#[test]
#[ignore = "heavy; CI runs ignored tests in release"]
fn one_component_dof_is_the_profile_likelihood_maximum() {
    for nu in [3.0, 12.0] {
        let t = StudentT::new(mat![[0.0]], Covariances::Spherical(vec![1.0]), vec![nu]).unwrap();
        let m = Mixture::new(vec![1.0], t).unwrap();
        let (x, _) = m.sample(1500, &mut StdRng::seed_from_u64(3));
        let xs: Vec<f64> = (0..x.nrows()).map(|i| x[(i, 0)]).collect();
        let fit = StudentTMixture::params(1)
            .covariance(Covariance::Spherical)
            .reg_covar(0.0)
            .tol(1e-12)
            .max_iter(5000)
            .fit(&Dataset::from_mat(x.as_ref()).unwrap())
            .unwrap();
        let ecm = fit.model.components().dof()[0];
        // Golden-section search of the profile likelihood over ln ν.
        let (mut a, mut b) = (0.5f64.ln(), 200f64.ln());
        let g = (5f64.sqrt() - 1.0) / 2.0;
        for _ in 0..60 {
            let (c, d) = (b - g * (b - a), a + g * (b - a));
            if profile(&xs, c.exp()) > profile(&xs, d.exp()) {
                b = d;
            } else {
                a = c;
            }
        }
        let direct = (0.5 * (a + b)).exp();
        assert!(
            (ecm / direct - 1.0).abs() < 1e-4,
            "nu {nu}: ECM {ecm}, profile {direct}"
        );
    }
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
}

/// The E-step's per-entry work runs in vectorized strips and lanes; its result
/// must still not depend on the number of threads (1,200 rows: three blocks),
/// and `step` must be one iteration of a fit from the same model. Equal under
/// `PartialEq` and in the `Debug` text (every float's shortest form, so the
/// same bits).
fn same_bits_whatever_the_threads<T: Scalar>() {
    let x = sample::<T>(&t_mixture([2.5, 8.0]), 1200, 9);
    for cov in [
        Covariance::Full,
        Covariance::Diag,
        Covariance::Spherical,
        Covariance::Tied,
    ] {
        let p = StudentTMixture::params::<T>(2)
            .covariance(cov)
            .seed(4)
            .tol(0.0)
            .max_iter(5);
        let fits: Vec<_> = [1, 2, 7]
            .iter()
            .map(|&t| pool(t).install(|| p.fit(&x).unwrap().model))
            .collect();
        for f in &fits[1..] {
            assert!(f == &fits[0], "{} {cov:?}", T::NAME);
            assert_eq!(format!("{f:?}"), format!("{:?}", fits[0]), "{cov:?}");
        }
        let steps: Vec<_> = [1, 2, 7]
            .iter()
            .map(|&t| pool(t).install(|| p.step(&fits[0], &x).unwrap()))
            .collect();
        for s in &steps[1..] {
            assert_eq!(format!("{s:?}"), format!("{:?}", steps[0]), "{cov:?}");
        }
        let one = p.clone().max_iter(1).fit_from(&fits[0], &x).unwrap().model;
        assert_eq!(format!("{one:?}"), format!("{:?}", steps[0].1), "{cov:?}");
    }
}

#[test]
fn same_bits_with_1_2_and_7_threads_f64() {
    same_bits_whatever_the_threads::<f64>();
}

#[test]
fn same_bits_with_1_2_and_7_threads_f32() {
    same_bits_whatever_the_threads::<f32>();
}
