//! Student-t components: densities against the textbook formula, the
//! Gaussian limit, samples with the right covariance, refused parameters.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use faer::mat;
use mixtures_core::Dataset;
use mixtures_core::special::ln_gamma;
use mixtures_dist::{Covariances, Gaussian, Mixture, ModelError, StudentT};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// The density of a 2-D t with scale `[[a, b], [b, c]]`, written out.
fn textbook(x: [f64; 2], mu: [f64; 2], s: [[f64; 2]; 2], nu: f64) -> f64 {
    let det = s[0][0] * s[1][1] - s[0][1] * s[1][0];
    let (u, v) = (x[0] - mu[0], x[1] - mu[1]);
    let d2 = (s[1][1] * u * u - 2.0 * s[0][1] * u * v + s[0][0] * v * v) / det;
    ln_gamma(0.5 * (nu + 2.0))
        - ln_gamma(0.5 * nu)
        - (nu * std::f64::consts::PI).ln()
        - 0.5 * det.ln()
        - 0.5 * (nu + 2.0) * (d2 / nu).ln_1p()
}

#[test]
fn log_density_is_the_textbook_formula() {
    let s = [[2.0, 0.6], [0.6, 1.0]];
    for (cov, shared) in [
        (Covariances::Full(vec![mat![[2.0, 0.6], [0.6, 1.0]]]), false),
        (Covariances::Tied(mat![[2.0, 0.6], [0.6, 1.0]]), true),
    ] {
        // 1e4 reads lnΓ through its series (a textbook difference of ln Γ loses
        // digits beyond; the limit is checked against the Gaussian below).
        for nu in [0.7, 3.0, 40.0, 1e4] {
            let t = StudentT::new(mat![[1.0, -2.0]], cov.clone(), vec![nu]).unwrap();
            let m = Mixture::new(vec![1.0], t).unwrap();
            let pts = [[1.0, -2.0], [3.0, 0.5], [-20.0, 40.0], [1e3, -1e3]];
            let x = Dataset::from_rows(&pts).unwrap();
            let lp = m.log_prob(&x).unwrap();
            for (p, l) in pts.iter().zip(&lp) {
                let want = textbook(*p, [1.0, -2.0], s, nu);
                assert!(
                    (l - want).abs() < 1e-10 * (1.0 + want.abs()),
                    "{shared} {nu} {p:?}: {l} {want}"
                );
            }
        }
    }
}

#[test]
fn large_dof_is_the_gaussian() {
    let g =
        Gaussian::<f64>::diag(mat![[0.0, 1.0], [4.0, 4.0]], mat![[1.0, 2.0], [0.5, 0.5]]).unwrap();
    let t = StudentT::from_scale(g.clone(), vec![1e12, 1e12]).unwrap();
    let (gm, tm) = (
        Mixture::new(vec![0.3, 0.7], g).unwrap(),
        Mixture::new(vec![0.3, 0.7], t).unwrap(),
    );
    let x = Dataset::from_rows(&[[0.0, 0.0], [2.0, 3.0], [9.0, -4.0]]).unwrap();
    for (a, b) in gm
        .log_prob(&x)
        .unwrap()
        .iter()
        .zip(&tm.log_prob(&x).unwrap())
    {
        assert!((a - b).abs() < 1e-9 * (1.0 + a.abs()), "{a} {b}");
    }
}

#[test]
fn samples_have_the_t_covariance() {
    let nu = 8.0;
    let t = StudentT::full(
        mat![[1.0, 2.0]],
        vec![mat![[1.0, 0.5], [0.5, 2.0]]],
        vec![nu],
    )
    .unwrap();
    let m = Mixture::new(vec![1.0], t).unwrap();
    let (x, _) = m.sample(200_000, &mut StdRng::seed_from_u64(4));
    let n = x.nrows() as f64;
    let mean = |j: usize| (0..x.nrows()).map(|i| x[(i, j)]).sum::<f64>() / n;
    let (m0, m1) = (mean(0), mean(1));
    let cov = |a: usize, ma: f64, b: usize, mb: f64| {
        (0..x.nrows())
            .map(|i| (x[(i, a)] - ma) * (x[(i, b)] - mb))
            .sum::<f64>()
            / n
    };
    let f = nu / (nu - 2.0);
    assert!(
        (m0 - 1.0).abs() < 0.01 && (m1 - 2.0).abs() < 0.015,
        "{m0} {m1}"
    );
    assert!((cov(0, m0, 0, m0) / f - 1.0).abs() < 0.03);
    assert!((cov(0, m0, 1, m1) / f - 0.5).abs() < 0.03);
    assert!((cov(1, m1, 1, m1) / f - 2.0).abs() < 0.06);
}

#[test]
fn bad_degrees_of_freedom_are_refused() {
    for nu in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            StudentT::full(mat![[0.0]], vec![mat![[1.0]]], vec![nu]),
            Err(ModelError::InvalidParameter {
                name: "degrees_of_freedom",
                ..
            })
        ));
    }
    assert!(matches!(
        StudentT::full(mat![[0.0]], vec![mat![[1.0]]], vec![3.0, 4.0]),
        Err(ModelError::WrongCount { .. })
    ));
}
