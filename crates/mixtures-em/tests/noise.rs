//! EM with a uniform noise component, for every family: the noise's share
//! and the clusters are recovered from contaminated data, the fitted model is
//! a fixed point of the M-step equations, the log-likelihood never
//! decreases, and bad settings are typed errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::{blobs, rng};
use mixtures_core::Dataset;
use mixtures_dist::AnyMixture;
use mixtures_em::variational::VariationalGaussianMixture;
use mixtures_em::{EmControl, FitError, ModelSpec, Noise, fit};
use rand::Rng;

/// Two clusters (400 rows each) and 200 rows (20 %) uniform over
/// [-20, 20] x [-20, 20].
fn contaminated() -> (Dataset<f64>, usize) {
    let (mut rows, _) = blobs(
        7,
        &[vec![-5.0, 0.0], vec![5.0, 3.0]],
        &[1.0, 0.8],
        &[400, 400],
    );
    let mut r = rng(3);
    for _ in 0..200 {
        rows.push(vec![
            r.random_range(-20.0..20.0),
            r.random_range(-20.0..20.0),
        ]);
    }
    (Dataset::from_rows(&rows).unwrap(), 800)
}

const SPECS: [&str; 5] = ["full", "diag", "tied", "laplace-diag", "student-t-full"];

#[test]
fn the_noise_share_and_the_clusters_are_recovered_for_every_family() {
    let (x, n_clean) = contaminated();
    for spec in SPECS {
        let spec: ModelSpec = spec.parse().unwrap();
        let control = EmControl::default()
            .noise(Noise::bounding_box())
            .tol(1e-10)
            .max_iter(500)
            .seed(1);
        let f = fit(spec, 2, &control, &x).unwrap();
        let (w0, region) = f.model.noise().unwrap();
        // The uniform rows are 20 % of the data; a few fall on the clusters
        // and are claimed by them, and the noise's density over the clusters
        // takes a little of theirs.
        assert!((w0 - 0.2).abs() < 0.02, "{spec}: noise weight {w0}");
        assert!(
            (region.log_volume() - (39.0f64 * 39.0).ln()).abs() < 0.1,
            "{spec}"
        );
        let labels = f.model.predict(&x).unwrap();
        let clean_as_noise = labels[..n_clean].iter().filter(|&&l| l == 2).count();
        let noise_as_noise = labels[n_clean..].iter().filter(|&&l| l == 2).count();
        assert!(
            clean_as_noise < 8,
            "{spec}: {clean_as_noise} cluster rows called noise"
        );
        assert!(
            noise_as_noise > 170,
            "{spec}: {noise_as_noise} of 200 noise rows"
        );
        let centres = match &f.model {
            AnyMixture::Gaussian(m) => common::rows_of(m.components().means()),
            AnyMixture::Laplace(m) => common::rows_of(m.components().locations()),
            AnyMixture::StudentT(m) => common::rows_of(m.components().means()),
        };
        let mut xs: Vec<f64> = centres.iter().map(|c| c[0]).collect();
        xs.sort_by(f64::total_cmp);
        assert!(
            (xs[0] + 5.0).abs() < 0.2 && (xs[1] - 5.0).abs() < 0.2,
            "{spec}: {xs:?}"
        );
        // One more free parameter than without noise: the noise's weight.
        let plain = fit(spec, 2, &EmControl::default().seed(1), &x).unwrap();
        assert_eq!(
            f.report.n_parameters,
            plain.report.n_parameters + 1,
            "{spec}"
        );
    }
}

#[test]
fn a_converged_gaussian_fit_is_a_fixed_point_of_the_m_step() {
    let (x, _) = contaminated();
    let control = EmControl::default()
        .noise(Noise::bounding_box())
        .tol(1e-13)
        .max_iter(2000)
        .reg_covar(0.0)
        .seed(1);
    let f = fit("full".parse().unwrap(), 2, &control, &x).unwrap();
    assert!(f.report.converged);
    let m = f.model.as_gaussian().unwrap();
    let r = m.responsibilities(&x).unwrap();
    let n = x.n_samples() as f64;
    // Weights (the noise's included) are the mean responsibilities, means
    // the responsibility-weighted means.
    let all: Vec<f64> = m
        .weights()
        .iter()
        .copied()
        .chain([m.noise().unwrap().0])
        .collect();
    for c in 0..3 {
        let mean_r = (0..x.n_samples()).map(|i| r[(i, c)]).sum::<f64>() / n;
        assert!(
            (mean_r - all[c]).abs() < 1e-7,
            "weight {c}: {mean_r} vs {}",
            all[c]
        );
    }
    let v = x.view();
    for c in 0..2 {
        let nk: f64 = (0..x.n_samples()).map(|i| r[(i, c)]).sum();
        for j in 0..2 {
            let mu = (0..x.n_samples())
                .map(|i| r[(i, c)] * v[(i, j)])
                .sum::<f64>()
                / nk;
            let got = m.components().means()[(c, j)];
            assert!((mu - got).abs() < 1e-6, "mean {c},{j}: {mu} vs {got}");
        }
    }
}

#[test]
fn the_log_likelihood_never_decreases_with_noise() {
    let (x, _) = contaminated();
    for spec in SPECS {
        let control = EmControl::default()
            .noise(Noise::bounding_box().initial_weight(0.5))
            .tol(0.0)
            .max_iter(40)
            .seed(4);
        let f = fit(spec.parse().unwrap(), 3, &control, &x).unwrap();
        let from = f
            .report
            .degeneracies
            .iter()
            .map(|e| e.iteration)
            .max()
            .unwrap_or(0);
        for w in f.report.lower_bound_trace[from..].windows(2) {
            assert!(
                w[1] >= w[0] - 1e-10 * w[0].abs(),
                "{spec}: {} then {}",
                w[0],
                w[1]
            );
        }
    }
}

#[test]
fn a_given_volume_sets_the_noise_density() {
    let (x, _) = contaminated();
    let control = EmControl::default().noise(Noise::volume(1e4)).seed(1);
    let f = fit("diag".parse().unwrap(), 2, &control, &x).unwrap();
    let (_, region) = f.model.noise().unwrap();
    assert!((region.log_volume() - 1e4f64.ln()).abs() < 1e-12);
    // Warm starts keep the start's noise box.
    let again = mixtures_em::fit_from("diag".parse().unwrap(), &f.model, &EmControl::default(), &x)
        .unwrap();
    assert_eq!(again.model.noise().unwrap().1, region);
}

#[test]
fn bad_noise_settings_are_refused_before_any_work() {
    let (x, _) = contaminated();
    for (noise, name) in [
        (Noise::volume(0.0), "noise_volume"),
        (Noise::volume(-3.0), "noise_volume"),
        (Noise::volume(f64::NAN), "noise_volume"),
        (Noise::volume(f64::INFINITY), "noise_volume"),
        (
            Noise::bounding_box().initial_weight(0.0),
            "noise_initial_weight",
        ),
        (
            Noise::bounding_box().initial_weight(1.0),
            "noise_initial_weight",
        ),
    ] {
        for spec in SPECS {
            let err = fit(
                spec.parse().unwrap(),
                2,
                &EmControl::default().noise(noise),
                &x,
            )
            .unwrap_err();
            assert!(
                matches!(&err, FitError::InvalidParameter { name: n, .. } if *n == name),
                "{spec} {noise:?}: {err}"
            );
        }
    }
    // A constant feature leaves the bounding box without volume.
    let flat = Dataset::from_rows(&[[1.0, 2.0], [3.0, 2.0], [5.0, 2.0], [0.0, 2.0]]).unwrap();
    let err = fit(
        "diag".parse().unwrap(),
        1,
        &EmControl::default()
            .noise(Noise::bounding_box())
            .reg_covar(1e-3),
        &flat,
    )
    .unwrap_err();
    assert!(err.to_string().contains("zero volume"), "{err}");
    // A volume gives the constant feature a side.
    let f = fit(
        "diag".parse().unwrap(),
        1,
        &EmControl::default()
            .noise(Noise::volume(100.0))
            .reg_covar(1e-3),
        &flat,
    )
    .unwrap();
    assert!((f.model.noise().unwrap().1.log_volume() - 100f64.ln()).abs() < 1e-12);
    let err = VariationalGaussianMixture::params::<f64>(2)
        .control(EmControl::default().noise(Noise::bounding_box()))
        .fit(&x)
        .unwrap_err();
    assert!(
        matches!(err, FitError::InvalidParameter { name: "noise", .. }),
        "{err}"
    );
}
