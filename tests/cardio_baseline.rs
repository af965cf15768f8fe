//! A published baseline, reproduced on `../shared/data/cardio.csv` (issue 6,
//! item 7): a from-scratch GMM notebook (Cinnamon AI Bootcamp, "Anomaly
//! detection using Gaussian Mixture Model") fitted on the normal rows, chose
//! the threshold for the best F1 on a 70/30 training split and reached F1 0.607
//! on the test split. The same experiment on three stratified 70/30 splits
//! (ADBench's draws for seeds 1-3): fitted on the normal rows of the training
//! part, threshold by `BestF` on the labelled training part, F1 on the test
//! part, for the default detector's mixture step (`AutoFitter`, the GMM the
//! notebook's is comparable with) and for the default detector itself.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/benchdata.rs"]
mod benchdata;

use benchdata::{cardio_f1, data_dir, read_csv, required};
use mixtures::{AutoFitter, EnsembleFitter};

/// The notebook's test F1.
const PUBLISHED_F1: f64 = 0.607;

#[test]
#[ignore = "heavy; CI runs ignored tests in release"]
fn default_detector_beats_the_published_gmm_f1_on_cardio() {
    let Some(path) = required(data_dir().join("cardio.csv")) else {
        return;
    };
    let table = read_csv(&path).unwrap();
    let mean_f1 = |name: &str, f1: Vec<f64>| {
        let mean = f1.iter().sum::<f64>() / 3.0;
        eprintln!(
            "{name}: cardio test F1 per seed {f1:?}, mean {mean:.3} (published {PUBLISHED_F1})"
        );
        mean
    };
    let mixture = mean_f1(
        "AutoFitter",
        (1..=3)
            .map(|seed| cardio_f1(&table, seed, AutoFitter::new()).unwrap())
            .collect(),
    );
    // Clearly better on average (0.687 when written; one split's F1 moves by
    // a few hundredths with the grid's seed, the mean by about 0.03).
    assert!(mixture >= PUBLISHED_F1 + 0.05, "mean F1 {mixture}");
    // The default detector (the ensemble) trades some of it on clean
    // training data for robustness to contaminated data (0.618 when the
    // ensemble became the default; docs/benchmarks.md): still above.
    let ensemble = mean_f1(
        "default detector",
        (1..=3)
            .map(|seed| cardio_f1(&table, seed, EnsembleFitter::new()).unwrap())
            .collect(),
    );
    assert!(ensemble > PUBLISHED_F1, "mean F1 {ensemble}");
}
