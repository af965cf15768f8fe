//! Anomaly detection on mixture models: a score for every point, a threshold
//! chosen by a stated rule, explanations, and the metrics that show how well it
//! works.
//!
//! - **Scores** ([`DensityModel`]): the anomaly score of `x` is `−ln p(x)` under
//!   a fitted mixture of any component family (higher is more anomalous); a
//!   [`ScoreReference`] of training scores turns it into a tail probability
//!   (the fraction of training points scoring at least as high); the most
//!   likely component names the cluster a point is closest to.
//! - **Thresholds** ([`ThresholdRule`], a trait you can implement):
//!   [`Contamination`], [`Fixed`], [`BestF`], [`TargetPrecision`],
//!   [`TargetRecall`], [`PositiveUnlabeled`], [`Mad`] and
//!   [`PeaksOverThreshold`]. A point is an anomaly when `score >= threshold`.
//! - **Detectors** ([`Detector`]): model + threshold, fitted in novelty mode
//!   (clean training data) or outlier mode (contaminated: a robust fit that
//!   leaves out the most extreme rows and refits until they stop changing);
//!   the model step is any [`ModelFitter`], so a model-selection procedure can
//!   replace a fixed model. [`Detector::auto`] is the default: it chooses the
//!   model on the training data ([`AutoFitter`]; the rule and its reasons are
//!   in [`auto`]). Detectors are stored as model files with a
//!   `threshold` object (`docs/model-format.md`).
//! - **Explanations** ([`Explain`]): per-feature contributions to a score,
//!   exact for diagonal Gaussian and Laplace components, conditional for full
//!   covariance (see [`explain`]).
//! - **Metrics** ([`metrics`]): confusion matrix, precision, recall, F-beta,
//!   ROC AUC and average precision equal to scikit-learn's, ROC and
//!   precision–recall curves as data.
//!
//! ```
//! use mixtures_anomaly::{Detector, BestF, roc_auc, AnyDetector};
//! use mixtures_core::Dataset;
//! use mixtures_dist::{Gaussian, Mixture};
//! use mixtures_em::{Covariance, GaussianMixture};
//! use faer::mat;
//! use rand::{SeedableRng, rngs::StdRng};
//!
//! // Normal data: two clusters. Anomalies: a few points far from both.
//! let truth = Mixture::new(
//!     vec![0.5, 0.5],
//!     Gaussian::diag(mat![[0.0_f64, 0.0], [8.0, 0.0]], mat![[1.0, 1.0], [1.0, 1.0]])?,
//! )?;
//! let rng = &mut StdRng::seed_from_u64(5);
//! let (mut x, _) = truth.sample(600, rng);
//! let mut labels = vec![0u8; 600];
//! for i in 0..12 {
//!     x[(i, 1)] = 7.0 + i as f64; // far above both clusters
//!     labels[i] = 1;
//! }
//! let data = Dataset::from_mat(x.as_ref())?;
//!
//! // Outlier mode: the training data contain about 2 % anomalies.
//! let fit = Detector::params(GaussianMixture::params(2).covariance(Covariance::Diag).seed(1))
//!     .outlier(0.02)
//!     .fit(&data)?;
//! assert!(fit.report.converged);
//! let detector = fit.detector;
//!
//! let scores = detector.score(&data)?; // −ln p(x)
//! assert!(roc_auc(&scores, &labels)? > 0.99);
//! let flags = detector.predict(&data)?; // 0/1 at the (1 − 0.02) quantile
//! assert_eq!(flags[..12], [1; 12]);
//!
//! // Which feature makes the first point anomalous: the second.
//! let why = detector.explain(&data)?;
//! assert_eq!(why.ranked_features(0)[0], 1);
//!
//! // Re-choose the threshold for the best F1 on labelled data.
//! let mut tuned = detector.clone();
//! tuned.calibrate_labelled(&BestF::f1(), &data, &labels)?;
//! assert_eq!(tuned.evaluate(&data, &labels)?.confusion.f1(), 1.0);
//!
//! // A detector file is a model file with a `threshold` object.
//! let text = detector.clone().into_any().to_json();
//! let back = AnyDetector::<f64>::from_json(&text)?;
//! assert_eq!(back.predict(&data)?, flags);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod auto;
mod detector;
pub mod ensemble;
mod error;
pub mod explain;
#[cfg(feature = "serde")]
pub mod export;
#[cfg(feature = "serde")]
mod io;
mod labels;
pub mod metrics;
pub mod missing;
mod missing_fit;
mod model;
mod online;
mod pot;
mod pu;
mod reference;
mod robust;
mod sketch;
mod threshold;

pub use auto::{
    AutoFitter, AutoSelection, DEFAULT_COMPONENTS, DEFAULT_MIN_WEIGHT, DEFAULT_RELATIVE_RIDGE,
    FULL_COVARIANCE_ROWS_PER_FEATURE,
};
pub use detector::{
    DEFAULT_MAX_ROUNDS, DEFAULT_NOVELTY_CONTAMINATION, Detector, DetectorFit, DetectorParams,
    DetectorReport, Mode,
};
pub use ensemble::{
    DEFAULT_MCD_TRIALS, Ensemble, EnsembleFitter, EnsemblePart, MAX_FIT_ROWS,
    MEAN_DEVIATION_TO_IQR, score_scale,
};
pub use error::AnomalyError;
pub use explain::{Attribution, Explain, Explanations};
#[cfg(feature = "serde")]
pub use io::{
    AnyDetector, EnsembleRecord, IntoAnyMixture, PartRecord, ReferenceRecord, SCORE_ENSEMBLE,
    SCORE_NEGATIVE_LOG_DENSITY, StoredModel, ThresholdRecord,
};
pub use labels::Label;
pub use metrics::{
    ConfusionMatrix, Evaluation, OperatingPoints, PrecisionRecallCurve, RocCurve,
    average_precision, evaluate, precision_recall_curve, roc_auc, roc_curve,
};
pub use missing::{IncompleteDetector, SCORE_TAIL, TailScored, explain_incomplete};
pub use missing_fit::IncompleteFitter;
pub use mixtures_dist::DensityModel;
pub use model::{ModelChoice, ModelFit, ModelFitter, anomaly_scores};
pub use online::{OnlineDetector, OnlineUpdate, ScoreWindow};
pub use pot::{GpdFit, MIN_EXCEEDANCES, PeaksOverThreshold};
pub use pu::{PositiveUnlabeled, PuEstimate};
pub use reference::{REFERENCE_QUANTILES, ScoreReference};
pub use robust::McdFitter;
pub use sketch::{DEFAULT_SKETCH_CAPACITY, QuantileSketch};
pub use threshold::{
    BestF, Contamination, Fixed, Mad, ScoreSet, TargetPrecision, TargetRecall, Threshold,
    ThresholdRule,
};
