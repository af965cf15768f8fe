//! The default detector's ensemble: the score is the mean of the parts'
//! scaled scores, the scale is the training scores' median and IQR, parts
//! that cannot be fitted are left out and said to be, and the file keeps
//! every part.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{dataset, normal, rng};
use mixtures_anomaly::{
    AnomalyError, AutoFitter, DensityModel, Detector, DetectorParams, Ensemble, EnsembleFitter,
    EnsemblePart, Explain, MEAN_DEVIATION_TO_IQR, McdFitter, ModelFitter, score_scale,
};
use mixtures_core::Dataset;

fn blob(seed: u64, n: usize, d: usize) -> Vec<Vec<f64>> {
    let mut r = rng(seed);
    (0..n)
        .map(|i| {
            (0..d)
                .map(|j| normal(&mut r) * (1.0 + j as f64) + if i % 3 == 0 { 4.0 } else { 0.0 })
                .collect()
        })
        .collect()
}

/// The parts' names, in order.
fn names(e: &Ensemble<f64>) -> Vec<&str> {
    e.parts().iter().map(|p| p.name.as_str()).collect()
}

#[test]
fn the_scale_is_the_median_and_the_interquartile_range() {
    // NumPy: np.median = 3.5, np.percentile(.., [25, 75]) = [2.25, 4.75].
    let (c, s) = score_scale(&[6.0, 1.0, 3.0, 2.0, 4.0, 5.0]).unwrap();
    assert_eq!((c, s), (3.5, 2.5));
    // More than half equal: the mean absolute deviation from the median, on
    // the IQR's scale (for a normal sample the two agree).
    let (c, s) = score_scale(&[1.0, 1.0, 1.0, 1.0, 1.0, 9.0]).unwrap();
    assert_eq!((c, s), (1.0, MEAN_DEVIATION_TO_IQR * 8.0 / 6.0));
    let phi_inv_3_4 = 0.674_489_750_196_081_7;
    let mean_abs_normal = (2.0 / std::f64::consts::PI).sqrt();
    assert!((MEAN_DEVIATION_TO_IQR - 2.0 * phi_inv_3_4 / mean_abs_normal).abs() < 1e-15);
    // A million equal scores and one far one: the far row stays far (a
    // range would put it at 1).
    let mut many = vec![3.0; 1_000_000];
    many.push(1003.0);
    let (c, s) = score_scale(&many).unwrap();
    assert_eq!(c, 3.0);
    assert!((1003.0 - c) / s > 1e5, "{s}");
    // Every score equal: 1.
    assert_eq!(score_scale(&[2.0; 5]).unwrap(), (2.0, 1.0));
    // An infinite score counts as the largest.
    let (c, s) = score_scale(&[1.0, 1.0, 1.0, 1.0, 2.0, f64::INFINITY]).unwrap();
    assert_eq!((c, s), (1.0, 0.75));
    // An infinite upper quartile: the finite scores' mean deviation.
    let inf = f64::INFINITY;
    let (c, s) = score_scale(&[1.0, 1.0, 1.0, 2.0, inf, inf]).unwrap();
    assert_eq!((c, s), (1.5, MEAN_DEVIATION_TO_IQR * 0.5));
    for bad in [vec![], vec![1.0, f64::NAN]] {
        assert!(matches!(
            score_scale(&bad),
            Err(AnomalyError::InvalidParameter { .. })
        ));
    }
    assert!(score_scale(&[f64::INFINITY; 3]).is_err());
}

#[test]
fn the_score_is_the_mean_of_the_scaled_part_scores() {
    let data = dataset(&blob(1, 300, 3));
    let fit = Detector::auto().fit(&data).unwrap();
    let e = fit.detector.model();
    assert_eq!(names(e), ["gaussian", "mcd", "mixture"]);
    assert!(e.left_out().is_empty());
    let scores = fit.detector.score(&data).unwrap();
    // The training scores the fit kept (from the parts' scores at hand) are
    // those of the detector, bit for bit.
    assert_eq!(fit.report.training_scores, scores);
    let parts: Vec<Vec<f64>> = e
        .parts()
        .iter()
        .map(|p| p.model.anomaly_scores(&data).unwrap())
        .collect();
    for (j, p) in e.parts().iter().enumerate() {
        // The scale is that of the part's own training scores.
        assert_eq!(score_scale(&parts[j]).unwrap(), (p.centre, p.spread));
    }
    for (i, s) in scores.iter().enumerate() {
        let want = e
            .parts()
            .iter()
            .enumerate()
            .map(|(j, p)| (parts[j][i] - p.centre) / p.spread)
            .sum::<f64>()
            / 3.0;
        assert!((s - want).abs() < 1e-9 * (1.0 + want.abs()), "{s} {want}");
    }
    // log_prob is minus the score; components are the main part's.
    let lp = e.log_prob(&data).unwrap();
    assert!(lp.iter().zip(&scores).all(|(l, s)| *l == -*s));
    assert_eq!(
        e.most_likely_component(&data).unwrap(),
        e.main().predict(&data).unwrap()
    );
    // Explanations: the parts' contributions weighted as in the score.
    let why = e.explain(&data).unwrap();
    assert_eq!(why.scores(), &scores[..]);
    let w: Vec<f64> = e.parts().iter().map(|p| 1.0 / (3.0 * p.spread)).collect();
    let per_part: Vec<_> = e
        .parts()
        .iter()
        .map(|p| p.model.explain(&data).unwrap())
        .collect();
    for i in [0, 7, 100] {
        for f in 0..3 {
            let want: f64 = (0..3)
                .map(|j| w[j] * per_part[j].contributions()[(i, f)])
                .sum();
            let got = why.contributions()[(i, f)];
            assert!((got - want).abs() < 1e-12 * (1.0 + want.abs()));
        }
    }
}

#[test]
fn the_mcd_is_left_out_when_its_half_sample_has_too_few_rows() {
    // 40 rows in 50 dimensions: the half-sample (h = 46 of 40, capped at
    // 40) has no more rows than features.
    let data = dataset(&blob(2, 40, 50));
    let fit = Detector::auto().fit(&data).unwrap();
    let e = fit.detector.model();
    assert_eq!(names(e), ["gaussian", "mixture"]);
    assert_eq!(e.left_out().len(), 1);
    assert_eq!(e.left_out()[0].0, "mcd");
    assert!(e.left_out()[0].1.contains("more rows than features"));
    assert!(
        fit.detector
            .score(&data)
            .unwrap()
            .iter()
            .all(|s| s.is_finite())
    );
    // The file keeps the reason.
    let back = Detector::<f64, Ensemble<f64>>::from_json(&fit.detector.to_json()).unwrap();
    assert_eq!(back.model().left_out(), e.left_out());
}

#[test]
fn large_data_fit_on_a_sample_and_are_scaled_on_every_row() {
    let rows = blob(3, 600, 2);
    let data = dataset(&rows);
    let mut fitter = EnsembleFitter::with_mixture(AutoFitter::new().seed(4));
    fitter.max_fit_rows = 200;
    let a = fitter.fit_model(&data).unwrap().fitted.model;
    let b = fitter.fit_model(&data).unwrap().fitted.model;
    assert_eq!(a, b, "the sample is drawn by the seed");
    let all = EnsembleFitter::with_mixture(AutoFitter::new().seed(4))
        .fit_model(&data)
        .unwrap()
        .fitted
        .model;
    assert_ne!(a.parts()[0].model, all.parts()[0].model);
    for p in a.parts() {
        let s = p.model.anomaly_scores(&data).unwrap();
        assert_eq!(score_scale(&s).unwrap(), (p.centre, p.spread));
    }
    let fit = DetectorParams::new(fitter.clone()).fit(&data).unwrap();
    assert_eq!(
        fit.report.training_scores,
        fit.detector.score(&data).unwrap()
    );
    // The MCD step's own scores, kept by the detector, are its model's.
    let mcd = DetectorParams::new(McdFitter::new()).fit(&data).unwrap();
    assert_eq!(
        mcd.report.training_scores,
        mcd.detector.score(&data).unwrap()
    );
    fitter.max_fit_rows = 1;
    assert!(matches!(
        DetectorParams::new(fitter).fit(&data),
        Err(AnomalyError::InvalidParameter {
            name: "max_fit_rows",
            ..
        })
    ));
}

#[test]
fn an_ensemble_is_checked_when_built_and_when_read() {
    let data = dataset(&blob(5, 200, 2));
    let e = Detector::auto()
        .fit(&data)
        .unwrap()
        .detector
        .model()
        .clone();
    let part = |spread: f64| EnsemblePart {
        spread,
        ..e.parts()[0].clone()
    };
    assert!(Ensemble::<f64>::new(vec![], 0).is_err());
    assert!(Ensemble::new(vec![part(1.0)], 1).is_err());
    assert!(Ensemble::new(vec![part(0.0)], 0).is_err());
    assert!(Ensemble::new(vec![part(f64::NAN)], 0).is_err());
    let wide = Detector::auto()
        .fit(&dataset(&blob(6, 200, 3)))
        .unwrap()
        .detector
        .model()
        .parts()[0]
        .clone();
    assert!(Ensemble::new(vec![part(1.0), wide], 0).is_err());

    // A file whose part has a spread of zero, or whose main part names a
    // model of its own, is refused with the field.
    let text = Detector::auto().fit(&data).unwrap().detector.to_json();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["ensemble"]["parts"][0]["spread"] = serde_json::json!(0.0);
    let err = Detector::<f64, Ensemble<f64>>::from_json(&v.to_string())
        .unwrap_err()
        .to_string();
    assert!(err.contains("ensemble") && err.contains("spread"), "{err}");
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let main = v["ensemble"]["main"].as_u64().unwrap() as usize;
    v["ensemble"]["parts"][main]["model"] = v["ensemble"]["parts"][0]["model"].clone();
    assert!(Detector::<f64, Ensemble<f64>>::from_json(&v.to_string()).is_err());
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["threshold"]["score"] = serde_json::json!("negative_log_density");
    let err = Detector::<f64, Ensemble<f64>>::from_json(&v.to_string())
        .unwrap_err()
        .to_string();
    assert!(err.contains("threshold.score"), "{err}");
}

#[test]
fn single_precision_ensembles_work() {
    let rows = blob(7, 300, 3);
    let rows32: Vec<Vec<f32>> = rows
        .iter()
        .map(|r| r.iter().map(|&v| v as f32).collect())
        .collect();
    let data = Dataset::from_rows(&rows32).unwrap();
    let fit = Detector::<f32, Ensemble<f32>>::auto().fit(&data).unwrap();
    assert_eq!(fit.detector.model().parts().len(), 3);
    assert!(
        fit.detector
            .score(&data)
            .unwrap()
            .iter()
            .all(|s| s.is_finite())
    );
}
