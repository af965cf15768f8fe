//! Variational fits: the lower bound never decreases, closed-form posteriors,
//! sample weights, f32, determinism, the step API and the effective number of
//! components.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use faer::{Mat, mat};
use mixtures_core::Dataset;
use mixtures_dist::{Covariance, Covariances, Gaussian, Mixture};
use mixtures_em::Init;
use mixtures_select::{
    CovariancePrior, VariationalGaussianMixture, WeightConcentration, WeightPrior,
};
use rand::SeedableRng;
use rand::rngs::StdRng;

const PRIORS: [WeightPrior; 2] = [
    WeightPrior::DirichletProcess,
    WeightPrior::DirichletDistribution,
];

/// Three overlapping clusters in 3-D: the fit has work to do for many
/// iterations.
fn overlapping(n: usize, seed: u64) -> Dataset<f64> {
    let truth = Mixture::new(
        vec![0.5, 0.3, 0.2],
        Gaussian::full(
            mat![[0.0, 0.0, 0.0], [2.0, 1.0, 0.0], [0.0, 2.5, 1.0]],
            vec![
                mat![[1.0, 0.5, 0.0], [0.5, 1.0, 0.2], [0.0, 0.2, 0.7]],
                mat![[0.6, 0.0, 0.1], [0.0, 1.5, 0.0], [0.1, 0.0, 0.4]],
                mat![[0.8, -0.3, 0.0], [-0.3, 0.5, 0.0], [0.0, 0.0, 1.2]],
            ],
        )
        .unwrap(),
    )
    .unwrap();
    common::sample(&truth, n, &mut StdRng::seed_from_u64(seed))
}

#[test]
fn lower_bound_never_decreases() {
    let x = overlapping(300, 1);
    for ct in Covariance::SKLEARN {
        for wp in PRIORS {
            for reg in [0.0, 1e-6] {
                let fit = VariationalGaussianMixture::params::<f64>(6)
                    .covariance(ct)
                    .weight_prior(wp)
                    .reg_covar(reg)
                    .init(Init::RandomResponsibilities)
                    .tol(0.0)
                    .max_iter(80)
                    .seed(3)
                    .fit(&x)
                    .unwrap();
                let t = &fit.report.lower_bound_trace;
                assert_eq!(t.len(), 80);
                for (i, w) in t.windows(2).enumerate() {
                    // Rounding only: the bound is a sum over 300 points.
                    assert!(
                        w[1] >= w[0] - 1e-12 * w[0].abs(),
                        "{ct} {wp:?} reg {reg}: iteration {} lowered the bound {} -> {}",
                        i + 2,
                        w[0],
                        w[1]
                    );
                }
                assert!(t[79] > t[0], "{ct} {wp:?}: no progress");
                assert_eq!(fit.lower_bound, t[79]);
            }
        }
    }
}

/// One component with all the responsibility: the posterior is the textbook
/// Normal–Wishart update, written out here independently.
#[test]
fn one_component_closed_form() {
    let x = overlapping(300, 2);
    let n = 300.0;
    let d = 3;
    let mean: Vec<f64> = (0..d)
        .map(|j| x.column(j).iter().sum::<f64>() / n)
        .collect();
    let scatter = Mat::from_fn(d, d, |a, b| {
        (0..300)
            .map(|i| (x.column(a)[i] - mean[a]) * (x.column(b)[i] - mean[b]))
            .sum::<f64>()
    });
    let (m0, b0, nu0) = (vec![1.0, -1.0, 0.5], 2.0, 5.0);
    let psi = mat![[2.0, 0.3, 0.0], [0.3, 1.0, 0.1], [0.0, 0.1, 1.5]];
    let reg = 1e-3;
    let p = VariationalGaussianMixture::params::<f64>(1)
        .mean_prior(m0.clone())
        .mean_precision(b0)
        .degrees_of_freedom(nu0)
        .covariance_prior(CovariancePrior::Matrix(psi.clone()))
        .weight_prior(WeightPrior::DirichletDistribution)
        .weight_concentration(0.7)
        .reg_covar(reg);
    let ones = Mat::from_fn(300, 1, |_, _| 1.0);
    let s = p.init_from_responsibilities(&x, ones.as_ref()).unwrap();
    let post = s.posterior();
    let nk = n + 10.0 * f64::EPSILON;
    let beta = b0 + nk;
    assert!((post.mean_precision[0] - beta).abs() < 1e-12);
    assert!((post.degrees_of_freedom[0] - (nu0 + nk)).abs() < 1e-12);
    for j in 0..d {
        let want = (b0 * m0[j] + nk * mean[j]) / beta;
        assert!((post.means[(0, j)] - want).abs() < 1e-12);
    }
    let Covariances::Full(c) = &post.covariances else {
        panic!("full expected")
    };
    for a in 0..d {
        for b in 0..d {
            let sk = scatter[(a, b)] / nk + if a == b { reg } else { 0.0 };
            let dev = (mean[a] - m0[a]) * (mean[b] - m0[b]);
            let want = (psi[(a, b)] + nk * sk + nk * b0 / beta * dev) / (nu0 + nk);
            assert!((c[0][(a, b)] - want).abs() < 1e-10 * want.abs().max(1.0));
        }
    }
    match &post.weight_concentration {
        WeightConcentration::Dirichlet(a) => assert!((a[0] - (0.7 + nk)).abs() < 1e-12),
        _ => panic!("Dirichlet expected"),
    }
    assert_eq!(post.weights(), vec![1.0]);
}

#[test]
fn weights_act_as_multiplicities() {
    let x = overlapping(200, 4);
    let mult: Vec<usize> = (0..200).map(|i| 1 + i % 3).collect();
    let mut rows = Vec::new();
    for (i, &m) in mult.iter().enumerate() {
        for _ in 0..m {
            rows.push((0..3).map(|j| x.column(j)[i]).collect::<Vec<f64>>());
        }
    }
    let repeated = Dataset::from_rows(&rows).unwrap();
    let weighted = x
        .clone()
        .with_weights(mult.iter().map(|&m| m as f64).collect())
        .unwrap();
    let start = |n: usize, reps: &[usize]| {
        let base: Vec<[f64; 3]> = (0..200)
            .map(|i| {
                let v = [1.0 + (i % 7) as f64, 2.0, 1.0 + (i % 2) as f64];
                let s: f64 = v.iter().sum();
                [v[0] / s, v[1] / s, v[2] / s]
            })
            .collect();
        let mut r = Vec::with_capacity(n);
        for (i, &m) in reps.iter().enumerate() {
            for _ in 0..m {
                r.push(base[i]);
            }
        }
        Mat::from_fn(n, 3, |i, c| r[i][c])
    };
    for ct in Covariance::SKLEARN {
        let p = VariationalGaussianMixture::params::<f64>(3)
            .covariance(ct)
            .tol(0.0)
            .max_iter(20);
        let a = p
            .fit_from_responsibilities(&weighted, start(200, &[1; 200]).as_ref())
            .unwrap();
        let b = p
            .fit_from_responsibilities(&repeated, start(rows.len(), &mult).as_ref())
            .unwrap();
        let rel = |u: f64, v: f64| (u - v).abs() / v.abs().max(1e-300);
        assert!(rel(a.lower_bound, b.lower_bound) < 1e-10, "{ct}");
        for (u, v) in a.model.weights().iter().zip(b.model.weights()) {
            assert!((u - v).abs() < 1e-10, "{ct}");
        }
        for c in 0..3 {
            for j in 0..3 {
                assert!((a.posterior.means[(c, j)] - b.posterior.means[(c, j)]).abs() < 1e-9);
            }
        }
        assert_eq!(a.report.total_weight, rows.len() as f64);
    }
}

#[test]
fn f32_follows_f64() {
    let x = overlapping(500, 5);
    let rows: Vec<Vec<f32>> = (0..500)
        .map(|i| (0..3).map(|j| x.column(j)[i] as f32).collect())
        .collect();
    let x32 = Dataset::from_rows(&rows).unwrap();
    for ct in Covariance::SKLEARN {
        let a = VariationalGaussianMixture::params::<f64>(4)
            .covariance(ct)
            .max_iter(30)
            .tol(0.0)
            .seed(1)
            .fit(&x)
            .unwrap();
        let b = VariationalGaussianMixture::params::<f32>(4)
            .covariance(ct)
            .max_iter(30)
            .tol(0.0)
            .seed(1)
            .fit(&x32)
            .unwrap();
        let rel = ((a.lower_bound - b.lower_bound) / a.lower_bound).abs();
        assert!(
            rel < 1e-3,
            "{ct}: lower bounds {} and {}",
            a.lower_bound,
            b.lower_bound
        );
        for (u, v) in a.model.weights().iter().zip(b.model.weights()) {
            assert!((u - f64::from(*v)).abs() < 1e-2, "{ct}: weights");
        }
    }
}

#[test]
fn same_bits_whatever_the_thread_count() {
    // Three blocks of rows, so that the reduction has something to order.
    let x = overlapping(1500, 6);
    let fit = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                VariationalGaussianMixture::params::<f64>(5)
                    .n_init(2)
                    .max_iter(10)
                    .seed(11)
                    .fit(&x)
                    .unwrap()
            })
    };
    let one = fit(1);
    for t in [2, 5] {
        let other = fit(t);
        assert_eq!(one.lower_bound.to_bits(), other.lower_bound.to_bits());
        assert_eq!(one.posterior, other.posterior);
        assert_eq!(one.report, other.report);
    }
}

#[test]
fn step_api_is_the_fit() {
    let x = overlapping(400, 7);
    let p = VariationalGaussianMixture::params::<f64>(4)
        .covariance(Covariance::Diag)
        .tol(0.0)
        .max_iter(5);
    let r0 = Mat::from_fn(400, 4, |i, c| if i % 4 == c { 1.0 } else { 0.0 });
    let mut s = p.init_from_responsibilities(&x, r0.as_ref()).unwrap();
    assert_eq!(s.lower_bound(), None);
    let mut trace = Vec::new();
    for _ in 0..5 {
        s = p.step(&s, &x).unwrap();
        trace.push(s.lower_bound().unwrap());
    }
    let fit = p.fit_from_responsibilities(&x, r0.as_ref()).unwrap();
    assert_eq!(fit.report.lower_bound_trace, trace);
    assert_eq!(&fit.posterior, s.posterior());
    assert_eq!(fit.model, s.model().unwrap());
    assert_eq!(s.prior(), &fit.prior);
    assert_eq!(s.components().means(), fit.model.components().means());
}

#[test]
fn effective_components_and_assignments() {
    // Three clearly separated clusters and room for eight components.
    let truth = Mixture::new(
        vec![0.3, 0.3, 0.4],
        Gaussian::spherical(
            mat![[0.0, 0.0], [12.0, 0.0], [0.0, 12.0]],
            vec![1.0, 0.5, 1.5],
        )
        .unwrap(),
    )
    .unwrap();
    let (xm, labels) = truth.sample(900, &mut StdRng::seed_from_u64(8));
    let x = Dataset::from_mat(xm.as_ref()).unwrap();
    for wp in PRIORS {
        let fit = VariationalGaussianMixture::params::<f64>(8)
            .weight_prior(wp)
            .max_iter(300)
            .seed(2)
            .fit(&x)
            .unwrap();
        assert_eq!(
            fit.n_effective_components(),
            3,
            "{wp:?}: {:?}",
            fit.model.weights()
        );
        assert!(fit.report.converged);
        // Every kept component holds one true cluster.
        let pred = fit.predict(&x).unwrap();
        let mut agree = 0;
        for k in &fit.effective_components {
            let members: Vec<usize> = (0..900)
                .filter(|&i| pred[i] == *k)
                .map(|i| labels[i])
                .collect();
            let first = members[0];
            agree += members.iter().filter(|&&l| l == first).count();
        }
        assert!(agree >= 897, "{wp:?}: {agree} of 900 consistent");
        let r = fit.responsibilities(&x).unwrap();
        for i in (0..900).step_by(37) {
            let s: f64 = (0..8).map(|c| r[(i, c)]).sum();
            assert!((s - 1.0).abs() < 1e-12);
        }
        // A threshold of 0 counts every component with any weight.
        let all = VariationalGaussianMixture::params::<f64>(8)
            .weight_prior(wp)
            .weight_threshold(0.0)
            .max_iter(300)
            .seed(2)
            .fit(&x)
            .unwrap();
        assert_eq!(all.n_effective_components(), 8);
        assert_eq!(fit.report.n_parameters, fit.model.n_parameters());
        assert_eq!(fit.report.structure, "full");
    }
}

#[test]
fn restarts_keep_the_highest_bound() {
    let x = overlapping(500, 9);
    let params = VariationalGaussianMixture::params::<f64>(5)
        .init(Init::RandomResponsibilities)
        .max_iter(40)
        .seed(4);
    let many = params.clone().n_init(4).fit(&x).unwrap();
    // Restart 0 of a fit is the fit with one restart (seeds depend on the
    // restart's index only), so more restarts never give a lower bound.
    let one = params.n_init(1).fit(&x).unwrap();
    assert_eq!(many.report.restarts.len(), 4);
    assert_eq!(many.report.restarts[0], one.report.restarts[0]);
    assert!(many.lower_bound >= one.lower_bound);
    let best = &many.report.restarts[many.report.best_restart];
    assert_eq!(best.log_likelihood, many.report.log_likelihood);
    assert!((many.report.log_likelihood - many.model.score(&x).unwrap()).abs() < 1e-12);
}
