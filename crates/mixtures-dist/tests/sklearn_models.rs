//! Model files written from fitted scikit-learn `GaussianMixture`s by the snippet in
//! `docs/model-format.md` (`tests/reference/make_model_fixtures.py`) load, and give
//! scikit-learn's `score_samples`, `predict_proba` and `predict` on the same points.
#![cfg(feature = "serde")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use mixtures_core::{Dataset, Scalar};
use mixtures_dist::{AnyMixture, GaussianMixtureModel};
use serde_json::Value;

fn fixture(ct: &str) -> Value {
    let path = format!(
        "{}/tests/data/sklearn_model_{ct}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn rows(v: &Value) -> Vec<Vec<f64>> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect()
        })
        .collect()
}

fn nums(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// Relative error with a floor of 1 on the scale, as log-densities cross zero.
fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1.0)
}

fn check<T: Scalar>(ct: &str, tol: f64) {
    let f = fixture(ct);
    let model_text = serde_json::to_string(&f["model"]).unwrap();
    let model = GaussianMixtureModel::<T>::from_json(&model_text).unwrap();
    assert_eq!(model.components().covariance_type().as_str(), ct);
    assert_eq!(model.feature_names().unwrap()[3], "f3");

    let q: Vec<Vec<T>> = rows(&f["queries"])
        .into_iter()
        .map(|r| r.into_iter().map(T::c).collect())
        .collect();
    let data = Dataset::from_rows(&q).unwrap();
    let lp = model.log_prob(&data).unwrap();
    let want = nums(&f["score_samples"]);
    let worst = lp
        .iter()
        .zip(&want)
        .map(|(a, b)| rel(a.as_f64(), *b))
        .fold(0.0, f64::max);
    assert!(
        worst < tol,
        "{ct} {}: log_prob rel error {worst:e}",
        T::NAME
    );
    // The far points really are far: their log-densities are in the thousands.
    assert!(want.iter().any(|&l| l < -1e3));

    let resp = model.responsibilities(&data).unwrap();
    let want_p = rows(&f["predict_proba"]);
    for (i, row) in want_p.iter().enumerate() {
        for (c, &p) in row.iter().enumerate() {
            let got = resp[(i, c)].as_f64();
            assert!(
                (got - p).abs() < tol.sqrt(),
                "{ct}: resp[{i}][{c}] {got} vs {p}"
            );
        }
    }
    let labels = model.predict(&data).unwrap();
    let want_l: Vec<usize> = nums(&f["predict"]).iter().map(|&l| l as usize).collect();
    // Labels may differ only where scikit-learn's own probabilities are a near tie.
    for (i, (&a, &b)) in labels.iter().zip(&want_l).enumerate() {
        if a != b {
            let p = &want_p[i];
            assert!((p[a] - p[b]).abs() < 1e-6, "{ct}: label {i}: {a} vs {b}");
        }
    }
}

#[test]
fn sklearn_models_load_and_agree_f64() {
    for ct in ["full", "diag", "spherical", "tied"] {
        check::<f64>(ct, 1e-10);
    }
}

#[test]
fn sklearn_models_load_and_agree_f32() {
    for ct in ["full", "diag", "spherical", "tied"] {
        check::<f32>(ct, 1e-4);
    }
}

#[test]
fn sklearn_model_loads_as_any_mixture() {
    let f = fixture("tied");
    let any = AnyMixture::<f64>::from_json(&serde_json::to_string(&f["model"]).unwrap()).unwrap();
    assert_eq!(any.family(), "gaussian");
    assert_eq!((any.n_components(), any.dim()), (3, 4));
}
