//! A `no_std`, allocation-free scorer of fitted mixture models and anomaly
//! detectors, for microcontrollers and anywhere the full library (faer,
//! rayon, std) cannot go.
//!
//! A model is trained with the `mixtures` library, exported (`mixtures
//! export model.json --to rust`, or `mixtures_anomaly::export`) as plain
//! arrays of precomputed parameters (log-weights, means, the inverse
//! Cholesky factors of the covariances or inverse scales, the
//! log-densities at the centres, degrees of freedom, an ensemble's centres
//! and weights, the threshold), and scored here: [`Scorer::log_prob`],
//! [`Scorer::anomaly_score`], [`Scorer::is_anomaly`] and
//! [`Scorer::component`], in `f32` or `f64` ([`Real`]). Every family and
//! covariance structure of the library is covered: Gaussian (full, diagonal,
//! spherical, tied, tied diagonal, tied spherical), Laplace (per dimension,
//! spherical), Student-t (every structure), with or without a uniform noise
//! component, and the default detector's ensemble. The only dependency is
//! `libm`.
//!
//! The arrays are borrowed (`&'a [T]`), so the same types hold `static`
//! arrays in generated code and vectors built at run time; the constructors
//! are `const fn`s that check every length, so generated code fails to
//! compile rather than at run time when its arrays do not fit together.
//! Nothing panics after construction: a point of the wrong length is an
//! error.
//!
//! ```
//! use mixtures_score::{Family, Mixture, MixtureParams, Scale, Scorer, ScoreError};
//!
//! // Two spherical Gaussian components in 2-D (variance 1 and 4), weights
//! // 0.25 and 0.75; a detector at score 6.
//! const LN_2PI: f64 = 1.8378770664093453;
//! static LOG_WEIGHTS: [f64; 2] = [-1.3862943611198906, -0.2876820724517809];
//! static MEANS: [f64; 4] = [0.0, 0.0, 5.0, 5.0];
//! static INV_SD: [f64; 2] = [1.0, 0.5];
//! // −½ (D ln 2π + ln |Σ|) with |Σ| = σ^(2D).
//! static LOG_NORMS: [f64; 2] = [-LN_2PI, -LN_2PI - 2.0 * 1.3862943611198906];
//! static SCORER: Scorer<'static, f64> = match Mixture::new(MixtureParams {
//!     dim: 2,
//!     family: Family::Gaussian,
//!     log_weights: &LOG_WEIGHTS,
//!     means: &MEANS,
//!     log_norms: &LOG_NORMS,
//!     scale: Scale::Spherical(&INV_SD),
//!     dof: &[],
//!     noise: None,
//! }) {
//!     Ok(m) => Scorer::detector(m, 6.0),
//!     Err(_) => panic!("the arrays do not fit together"),
//! };
//!
//! let centre = SCORER.evaluate(&[5.0, 5.0])?;
//! assert_eq!(centre.component, 1);
//! assert_eq!(centre.is_anomaly, Some(false));
//! // ln(0.75 · N(0 | 0, 4 I)) plus the first component's tiny share.
//! let expected = -0.2876820724517809 - LN_2PI - 2.0 * 1.3862943611198906;
//! assert!((centre.log_prob - expected).abs() < 1e-9);
//! assert_eq!(SCORER.is_anomaly(&[20.0, -20.0])?, Some(true));
//! assert!(matches!(SCORER.log_prob(&[1.0]), Err(ScoreError::Length { .. })));
//! # Ok::<(), ScoreError>(())
//! ```
#![no_std]

mod mixture;
mod real;
mod scorer;

pub use mixture::{Family, Mixture, MixtureParams, Noise, Scale};
pub use real::Real;
pub use scorer::{Part, Scored, Scorer};

/// Why arrays could not make a scorer, or a point could not be scored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScoreError {
    /// An array (or the point `x`) has the wrong length.
    Length {
        /// Which array.
        what: &'static str,
        /// The length the others call for.
        expected: usize,
        /// Its length.
        found: usize,
    },
    /// No dimensions, components or parts (or sizes that overflow).
    Empty {
        /// What is empty.
        what: &'static str,
    },
    /// A combination the scorer does not evaluate.
    Unsupported {
        /// What it is.
        what: &'static str,
    },
}

impl core::fmt::Display for ScoreError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Length {
                what,
                expected,
                found,
            } => write!(f, "{what}: expected {expected} values, found {found}"),
            Self::Empty { what } => write!(f, "{what}: empty"),
            Self::Unsupported { what } => write!(f, "unsupported: {what}"),
        }
    }
}

impl core::error::Error for ScoreError {}
