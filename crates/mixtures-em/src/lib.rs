//! Expectation–maximization for the mixtures of `mixtures-dist`.
//!
//! ```
//! use mixtures_em::{Covariance, GaussianMixture};
//! use mixtures_core::Dataset;
//!
//! // Two groups of points.
//! let rows: Vec<[f64; 2]> = (0..200)
//!     .map(|i| {
//!         let t = i as f64 * 0.1;
//!         if i % 2 == 0 { [t.sin(), t.cos()] } else { [8.0 + t.cos(), 8.0 + t.sin()] }
//!     })
//!     .collect();
//! let data = Dataset::from_rows(&rows)?;
//! let fitted = GaussianMixture::params(2)
//!     .covariance(Covariance::Full)
//!     .n_init(2)
//!     .seed(7)
//!     .fit(&data)?;
//! assert!(fitted.report.converged);
//! let labels = fitted.model.predict(&data)?;
//! assert_ne!(labels[0], labels[1]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod common;
mod constraint;
mod control;
pub mod engine;
mod error;
mod fit;
mod gaussian;
mod init;
mod laplace;
pub mod mcd;
mod medians;
mod missing;
mod mstep;
mod noise;
pub mod online;
mod pass;
mod regularize;
mod repair;
mod report;
mod rows;
mod stats;
mod stats_bytes;
mod student;
pub mod trim;
pub mod variational;

pub use common::{PRECISION_TOLERANCE, check_data, check_precision, check_scale};
pub use constraint::{CovarianceConstraint, MStepStats, PriorTerms, Scatter};
pub use control::{
    DEFAULT_MAX_ITER, DEFAULT_N_INIT, DEFAULT_REG_COVAR, DEFAULT_SEED, DEFAULT_TOL, EmControl,
    MAX_N_INIT,
};
pub use error::FitError;
pub use fit::{Fit, ModelParams, fit, fit_from, fit_incomplete};
pub use gaussian::{GaussianMixture, GaussianParams};
pub use init::{Init, initial_responsibilities};
pub use laplace::{LaplaceMixture, LaplaceParams};
pub use mcd::{Mcd, McdFit};
pub use mixtures_dist::{Covariance, Family, ModelSpec};
pub use noise::Noise;
pub use online::{OnlineGaussianMixture, OnlineStep, StepSize};
pub use regularize::{
    ConjugatePrior, RegContext, Regularizer, Ridge, ShrinkTarget, Shrinkage, VarianceFloor,
};
pub use report::{
    Control, DegeneracyAction, DegeneracyEvent, DegeneracyPolicy, DegeneracyReason, FitReport,
    Fitted, Iteration, MAX_RESEEDS, Observer, RestartSummary, Termination,
};
pub use rows::{Batched, DEFAULT_SAMPLE_ROWS, StatsReducer};
pub use stats::{EStep, GaussianStats, StatsError};
pub use student::{
    DEFAULT_INITIAL_DOF, DOF_RANGE, DegreesOfFreedom, StudentTMixture, StudentTParams,
};
pub use trim::MAX_TRIM;
