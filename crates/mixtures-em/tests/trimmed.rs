//! Trimmed likelihood EM: the trimmed log-likelihood never decreases for any
//! family, gross outliers are left out so that the fit is the one on the
//! clean rows, the report counts the weight kept, and fractions outside
//! `[0, 0.5)` are refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::{blobs, max_diff, normal, rng};
use mixtures_core::Dataset;
use mixtures_em::variational::VariationalGaussianMixture;
use mixtures_em::{EmControl, FitError, ModelSpec, fit};

/// Two clusters of 450 rows each and 100 rows (10 %) scattered far away.
fn contaminated() -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
    let (clean, _) = blobs(
        3,
        &[vec![0.0, 0.0, 0.0], vec![6.0, -4.0, 2.0]],
        &[1.0, 0.7],
        &[450, 450],
    );
    let mut r = rng(11);
    let mut all = clean.clone();
    for _ in 0..100 {
        let sign = if normal(&mut r) > 0.0 { 1.0 } else { -1.0 };
        all.push(vec![
            sign * (60.0 + 20.0 * normal(&mut r).abs()),
            40.0 * normal(&mut r),
            -50.0 + 10.0 * normal(&mut r),
        ]);
    }
    (clean, all)
}

fn data(rows: &[Vec<f64>]) -> Dataset<f64> {
    Dataset::from_rows(rows).unwrap()
}

#[test]
fn the_trimmed_likelihood_never_decreases_for_every_family() {
    let (_, all) = contaminated();
    let x = data(&all);
    for spec in [
        "full",
        "diag",
        "spherical",
        "tied",
        "laplace-diag",
        "student-t-full",
    ] {
        let spec: ModelSpec = spec.parse().unwrap();
        let control = EmControl::default()
            .trim(0.15)
            .tol(0.0)
            .max_iter(40)
            .seed(2);
        let f = fit(spec, 3, &control, &x).unwrap();
        let tr = &f.report.lower_bound_trace;
        assert_eq!(tr.len(), 40, "{spec}");
        // A re-seeded component (in the M-step of iteration i) starts a new
        // ascent: the value of iteration i + 1 may be lower.
        let from = f
            .report
            .degeneracies
            .iter()
            .map(|e| e.iteration)
            .max()
            .unwrap_or(0);
        assert!(from < 10, "{spec}: {:?}", f.report.degeneracies);
        for w in tr[from..].windows(2) {
            assert!(
                w[1] >= w[0] - 1e-10 * w[0].abs(),
                "{spec}: {} then {}",
                w[0],
                w[1]
            );
        }
        // The final objective is the trimmed mean under the final model,
        // which is at least the last iteration's.
        let last = *tr.last().unwrap();
        assert!(
            f.report.log_likelihood >= last - 1e-10 * last.abs(),
            "{spec}"
        );
        assert_eq!(f.report.total_weight, (1000 - 150) as f64, "{spec}");
    }
}

#[test]
fn gross_outliers_are_left_out_and_the_fit_is_the_clean_one() {
    let (clean, all) = contaminated();
    let control = EmControl::default().tol(1e-12).max_iter(500).seed(5);
    let spec: ModelSpec = "full".parse().unwrap();
    let reference = fit(spec, 2, &control, &data(&clean)).unwrap();
    // Exactly the contamination's fraction: the 100 far rows are the least
    // likely under any reasonable model, so the kept set is the clean data.
    let trimmed = fit(spec, 2, &control.clone().trim(0.1), &data(&all)).unwrap();
    let plain = fit(spec, 2, &control, &data(&all)).unwrap();
    let (r, t, p) = (
        reference.model.as_gaussian().unwrap(),
        trimmed.model.as_gaussian().unwrap(),
        plain.model.as_gaussian().unwrap(),
    );
    // Components in the same order: by the first coordinate of the mean.
    let order = |m: &mixtures_dist::GaussianMixtureModel<f64>| {
        let mu = m.components().means();
        if mu[(0, 0)] <= mu[(1, 0)] {
            [0, 1]
        } else {
            [1, 0]
        }
    };
    let (or, ot) = (order(r), order(t));
    for c in 0..2 {
        for j in 0..3 {
            let a = r.components().means()[(or[c], j)];
            let b = t.components().means()[(ot[c], j)];
            assert!((a - b).abs() < 1e-8, "mean {c},{j}: {a} vs {b}");
        }
        let (ca, cb) = (
            r.components().covariance_matrix(or[c]),
            t.components().covariance_matrix(ot[c]),
        );
        assert!(max_diff(&ca, &cb) < 1e-8, "covariance {c}");
    }
    // Without trimming the outliers inflate a covariance by orders of
    // magnitude (or take a component of their own).
    let biggest = |m: &mixtures_dist::GaussianMixtureModel<f64>| {
        (0..2)
            .map(|c| m.components().covariance_matrix(c)[(0, 0)])
            .fold(0.0_f64, f64::max)
    };
    assert!(
        biggest(p) > 50.0 * biggest(t),
        "{} vs {}",
        biggest(p),
        biggest(t)
    );
}

#[test]
fn trimming_fractions_outside_zero_to_one_half_are_refused_before_any_work() {
    let (clean, _) = contaminated();
    let x = data(&clean);
    let spec: ModelSpec = "full".parse().unwrap();
    for a in [-0.01, 0.5, 0.9, f64::NAN, f64::INFINITY] {
        let control = EmControl::default().trim(a);
        for s in ["full", "laplace-diag", "student-t-diag"] {
            let err = fit(s.parse().unwrap(), 2, &control, &x).unwrap_err();
            assert!(
                matches!(err, FitError::InvalidParameter { name: "trim", .. }),
                "{s} {a}: {err}"
            );
        }
    }
    let err = VariationalGaussianMixture::params::<f64>(2)
        .control(EmControl::default().trim(0.1))
        .fit(&x)
        .unwrap_err();
    assert!(
        matches!(err, FitError::InvalidParameter { name: "trim", .. }),
        "{err}"
    );
    // Zero is no trimming: the same model, bit for bit, as the default.
    let a = fit(spec, 2, &EmControl::default().trim(0.0), &x).unwrap();
    let b = fit(spec, 2, &EmControl::default(), &x).unwrap();
    assert_eq!(format!("{:?}", a.model), format!("{:?}", b.model));
}
