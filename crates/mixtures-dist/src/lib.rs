//! Mixture distributions for the `mixtures` workspace.
//!
//! A component family ([`Gaussian`] with full, diagonal, spherical or tied
//! covariance; [`Laplace`] with per-dimension or spherical scales) implements small
//! capability traits ([`Components`], [`LogDensity`], [`Sample`],
//! [`FreeParameters`]); [`Mixture`] combines a family with mixing weights and gives
//! log-densities, responsibilities, hard labels, scores and samples; any
//! mixture can carry a uniform [`noise`] component. With the
//! default `serde` feature, models read and write the JSON format documented in
//! `docs/model-format.md` (see [`AnyMixture`]).
//!
//! ```
//! use mixtures_dist::{Gaussian, Mixture};
//! use mixtures_core::Dataset;
//! use faer::mat;
//! use rand::{SeedableRng, rngs::StdRng};
//!
//! let comps = Gaussian::full(
//!     mat![[0.0_f64, 0.0], [4.0, 4.0]],
//!     vec![mat![[1.0, 0.5], [0.5, 1.0]], mat![[0.5, 0.0], [0.0, 2.0]]],
//! )?;
//! let model = Mixture::new(vec![0.3, 0.7], comps)?;
//!
//! let (x, labels) = model.sample(1000, &mut StdRng::seed_from_u64(7));
//! let data = Dataset::from_mat(x.as_ref())?;
//! let log_density = model.log_prob(&data)?;          // per sample
//! let resp = model.responsibilities(&data)?;         // n x K, rows sum to 1
//! let hard = model.predict(&data)?;                  // most probable component
//! assert_eq!(log_density.len(), 1000);
//! assert!((resp[(0, 0)] + resp[(0, 1)] - 1.0).abs() < 1e-12);
//! let agree = hard.iter().zip(&labels).filter(|(a, b)| a == b).count();
//! assert!(agree > 900);
//! assert_eq!(model.n_parameters(), 2 * 2 + 2 * 3 + 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod any;
mod axis;
mod common;
mod error;
#[cfg(feature = "serde")]
mod format;
mod gaussian;
mod incomplete;
mod incomplete_any;
mod incomplete_laplace;
mod incomplete_student;
#[cfg(feature = "serde")]
pub mod json;
mod laplace;
mod marginal;
mod mixture;
pub mod noise;
mod spec;
mod student;
mod traits;

pub use any::AnyMixture;
pub use axis::{product_form_limit, widen_centered};
pub use error::ModelError;
#[cfg(feature = "serde")]
pub use format::{FORMAT_VERSION, ModelFile, Persist};
pub use gaussian::{Covariances, Gaussian, GaussianScratch};
pub use incomplete::{IncompleteBlock, IncompleteParts, PatternParts};
pub use laplace::{Laplace, LaplaceScales};
pub use marginal::Marginal;
pub use mixture::{
    GaussianMixtureModel, LaplaceMixtureModel, Mixture, StudentTMixtureModel, WEIGHT_SUM_TOLERANCE,
};
pub use noise::UniformNoise;
pub use spec::{Covariance, Family, ModelSpec};
pub use student::{StudentT, StudentTScratch};
pub use traits::{Components, DensityModel, FreeParameters, LogDensity, Sample};
