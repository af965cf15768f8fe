//! Scoring arbitrary points, extreme values included, against a model built
//! from the fuzzer's bytes: the model's constructor accepts it (a valid model)
//! or returns a typed `ModelError`; a valid model gives log-densities that are
//! never NaN or `+∞`, responsibilities in `[0, 1]` that sum to one, labels in
//! range, anomaly scores, thresholds, tail probabilities and per-feature
//! explanations that are never NaN, or a typed `AnomalyError`.
//!
//! Input layout: precision, family and shape; the weights, means and
//! covariances (or Laplace scales); then the points to score.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mixtures::faer::Mat;
use mixtures::mixtures_anomaly::{Detector, Mad, PeaksOverThreshold, ScoreSet, Threshold};
use mixtures::prelude::*;
use mixtures::{Contamination, Explain, ScoreReference, ThresholdRule};
use mixtures_fuzz::{Reader, check_evaluation};

const MAX_K: usize = 4;
const MAX_D: usize = 5;
const MAX_POINTS: usize = 16;

/// A positive value for a variance or scale: mostly ordinary, sometimes tiny or
/// huge, rarely invalid (zero, negative, NaN) so the constructor's checks run.
fn positive(r: &mut Reader<'_>, previous: &[f64]) -> f64 {
    let v = r.value(previous);
    if r.chance(8) { v } else { v.abs() }
}

/// A `D x D` covariance: usually `A Aᵀ + δ I` from an arbitrary `A` (positive
/// definite in exact arithmetic, possibly ill-conditioned in floating point),
/// sometimes arbitrary symmetric entries.
fn covariance(r: &mut Reader<'_>, d: usize) -> Mat<f64> {
    let mut seen = Vec::new();
    if r.chance(32) {
        let mut m = Mat::<f64>::zeros(d, d);
        for i in 0..d {
            for j in 0..=i {
                let v = r.value(&seen);
                seen.push(v);
                m[(i, j)] = v;
                m[(j, i)] = v;
            }
        }
        return m;
    }
    let a = Mat::<f64>::from_fn(d, d, |_, _| {
        let v = r.value(&seen);
        seen.push(v);
        v
    });
    let delta = positive(r, &seen);
    let mut m = &a * a.transpose();
    for j in 0..d {
        m[(j, j)] += delta;
    }
    m
}

fn convert<T: Scalar>(m: &Mat<f64>) -> Mat<T> {
    Mat::from_fn(m.nrows(), m.ncols(), |i, j| T::c(m[(i, j)]))
}

/// Builds a model of the family chosen by the input, or the constructor's
/// typed error.
fn build<T: Scalar>(r: &mut Reader<'_>) -> Result<AnyMixture<T>, ModelError> {
    let family = r.below(6);
    let k = 1 + r.below(MAX_K);
    let d = 1 + r.below(MAX_D);
    let mut seen = Vec::new();
    let weights: Vec<T> = (0..k)
        .map(|_| {
            let w = positive(r, &seen);
            seen.push(w);
            T::c(w)
        })
        .collect();
    let means = Mat::<f64>::from_fn(k, d, |_, _| {
        let v = r.value(&seen);
        seen.push(v);
        v
    });
    let means: Mat<T> = convert(&means);
    let per_component = |r: &mut Reader<'_>, rows: usize, cols: usize| {
        let mut s = Vec::new();
        Mat::<T>::from_fn(rows, cols, |_, _| {
            let v = positive(r, &s);
            s.push(v);
            T::c(v)
        })
    };
    Ok(match family {
        0 => {
            let covs = (0..k).map(|_| convert(&covariance(r, d))).collect();
            AnyMixture::Gaussian(Mixture::new(weights, Gaussian::full(means, covs)?)?)
        }
        1 => {
            let cov = convert(&covariance(r, d));
            AnyMixture::Gaussian(Mixture::new(weights, Gaussian::tied(means, cov)?)?)
        }
        2 => {
            let v = per_component(r, k, d);
            AnyMixture::Gaussian(Mixture::new(weights, Gaussian::diag(means, v)?)?)
        }
        3 => {
            let v = per_component(r, k, 1);
            let v = (0..k).map(|c| v[(c, 0)]).collect();
            AnyMixture::Gaussian(Mixture::new(weights, Gaussian::spherical(means, v)?)?)
        }
        4 => {
            let b = per_component(r, k, d);
            AnyMixture::Laplace(Mixture::new(weights, Laplace::per_dimension(means, b)?)?)
        }
        _ => {
            let b = per_component(r, k, 1);
            let b = (0..k).map(|c| b[(c, 0)]).collect();
            AnyMixture::Laplace(Mixture::new(weights, Laplace::spherical(means, b)?)?)
        }
    })
}

/// The points to score: arbitrary values (near the model's means or not), or
/// a typed `DataError` when one is not finite.
fn points<T: Scalar>(r: &mut Reader<'_>, model: &AnyMixture<T>) -> Option<Dataset<T>> {
    let d = model.dim();
    let n = 1 + r.below(MAX_POINTS);
    let mut values = Vec::with_capacity(n * d);
    for _ in 0..n * d {
        let v = r.value(&values);
        values.push(v);
    }
    let values: Vec<T> = values.into_iter().map(T::c).collect();
    Dataset::from_row_major(&values, n, d).ok()
}

fn check_threshold<T: Scalar>(rule: &dyn ThresholdRule<T>, scores: &ScoreSet<'_, T>) {
    match Threshold::fit(rule, scores) {
        Ok(t) => assert!(t.value().is_finite(), "threshold {:?}", t.value()),
        Err(e) => {
            let _ = e.to_string();
        }
    }
}

fn run<T: Scalar>(r: &mut Reader<'_>) {
    let model = match build::<T>(r) {
        Ok(m) => {
            if mixtures_fuzz::debug() {
                eprintln!("{}", m.to_json());
            }
            m
        }
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    let Some(data) = points(r, &model) else {
        return;
    };
    if mixtures_fuzz::debug() {
        eprintln!("points (row-major): {:?}", data.to_row_major());
    }
    check_evaluation(&model, &data, false);

    // Anomaly scores are −ln p(x): never NaN, never −∞.
    let scores = model.anomaly_scores(&data).expect("dimension matches");
    assert!(
        scores
            .iter()
            .all(|s| !s.is_nan() && *s != T::neg_infinity())
    );

    // Thresholds chosen from these scores are finite or a typed error.
    let q = r.parameter(&[0.1, 0.05, 0.5, 0.0, 1.0]);
    if let Ok(set) = ScoreSet::new(&scores) {
        check_threshold(&Contamination(q), &set);
        check_threshold(&Mad(r.parameter(&[3.0, 0.0, 1.0])), &set);
        check_threshold(&PeaksOverThreshold::new(q), &set);
    }

    // Tail probabilities against the points' own scores lie in [0, 1].
    if let Ok(reference) = ScoreReference::new(&scores) {
        for p in reference.tail_probabilities(&scores) {
            assert!((0.0..=1.0).contains(&p), "tail probability {p}");
        }
        if let Ok(threshold) = Threshold::new(scores[0], "fixed", []) {
            let detector = Detector::from_parts(model.clone(), threshold).with_reference(reference);
            let flags = detector.predict(&data).expect("dimension matches");
            assert_eq!(flags.len(), data.n_samples());
            assert_eq!(flags[0], 1, "a point scoring at the threshold is flagged");
        }
    }

    // Explanations: one non-negative, non-NaN contribution per feature, under
    // the most likely component; the scores are the model's.
    match model.explain(&data) {
        Ok(ex) => {
            assert_eq!(ex.len(), data.n_samples());
            let labels = model.predict(&data).expect("dimension matches");
            assert_eq!(ex.components(), &labels[..]);
            for (a, b) in ex.scores().iter().zip(&scores) {
                assert_eq!(a.as_f64().to_bits(), b.as_f64().to_bits());
            }
            let c = ex.contributions();
            for i in 0..c.nrows() {
                for j in 0..c.ncols() {
                    let v = c[(i, j)];
                    assert!(
                        !v.is_nan() && v >= T::zero(),
                        "contribution ({i}, {j}) = {v:?}"
                    );
                }
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
}

fuzz_target!(|bytes: &[u8]| {
    let mut r = Reader::new(bytes);
    if r.chance(64) {
        run::<f32>(&mut r);
    } else {
        run::<f64>(&mut r);
    }
});
