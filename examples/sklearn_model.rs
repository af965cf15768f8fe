//! Loading a model fitted by scikit-learn.
//!
//! `cargo run --release --example sklearn_model [-- MODEL.json]`
//!
//! A fitted `sklearn.mixture.GaussianMixture` is written as a model file by the
//! ten-line Python function in docs/model-format.md (its attribute names and
//! array shapes: `weights_`, `means_`, `covariances_`). The model below is such a
//! file, embedded so that the example runs on its own, together with a few query
//! points and what scikit-learn's `score_samples` and `predict` returned for
//! them. With a path argument the example loads that file instead (any family)
//! and prints what it holds.

use mixtures::AnyMixture;
use std::error::Error;

use mixtures::prelude::*;

/// Written by `save_for_mixtures(gm, ...)` from a scikit-learn 1.9.1 fit with
/// `covariance_type="diag"` (crates/mixtures-dist/tests/data/sklearn_model_diag.json).
const MODEL: &str = r#"{"format_version": 1, "family": "gaussian", "covariance_type": "diag",
 "weights": [0.3333333333333333, 0.3333333333333333, 0.3333333333333333],
 "means": [[-5.556645798732728, -7.665246551166643, 4.719293691477775, 3.270873909711525],
           [-7.992499056555883, 2.460430390447818, -9.527598773332468, 3.995423413821305],
           [-0.4414386415565023, 6.1746589605116124, 3.8904559150874927, 0.8900859866770804]],
 "covariances": [[2.4571444406500182, 1.3705909787018509, 0.9750970714696504, 1.160542370465001],
                 [2.473054543863678, 1.0629086206589233, 1.3826401166046363, 0.42455268329058243],
                 [0.8587026211193699, 0.9675295026769629, 0.3745338074902403, 0.7662514705056402]],
 "feature_names": ["f0", "f1", "f2", "f3"]}"#;

/// Query points and scikit-learn's answers for them.
const QUERIES: [[f64; 4]; 4] = [
    [
        -4.735918186164669,
        -8.883313185039158,
        6.067355118672497,
        4.172174925925694,
    ],
    [
        0.2359588141636223,
        4.529833975441386,
        3.455364181749963,
        0.0959632836556672,
    ],
    [
        -7.124458247634478,
        4.723213103442951,
        -8.612553504783984,
        2.9902835459037074,
    ],
    [
        -8.873609473353472,
        2.953738362006015,
        -9.298827182964056,
        4.287212470559657,
    ],
];
const SKLEARN_SCORE_SAMPLES: [f64; 4] = [
    -7.403473059165674,
    -6.387069587988247,
    -9.044790486564366,
    -5.381871145010607,
];
const SKLEARN_PREDICT: [usize; 4] = [0, 2, 1, 1];

fn main() -> Result<(), Box<dyn Error>> {
    if let Some(path) = std::env::args().nth(1) {
        // The family is not known in advance: `AnyMixture` reads either.
        let model = AnyMixture::<f64>::load(&path)?;
        println!(
            "{path}: {} mixture, {} components, {} features {:?}, {} parameters",
            model.family(),
            model.n_components(),
            model.dim(),
            model.feature_names().unwrap_or(&[]),
            model.n_parameters()
        );
        return Ok(());
    }

    // Loading validates everything (shapes, symmetry, positive variances,
    // weights summing to one) and reports a typed error naming the field.
    let model = GaussianMixtureModel::<f64>::from_json(MODEL)?;
    println!(
        "loaded: {} components, {:?} covariance, features {:?}",
        model.n_components(),
        model.components().covariance_type(),
        model.feature_names().unwrap_or(&[])
    );

    let data = Dataset::from_rows(&QUERIES)?;
    let ours = model.log_prob(&data)?;
    let labels = model.predict(&data)?;
    println!(
        "{:>14} {:>14} {:>10}  component",
        "log p (ours)", "scikit-learn", "|diff|"
    );
    let mut worst: f64 = 0.0;
    for i in 0..QUERIES.len() {
        let diff = (ours[i] - SKLEARN_SCORE_SAMPLES[i]).abs();
        worst = worst.max(diff / SKLEARN_SCORE_SAMPLES[i].abs());
        println!(
            "{:>14.9} {:>14.9} {:>10.1e}  {} (scikit-learn: {})",
            ours[i], SKLEARN_SCORE_SAMPLES[i], diff, labels[i], SKLEARN_PREDICT[i]
        );
    }
    // The two libraries compute the same density by different operation orders,
    // so they agree to rounding, not bit for bit.
    if worst > 1e-10 || labels != SKLEARN_PREDICT {
        return Err(format!("disagreement with scikit-learn (relative {worst:.1e})").into());
    }
    println!("agrees with scikit-learn to {worst:.1e} relative");
    Ok(())
}
