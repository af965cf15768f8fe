//! The default detector (`Detector::auto`, `AutoFitter`): a tight group of
//! anomalies is not given a component of its own, units do not matter, the
//! structures compared depend on the shape of the data, few distinct rows,
//! bad parameters, f32, determinism, detector files and outlier mode.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::{dataset, dataset32, normal, rng};
use mixtures_anomaly::{
    AnomalyError, AnyDetector, AutoFitter, DEFAULT_MIN_WEIGHT, DensityModel, Detector,
    DetectorParams, Ensemble, EnsembleFitter, roc_auc,
};
use mixtures_core::Dataset;
use mixtures_dist::ModelSpec;
use mixtures_em::Covariance;
use mixtures_select::{Criterion, Grid};
use rand::Rng;

/// Two broad clusters of 600 normal rows in 3-D, and a tight group of `n_anom`
/// anomalies (spread 0.05) halfway between them, a little off the line that
/// joins them. Returns the rows and the 0/1 labels.
fn tight_group(seed: u64, n_anom: usize) -> (Vec<Vec<f64>>, Vec<u8>) {
    let mut r = rng(seed);
    let mut rows = Vec::new();
    let mut y = Vec::new();
    for _ in 0..600 {
        let c = if r.random::<f64>() < 0.5 { -6.0 } else { 6.0 };
        rows.push(vec![
            c + 1.5 * normal(&mut r),
            normal(&mut r),
            0.5 * normal(&mut r),
        ]);
        y.push(0);
    }
    for _ in 0..n_anom {
        rows.push(vec![
            0.05 * normal(&mut r),
            4.0 + 0.05 * normal(&mut r),
            0.05 * normal(&mut r),
        ]);
        y.push(1);
    }
    (rows, y)
}

#[test]
fn a_tight_group_of_anomalies_is_flagged_not_modelled() {
    let (rows, y) = tight_group(1, 24);
    let data = dataset(&rows);

    // Per-component covariances chosen by BIC give the group a tight
    // component of its own: its points become the most probable of all.
    let plain = Grid::new(1..=6)
        .structures(ModelSpec::SKLEARN)
        .criterion(Criterion::Bic)
        .seed(1)
        .fit(&data)
        .unwrap();
    let plain_model = plain.model.as_gaussian().unwrap();
    let plain_auc = roc_auc(&plain_model.anomaly_scores(&data).unwrap(), &y).unwrap();
    assert!(plain_auc < 0.5, "plain BIC choice AUC {plain_auc}");

    // The default: the group's component falls below the weight floor and is
    // dropped, so the group is scored by its distance to the clusters.
    let sel = AutoFitter::<f64>::new().select(&data).unwrap();
    assert!(!sel.dropped_weights.is_empty());
    assert!(sel.dropped_weights.iter().all(|&w| w < DEFAULT_MIN_WEIGHT));
    let fit = Detector::params(AutoFitter::new()).fit(&data).unwrap();
    let scores = fit.detector.score(&data).unwrap();
    let auc = roc_auc(&scores, &y).unwrap();
    assert!(auc > 0.999, "AutoFitter AUC {auc}");
    // The default detector averages it with one Gaussian, which the group
    // between the clusters fools, and the MCD.
    let ensemble = Detector::auto().fit(&data).unwrap().detector;
    let auc = roc_auc(&ensemble.score(&data).unwrap(), &y).unwrap();
    assert!(auc > 0.99, "default AUC {auc}");
    // Every member of the group scores above every normal row's median.
    let mut normal_scores: Vec<f64> = scores[..600].to_vec();
    normal_scores.sort_by(f64::total_cmp);
    assert!(scores[600..].iter().all(|&s| s > normal_scores[300]));
}

#[test]
fn dropping_nothing_keeps_the_chosen_model_in_the_data_units() {
    let (rows, _) = tight_group(2, 0);
    // Features in very different units.
    let rows: Vec<Vec<f64>> = rows
        .iter()
        .map(|r| vec![1000.0 * r[0] + 50.0, 0.001 * r[1], r[2] - 7.0])
        .collect();
    let data = dataset(&rows);
    let sel = AutoFitter::<f64>::new()
        .min_weight(0.0)
        .select(&data)
        .unwrap();
    assert!(sel.dropped_weights.is_empty());
    assert_eq!(sel.model.n_components(), sel.chosen_components());
    // The standardized data, as the fitter computes them (population sd).
    let n = rows.len() as f64;
    let (mut mean, mut sd) = (vec![0.0; 3], vec![0.0; 3]);
    for j in 0..3 {
        mean[j] = rows.iter().map(|r| r[j]).sum::<f64>() / n;
        sd[j] = (rows.iter().map(|r| (r[j] - mean[j]).powi(2)).sum::<f64>() / n).sqrt();
    }
    let z: Vec<Vec<f64>> = rows
        .iter()
        .map(|r| (0..3).map(|j| (r[j] - mean[j]) / sd[j]).collect())
        .collect();
    let z_model = sel.selection.model.as_gaussian().unwrap();
    let lz = z_model.log_prob(&dataset(&z)).unwrap();
    let lx = sel.model.log_prob(&data).unwrap();
    // p_x(x) = p_z(z) / Π sd_j.
    let log_jacobian: f64 = sd.iter().map(|s| s.ln()).sum();
    for (a, b) in lx.iter().zip(&lz) {
        assert!(
            (a - (b - log_jacobian)).abs() < 1e-8 * (1.0 + b.abs()),
            "{a} {b}"
        );
    }
}

#[test]
fn rescaling_or_shifting_a_feature_changes_scores_by_a_constant() {
    let (rows, _) = tight_group(3, 12);
    let scaled: Vec<Vec<f64>> = rows
        .iter()
        .map(|r| vec![r[0] * 250.0 - 3.0, r[1], r[2] * 0.01 + 1e3])
        .collect();
    let fit = |rows: &[Vec<f64>]| {
        Detector::params(AutoFitter::new())
            .fit(&dataset(rows))
            .unwrap()
            .detector
    };
    let (a, b) = (fit(&rows), fit(&scaled));
    let sa = a.score(&dataset(&rows)).unwrap();
    let sb = b.score(&dataset(&scaled)).unwrap();
    // −ln p shifts by ln 250 + ln 0.01 (the Jacobian of the change of units).
    let shift = 250.0f64.ln() + 0.01f64.ln();
    for (x, y) in sa.iter().zip(&sb) {
        assert!((y - x - shift).abs() < 1e-6 * (1.0 + x.abs()), "{x} {y}");
    }
    assert_eq!(a.model().n_components(), b.model().n_components());
    // The default detector's scores are centred and scaled by the training
    // scores: the shift cancels.
    let a = Detector::auto().fit(&dataset(&rows)).unwrap().detector;
    let b = Detector::auto().fit(&dataset(&scaled)).unwrap().detector;
    let sa = a.score(&dataset(&rows)).unwrap();
    let sb = b.score(&dataset(&scaled)).unwrap();
    for (x, y) in sa.iter().zip(&sb) {
        assert!((y - x).abs() < 1e-6 * (1.0 + x.abs()), "{x} {y}");
    }
}

#[test]
fn shared_full_covariance_needs_enough_rows_per_feature() {
    let mut r = rng(4);
    // 100 rows in 10-D: fewer than 25 rows per feature, so only the shared
    // diagonal covariance is compared.
    let wide: Vec<Vec<f64>> = (0..100)
        .map(|_| (0..10).map(|_| normal(&mut r)).collect())
        .collect();
    let sel = AutoFitter::<f64>::new().select(&dataset(&wide)).unwrap();
    assert!(
        sel.selection
            .cells
            .iter()
            .all(|c| c.structure == ModelSpec::gaussian(Covariance::TiedDiag))
    );
    // 500 rows in 4-D: both shared structures are compared.
    let tall: Vec<Vec<f64>> = (0..500)
        .map(|_| (0..4).map(|_| normal(&mut r)).collect())
        .collect();
    let sel = AutoFitter::<f64>::new().select(&dataset(&tall)).unwrap();
    for s in [Covariance::Tied, Covariance::TiedDiag] {
        assert!(
            sel.selection
                .cells
                .iter()
                .any(|c| c.structure == ModelSpec::gaussian(s))
        );
    }
    // A structure asked for alone is kept whatever the shape of the data.
    let sel = AutoFitter::<f64>::new()
        .structures([Covariance::Tied])
        .select(&dataset(&wide))
        .unwrap();
    assert_eq!(
        sel.chosen_structure(),
        ModelSpec::gaussian(Covariance::Tied)
    );
}

#[test]
fn few_distinct_rows_limit_the_numbers_of_components() {
    // Three distinct rows, repeated.
    let rows: Vec<Vec<f64>> = (0..60)
        .map(|i| match i % 3 {
            0 => vec![0.0, 0.0],
            1 => vec![1.0, 0.5],
            _ => vec![3.0, -1.0],
        })
        .collect();
    let sel = AutoFitter::<f64>::new().select(&dataset(&rows)).unwrap();
    assert!(sel.selection.cells.iter().all(|c| c.k <= 3));
    assert!(sel.model.n_components() <= 3);
    let scores = sel.model.anomaly_scores(&dataset(&rows)).unwrap();
    assert!(scores.iter().all(|s| s.is_finite()));
}

/// An unbounded list of numbers of components is refused at once (it was
/// collected into memory), and an absurd `k` among reasonable ones is left
/// out like any `k` above the distinct rows.
#[test]
fn absurd_numbers_of_components_are_refused_or_left_out_quickly() {
    let rows: Vec<Vec<f64>> = (0..60)
        .map(|i| vec![(i as f64 * 0.37).sin(), (i as f64 * 0.11).cos()])
        .collect();
    let t = std::time::Instant::now();
    let fitter = AutoFitter::<f64>::new().components(1..usize::MAX);
    match fitter.check().unwrap_err() {
        AnomalyError::InvalidParameter { name, .. } => assert_eq!(name, "components"),
        other => panic!("expected InvalidParameter, got {other}"),
    }
    assert!(fitter.select(&dataset(&rows)).is_err());
    let sel = AutoFitter::<f64>::new()
        .components([1, 2, 4_611_686_018_427_387_904])
        .select(&dataset(&rows))
        .unwrap();
    assert!(sel.selection.cells.iter().all(|c| c.k <= 2));
    assert!(t.elapsed() < std::time::Duration::from_secs(10));
}

#[test]
fn constant_features_are_only_centred() {
    let (rows, y) = tight_group(5, 12);
    let with_constant: Vec<Vec<f64>> = rows.iter().map(|r| vec![r[0], 7.5, r[1], r[2]]).collect();
    let fit = Detector::auto().fit(&dataset(&with_constant)).unwrap();
    let scores = fit.detector.score(&dataset(&with_constant)).unwrap();
    assert!(scores.iter().all(|s| s.is_finite()));
    assert!(roc_auc(&scores, &y).unwrap() > 0.99);
}

#[test]
fn invalid_parameters_are_refused_before_any_work() {
    let data = dataset(&tight_group(6, 0).0);
    let check = |f: AutoFitter<f64>, name: &str| match f.select(&data) {
        Err(AnomalyError::InvalidParameter { name: n, .. }) => assert_eq!(n, name),
        other => panic!("{name}: {other:?}"),
    };
    check(AutoFitter::new().components([]), "components");
    check(AutoFitter::new().components([0, 2]), "components");
    check(AutoFitter::new().structures([]), "structures");
    check(AutoFitter::new().relative_ridge(-1.0), "relative_ridge");
    check(AutoFitter::new().relative_ridge(f64::NAN), "relative_ridge");
    check(AutoFitter::new().min_weight(1.0), "min_weight");
    check(AutoFitter::new().min_weight(-0.1), "min_weight");
    check(AutoFitter::new().n_init(0), "n_init");
    // The detector checks the fitter's parameters too.
    let params = DetectorParams::new(AutoFitter::<f64>::new().min_weight(2.0));
    assert!(matches!(
        params.fit(&data),
        Err(AnomalyError::InvalidParameter {
            name: "min_weight",
            ..
        })
    ));
}

#[test]
fn the_same_seed_gives_the_same_model_and_default_is_auto() {
    let data = dataset(&tight_group(7, 12).0);
    let a = Detector::auto().fit(&data).unwrap().detector;
    let b = DetectorParams::<f64, EnsembleFitter<f64>>::default()
        .fit(&data)
        .unwrap()
        .detector;
    assert_eq!(a, b);
    let c = DetectorParams::new(EnsembleFitter::with_mixture(AutoFitter::new().seed(99)))
        .fit(&data)
        .unwrap()
        .detector;
    assert_eq!(c.score(&data).unwrap().len(), 612);
}

#[test]
fn single_precision_works_too() {
    let (rows, y) = tight_group(8, 24);
    let fit = Detector::<f32, _>::auto().fit(&dataset32(&rows)).unwrap();
    let scores = fit.detector.score(&dataset32(&rows)).unwrap();
    assert!(roc_auc(&scores, &y).unwrap() > 0.999);
}

#[test]
fn the_default_detector_is_stored_as_a_detector_file() {
    let (rows, _) = tight_group(9, 12);
    let data = dataset(&rows);
    let det = Detector::auto().fit(&data).unwrap().detector;
    let text = det.to_json();
    let back = Detector::<f64, Ensemble<f64>>::from_json(&text).unwrap();
    assert_eq!(back.model(), det.model());
    assert_eq!(back.score(&data).unwrap(), det.score(&data).unwrap());
    assert_eq!(back.predict(&data).unwrap(), det.predict(&data).unwrap());
    // A reader of single-model detectors refuses it, saying why: its
    // threshold is on the ensemble's score, not on −ln p of the main part.
    let err = AnyDetector::<f64>::from_json(&text)
        .unwrap_err()
        .to_string();
    assert!(err.contains("ensemble"), "{err}");
    // A model reader sees the main part (the mixture).
    let main = mixtures_dist::AnyMixture::<f64>::from_json(&text).unwrap();
    assert_eq!(&main, det.model().main());
    // The AutoFitter's detector is a single-model detector file.
    let single = Detector::params(AutoFitter::new())
        .fit(&data)
        .unwrap()
        .detector;
    let back = AnyDetector::<f64>::from_json(&single.clone().into_any().to_json()).unwrap();
    assert_eq!(back.predict(&data).unwrap(), single.predict(&data).unwrap());
    assert!(Detector::<f64, Ensemble<f64>>::from_json(&single.into_any().to_json()).is_err());
}

#[test]
fn outlier_mode_chooses_again_on_the_rows_it_keeps() {
    let (rows, y) = tight_group(10, 24);
    let data: Dataset<f64> = dataset(&rows);
    let fit = Detector::auto().outlier(0.04).fit(&data).unwrap();
    assert!(fit.report.rounds >= 2);
    assert_eq!(fit.report.excluded.len(), (0.04 * 624.0) as usize);
    let scores = fit.detector.score(&data).unwrap();
    assert!(roc_auc(&scores, &y).unwrap() > 0.999);
    // The threshold flags about 4 % of the training rows, the group among them.
    let flags = fit.detector.predict(&data).unwrap();
    assert!(flags[600..].iter().all(|&f| f == 1));
}
