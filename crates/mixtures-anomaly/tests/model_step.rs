//! What a detector's model step reports: the choice of a step that chooses
//! (a grid, the default detector) and the training scores the threshold was
//! fitted on, so that callers need neither a second scoring pass nor a
//! second look at the step.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::{dataset, normal, rng};
use mixtures_anomaly::{Contamination, Detector, DetectorParams};
use mixtures_dist::{Covariance, ModelSpec};
use mixtures_em::{EmControl, GaussianMixture, ModelParams};
use mixtures_select::Grid;

fn rows(n: usize) -> Vec<Vec<f64>> {
    let mut r = rng(3);
    (0..n)
        .map(|i| {
            let c = if i % 3 == 0 { 6.0 } else { 0.0 };
            vec![c + normal(&mut r), c + 0.5 * normal(&mut r)]
        })
        .collect()
}

#[test]
fn training_scores_are_the_scores_of_the_final_model() {
    let x = dataset(&rows(400));
    for outlier in [false, true] {
        let mut params = Detector::params(GaussianMixture::params(2).seed(1));
        if outlier {
            params = params.outlier(0.05);
        }
        let fit = params.fit(&x).unwrap();
        assert_eq!(fit.report.training_scores, fit.detector.score(&x).unwrap());
        assert!(fit.report.choice.is_none());
    }
}

#[test]
fn a_grid_reports_its_choice_and_its_model_is_the_detectors() {
    let x = dataset(&rows(300));
    let grid = Grid::new(1..=3)
        .structures([Covariance::Full, Covariance::Diag])
        .seed(4);
    let alone = grid.fit(&x).unwrap();
    let fit = DetectorParams::new(grid)
        .threshold(Contamination(0.02))
        .fit(&x)
        .unwrap();
    let choice = fit.report.choice.as_ref().unwrap();
    assert_eq!(choice.selection, alone);
    assert!(choice.dropped_weights.is_empty());
    // No refit after the choice: the detector's model is the grid's winner.
    assert_eq!(fit.detector.model(), &alone.model);
    assert_eq!(fit.report.fit, alone.report);
}

#[test]
fn the_default_detector_reports_the_grid_and_what_it_dropped() {
    let x = dataset(&rows(600));
    let fit = Detector::auto().fit(&x).unwrap();
    let choice = fit.report.choice.as_ref().unwrap();
    let chosen = choice.selection.best_cell();
    assert!(
        chosen.structure == ModelSpec::gaussian(Covariance::Tied)
            || chosen.structure == ModelSpec::gaussian(Covariance::TiedDiag)
    );
    assert_eq!(
        choice.selection.model.n_components(),
        fit.detector.model().n_components() + choice.dropped_weights.len()
    );
    assert_eq!(fit.report.training_scores, fit.detector.score(&x).unwrap());
}

#[test]
fn a_spec_chosen_at_run_time_is_a_model_step() {
    let x = dataset(&rows(300));
    let p = ModelParams::new(ModelSpec::LAPLACE_SPHERICAL, 2).control(EmControl::default().seed(5));
    let fit = Detector::params(p).outlier(0.05).fit(&x).unwrap();
    assert_eq!(fit.detector.model().spec(), ModelSpec::LAPLACE_SPHERICAL);
    assert!(fit.report.rounds >= 1);
}
