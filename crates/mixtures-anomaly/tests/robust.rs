//! The minimum covariance determinant as a detector's model step.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use mixtures_anomaly::{Contamination, DensityModel, DetectorParams, McdFitter, ModelFitter};
use mixtures_core::Dataset;
use mixtures_core::chi2::chi2_quantile;
use mixtures_em::Mcd;

/// 380 rows of a correlated cloud and 20 rows far off its axis but inside
/// its bounding box: a plain Gaussian's covariance is inflated by them, the
/// MCD's is not.
fn data() -> Dataset<f64> {
    let mut rows: Vec<[f64; 2]> = (0..380)
        .map(|i| {
            let t = i as f64 * 0.618_033_988_749_895;
            let (u, v) = ((t * 7.1).sin(), (t * 3.3).cos());
            [u * 3.0, u * 3.0 + 0.3 * v]
        })
        .collect();
    rows.extend((0..20).map(|i| {
        let s = (1.0 + 0.05 * i as f64) * if i % 2 == 0 { 1.0 } else { -1.0 };
        [s, -s]
    }));
    Dataset::from_rows(&rows).unwrap()
}

#[test]
fn the_chi2_threshold_is_the_chi2_cut_on_robust_distances() {
    let data = data();
    let mcd = Mcd::new().seed(2);
    let fit = mcd.fit(&data).unwrap();
    let model = fit.to_mixture().unwrap();
    let q = 0.975;
    let t = McdFitter::chi2_threshold(&model, q).unwrap();
    let scores = model.anomaly_scores(&data).unwrap();
    let d2 = fit.mahalanobis(&data).unwrap();
    let cut = chi2_quantile(q, 2.0);
    for (s, d) in scores.iter().zip(&d2) {
        // The same decision, except within rounding of the cut.
        if (d - cut).abs() > 1e-9 * cut {
            assert_eq!(
                *s >= t,
                *d >= cut,
                "score {s} vs {t}, distance {d} vs {cut}"
            );
        }
    }
    // The off-axis rows are beyond the cut.
    assert!(d2[380..].iter().all(|&d| d > cut), "{:?}", &d2[380..]);
    for q in [0.0, 1.0, f64::NAN] {
        assert!(McdFitter::chi2_threshold(&model, q).is_err());
    }
}

#[test]
fn a_contamination_threshold_flags_the_off_axis_rows() {
    let data = data();
    let fit = DetectorParams::new(McdFitter::with(Mcd::new().seed(2)))
        .threshold(Contamination(0.05))
        .fit(&data)
        .unwrap();
    let flags = fit.detector.predict(&data).unwrap();
    assert!(flags[380..].iter().all(|&f| f == 1));
    assert!(flags[..380].iter().filter(|&&f| f == 1).count() <= 4);
    assert_eq!(fit.report.fit.structure, "mcd");
    // Bad settings are refused before the data are read.
    let bad = McdFitter::with(Mcd::new().support_fraction(0.4));
    assert!(ModelFitter::<f64>::check(&bad).is_err());
}
