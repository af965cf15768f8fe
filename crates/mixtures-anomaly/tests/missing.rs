//! Detectors on data with missing values: the tail score keeps one threshold
//! fair to rows with different observed features, complete data give the
//! complete-data model, the robust rounds leave out planted anomalies, files
//! keep the score kind, and explanations cover the observed features.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use mixtures_anomaly::{
    AnyDetector, Attribution, Contamination, Detector, Explain, IncompleteDetector, SCORE_TAIL,
    TailScored, explain_incomplete, roc_auc,
};
use mixtures_core::missing::IncompleteDataset;
use mixtures_core::{DataError, Dataset};
use mixtures_dist::{AnyMixture, DensityModel, Marginal};
use mixtures_em::{Covariance, GaussianMixture};
use mixtures_select::Grid;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Correlated 4-dimensional Gaussian rows (two clusters), row-major.
fn gaussian_rows(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(n * 4);
    for i in 0..n {
        let shift = if i % 3 == 0 { 4.0 } else { 0.0 };
        let z: Vec<f64> = (0..4)
            .map(|_| {
                // Box-Muller.
                let (u, v): (f64, f64) = (rng.random::<f64>().max(1e-300), rng.random());
                (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
            })
            .collect();
        out.extend([
            shift + z[0],
            0.8 * z[0] + 0.6 * z[1],
            shift + 0.5 * z[1] + z[2],
            z[3] - 0.7 * z[2],
        ]);
    }
    out
}

/// Removes each cell with probability `frac` (never a whole row).
fn remove(values: &mut [f64], frac: f64, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    for row in values.chunks_mut(4) {
        for v in row.iter_mut() {
            if rng.random::<f64>() < frac {
                *v = f64::NAN;
            }
        }
        if row.iter().all(|v| v.is_nan()) {
            row[1] = 0.0;
        }
    }
}

fn params() -> mixtures_em::GaussianParams<f64> {
    GaussianMixture::params(2)
        .covariance(Covariance::Full)
        .seed(5)
}

#[test]
fn one_threshold_flags_rows_alike_whatever_features_they_observe() {
    let n = 6000;
    let mut values = gaussian_rows(n, 1);
    remove(&mut values, 0.35, 2);
    let data = Dataset::with_missing(&values, n, 4).unwrap();
    let fit = Detector::params(params())
        .threshold(Contamination(0.05))
        .fit_incomplete(&data)
        .unwrap();
    // New rows from the same distribution: the flagged fraction is about
    // 5 % among rows with two observed features and among complete rows.
    let mut fresh = gaussian_rows(n, 3);
    remove(&mut fresh, 0.35, 4);
    let new = Dataset::with_missing(&fresh, n, 4).unwrap();
    let flags = fit.detector.predict_incomplete(&new).unwrap();
    let lp = fit
        .detector
        .model()
        .model()
        .log_prob_incomplete(&new)
        .unwrap();
    let observed = |i: usize| {
        fresh[i * 4..i * 4 + 4]
            .iter()
            .filter(|v| !v.is_nan())
            .count()
    };
    let rate = |pick: &dyn Fn(usize) -> bool, flagged: &dyn Fn(usize) -> bool| {
        let rows: Vec<usize> = (0..n).filter(|&i| pick(i)).collect();
        assert!(rows.len() > 300, "{} rows", rows.len());
        rows.iter().filter(|&&i| flagged(i)).count() as f64 / rows.len() as f64
    };
    let tail_two = rate(&|i| observed(i) == 2, &|i| flags[i] == 1);
    let tail_four = rate(&|i| observed(i) == 4, &|i| flags[i] == 1);
    assert!((0.02..0.09).contains(&tail_two), "{tail_two}");
    assert!((0.02..0.09).contains(&tail_four), "{tail_four}");
    // The log-density on the observed features, thresholded at its own 95 %
    // quantile, would flag the complete rows far more often: what the tail
    // score avoids.
    let mut sorted: Vec<f64> = lp.iter().map(|v| -v).collect();
    sorted.sort_by(f64::total_cmp);
    let cut = sorted[(0.95 * n as f64) as usize];
    let lp_two = rate(&|i| observed(i) == 2, &|i| -lp[i] >= cut);
    let lp_four = rate(&|i| observed(i) == 4, &|i| -lp[i] >= cut);
    assert!(lp_four > 3.0 * lp_two, "{lp_four} vs {lp_two}");
}

#[test]
fn complete_data_give_the_complete_data_model_and_tail_scores() {
    let n = 800;
    let values = gaussian_rows(n, 7);
    let complete = Dataset::from_row_major(&values, n, 4).unwrap();
    let incomplete = IncompleteDataset::from_complete(&complete);
    let a = Detector::params(params()).fit(&complete).unwrap();
    let b = Detector::params(params())
        .fit_incomplete(&incomplete)
        .unwrap();
    let (ma, mb) = (
        AnyMixture::from(a.detector.model().clone()),
        b.detector.model().model(),
    );
    assert_eq!(&ma, mb);
    let tail = mb.anomaly_scores_incomplete(&incomplete).unwrap();
    assert_eq!(b.report.training_scores, tail);
    assert_eq!(b.detector.score(&complete).unwrap(), tail);
    assert_eq!(b.detector.score_incomplete(&incomplete).unwrap(), tail);
    // The tail score is monotone in the density for one component, not so
    // across components; both detectors rank far rows first.
    assert!(tail.iter().all(|v| v.is_finite() && *v >= 0.0));
}

#[test]
fn the_robust_rounds_leave_out_planted_anomalies() {
    let n = 1000;
    let mut values = gaussian_rows(n, 11);
    let mut labels = vec![0u8; n];
    // Scattered far rows (each its own direction), not a third cluster.
    let mut rng = StdRng::seed_from_u64(13);
    for i in (0..n).step_by(50) {
        labels[i] = 1;
        for j in 0..4 {
            values[i * 4 + j] += if rng.random::<bool>() { 8.0 } else { -8.0 };
        }
    }
    remove(&mut values, 0.2, 12);
    let data = Dataset::with_missing(&values, n, 4).unwrap();
    let fit = Detector::params(params())
        .outlier(0.02)
        .fit_incomplete(&data)
        .unwrap();
    assert!(fit.report.rounds >= 2);
    assert_eq!(fit.report.excluded.len(), 20);
    let caught = fit
        .report
        .excluded
        .iter()
        .filter(|&&i| labels[i] == 1)
        .count();
    assert!(caught >= 18, "{caught} of 20");
    let eval = fit.detector.evaluate_incomplete(&data, &labels).unwrap();
    // A few planted rows kept one or two features, and there look ordinary.
    assert!(eval.roc_auc > 0.9, "{}", eval.roc_auc);
    assert_eq!(
        roc_auc(&fit.report.training_scores, &labels).unwrap(),
        eval.roc_auc
    );
}

#[test]
fn a_grid_chooses_on_incomplete_data_and_a_never_observed_column_is_refused() {
    let n = 600;
    let mut values = gaussian_rows(n, 21);
    remove(&mut values, 0.1, 22);
    let data = Dataset::with_missing(&values, n, 4).unwrap();
    let grid = Grid::<f64>::new(1..=3)
        .structures([Covariance::Full, Covariance::Diag])
        .seed(1);
    let fit = Detector::params(grid).fit_incomplete(&data).unwrap();
    let choice = fit.report.choice.expect("a grid reports its choice");
    assert_eq!(choice.selection.cells.len(), 6);
    assert_eq!(fit.detector.model().model().n_components(), 2);
    for row in values.chunks_mut(4) {
        row[3] = f64::NAN;
    }
    let blind = Dataset::with_missing(&values, n, 4).unwrap();
    let err = Detector::params(params())
        .fit_incomplete(&blind)
        .unwrap_err();
    assert!(
        matches!(
            err,
            mixtures_anomaly::AnomalyError::Fit(mixtures_em::FitError::Data(
                DataError::NeverObserved { .. }
            ))
        ),
        "{err:?}"
    );
}

#[test]
fn detector_files_keep_the_tail_score() {
    let n = 400;
    let mut values = gaussian_rows(n, 31);
    remove(&mut values, 0.25, 32);
    let data = Dataset::with_missing(&values, n, 4).unwrap();
    let d = Detector::params(params())
        .fit_incomplete(&data)
        .unwrap()
        .detector;
    let text = d.to_json();
    assert!(
        text.contains(&format!("\"score\":\"{SCORE_TAIL}\"")),
        "{text}"
    );
    let back = IncompleteDetector::<f64>::from_json(&text).unwrap();
    assert_eq!(
        back.score_incomplete(&data).unwrap(),
        d.score_incomplete(&data).unwrap()
    );
    assert_eq!(back.threshold(), d.threshold());
    // A reader of −ln p(x) detectors refuses it rather than misread its threshold.
    let err = AnyDetector::<f64>::from_json(&text)
        .unwrap_err()
        .to_string();
    assert!(err.contains(SCORE_TAIL), "{err}");
    // And the other way round.
    let plain = Detector::params(params())
        .fit(&Dataset::from_row_major(&gaussian_rows(n, 33), n, 4).unwrap())
        .unwrap()
        .detector
        .into_any()
        .to_json();
    assert!(IncompleteDetector::<f64>::from_json(&plain).is_err());
}

#[test]
fn explanations_cover_the_observed_features() {
    let n = 500;
    let mut values = gaussian_rows(n, 41);
    remove(&mut values, 0.3, 42);
    let data = Dataset::with_missing(&values, n, 4).unwrap();
    let d = Detector::params(params())
        .fit_incomplete(&data)
        .unwrap()
        .detector;
    let model = d.model().model();
    let e = d.explain_incomplete(&data).unwrap();
    assert_eq!(e, explain_incomplete(model, &data).unwrap());
    assert_eq!(e.attribution(), Attribution::Conditional);
    let lp = model.log_prob_incomplete(&data).unwrap();
    let comp = model.predict_incomplete(&data).unwrap();
    for i in 0..n {
        let row = &values[i * 4..i * 4 + 4];
        let observed: Vec<usize> = (0..4).filter(|&j| !row[j].is_nan()).collect();
        assert!((e.scores()[i] + lp[i]).abs() < 1e-9 * lp[i].abs().max(1.0));
        assert_eq!(e.components()[i], comp[i], "row {i}");
        let x: Vec<f64> = observed.iter().map(|&j| row[j]).collect();
        let one = Dataset::from_row_major(&x, 1, observed.len()).unwrap();
        let want = if observed.len() == 4 {
            model.explain(&one).unwrap()
        } else {
            model.marginal(&observed).unwrap().explain(&one).unwrap()
        };
        for j in 0..4 {
            let got = e.contributions()[(i, j)];
            match observed.iter().position(|&o| o == j) {
                Some(b) => assert!((got - want.contributions()[(0, b)]).abs() < 1e-9),
                None => assert_eq!(got, 0.0),
            }
        }
    }
    // A far feature is named first.
    let far = Dataset::with_missing(&[0.0, f64::NAN, 0.3, 25.0], 1, 4).unwrap();
    assert_eq!(d.explain_incomplete(&far).unwrap().ranked_features(0)[0], 3);
    // Diagonal components explain exactly on every pattern.
    let diag = TailScored::new(
        GaussianMixture::params(2)
            .covariance(Covariance::Diag)
            .seed(5)
            .fit_incomplete(&data)
            .unwrap()
            .model,
    )
    .unwrap();
    let e = explain_incomplete(diag.model(), &data).unwrap();
    assert_eq!(e.attribution(), Attribution::Exact);
    assert_eq!(diag.dim(), 4);
}

#[test]
fn model_params_fit_every_family_and_start_from_their_model() {
    use mixtures_dist::ModelSpec;
    use mixtures_em::ModelParams;
    let n = 500;
    let mut values = gaussian_rows(n, 51);
    remove(&mut values, 0.15, 52);
    let data = Dataset::with_missing(&values, n, 4).unwrap();
    for spec in [
        ModelSpec::gaussian(Covariance::Full),
        ModelSpec::LAPLACE_DIAG,
        ModelSpec::student_t(Covariance::Full),
    ] {
        let fit = Detector::params(ModelParams::new(spec, 2).seed(3))
            .fit_incomplete(&data)
            .unwrap();
        let model = fit.detector.model().model().clone();
        assert_eq!(model.spec(), spec);
        assert!(fit.report.training_scores.iter().all(|s| s.is_finite()));
        // A warm start continues from the model: already converged, it
        // barely moves.
        let again = Detector::params(ModelParams::from_start(spec, model.clone()))
            .fit_incomplete(&data)
            .unwrap();
        assert!(
            again.report.fit.n_iter <= 3,
            "{spec}: {}",
            again.report.fit.n_iter
        );
        let (a, b) = (
            model.log_prob_incomplete(&data).unwrap(),
            again
                .detector
                .model()
                .model()
                .log_prob_incomplete(&data)
                .unwrap(),
        );
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        assert!((mean(&a) - mean(&b)).abs() < 1e-2, "{spec}");
    }
}
