//! The model layer: one spec, one control, one fit entry point. Every spec
//! fits through `fit` exactly as through its family's own parameters, keeps
//! its exact structure, and reads back from a model file as the same spec.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use mixtures_core::{Dataset, Scalar};
use mixtures_dist::{AnyMixture, Covariance, Family, ModelError, ModelSpec};
use mixtures_em::{
    EmControl, Fit, FitError, GaussianMixture, LaplaceMixture, ModelParams, StudentTMixture, fit,
    fit_from,
};

fn data<T: Scalar>() -> Dataset<T> {
    let (rows, _) = common::blobs(
        5,
        &[
            vec![0.0, 0.0, 1.0],
            vec![6.0, 5.0, -2.0],
            vec![-5.0, 6.0, 3.0],
        ],
        &[1.0, 0.7, 1.3],
        &[90, 70, 80],
    );
    let flat: Vec<T> = rows.iter().flatten().map(|&v| T::c(v)).collect();
    Dataset::from_row_major(&flat, rows.len(), 3).unwrap()
}

fn every_spec() -> Vec<ModelSpec> {
    ModelSpec::all().collect()
}

/// A fit through the family's own parameters.
fn family_fit<T: Scalar, F: Fit<T>>(p: F, x: &Dataset<T>) -> mixtures_em::Fitted<AnyMixture<T>>
where
    F::Model: Into<AnyMixture<T>>,
{
    p.fit(x).unwrap().into_any()
}

fn same_as_family_fit<T: Scalar>() {
    let x = data::<T>();
    let control = EmControl::default().n_init(2).seed(11).tol(1e-6);
    for spec in every_spec() {
        let any = fit(spec, 3, &control, &x).unwrap();
        assert_eq!(any.model.spec(), spec, "{spec}");
        assert_eq!(any.report.structure, spec.to_string(), "{spec}");
        // The family's own parameters with the same settings: bit for bit.
        let (c, s) = (control.clone(), spec.covariance());
        let direct = match spec.family() {
            Family::Gaussian => family_fit(GaussianMixture::params(3).covariance(s).control(c), &x),
            Family::Laplace => family_fit(LaplaceMixture::params(3).structure(s).control(c), &x),
            Family::StudentT => family_fit(StudentTMixture::params(3).covariance(s).control(c), &x),
        };
        assert_eq!(direct.report, any.report, "{spec}");
        let direct = direct.model;
        assert_eq!(
            direct.log_prob(&x).unwrap(),
            any.model.log_prob(&x).unwrap()
        );
        // Free parameters follow the exact structure.
        assert_eq!(any.model.n_parameters(), any.report.n_parameters, "{spec}");
        // The model file keeps it.
        let back = AnyMixture::<T>::from_json(&any.model.to_json()).unwrap();
        assert_eq!(back.spec(), spec, "{spec}");
        assert_eq!(back, any.model, "{spec}");
        // ModelParams is the same fit.
        let p = ModelParams::new(spec, 3).control(control.clone());
        assert_eq!(Fit::fit(&p, &x).unwrap().model, any.model, "{spec}");
    }
}

#[test]
fn every_spec_fits_as_its_family_and_keeps_its_structure_f64() {
    same_as_family_fit::<f64>();
}

#[test]
fn every_spec_fits_as_its_family_and_keeps_its_structure_f32() {
    same_as_family_fit::<f32>();
}

#[test]
fn warm_start_keeps_the_family_and_may_change_the_structure() {
    let x = data::<f64>();
    let c = EmControl::default().seed(2);
    let diag = fit(ModelSpec::gaussian(Covariance::Diag), 3, &c, &x).unwrap();
    let tied = fit_from(
        ModelSpec::gaussian(Covariance::TiedDiag),
        &diag.model,
        &c,
        &x,
    )
    .unwrap();
    assert_eq!(tied.model.spec(), ModelSpec::gaussian(Covariance::TiedDiag));
    assert_eq!(tied.report.restarts.len(), 1);
    match fit_from(ModelSpec::LAPLACE_DIAG, &diag.model, &c, &x) {
        Err(FitError::Model(ModelError::FamilyMismatch { expected, found })) => {
            assert_eq!((expected, found.as_str()), ("laplace", "gaussian"));
        }
        other => panic!("{other:?}"),
    }
    let p = ModelParams::from_start(ModelSpec::LAPLACE_DIAG, diag.model);
    assert!(matches!(
        p.check(),
        Err(FitError::Model(ModelError::FamilyMismatch { .. }))
    ));
}

#[test]
fn one_control_check_for_every_params_type() {
    let bad = [
        ("n_init", EmControl::default().n_init(0)),
        ("max_iter", EmControl::default().max_iter(0)),
        ("tol", EmControl::default().tol(f64::NAN)),
        ("tol", EmControl::default().tol(-1.0)),
        ("reg_covar", EmControl::default().reg_covar(f64::INFINITY)),
    ];
    let x = data::<f64>();
    for (name, c) in bad {
        match c.check() {
            Err(FitError::InvalidParameter { name: n, .. }) => assert_eq!(n, name),
            other => panic!("{name}: {other:?}"),
        }
        for spec in every_spec() {
            match fit(spec, 2, &c, &x) {
                Err(FitError::InvalidParameter { name: n, .. }) => assert_eq!(n, name, "{spec}"),
                other => panic!("{spec} {name}: {other:?}"),
            }
        }
    }
    // A Laplace structure the family does not have is refused before work.
    let p = LaplaceMixture::params::<f64>(2).structure(Covariance::Tied);
    assert!(matches!(
        p.fit(&x),
        Err(FitError::Model(ModelError::InvalidParameter {
            name: "covariance",
            ..
        }))
    ));
}

#[test]
fn defaults_are_the_named_constants() {
    let c = EmControl::default();
    assert_eq!(c.n_init, mixtures_em::DEFAULT_N_INIT);
    assert_eq!(c.max_iter, mixtures_em::DEFAULT_MAX_ITER);
    assert_eq!(c.tol, mixtures_em::DEFAULT_TOL);
    assert_eq!(c.reg_covar, mixtures_em::DEFAULT_REG_COVAR);
    assert_eq!(c.seed, mixtures_em::DEFAULT_SEED);
    assert_eq!(GaussianMixture::params::<f64>(2).em_control(), &c);
    assert_eq!(LaplaceMixture::params::<f64>(2).em_control(), &c);
}
