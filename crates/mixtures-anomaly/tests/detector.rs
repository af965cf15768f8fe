//! Detectors: novelty and outlier (robust) fits, normalized scores,
//! thresholds chosen on validation data, detector files, f32, bad input.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::{dataset, dataset32, normal, rng};
use mixtures_anomaly::{
    AnomalyError, AnyDetector, BestF, Contamination, DensityModel, Detector, Fixed, Mode,
    ScoreReference, Threshold, roc_auc,
};
use mixtures_core::Dataset;
use mixtures_dist::{AnyMixture, GaussianMixtureModel, LaplaceMixtureModel, ModelError};
use mixtures_em::{Covariance, GaussianMixture, LaplaceMixture};
use rand::Rng;

/// Two elongated clusters in 3-D (feature 1 follows feature 0); every 20th row
/// is an anomaly moved off that line by ±`shift` in feature 1.
fn elongated(seed: u64, n: usize, shift: f64) -> (Vec<Vec<f64>>, Vec<u8>) {
    let mut r = rng(seed);
    let mut rows = Vec::with_capacity(n);
    let mut y = Vec::with_capacity(n);
    for i in 0..n {
        let anomaly = i % 20 == 0;
        let c = if r.random::<f64>() < 0.5 { 0.0 } else { 10.0 };
        let f = 2.0 * normal(&mut r);
        let off = if !anomaly {
            0.5 * normal(&mut r)
        } else if r.random::<f64>() < 0.5 {
            shift + 0.3 * normal(&mut r)
        } else {
            -shift + 0.3 * normal(&mut r)
        };
        rows.push(vec![c + f, c + f + off, c + 0.5 * normal(&mut r)]);
        y.push(u8::from(anomaly));
    }
    (rows, y)
}

#[test]
fn robust_fit_beats_a_plain_fit_on_contaminated_data() {
    // 5 % anomalies, 4 residual standard deviations off the clusters' axis:
    // a plain fit widens the covariance to take them in; the robust fit
    // leaves them out and keeps it tight. Measured on held-out data too.
    let (rows, y) = elongated(1, 2000, 2.0);
    let (test_rows, test_y) = elongated(2, 2000, 2.0);
    let (train, test) = (dataset(&rows), dataset(&test_rows));
    let p = GaussianMixture::params(2).seed(4);
    let plain = Detector::params(p.clone()).fit(&train).unwrap();
    let robust = Detector::params(p).outlier(0.05).fit(&train).unwrap();
    assert!(
        robust.report.converged && robust.report.rounds > 1,
        "{:?}",
        robust.report.rounds
    );
    assert_eq!(robust.report.excluded.len(), 100);
    // Most rows left out are the injected anomalies.
    let caught = robust
        .report
        .excluded
        .iter()
        .filter(|&&i| y[i] == 1)
        .count();
    assert!(caught >= 80, "{caught} of 100 excluded rows are anomalies");
    for (data, labels, what) in [(&train, &y, "train"), (&test, &test_y, "test")] {
        let a = roc_auc(&plain.detector.score(data).unwrap(), labels).unwrap();
        let b = roc_auc(&robust.detector.score(data).unwrap(), labels).unwrap();
        // Measured: train 0.987 → 0.998, held-out test 0.982 → 0.996.
        assert!(b > a + 0.007, "{what}: plain AUC {a:.4}, robust {b:.4}");
        assert!(
            1.0 - b < 0.4 * (1.0 - a),
            "{what}: plain AUC {a:.4}, robust {b:.4}"
        );
    }
    // Outlier mode's default threshold flags the contamination on the
    // training data.
    let flagged: usize = robust
        .detector
        .predict(&train)
        .unwrap()
        .iter()
        .map(|&f| usize::from(f))
        .sum();
    assert_eq!(flagged, 100);
    assert_eq!(robust.detector.threshold().rule(), "contamination");
}

#[test]
fn novelty_mode_fits_once_and_flags_about_q() {
    let (rows, _) = elongated(3, 1000, 0.0);
    let data = dataset(&rows);
    let fit = Detector::params(GaussianMixture::params(2).seed(1))
        .threshold(Contamination(0.05))
        .fit(&data)
        .unwrap();
    assert_eq!((fit.report.rounds, fit.report.converged), (1, true));
    assert!(fit.report.excluded.is_empty());
    assert!(fit.report.fit.converged);
    let d = &fit.detector;
    let flags = d.predict(&data).unwrap();
    assert_eq!(flags.iter().filter(|&&f| f == 1).count(), 50);
    // Normalized scores: the tail probability of a training point is the
    // fraction of training points scoring at least as high.
    let tail = d.tail_probability(&data).unwrap();
    let below = tail.iter().filter(|&&p| p <= 0.05).count();
    assert_eq!(below, 50);
    assert!(tail.iter().all(|&p| (1.0 / 1000.0..=1.0).contains(&p)));
    let far = Dataset::from_rows(&[[100.0, -100.0, 0.0]]).unwrap();
    assert_eq!(d.tail_probability(&far).unwrap(), vec![0.0]);
    assert_eq!(d.predict(&far).unwrap(), vec![1]);
    // Scores are −ln p, and the most likely components are the model's.
    let lp = d.model().log_prob(&data).unwrap();
    assert!(
        d.score(&data)
            .unwrap()
            .iter()
            .zip(&lp)
            .all(|(s, l)| *s == -l)
    );
    assert_eq!(
        d.most_likely_component(&data).unwrap(),
        d.model().predict(&data).unwrap()
    );
}

#[test]
fn max_rounds_bounds_the_robust_fit() {
    let (rows, _) = elongated(5, 600, 2.0);
    let data = dataset(&rows);
    let params = Detector::params(GaussianMixture::params(2).seed(1))
        .outlier(0.05)
        .max_rounds(1);
    assert_eq!(
        params.mode(),
        Mode::Outlier {
            contamination: 0.05,
            max_rounds: 1
        }
    );
    let fit = params.fit(&data).unwrap();
    assert_eq!((fit.report.rounds, fit.report.converged), (1, false));
    assert!(fit.report.excluded.is_empty());
    let fit = Detector::params(GaussianMixture::params(2).seed(1))
        .outlier(0.05)
        .max_rounds(2)
        .fit(&data)
        .unwrap();
    assert_eq!(fit.report.rounds, 2);
    assert_eq!(fit.report.excluded.len(), 30);
}

#[test]
fn bad_parameters_are_refused_before_fitting() {
    let data = dataset(&[vec![0.0], vec![1.0], vec![2.0]]);
    for q in [0.0, 0.6, f64::NAN] {
        let e = Detector::params(GaussianMixture::params(1))
            .outlier(q)
            .fit(&data)
            .unwrap_err();
        assert!(
            matches!(
                e,
                AnomalyError::InvalidParameter {
                    name: "contamination",
                    ..
                }
            ),
            "{e}"
        );
    }
    let e = Detector::params(GaussianMixture::params(1))
        .outlier(0.1)
        .max_rounds(0)
        .fit(&data)
        .unwrap_err();
    assert!(matches!(
        e,
        AnomalyError::InvalidParameter {
            name: "max_rounds",
            ..
        }
    ));
    let e = Detector::params(GaussianMixture::params(1))
        .threshold(Contamination(0.9))
        .fit(&data)
        .unwrap_err();
    assert!(matches!(e, AnomalyError::InvalidParameter { .. }));
    // A label rule needs validation labels.
    let e = Detector::params(GaussianMixture::params(1))
        .threshold(BestF::f1())
        .fit(&data)
        .unwrap_err();
    assert!(matches!(e, AnomalyError::LabelsRequired { .. }));
    // Fit errors pass through.
    let e = Detector::params(GaussianMixture::params(5))
        .fit(&data)
        .unwrap_err();
    assert!(matches!(e, AnomalyError::Fit(_)), "{e}");
    // Data of another dimension.
    let fit = Detector::params(GaussianMixture::params(1))
        .fit(&data)
        .unwrap();
    let wide = dataset(&[vec![0.0, 1.0]]);
    assert!(matches!(
        fit.detector.score(&wide),
        Err(AnomalyError::Data(_))
    ));
}

#[test]
fn best_f_on_validation_data() {
    // Fit on clean data, choose the threshold for the best F1 on labelled
    // validation data (the usual supervised-threshold protocol).
    let (clean, _) = elongated(6, 1000, 0.0);
    let (val, val_y) = elongated(7, 1000, 3.0);
    let (train, val) = (dataset(&clean), dataset(&val));
    let p = Detector::params(GaussianMixture::params(2).seed(2)).threshold(BestF::f1());
    let fit = p.fit_validated(&train, &val, &val_y).unwrap();
    let ev = fit.detector.evaluate(&val, &val_y).unwrap();
    assert!(ev.confusion.f1() > 0.9, "{ev:?}");
    assert!(ev.roc_auc > 0.99);
    // The same as calibrating an existing detector.
    let mut d = Detector::params(GaussianMixture::params(2).seed(2))
        .fit(&train)
        .unwrap()
        .detector;
    d.calibrate_labelled(&BestF::f1(), &val, &val_y).unwrap();
    assert_eq!(d.threshold(), fit.detector.threshold());
    // A failed calibration leaves the detector as it was.
    let before = d.clone();
    assert!(
        d.calibrate_labelled(&BestF::f1(), &val, &vec![0u8; 1000])
            .is_err()
    );
    assert!(
        d.calibrate_labelled(&BestF::f1(), &val, &val_y[..10])
            .is_err()
    );
    assert_eq!(d, before);
    d.calibrate(&Fixed(1.0), &val).unwrap();
    assert_eq!(d.threshold().value(), 1.0);
}

#[test]
fn laplace_and_f32_detectors() {
    // Laplace components are axis-aligned: anomalies off in feature 2 alone.
    let (mut rows, y) = elongated(8, 1000, 0.0);
    for (r, &l) in rows.iter_mut().zip(&y) {
        r[2] += 3.0 * f64::from(l);
    }
    let fit = Detector::params(LaplaceMixture::params(2).seed(3))
        .outlier(0.05)
        .fit(&dataset(&rows))
        .unwrap();
    let auc = roc_auc(&fit.detector.score(&dataset(&rows)).unwrap(), &y).unwrap();
    assert!(auc > 0.95, "{auc}");
    let (rows, y) = elongated(8, 1000, 3.0);
    let data32 = dataset32(&rows);
    let fit32 = Detector::params(
        GaussianMixture::params::<f32>(2)
            .covariance(Covariance::Full)
            .seed(3),
    )
    .outlier(0.05)
    .fit(&data32)
    .unwrap();
    let s32 = fit32.detector.score(&data32).unwrap();
    assert!(roc_auc(&s32, &y).unwrap() > 0.99);
    let back =
        Detector::<f32, GaussianMixtureModel<f32>>::from_json(&fit32.detector.to_json()).unwrap();
    assert_eq!(back, fit32.detector);
}

#[test]
fn detector_files_round_trip_and_stay_model_files() {
    let (rows, _) = elongated(9, 500, 2.0);
    let data = dataset(&rows);
    let d = Detector::params(GaussianMixture::params(2).seed(1))
        .outlier(0.05)
        .fit(&data)
        .unwrap()
        .detector;
    let text = d.to_json();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["threshold"]["rule"], "contamination");
    assert_eq!(v["threshold"]["score"], "negative_log_density");
    assert_eq!(v["threshold"]["parameters"]["q"], 0.05);
    assert_eq!(
        v["threshold"]["value"].as_f64().unwrap(),
        d.threshold().value()
    );
    assert_eq!(v["threshold"]["reference"]["n"], 500);
    assert_eq!(
        v["threshold"]["reference"]["quantiles"]
            .as_array()
            .unwrap()
            .len(),
        500
    );
    // Exact round trip, through the typed model and through AnyMixture.
    let back = Detector::<f64, GaussianMixtureModel<f64>>::from_json(&text).unwrap();
    assert_eq!(back, d);
    let any = AnyDetector::<f64>::from_json(&text).unwrap();
    assert_eq!(any.score(&data).unwrap(), d.score(&data).unwrap());
    assert_eq!(
        any.tail_probability(&data).unwrap(),
        d.tail_probability(&data).unwrap()
    );
    assert_eq!(d.clone().into_any(), any);
    // A detector file is a model file: model readers ignore the threshold.
    let model = AnyMixture::<f64>::from_json(&text).unwrap();
    assert_eq!(&model, any.model());
    // Through serde as well, and through a file.
    let via_serde: Detector<f64, GaussianMixtureModel<f64>> =
        serde_json::from_value(serde_json::to_value(&d).unwrap()).unwrap();
    assert_eq!(via_serde, d);
    let path = std::env::temp_dir().join(format!(
        "mixtures-anomaly-detector-{}.json",
        std::process::id()
    ));
    d.save(&path).unwrap();
    assert_eq!(
        Detector::<f64, GaussianMixtureModel<f64>>::load(&path).unwrap(),
        d
    );
    std::fs::remove_file(&path).unwrap();
    // Without the reference there are no normalized scores.
    let bare = d.clone().without_reference();
    let back = AnyDetector::<f64>::from_json(&bare.to_json()).unwrap();
    assert!(back.reference().is_none());
    assert_eq!(
        back.tail_probability(&data).unwrap_err(),
        AnomalyError::NoReference
    );
    assert_eq!(back.predict(&data).unwrap(), d.predict(&data).unwrap());
}

#[test]
fn bad_detector_files_are_refused_with_the_field() {
    let (rows, _) = elongated(10, 200, 2.0);
    let d = Detector::params(GaussianMixture::params(1).seed(1))
        .fit(&dataset(&rows))
        .unwrap()
        .detector
        .into_any();
    // A plain model file has no threshold.
    let model_only = d.model().to_json();
    match AnyDetector::<f64>::from_json(&model_only).unwrap_err() {
        ModelError::InvalidField { field, .. } => assert_eq!(field, "threshold"),
        e => panic!("{e}"),
    }
    let mut v: serde_json::Value = serde_json::from_str(&d.to_json()).unwrap();
    v["threshold"]["score"] = "log_density".into();
    match AnyDetector::<f64>::from_json(&v.to_string()).unwrap_err() {
        ModelError::InvalidField { field, .. } => assert_eq!(field, "threshold.score"),
        e => panic!("{e}"),
    }
    v["threshold"] = serde_json::json!({ "value": "high" });
    assert!(matches!(
        AnyDetector::<f64>::from_json(&v.to_string()),
        Err(ModelError::Json { .. })
    ));
    // A Laplace detector file cannot be read as a Gaussian one.
    let lap = Detector::params(LaplaceMixture::params(1).seed(1))
        .fit(&dataset(&rows))
        .unwrap()
        .detector;
    assert!(matches!(
        Detector::<f64, GaussianMixtureModel<f64>>::from_json(&lap.to_json()),
        Err(ModelError::FamilyMismatch { .. })
    ));
    assert!(Detector::<f64, LaplaceMixtureModel<f64>>::from_json(&lap.to_json()).is_ok());
    // The minimal threshold object is a value.
    let mut v: serde_json::Value = serde_json::from_str(&d.to_json()).unwrap();
    v["threshold"] = serde_json::json!({ "value": 3.5 });
    let back = AnyDetector::<f64>::from_json(&v.to_string()).unwrap();
    assert_eq!(back.threshold().value(), 3.5);
    assert!(back.reference().is_none());
}

#[test]
fn detectors_from_parts() {
    let (rows, _) = elongated(11, 300, 0.0);
    let data = dataset(&rows);
    let model = GaussianMixture::params(2).seed(1).fit(&data).unwrap().model;
    let scores = model.anomaly_scores(&data).unwrap();
    let d = Detector::from_parts(model, Threshold::new(5.0, "manual", []).unwrap())
        .with_reference(ScoreReference::new(&scores).unwrap());
    assert_eq!(d.threshold().rule(), "manual");
    assert_eq!(d.reference().unwrap().len(), 300);
    let flags = d.predict(&data).unwrap();
    assert!(
        flags
            .iter()
            .zip(&scores)
            .all(|(&f, &s)| (f == 1) == (s >= 5.0))
    );
    let (_, t, r) = d.into_parts();
    assert_eq!(t.value(), 5.0);
    assert!(r.is_some());
}
