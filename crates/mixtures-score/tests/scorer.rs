//! The scorer on small models worked out by hand, the refusals of its
//! constructors, and the edges: far points, overflow, NaN input, a noise
//! component, a component of weight zero. (Agreement with the library on
//! every family and structure is tested where the exporter lives,
//! mixtures-anomaly's tests/export_*.rs.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use mixtures_score::{Family, Mixture, MixtureParams, Noise, Part, Scale, ScoreError, Scorer};

const LN_2PI: f64 = 1.837_877_066_409_345_5;

fn params<'a>(family: Family, scale: Scale<'a, f64>, dof: &'a [f64]) -> MixtureParams<'a, f64> {
    MixtureParams {
        dim: 2,
        family,
        log_weights: &[0.0],
        means: &[1.0, -1.0],
        log_norms: &[0.0],
        scale,
        dof,
        noise: None,
    }
}

#[test]
fn one_component_of_each_family_by_hand() {
    let x = [3.0, 0.0]; // x − μ = (2, 1)
    // Gaussian, σ = (2, 0.5): δ² = 1 + 4 = 5.
    let g = Mixture::new(params(Family::Gaussian, Scale::Diag(&[0.5, 2.0]), &[])).unwrap();
    assert_eq!(Scorer::model(g).log_prob(&x).unwrap(), -2.5);
    // Laplace, b = (2, 0.5): Σ |x − μ| / b = 1 + 2 = 3.
    let l = Mixture::new(params(Family::Laplace, Scale::Diag(&[0.5, 2.0]), &[])).unwrap();
    assert_eq!(Scorer::model(l).log_prob(&x).unwrap(), -3.0);
    // Student-t, ν = 3, identity scale: −((3 + 2)/2) ln(1 + 5/3).
    let t = Mixture::new(params(Family::StudentT, Scale::Spherical(&[1.0]), &[3.0])).unwrap();
    let expected = -2.5 * (5.0f64 / 3.0).ln_1p();
    assert!((Scorer::model(t).log_prob(&x).unwrap() - expected).abs() < 1e-15);
    // Full: L⁻¹ = [[1, 0], [−1, 2]] packed as [1, −1, 2]: z = (2, −2 + 2) = (2, 0).
    let f = Mixture::new(params(
        Family::Gaussian,
        Scale::Full(&[1.0, -1.0, 2.0]),
        &[],
    ))
    .unwrap();
    assert_eq!(Scorer::model(f).log_prob(&x).unwrap(), -2.0);
}

#[test]
fn constructors_refuse_arrays_that_do_not_fit() {
    let e = Mixture::new(params(Family::Gaussian, Scale::Diag(&[1.0]), &[])).unwrap_err();
    assert_eq!(
        e,
        ScoreError::Length {
            what: "scale (diag)",
            expected: 2,
            found: 1
        }
    );
    let e = Mixture::new(params(Family::Laplace, Scale::Tied(&[1.0, 0.0, 1.0]), &[])).unwrap_err();
    assert!(matches!(e, ScoreError::Unsupported { .. }));
    let e = Mixture::new(params(Family::StudentT, Scale::Spherical(&[1.0]), &[])).unwrap_err();
    assert!(matches!(e, ScoreError::Length { what: "dof", .. }));
    let mut p = params(Family::Gaussian, Scale::Spherical(&[1.0]), &[]);
    p.dim = 0;
    assert_eq!(
        Mixture::new(p).unwrap_err(),
        ScoreError::Empty { what: "dim" }
    );
    let m = Mixture::new(params(Family::Gaussian, Scale::Spherical(&[1.0]), &[])).unwrap();
    assert!(Scorer::ensemble(&[], 0, 1.0).is_err());
    let one = [Part {
        mixture: m,
        centre: 0.0,
        weight: 1.0,
    }];
    assert!(Scorer::ensemble(&one, 1, 1.0).is_err());
    let s = Scorer::detector(m, 1.0);
    assert!(matches!(
        s.evaluate(&[1.0, 2.0, 3.0]),
        Err(ScoreError::Length { what: "x", .. })
    ));
}

#[test]
fn far_points_overflow_and_nan() {
    let m = Mixture::new(params(Family::Gaussian, Scale::Spherical(&[1.0]), &[])).unwrap();
    let s = Scorer::detector(m, 10.0);
    // Far but finite: a very negative log-density, not −∞.
    let far = s.evaluate(&[1e150, 0.0]).unwrap();
    assert!(far.log_prob.is_finite() && far.log_prob < -1e299);
    // A distance that overflows: −∞, an anomaly.
    let inf = s.evaluate(&[1e300, 0.0]).unwrap();
    assert_eq!(inf.log_prob, f64::NEG_INFINITY);
    assert_eq!(inf.is_anomaly, Some(true));
    // A broken reading is never passed as normal.
    assert_eq!(s.is_anomaly(&[f64::NAN, 0.0]).unwrap(), Some(true));
}

#[test]
fn noise_and_a_component_of_weight_zero() {
    // Two 1-D components: weight zero at 0, weight 0.9 at 10; noise 0.1 on [−5, 5].
    let log_weights = [f64::NEG_INFINITY, 0.9f64.ln()];
    let noise = Noise {
        log_density: 0.1f64.ln() - 10f64.ln(),
        lower: &[-5.0],
        upper: &[5.0],
    };
    let m = Mixture::new(MixtureParams {
        dim: 1,
        family: Family::Gaussian,
        log_weights: &log_weights,
        means: &[0.0, 10.0],
        log_norms: &[-0.5 * LN_2PI, -0.5 * LN_2PI],
        scale: Scale::Spherical(&[1.0, 1.0]),
        dof: &[],
        noise: Some(noise),
    })
    .unwrap();
    let s = Scorer::model(m);
    // At 0 the noise wins: the component of weight zero is never chosen.
    let at0 = s.evaluate(&[0.0]).unwrap();
    assert_eq!(at0.component, 2);
    let expected = (0.01 + 0.9 * (-50.0f64 - 0.5 * LN_2PI).exp()).ln();
    assert!((at0.log_prob - expected).abs() < 1e-15);
    assert_eq!(s.component(&[10.0]).unwrap(), 1);
    // Outside the box only the components count.
    assert_eq!(s.component(&[-20.0]).unwrap(), 1);
}

#[test]
fn an_ensemble_averages_scaled_scores_and_reports_the_main_part() {
    let a = Mixture::new(params(Family::Gaussian, Scale::Spherical(&[1.0]), &[])).unwrap();
    let b = Mixture::new(params(Family::Laplace, Scale::Spherical(&[1.0]), &[])).unwrap();
    let parts = [
        Part {
            mixture: a,
            centre: 1.0,
            weight: 0.25,
        },
        Part {
            mixture: b,
            centre: 2.0,
            weight: 0.5,
        },
    ];
    let s = Scorer::ensemble(&parts, 1, 0.0).unwrap();
    let x = [2.0, -1.0]; // Gaussian score 0.5, Laplace score 1
    let o = s.evaluate(&x).unwrap();
    assert_eq!(o.score, 0.25 * (0.5 - 1.0) + 0.5 * (1.0 - 2.0));
    assert_eq!(o.log_prob, -o.score);
    assert_eq!(o.is_anomaly, Some(false));
    assert_eq!(s.main().params().family, Family::Laplace);
}

#[test]
fn f32_scores_too() {
    static MEANS: [f32; 2] = [1.0, -1.0];
    let m = Mixture::new(MixtureParams {
        dim: 2,
        family: Family::Gaussian,
        log_weights: &[0.0f32],
        means: &MEANS,
        log_norms: &[0.0],
        scale: Scale::Tied(&[1.0, 0.0, 1.0]),
        dof: &[],
        noise: None,
    })
    .unwrap();
    assert_eq!(
        Scorer::model(m).anomaly_score(&[2.0f32, -1.0]).unwrap(),
        0.5
    );
}
