//! A threshold strategy of your own: implement `ThresholdRule` and hand it to a
//! detector.
//!
//! `cargo run --release --example custom_threshold`
//!
//! The rule here is Tukey's fence on the training anomaly scores: flag what
//! scores above `Q3 + k·(Q3 − Q1)`. Unlike a contamination quantile it adapts to
//! how spread the scores are, and needs no labels.

use std::error::Error;

use mixtures::faer::{Mat, mat};
use mixtures::prelude::*;
use mixtures::{ScoreSet, Threshold};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Tukey's fence: `Q3 + k·IQR` of the scores it is fitted on.
#[derive(Debug)]
struct TukeyFence {
    k: f64,
}

impl<T: Scalar> ThresholdRule<T> for TukeyFence {
    // The name and parameters are recorded in the detector's file.
    fn name(&self) -> &str {
        "tukey_fence"
    }
    fn parameters(&self) -> Vec<(String, f64)> {
        vec![("k".to_owned(), self.k)]
    }
    // Checked before the model is fitted, so a bad parameter costs nothing.
    fn check(&self) -> Result<(), AnomalyError> {
        if self.k.is_finite() && self.k >= 0.0 {
            Ok(())
        } else {
            Err(AnomalyError::InvalidParameter {
                name: "k",
                value: self.k.into(),
                reason: "must be finite and non-negative",
            })
        }
    }
    fn choose(&self, data: &ScoreSet<'_, T>) -> Result<T, AnomalyError> {
        // Sorted finite scores as f64 (an infinite score, e.g. a point of zero
        // density, is left out), so the rule is written once for f32 and f64.
        let s = data.sorted_finite("tukey_fence")?;
        let q = |p: f64| s[((p * (s.len() - 1) as f64).round() as usize).min(s.len() - 1)];
        let (q1, q3) = (q(0.25), q(0.75));
        Ok(T::c(q3 + self.k * (q3 - q1)))
    }
}

/// Normal points from two clusters, and `n_bad` anomalies spread over a box.
fn make_set(
    n: usize,
    n_bad: usize,
    rng: &mut StdRng,
) -> Result<(Mat<f64>, Vec<u8>), Box<dyn Error>> {
    let normal = Mixture::new(
        vec![0.7, 0.3],
        Gaussian::full(
            mat![[0.0, 0.0], [5.0, 4.0]],
            vec![mat![[1.0, 0.7], [0.7, 1.0]], mat![[0.5, 0.0], [0.0, 2.0]]],
        )?,
    )?;
    let (good, _) = normal.sample(n - n_bad, rng);
    let x = Mat::from_fn(n, 2, |i, j| {
        if i < n - n_bad {
            good[(i, j)]
        } else {
            rng.random_range(-8.0..12.0)
        }
    });
    let labels = (0..n).map(|i| u8::from(i >= n - n_bad)).collect();
    Ok((x, labels))
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut rng = StdRng::seed_from_u64(3);
    let (train, _) = make_set(5000, 0, &mut rng)?;
    let (test, labels) = make_set(5000, 100, &mut rng)?;
    let (train, test) = (
        Dataset::from_mat(train.as_ref())?,
        Dataset::from_mat(test.as_ref())?,
    );

    // Novelty mode: the model is fitted on clean data, then the rule runs on the
    // training scores (score = −ln p(x)).
    let fit = Detector::params(GaussianMixture::params(2).seed(1))
        .threshold(TukeyFence { k: 1.5 })
        .fit(&train)?;
    let detector = fit.detector;
    let t = detector.threshold();
    println!(
        "rule {} {:?}: threshold {:.3}",
        t.rule(),
        t.parameters(),
        t.value()
    );

    let ev = detector.evaluate(&test, &labels)?;
    let c = &ev.confusion;
    println!(
        "test: {} anomalies of {}; flagged {} (tp {}, fp {}); precision {:.3} recall {:.3}",
        100,
        labels.len(),
        c.true_positives + c.false_positives,
        c.true_positives,
        c.false_positives,
        c.precision(),
        c.recall()
    );
    println!(
        "ROC AUC {:.4}, average precision {:.4}",
        ev.roc_auc, ev.average_precision
    );

    // The same rule works on its own, on any scores.
    let standalone = Threshold::fit(
        &TukeyFence { k: 3.0 },
        &ScoreSet::new(&detector.score(&train)?)?,
    )?;
    println!("k = 3: threshold {:.3}", standalone.value());
    Ok(())
}
