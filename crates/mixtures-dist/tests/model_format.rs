//! The JSON model format: exact round trips (log-densities bit-identical) for
//! every covariance type and both Laplace variants, and a typed `ModelError`,
//! never a panic, for corrupt, truncated or inconsistent files.
#![cfg(feature = "serde")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_range_loop,
    missing_docs
)]

mod common;

use common::{FAMILIES, Family, Model, random_model, random_points};
use mixtures_core::{LinalgError, Scalar};
use mixtures_dist::{
    AnyMixture, FORMAT_VERSION, GaussianMixtureModel, LaplaceMixtureModel, ModelError, ModelFile,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

fn to_json<T: Scalar>(m: &Model<T>) -> String {
    match m {
        Model::G(m) => m.to_json(),
        Model::L(m) => m.to_json(),
    }
}

fn bits<T: Scalar>(v: &[T]) -> Vec<u64> {
    v.iter().map(|x| x.as_f64().to_bits()).collect()
}

fn round_trip<T: Scalar>() {
    for (s, fam) in FAMILIES.iter().enumerate() {
        for (k, d) in [(1, 1), (3, 2), (2, 5)] {
            let seed = 500 + 10 * s as u64 + k as u64;
            let m = random_model::<T>(*fam, k, d, seed);
            let x = random_points::<T>(700, d, -7.0, 7.0, seed);
            let lp = m.log_prob(&x);
            let json = to_json(&m);
            let what = format!("{} {fam:?} k={k} d={d}", T::NAME);
            match &m {
                Model::G(g) => {
                    let back = GaussianMixtureModel::<T>::from_json(&json).unwrap();
                    assert_eq!(&back, g, "{what}");
                    assert_eq!(bits(&back.log_prob(&x).unwrap()), bits(&lp), "{what}");
                    assert_eq!(bits(back.weights()), bits(g.weights()), "{what}");
                    // Writing again gives the same text: nothing drifts.
                    assert_eq!(back.to_json(), json, "{what}");
                    // serde's Serialize / Deserialize go through the same format.
                    let text = serde_json::to_string(g).unwrap();
                    let again: GaussianMixtureModel<T> = serde_json::from_str(&text).unwrap();
                    assert_eq!(bits(&again.log_prob(&x).unwrap()), bits(&lp), "{what}");
                }
                Model::L(l) => {
                    let back = LaplaceMixtureModel::<T>::from_json(&json).unwrap();
                    assert_eq!(&back, l, "{what}");
                    assert_eq!(bits(&back.log_prob(&x).unwrap()), bits(&lp), "{what}");
                    assert_eq!(back.to_json(), json, "{what}");
                    let text = serde_json::to_string(l).unwrap();
                    let again: LaplaceMixtureModel<T> = serde_json::from_str(&text).unwrap();
                    assert_eq!(bits(&again.log_prob(&x).unwrap()), bits(&lp), "{what}");
                }
            }
            // Read without knowing the family.
            let any = AnyMixture::<T>::from_json(&json).unwrap();
            let fam_name = if matches!(fam, Family::Gauss(_)) {
                "gaussian"
            } else {
                "laplace"
            };
            assert_eq!(any.family(), fam_name);
            assert_eq!((any.n_components(), any.dim()), (k, d));
            assert_eq!(bits(&any.log_prob(&x).unwrap()), bits(&lp), "{what} any");
            assert_eq!(any.to_json(), json);
            let any2: AnyMixture<T> =
                serde_json::from_str(&serde_json::to_string(&any).unwrap()).unwrap();
            assert_eq!(any2, any);
            // The header says what the model is.
            let v: Value = serde_json::from_str(&json).unwrap();
            assert_eq!(v["format_version"], json!(FORMAT_VERSION));
            assert_eq!(v["family"], json!(fam_name));
            assert_eq!(v["dtype"], json!(T::NAME));
        }
    }
}

#[test]
fn round_trip_is_exact_f64() {
    round_trip::<f64>();
}

#[test]
fn round_trip_is_exact_f32() {
    round_trip::<f32>();
}

#[test]
fn round_trip_with_awkward_weights_is_exact() {
    // Weights that need renormalization on construction must not drift on
    // every save/load cycle.
    let mut rng = StdRng::seed_from_u64(77);
    for fam in FAMILIES {
        for k in [2, 3, 7] {
            let mut m = random_model::<f64>(fam, k, 2, rng.random());
            for _ in 0..20 {
                let w: Vec<f64> = (0..k).map(|_| rng.random_range(0.01..1.0)).collect();
                let s: f64 = w.iter().sum();
                let w: Vec<f64> = w.iter().map(|v| v / s).collect();
                m = match m {
                    Model::G(g) => {
                        let (_, c) = g.into_parts();
                        Model::G(mixtures_dist::Mixture::new(w, c).unwrap())
                    }
                    Model::L(l) => {
                        let (_, c) = l.into_parts();
                        Model::L(mixtures_dist::Mixture::new(w, c).unwrap())
                    }
                };
                let json = to_json(&m);
                let back = AnyMixture::<f64>::from_json(&json).unwrap();
                assert_eq!(bits(back.weights()), bits(m.weights()), "{fam:?} k={k}");
                assert_eq!(back.to_json(), json);
            }
        }
    }
}

#[test]
fn feature_names_and_files_round_trip() {
    let m = match random_model::<f64>(Family::Gauss(mixtures_dist::Covariance::Full), 2, 3, 3) {
        Model::G(g) => g,
        Model::L(_) => unreachable!(),
    };
    let m = m
        .with_feature_names(vec!["α".into(), "b \"quoted\"".into(), "c".into()])
        .unwrap();
    let back = GaussianMixtureModel::<f64>::from_json(&m.to_json()).unwrap();
    assert_eq!(back.feature_names(), m.feature_names());
    let dir = std::env::temp_dir().join(format!("mixtures-dist-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.json");
    m.save(&path).unwrap();
    let loaded = GaussianMixtureModel::<f64>::load(&path).unwrap();
    assert_eq!(loaded, m);
    let any = AnyMixture::<f64>::load(&path).unwrap();
    assert_eq!(any.feature_names(), m.feature_names());
    std::fs::remove_dir_all(&dir).unwrap();
    // Missing files are an Io error naming the path.
    match GaussianMixtureModel::<f64>::load(dir.join("nope.json")).unwrap_err() {
        ModelError::Io { path, .. } => assert!(path.contains("nope.json")),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        m.save(dir.join("no/such/dir/m.json")).unwrap_err(),
        ModelError::Io { .. }
    ));
}

// ------------------------------------------------------------- corrupt files

/// A valid two-component file of each kind, as JSON values to corrupt.
fn gaussian_file(ct: &str) -> Value {
    let cov = match ct {
        "full" => json!([[[1.0, 0.2], [0.2, 1.0]], [[2.0, 0.0], [0.0, 0.5]]]),
        "diag" => json!([[1.0, 2.0], [0.5, 0.5]]),
        "spherical" => json!([1.0, 2.0]),
        _ => json!([[1.0, 0.3], [0.3, 2.0]]),
    };
    json!({
        "format_version": 1,
        "family": "gaussian",
        "covariance_type": ct,
        "weights": [0.4, 0.6],
        "means": [[0.0, 1.0], [2.0, -1.0]],
        "covariances": cov,
    })
}

fn laplace_file(spherical: bool) -> Value {
    json!({
        "format_version": 1,
        "family": "laplace",
        "covariance_type": if spherical { "spherical" } else { "diag" },
        "weights": [0.4, 0.6],
        "locations": [[0.0, 1.0], [2.0, -1.0]],
        "scales": if spherical { json!([1.0, 2.0]) } else { json!([[1.0, 2.0], [0.5, 0.5]]) },
    })
}

fn load_g(v: &Value) -> Result<GaussianMixtureModel<f64>, ModelError> {
    GaussianMixtureModel::<f64>::from_json(&v.to_string())
}

fn load_l(v: &Value) -> Result<LaplaceMixtureModel<f64>, ModelError> {
    LaplaceMixtureModel::<f64>::from_json(&v.to_string())
}

fn with(mut v: Value, key: &str, new: Value) -> Value {
    v[key] = new;
    v
}

fn without(mut v: Value, key: &str) -> Value {
    v.as_object_mut().unwrap().remove(key);
    v
}

#[track_caller]
fn invalid_field(r: Result<impl std::fmt::Debug, ModelError>, field: &str) {
    match r.unwrap_err() {
        ModelError::InvalidField { field: f, reason } => {
            assert_eq!(f, field, "reason: {reason}");
            assert!(!reason.is_empty());
        }
        other => panic!("expected InvalidField {{ {field} }}, got {other:?}"),
    }
}

#[track_caller]
fn json_error(r: Result<impl std::fmt::Debug, ModelError>) {
    match r.unwrap_err() {
        ModelError::Json { message, .. } => assert!(!message.is_empty()),
        other => panic!("expected Json, got {other:?}"),
    }
}

#[test]
fn valid_files_load() {
    for ct in ["full", "diag", "spherical", "tied"] {
        let m = load_g(&gaussian_file(ct)).unwrap();
        assert_eq!(m.components().covariance_type().as_str(), ct);
        assert_eq!(
            AnyMixture::<f32>::from_json(&gaussian_file(ct).to_string())
                .unwrap()
                .dim(),
            2
        );
    }
    for s in [false, true] {
        load_l(&laplace_file(s)).unwrap();
        // Without covariance_type the shape of the scales decides.
        let m = load_l(&without(laplace_file(s), "covariance_type")).unwrap();
        assert_eq!(
            matches!(
                m.components().scales(),
                mixtures_dist::LaplaceScales::Spherical(_)
            ),
            s
        );
    }
    // Unknown extra fields are ignored (forward compatibility).
    load_g(&with(
        gaussian_file("full"),
        "comment",
        json!("fitted on Tuesday"),
    ))
    .unwrap();
}

#[test]
fn bad_header_is_refused() {
    for v in [0, 2, 99] {
        for file in [gaussian_file("full"), laplace_file(false)] {
            let f = with(file, "format_version", json!(v));
            let e = AnyMixture::<f64>::from_json(&f.to_string()).unwrap_err();
            assert_eq!(
                e,
                ModelError::UnsupportedVersion {
                    found: v,
                    supported: FORMAT_VERSION
                }
            );
        }
        assert!(matches!(
            load_g(&with(gaussian_file("tied"), "format_version", json!(v))).unwrap_err(),
            ModelError::UnsupportedVersion { .. }
        ));
    }
    for v in [json!(-1), json!("1"), json!(1.5), json!(null)] {
        json_error(load_g(&with(gaussian_file("full"), "format_version", v)));
    }
    // Unknown family.
    for fam in ["poisson", "Gaussian", ""] {
        let f = with(gaussian_file("full"), "family", json!(fam));
        assert_eq!(
            load_g(&f).unwrap_err(),
            ModelError::UnknownFamily(fam.to_owned())
        );
        assert_eq!(
            load_l(&f).unwrap_err(),
            ModelError::UnknownFamily(fam.to_owned())
        );
        assert_eq!(
            AnyMixture::<f64>::from_json(&f.to_string()).unwrap_err(),
            ModelError::UnknownFamily(fam.to_owned())
        );
    }
    json_error(load_g(&with(gaussian_file("full"), "family", json!(3))));
}

#[test]
fn wrong_family_is_refused() {
    // A Gaussian file read as a Laplace mixture and the reverse.
    for ct in ["full", "diag", "spherical", "tied"] {
        assert_eq!(
            load_l(&gaussian_file(ct)).unwrap_err(),
            ModelError::FamilyMismatch {
                expected: "laplace",
                found: "gaussian".into()
            },
            "{ct}"
        );
    }
    for s in [false, true] {
        assert_eq!(
            load_g(&laplace_file(s)).unwrap_err(),
            ModelError::FamilyMismatch {
                expected: "gaussian",
                found: "laplace".into()
            }
        );
    }
    // The family a type reads is the family its components report.
    use mixtures_dist::{Components, Persist};
    let g = load_g(&gaussian_file("full")).unwrap();
    let l = load_l(&laplace_file(true)).unwrap();
    assert_eq!(
        <mixtures_dist::Gaussian<f64> as Persist<f64>>::FAMILY,
        g.components().family()
    );
    assert_eq!(
        <mixtures_dist::Laplace<f64> as Persist<f64>>::FAMILY,
        l.components().family()
    );
    // A Laplace file that claims to be Gaussian (its fields do not fit).
    let f = with(laplace_file(false), "family", json!("gaussian"));
    invalid_field(load_g(&f), "means");
    assert!(AnyMixture::<f64>::from_json(&f.to_string()).is_err());
    // Through ModelFile directly, an unknown family is a mismatch.
    let file: ModelFile =
        serde_json::from_value(with(gaussian_file("full"), "family", json!("poisson"))).unwrap();
    assert!(matches!(
        GaussianMixtureModel::<f64>::from_model_file(&file).unwrap_err(),
        ModelError::FamilyMismatch { .. }
    ));
    assert_eq!(
        AnyMixture::<f64>::from_model_file(&file).unwrap_err(),
        ModelError::UnknownFamily("poisson".into())
    );
}

#[test]
fn missing_fields_are_refused() {
    for key in ["format_version", "family", "weights"] {
        json_error(load_g(&without(gaussian_file("full"), key)));
        json_error(load_l(&without(laplace_file(true), key)));
    }
    for key in ["covariance_type", "means", "covariances"] {
        invalid_field(load_g(&without(gaussian_file("diag"), key)), key);
    }
    for key in ["locations", "scales"] {
        invalid_field(load_l(&without(laplace_file(false), key)), key);
    }
    // null is as good as missing for optional fields.
    invalid_field(
        load_g(&with(gaussian_file("full"), "means", Value::Null)),
        "means",
    );
    // No components at all.
    assert_eq!(
        load_g(&with(gaussian_file("full"), "weights", json!([]))).unwrap_err(),
        ModelError::NoComponents
    );
}

#[test]
fn wrong_shapes_are_refused() {
    let g = |ct: &str, key: &str, v: Value| load_g(&with(gaussian_file(ct), key, v));
    // Means: rows ≠ K (K comes from the weights), ragged, not numbers, empty.
    invalid_field(g("full", "means", json!([[0.0, 1.0]])), "means");
    invalid_field(
        g("full", "means", json!([[0.0, 1.0], [1.0, 2.0], [3.0, 4.0]])),
        "means",
    );
    invalid_field(g("diag", "means", json!([[0.0, 1.0], [1.0]])), "means[1]");
    invalid_field(
        g("diag", "means", json!([[0.0, "1"], [1.0, 2.0]])),
        "means[0][1]",
    );
    invalid_field(g("diag", "means", json!([[], []])), "means");
    invalid_field(g("diag", "means", json!([])), "means");
    invalid_field(g("diag", "means", json!({"a": 1})), "means");
    invalid_field(g("diag", "means", json!([0.0, 1.0])), "means[0]");
    invalid_field(g("diag", "weights", json!([0.2, 0.3, 0.5])), "means");
    // Covariances of each type in the wrong shape.
    invalid_field(
        g("full", "covariances", json!([[[1.0, 0.0], [0.0, 1.0]]])),
        "covariances",
    );
    invalid_field(
        g(
            "full",
            "covariances",
            json!([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]]),
        ),
        "covariances[1][0]",
    );
    invalid_field(
        g(
            "full",
            "covariances",
            json!([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0]]]),
        ),
        "covariances[1]",
    );
    invalid_field(
        g("full", "covariances", json!([1.0, 2.0])),
        "covariances[0]",
    );
    invalid_field(g("full", "covariances", json!(1.0)), "covariances");
    invalid_field(
        g("diag", "covariances", json!([1.0, 2.0])),
        "covariances[0]",
    );
    invalid_field(
        g(
            "diag",
            "covariances",
            json!([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]),
        ),
        "covariances[0]",
    );
    invalid_field(g("diag", "covariances", json!([[1.0, 2.0]])), "covariances");
    invalid_field(
        g("spherical", "covariances", json!([1.0, 2.0, 3.0])),
        "covariances",
    );
    invalid_field(
        g("spherical", "covariances", json!([[1.0], [2.0]])),
        "covariances[0]",
    );
    invalid_field(
        g("spherical", "covariances", json!([1.0, true])),
        "covariances[1]",
    );
    invalid_field(
        g(
            "tied",
            "covariances",
            json!([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]),
        ),
        "covariances",
    );
    invalid_field(
        g("tied", "covariances", json!([[1.0], [0.0]])),
        "covariances[0]",
    );
    // A covariance type the family does not have.
    for bad in ["banana", "Full", ""] {
        assert!(matches!(
            g("full", "covariance_type", json!(bad)).unwrap_err(),
            ModelError::UnknownCovarianceType {
                family: "gaussian",
                ..
            }
        ));
        assert!(matches!(
            load_l(&with(laplace_file(false), "covariance_type", json!(bad))).unwrap_err(),
            ModelError::UnknownCovarianceType {
                family: "laplace",
                ..
            }
        ));
    }
    // Laplace shapes.
    let l = |s: bool, key: &str, v: Value| load_l(&with(laplace_file(s), key, v));
    invalid_field(l(false, "locations", json!([[0.0, 1.0]])), "locations");
    invalid_field(l(false, "scales", json!([[1.0, 2.0]])), "scales");
    invalid_field(l(false, "scales", json!([[1.0, 2.0], [1.0]])), "scales[1]");
    invalid_field(l(false, "scales", json!([1.0, 2.0])), "scales[0]");
    invalid_field(l(true, "scales", json!([1.0])), "scales");
    invalid_field(
        l(true, "scales", json!([[1.0, 2.0], [1.0, 2.0]])),
        "scales[0]",
    );
    invalid_field(l(true, "scales", json!("wide")), "scales");
}

#[test]
fn invalid_parameters_are_refused() {
    let g = |ct: &str, key: &str, v: Value| load_g(&with(gaussian_file(ct), key, v));
    // Negative or zero variances.
    assert!(matches!(
        g("diag", "covariances", json!([[1.0, 2.0], [0.5, -0.5]])).unwrap_err(),
        ModelError::InvalidVariance {
            component: 1,
            feature: 1,
            ..
        }
    ));
    assert!(matches!(
        g("spherical", "covariances", json!([0.0, 2.0])).unwrap_err(),
        ModelError::InvalidVariance {
            component: 0,
            feature: 0,
            ..
        }
    ));
    // Non-positive-definite and non-symmetric covariances.
    assert!(matches!(
        g(
            "full",
            "covariances",
            json!([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 2.0], [2.0, 1.0]]])
        )
        .unwrap_err(),
        ModelError::NotPositiveDefinite {
            component: Some(1),
            source: LinalgError::NotPositiveDefinite { pivot: 1 }
        }
    ));
    assert!(matches!(
        g(
            "full",
            "covariances",
            json!([[[-1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]])
        )
        .unwrap_err(),
        ModelError::NotPositiveDefinite {
            component: Some(0),
            ..
        }
    ));
    assert!(matches!(
        g("tied", "covariances", json!([[1.0, 1.0], [1.0, 1.0]])).unwrap_err(),
        ModelError::NotPositiveDefinite {
            component: None,
            ..
        }
    ));
    assert!(matches!(
        g(
            "full",
            "covariances",
            json!([[[1.0, 0.5], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]])
        )
        .unwrap_err(),
        ModelError::NotSymmetric {
            component: Some(0),
            row: 0,
            col: 1,
            ..
        }
    ));
    // Weights: negative, not summing to one, far from one.
    assert!(matches!(
        g("full", "weights", json!([-0.4, 1.4])).unwrap_err(),
        ModelError::InvalidWeight { component: 0, .. }
    ));
    for w in [
        json!([0.4, 0.4]),
        json!([0.5, 0.6]),
        json!([0.0, 0.0]),
        json!([1e300, 1e300]),
    ] {
        assert!(
            matches!(
                g("spherical", "weights", w.clone()).unwrap_err(),
                ModelError::WeightSum { .. }
            ),
            "{w}"
        );
    }
    // Within the tolerance: loads, renormalized.
    let m = g("spherical", "weights", json!([0.400001, 0.6])).unwrap();
    assert!((m.weights().iter().sum::<f64>() - 1.0).abs() < 1e-15);
    // Non-positive Laplace scales.
    assert!(matches!(
        load_l(&with(
            laplace_file(false),
            "scales",
            json!([[1.0, 2.0], [0.0, 0.5]])
        ))
        .unwrap_err(),
        ModelError::InvalidScale {
            component: 1,
            feature: 0,
            ..
        }
    ));
    assert!(matches!(
        load_l(&with(laplace_file(true), "scales", json!([1.0, -2.0]))).unwrap_err(),
        ModelError::InvalidScale {
            component: 1,
            feature: 0,
            ..
        }
    ));
    // Values beyond f32's range are non-finite once read as f32.
    let f = with(
        gaussian_file("full"),
        "means",
        json!([[0.0, 1e300], [2.0, -1.0]]),
    );
    assert!(load_g(&f).is_ok());
    assert!(matches!(
        GaussianMixtureModel::<f32>::from_json(&f.to_string()).unwrap_err(),
        ModelError::NonFiniteParameter {
            component: 0,
            index: 1,
            ..
        }
    ));
    // Numbers beyond f64's range are a JSON error.
    let text = gaussian_file("diag")
        .to_string()
        .replace("[0.5,0.5]", "[0.5,1e999]");
    assert!(text.contains("1e999"));
    json_error(GaussianMixtureModel::<f64>::from_json(&text));
    // Feature names of the wrong count.
    assert_eq!(
        load_g(&with(gaussian_file("diag"), "feature_names", json!(["a"]))).unwrap_err(),
        ModelError::FeatureNames {
            expected: 2,
            found: 1
        }
    );
}

#[test]
fn truncated_and_garbage_text_is_a_json_error() {
    for file in [
        gaussian_file("full"),
        gaussian_file("tied"),
        laplace_file(false),
    ] {
        for text in [
            file.to_string(),
            serde_json::to_string_pretty(&file).unwrap(),
        ] {
            // Every strict prefix is incomplete JSON.
            for cut in 0..text.len() {
                if !text.is_char_boundary(cut) {
                    continue;
                }
                let t = &text[..cut];
                match AnyMixture::<f64>::from_json(t) {
                    Err(ModelError::Json { .. }) => {}
                    other => panic!("prefix of {cut} bytes: {other:?}"),
                }
                assert!(GaussianMixtureModel::<f32>::from_json(t).is_err());
                assert!(serde_json::from_str::<LaplaceMixtureModel<f64>>(t).is_err());
            }
            assert!(AnyMixture::<f64>::from_json(&text).is_ok());
        }
    }
    for garbage in [
        "",
        " ",
        "null",
        "[]",
        "{}",
        "42",
        "\"model\"",
        "{\"format_version\": 1}",
        "\u{feff}{}",
        "{{}}",
    ] {
        json_error(AnyMixture::<f64>::from_json(garbage));
        json_error(GaussianMixtureModel::<f64>::from_json(garbage));
    }
    // Line and column point into the text.
    let text = "{\n  \"format_version\": 1,\n  \"family\": gaussian\n}";
    match AnyMixture::<f64>::from_json(text).unwrap_err() {
        ModelError::Json { line, column, .. } => assert_eq!((line, column), (3, 13)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn random_corruption_never_panics() {
    // Seeded byte-level mutations of valid files: every result is a model or a
    // typed error, and errors have a message.
    let mut rng = StdRng::seed_from_u64(2024);
    let sources: Vec<String> = ["full", "diag", "spherical", "tied"]
        .iter()
        .map(|ct| gaussian_file(ct).to_string())
        .chain([
            laplace_file(false).to_string(),
            laplace_file(true).to_string(),
        ])
        .collect();
    let alphabet = b"0123456789-+.eE[]{},:\" nulltrufalse";
    for src in &sources {
        for _ in 0..400 {
            let mut bytes = src.clone().into_bytes();
            for _ in 0..rng.random_range(1..4) {
                let i = rng.random_range(0..bytes.len());
                match rng.random_range(0..3) {
                    0 => bytes[i] = alphabet[rng.random_range(0..alphabet.len())],
                    1 => {
                        bytes.remove(i);
                    }
                    _ => bytes.insert(i, alphabet[rng.random_range(0..alphabet.len())]),
                }
                if bytes.is_empty() {
                    break;
                }
            }
            let text = String::from_utf8_lossy(&bytes);
            if let Err(e) = AnyMixture::<f64>::from_json(&text) {
                assert!(!e.to_string().is_empty());
            }
            if let Err(e) = AnyMixture::<f32>::from_json(&text) {
                assert!(!e.to_string().is_empty());
            }
        }
    }
}
