//! Model specifications: names in and out, the structures each family has,
//! the seed codes that must never move, and exact structures in model files.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use faer::mat;
use mixtures_dist::{AnyMixture, Covariance, Family, Gaussian, Mixture, ModelError, ModelSpec};

fn every_spec() -> Vec<ModelSpec> {
    ModelSpec::all().collect()
}

#[test]
fn names_round_trip_and_mclust_names_parse() {
    for spec in every_spec() {
        assert_eq!(spec.to_string().parse::<ModelSpec>().unwrap(), spec);
        let long = format!("{} {}", spec.family(), spec.covariance());
        assert_eq!(long.parse::<ModelSpec>().unwrap(), spec, "{long}");
    }
    for c in Covariance::ALL {
        assert_eq!(
            c.mclust_name().parse::<ModelSpec>().unwrap(),
            ModelSpec::gaussian(c)
        );
        assert_eq!(
            c.mclust_name()
                .to_lowercase()
                .parse::<Covariance>()
                .unwrap(),
            c
        );
    }
    assert_eq!(
        "laplace".parse::<ModelSpec>().unwrap(),
        ModelSpec::LAPLACE_DIAG
    );
    assert_eq!(
        "gaussian".parse::<ModelSpec>().unwrap(),
        ModelSpec::gaussian(Covariance::Full)
    );
    assert_eq!(
        ModelSpec::LAPLACE_SPHERICAL.to_string(),
        "laplace-spherical"
    );
    assert_eq!(
        ModelSpec::gaussian(Covariance::TiedDiag).describe(),
        "gaussian tied-diag (EEI)"
    );
}

#[test]
fn families_refuse_structures_they_do_not_have() {
    for c in [
        Covariance::Full,
        Covariance::Tied,
        Covariance::TiedDiag,
        Covariance::TiedSpherical,
    ] {
        assert!(matches!(
            ModelSpec::new(Family::Laplace, c),
            Err(ModelError::InvalidParameter {
                name: "covariance",
                ..
            })
        ));
        assert!(format!("laplace-{c}").parse::<ModelSpec>().is_err());
    }
    assert_eq!(
        "student-t-tied-diag".parse::<ModelSpec>().unwrap(),
        ModelSpec::student_t(Covariance::TiedDiag)
    );
    assert_eq!(
        "student-t".parse::<ModelSpec>().unwrap(),
        ModelSpec::student_t(Covariance::Full)
    );
    for bad in [
        "",
        "banana",
        "laplace-",
        "student-full",
        "student-t-",
        "FULL",
    ] {
        assert!(bad.parse::<ModelSpec>().is_err(), "{bad}");
    }
}

#[test]
fn seed_codes_never_change() {
    // Grid cells derive their seeds from these: changing one would change
    // every grid's fits.
    let codes: Vec<u64> = every_spec().iter().map(|s| s.seed_code()).collect();
    assert_eq!(codes, [1, 2, 3, 4, 5, 6, 17, 18, 33, 34, 35, 36, 37, 38]);
}

#[test]
fn tied_structures_survive_a_model_file() {
    let g = Gaussian::diag(
        mat![[0.0_f64, 1.0], [3.0, 4.0]],
        mat![[1.0, 2.0], [1.0, 2.0]],
    )
    .unwrap()
    .with_structure(Covariance::TiedDiag)
    .unwrap();
    let m = Mixture::new(vec![0.4, 0.6], g).unwrap();
    assert_eq!(m.n_parameters(), 2 * 2 + 2 + 1);
    let json = m.to_json();
    assert!(json.contains("\"tied-diag\""), "{json}");
    let back = AnyMixture::<f64>::from_json(&json).unwrap();
    assert_eq!(back.spec(), ModelSpec::gaussian(Covariance::TiedDiag));
    assert_eq!(back, AnyMixture::from(m));

    let s = Gaussian::spherical(mat![[0.0_f32], [3.0]], vec![2.0, 2.0])
        .unwrap()
        .with_structure(Covariance::TiedSpherical)
        .unwrap();
    let m = Mixture::new(vec![0.5, 0.5], s).unwrap();
    let back = AnyMixture::<f32>::from_json(&m.to_json()).unwrap();
    assert_eq!(back.spec(), ModelSpec::gaussian(Covariance::TiedSpherical));
    assert_eq!(back.n_parameters(), 2 + 1 + 1);

    // Rows that differ are not tied: refused on construction and on reading.
    let g = Gaussian::diag(mat![[0.0_f64], [3.0]], mat![[1.0], [2.0]]).unwrap();
    assert!(g.clone().with_structure(Covariance::TiedDiag).is_err());
    assert!(g.with_structure(Covariance::Full).is_err());
    let text = Mixture::new(
        vec![0.5, 0.5],
        Gaussian::diag(mat![[0.0_f64], [3.0]], mat![[1.0], [2.0]]).unwrap(),
    )
    .unwrap()
    .to_json()
    .replace("\"diag\"", "\"tied-diag\"");
    assert!(matches!(
        AnyMixture::<f64>::from_json(&text),
        Err(ModelError::InvalidField { ref field, .. }) if field == "covariances"
    ));
    // Files that name the storage shape read as that shape.
    let plain = text.replace("\"tied-diag\"", "\"diag\"");
    assert_eq!(
        AnyMixture::<f64>::from_json(&plain).unwrap().spec(),
        ModelSpec::gaussian(Covariance::Diag)
    );
}
