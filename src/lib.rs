//! # mixtures
//!
//! Mixture models (Gaussian with full, diagonal, spherical or tied covariance;
//! Laplace) and the anomaly detection built on them, generic over `f32` and `f64`
//! and backed by [faer](https://docs.rs/faer).
//!
//! This facade re-exports the workspace's crates:
//! - [`mixtures_core`]: the [`Scalar`] bound, errors, the validated [`Dataset`] and
//!   numeric kernels;
//! - [`mixtures_dist`]: component families and [`Mixture`]s (log-densities,
//!   responsibilities, labels, samples, JSON model files);
//! - [`mixtures_em`]: fitting by expectation–maximization ([`GaussianMixture`]);
//! - [`mixtures_anomaly`]: anomaly scores, threshold rules, [`Detector`]s
//!   (novelty or robust outlier fits, stored as model files with a threshold),
//!   per-feature explanations and metrics ([`roc_auc`], [`average_precision`]).
//! - [`mixtures_select`]: model selection: information criteria (AIC, BIC,
//!   ICL), [`Grid`]s over numbers of components, covariance structures and
//!   families, and variational Bayesian Gaussian mixtures
//!   ([`VariationalGaussianMixture`]) that estimate the number of components.
//!
//! Build a mixture, score points by how unlikely they are, and flag the unlikely:
//!
//! ```
//! use mixtures::prelude::*;
//! use mixtures::faer::mat;
//! use rand::{SeedableRng, rngs::StdRng};
//!
//! // Two elliptical clusters.
//! let comps = Gaussian::full(
//!     mat![[0.0_f64, 0.0], [6.0, 3.0]],
//!     vec![mat![[1.0, 0.8], [0.8, 1.0]], mat![[2.0, 0.0], [0.0, 0.5]]],
//! )?;
//! let model = Mixture::new(vec![0.6, 0.4], comps)?;
//!
//! // Normal data drawn from the model, plus one point far from both clusters.
//! let (mut x, _) = model.sample(2000, &mut StdRng::seed_from_u64(1));
//! x[(0, 0)] = -8.0;
//! x[(0, 1)] = 9.0;
//! let data = Dataset::from_mat(x.as_ref())?;
//!
//! // Anomaly score = −log p(x); flag the top 1 %.
//! let scores: Vec<f64> = model.log_prob(&data)?.iter().map(|l| -l).collect();
//! let mut sorted = scores.clone();
//! sorted.sort_by(f64::total_cmp);
//! let threshold = sorted[(0.99 * sorted.len() as f64) as usize];
//! assert!(scores[0] > threshold);
//!
//! // Models travel as JSON (scikit-learn's parameter shapes).
//! let back = GaussianMixtureModel::<f64>::from_json(&model.to_json())?;
//! assert_eq!(back.log_prob(&data)?, model.log_prob(&data)?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub use faer;
pub use mixtures_anomaly;
#[cfg(feature = "serde")]
pub use mixtures_anomaly::AnyDetector;
pub use mixtures_anomaly::{
    AnomalyError, AutoFitter, AutoSelection, BestF, ConfusionMatrix, Contamination, DensityModel,
    Detector, DetectorParams, Ensemble, EnsembleFitter, Explain, Explanations, Fixed, Mad,
    ModelFitter, OnlineDetector, OperatingPoints, PeaksOverThreshold, PositiveUnlabeled,
    QuantileSketch, ScoreReference, ScoreSet, TargetPrecision, TargetRecall, Threshold,
    ThresholdRule, average_precision, roc_auc,
};
pub use mixtures_core;
pub use mixtures_core::{Cholesky, DataError, Dataset, LinalgError, Scalar};
pub use mixtures_dist;
#[cfg(feature = "serde")]
pub use mixtures_dist::ModelFile;
pub use mixtures_dist::{
    AnyMixture, Components, Covariance, Covariances, Family, FreeParameters, Gaussian,
    GaussianMixtureModel, Laplace, LaplaceMixtureModel, LaplaceScales, LogDensity, Mixture,
    ModelError, ModelSpec, Sample, StudentT, StudentTMixtureModel, UniformNoise,
};
pub use mixtures_em;
pub use mixtures_em::{
    ConjugatePrior, CovarianceConstraint, DegeneracyPolicy, EmControl, Fit, FitError, FitReport,
    Fitted, GaussianMixture, GaussianParams, Init, Mcd, McdFit, ModelParams, Noise,
    OnlineGaussianMixture, Regularizer, StepSize, StudentTMixture, StudentTParams, fit, fit_from,
};
pub use mixtures_select;
pub use mixtures_select::{
    Cell, CellOutcome, CovariancePrior, Criterion, Grid, Scores, SelectError, Selection,
    VariationalFit, VariationalGaussianMixture, VariationalParams, WeightPrior,
};

/// The names most programs need: `use mixtures::prelude::*;`.
pub mod prelude {
    pub use mixtures_core::{DataError, Dataset, Scalar};
    pub use mixtures_dist::{
        AnyMixture, Components, Covariance, Covariances, Family, Gaussian, GaussianMixtureModel,
        Laplace, LaplaceMixtureModel, LaplaceScales, Mixture, ModelError, ModelSpec,
    };
    pub use mixtures_em::{
        ConjugatePrior, EmControl, Fit, FitError, FitReport, Fitted, GaussianMixture, Init,
    };

    #[cfg(feature = "serde")]
    pub use mixtures_anomaly::AnyDetector;
    pub use mixtures_anomaly::{
        AnomalyError, BestF, Contamination, DensityModel, Detector, Ensemble, Explain,
        ThresholdRule, average_precision, roc_auc,
    };

    pub use mixtures_select::{
        Criterion, Grid, Scores, SelectError, VariationalGaussianMixture, WeightPrior,
    };
}

/// The README's example, compiled and run as a doctest so that it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctest;

/// docs/online.md's example, compiled and run as a doctest so that it stays
/// true.
#[cfg(doctest)]
#[doc = include_str!("../docs/online.md")]
pub struct OnlineDoctest;

/// docs/missing.md's examples, compiled and run as doctests so that they
/// stay true.
#[cfg(doctest)]
#[doc = include_str!("../docs/missing.md")]
pub struct MissingDoctest;
