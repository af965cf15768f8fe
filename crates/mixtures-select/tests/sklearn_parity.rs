//! Parity with scikit-learn's BayesianGaussianMixture: from the same data and
//! starting responsibilities, 50 iterations with both weight priors and all
//! four covariance types give the same priors, posterior (weights, means,
//! covariances, mean precisions, degrees of freedom, weight concentrations) and
//! lower bound at every iteration, to 1e-6 relative as required (asserted at
//! 1e-10; the worst differences are printed). Sample weights are checked against
//! scikit-learn fitting repeated rows.
//!
//! Fixtures: tests/reference/make_vb_fixtures.py (run by hand; it documents how
//! scikit-learn is started from given responsibilities).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use faer::Mat;
use mixtures_core::Dataset;
use mixtures_dist::{Covariance, Covariances};
use mixtures_select::{
    CovariancePrior, VariationalGaussianMixture, WeightConcentration, WeightPrior,
};
use serde_json::Value;

/// The issue asks for 1e-6; the implementation reaches about 1e-14 on the
/// posterior and 2e-12 on the lower bound, so a regression shows long before
/// the requirement is broken.
const TOL: f64 = 1e-10;

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap()
}
fn vec1(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(f).collect()
}
fn rows(v: &Value) -> Vec<Vec<f64>> {
    v.as_array().unwrap().iter().map(vec1).collect()
}
fn flat_mat(a: &Mat<f64>) -> Vec<f64> {
    (0..a.nrows())
        .flat_map(|i| (0..a.ncols()).map(move |j| a[(i, j)]))
        .collect()
}
fn flat_json(v: &Value) -> Vec<f64> {
    match v {
        Value::Array(a) => a.iter().flat_map(flat_json).collect(),
        _ => vec![f(v)],
    }
}
fn flat_cov(c: &Covariances<f64>) -> Vec<f64> {
    match c {
        Covariances::Full(v) => v.iter().flat_map(flat_mat).collect(),
        Covariances::Tied(a) | Covariances::Diag(a) => flat_mat(a),
        Covariances::Spherical(v) => v.clone(),
    }
}
fn flat_prior(c: &CovariancePrior<f64>) -> Vec<f64> {
    match c {
        CovariancePrior::Matrix(a) => flat_mat(a),
        CovariancePrior::Diagonal(v) => v.clone(),
        CovariancePrior::Spherical(v) => vec![*v],
    }
}
/// Largest difference relative to the largest reference value.
fn rel(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    a.iter()
        .zip(b)
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
        / scale
}

#[test]
fn matches_sklearn_after_50_iterations() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/sklearn_vb.json");
    let fx: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let iters = fx["iterations"].as_u64().unwrap() as usize;
    let k = fx["n_components"].as_u64().unwrap() as usize;
    let n_weighted = fx["weighted_rows"].as_u64().unwrap() as usize;
    let mut worst = [0.0f64; 4];
    for case in fx["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let ct: Covariance = case["covariance_type"].as_str().unwrap().parse().unwrap();
        let prior_type = match case["weight_prior"].as_str().unwrap() {
            "dirichlet_process" => WeightPrior::DirichletProcess,
            _ => WeightPrior::DirichletDistribution,
        };
        let d = case["d"].as_u64().unwrap().to_string();
        let mut x = rows(&fx["data"][d.as_str()]);
        let mut resp = rows(&fx["responsibilities"][d.as_str()]);
        let data = match case["sample_weights"].as_array() {
            Some(w) => {
                x.truncate(n_weighted);
                resp.truncate(n_weighted);
                Dataset::from_rows(&x)
                    .unwrap()
                    .with_weights(w.iter().map(f).collect())
                    .unwrap()
            }
            None => Dataset::from_rows(&x).unwrap(),
        };
        let r0 = Mat::from_fn(resp.len(), k, |i, j| resp[i][j]);
        let params = VariationalGaussianMixture::params::<f64>(k)
            .covariance(ct)
            .weight_prior(prior_type)
            .reg_covar(f(&fx["reg_covar"]))
            .tol(0.0)
            .max_iter(iters);
        let fit = params
            .fit_from_responsibilities(&data, r0.as_ref())
            .unwrap();
        assert_eq!(fit.report.n_iter, iters, "{name}");

        // The resolved priors.
        let p = &case["prior"];
        let prior_err = rel(
            &[
                fit.prior.weight_concentration,
                fit.prior.mean_precision,
                fit.prior.degrees_of_freedom,
            ],
            &[
                f(&p["weight_concentration"]),
                f(&p["mean_precision"]),
                f(&p["degrees_of_freedom"]),
            ],
        )
        .max(rel(&fit.prior.mean, &vec1(&p["mean"])))
        .max(rel(
            &flat_prior(&fit.prior.covariance),
            &flat_json(&p["covariance"]),
        ));

        // The posterior.
        let want = &case["fitted"];
        let post = &fit.posterior;
        let ew = rel(fit.model.weights(), &vec1(&want["weights"]));
        let em = rel(&flat_mat(&post.means), &flat_json(&want["means"]));
        let ec = rel(
            &flat_cov(&post.covariances),
            &flat_json(&want["covariances"]),
        );
        let mut others = rel(&post.mean_precision, &vec1(&want["mean_precision"])).max(rel(
            &post.degrees_of_freedom,
            &vec1(&want["degrees_of_freedom"]),
        ));
        let wc = &want["weight_concentration"];
        match &post.weight_concentration {
            WeightConcentration::Dirichlet(a) => {
                others = others.max(rel(a, &vec1(&wc["dirichlet"])))
            }
            WeightConcentration::StickBreaking { alpha, beta } => {
                others = others
                    .max(rel(alpha, &vec1(&wc["alpha"])))
                    .max(rel(beta, &vec1(&wc["beta"])));
            }
        }

        // The lower bound at every iteration.
        let trace_want = vec1(&case["lower_bound_trace"]);
        let el = fit
            .report
            .lower_bound_trace
            .iter()
            .zip(&trace_want)
            .fold(0.0f64, |m, (a, b)| m.max(((a - b) / b).abs()));
        assert_eq!(fit.report.lower_bound_trace.len(), trace_want.len());
        println!(
            "{name:40} prior {prior_err:.1e} weights {ew:.1e} means {em:.1e} covariances {ec:.1e} \
             precisions/dof/concentrations {others:.1e} lower bound {el:.1e}"
        );
        assert!(prior_err < TOL, "{name}: priors differ by {prior_err:e}");
        assert!(
            ew < TOL && em < TOL && ec < TOL && others < TOL,
            "{name}: posterior differs (weights {ew:e}, means {em:e}, covariances {ec:e}, others {others:e})"
        );
        assert!(el < TOL, "{name}: lower bound differs by {el:e}");
        worst[0] = worst[0].max(prior_err);
        worst[1] = worst[1].max(ew.max(em).max(ec).max(others));
        worst[2] = worst[2].max(el);
        worst[3] = worst[3]
            .max((fit.lower_bound - trace_want[iters - 1]).abs() / trace_want[iters - 1].abs());
    }
    println!(
        "worst relative difference: priors {:.2e}, posterior {:.2e}, lower bound trace {:.2e}, final lower bound {:.2e}",
        worst[0], worst[1], worst[2], worst[3]
    );
}
