//! Parity with scikit-learn's GaussianMixture: from the same data and initial
//! parameters, 50 EM iterations (tol = 0) give the same weights, means and
//! covariances to 1e-8 relative and the same mean log-likelihood to 1e-10.
//! Fixtures: tests/reference/make_em_fixtures.py (run by hand).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use faer::Mat;
use mixtures_core::Dataset;
use mixtures_dist::{Covariances, Gaussian, Mixture};
use mixtures_em::{Covariance, GaussianMixture};
use serde_json::Value;

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap()
}
fn vec1(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(f).collect()
}
fn mat(v: &Value) -> Mat<f64> {
    let rows: Vec<Vec<f64>> = v.as_array().unwrap().iter().map(vec1).collect();
    Mat::from_fn(rows.len(), rows[0].len(), |i, j| rows[i][j])
}
fn flat_mat(a: faer::MatRef<'_, f64>) -> Vec<f64> {
    (0..a.nrows())
        .flat_map(|i| (0..a.ncols()).map(move |j| a[(i, j)]))
        .collect()
}
fn covs(ct: &str, v: &Value) -> Covariances<f64> {
    match ct {
        "full" => Covariances::Full(v.as_array().unwrap().iter().map(mat).collect()),
        "tied" => Covariances::Tied(mat(v)),
        "diag" => Covariances::Diag(mat(v)),
        _ => Covariances::Spherical(vec1(v)),
    }
}
fn flat(c: &Covariances<f64>) -> Vec<f64> {
    let m = |a: &Mat<f64>| flat_mat(a.as_ref());
    match c {
        Covariances::Full(v) => v.iter().flat_map(m).collect(),
        Covariances::Tied(a) | Covariances::Diag(a) => m(a),
        Covariances::Spherical(v) => v.clone(),
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
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/sklearn_em.json");
    let fx: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let iters = fx["iterations"].as_u64().unwrap() as usize;
    let (mut worst_param, mut worst_ll) = (0.0f64, 0.0f64);
    for case in fx["cases"].as_array().unwrap() {
        let ct = case["covariance_type"].as_str().unwrap();
        let d = case["d"].as_u64().unwrap();
        let rows: Vec<Vec<f64>> = fx["data"][d.to_string()]
            .as_array()
            .unwrap()
            .iter()
            .map(vec1)
            .collect();
        let data = Dataset::from_rows(&rows).unwrap();
        let init = &case["init"];
        let g = Gaussian::new(mat(&init["means"]), covs(ct, &init["covariances"])).unwrap();
        let start = Mixture::new(vec1(&init["weights"]), g).unwrap();
        let fitted = GaussianMixture::params(start.n_components())
            .covariance(ct.parse::<Covariance>().unwrap())
            .reg_covar(fx["reg_covar"].as_f64().unwrap())
            .tol(0.0)
            .max_iter(iters)
            .fit_from(&start, &data)
            .unwrap();
        assert_eq!(fitted.report.n_iter, iters);
        let m = &fitted.model;
        let want = &case["fitted"];
        let ew = rel(m.weights(), &vec1(&want["weights"]));
        let em = rel(
            &flat_mat(m.components().means()),
            &flat_mat(mat(&want["means"]).as_ref()),
        );
        let ec = rel(
            &flat(m.components().covariances()),
            &flat(&covs(ct, &want["covariances"])),
        );
        let lb = *fitted.report.lower_bound_trace.last().unwrap();
        let el = ((lb - f(&case["lower_bound"])) / f(&case["lower_bound"])).abs();
        let es = ((fitted.report.log_likelihood - f(&case["final_score"]))
            / f(&case["final_score"]))
        .abs();
        println!(
            "{ct:9} d={d} k={}: weights {ew:.1e} means {em:.1e} covariances {ec:.1e} lower bound {el:.1e} score {es:.1e}",
            m.n_components()
        );
        worst_param = worst_param.max(ew).max(em).max(ec);
        worst_ll = worst_ll.max(el).max(es);
        assert!(
            ew < 1e-8 && em < 1e-8 && ec < 1e-8,
            "{ct} d={d}: parameters differ"
        );
        assert!(
            el < 1e-10 && es < 1e-10,
            "{ct} d={d}: log-likelihood differs"
        );
    }
    println!(
        "worst relative difference: parameters {worst_param:.2e}, mean log-likelihood {worst_ll:.2e}"
    );
}
