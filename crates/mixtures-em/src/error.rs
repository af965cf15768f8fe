//! Errors of fitting.

use mixtures_core::{DataError, LinalgError, ParamValue};
use mixtures_dist::ModelError;
use thiserror::Error;

/// Why a fit could not start or could not produce any model. Non-convergence is
/// not an error: it is reported in [`crate::FitReport`].
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum FitError {
    /// The data were rejected.
    #[error(transparent)]
    Data(#[from] DataError),
    /// A model (warm start, or one built during the fit) was rejected.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// A fit parameter out of its range.
    #[error("invalid parameter {name} = {value}: {reason}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// Its value, as given.
        value: ParamValue,
        /// The rule it breaks.
        reason: &'static str,
    },
    /// A prior parameter of a variational fit out of its range or of the wrong
    /// shape.
    #[error("invalid prior {name} = {value}: {reason}")]
    InvalidPrior {
        /// The prior parameter (`weight_concentration`, `mean_precision`,
        /// `mean`, `degrees_of_freedom`, `covariance`).
        name: &'static str,
        /// Its value, as given.
        value: ParamValue,
        /// The rule it breaks.
        reason: String,
    },
    /// A prior covariance matrix that is not symmetric positive definite.
    #[error("covariance prior is not symmetric positive definite: {source}")]
    CovariancePriorNotPositiveDefinite {
        /// What the factorization said.
        #[source]
        source: LinalgError,
    },
    /// Starting responsibilities of the wrong shape.
    #[error("responsibilities are {found:?} (rows x components) but {expected:?} were expected")]
    ResponsibilitiesShape {
        /// `(n, k)`.
        expected: (usize, usize),
        /// What was given.
        found: (usize, usize),
    },
    /// A starting responsibility that is negative or not finite.
    #[error(
        "responsibility at row {row}, component {component} is {value}; it must be finite and >= 0"
    )]
    InvalidResponsibility {
        /// Row.
        row: usize,
        /// Component.
        component: usize,
        /// The value.
        value: f64,
    },
    /// Fewer distinct points (with positive weight) than components.
    #[error(
        "only {distinct} distinct points (with positive weight) for {k} components; use at most {distinct} components"
    )]
    TooFewDistinctPoints {
        /// Distinct points found (counting stops at `k`).
        distinct: usize,
        /// Components asked for.
        k: usize,
    },
    /// A warm-start model of another dimension than the data.
    #[error("warm-start model has {model} dimensions but the data has {data} columns")]
    WarmStartDimension {
        /// The model's dimension.
        model: usize,
        /// The data's columns.
        data: usize,
    },
    /// The data spread so widely that the fit's arithmetic would overflow:
    /// squared deviations (Gaussian covariances, k-means distances) summed
    /// over the rows exceed the largest number of the precision. Refused
    /// before any work (see `docs/numerics.md`, "Adversarial inputs").
    #[error(
        "column {column} spans {spread:e} (largest minus smallest value), more than {limit:e}: the fit's squared deviations would overflow {precision}; divide the column by a constant (a power of ten shifts every log-density by the same amount){hint}"
    )]
    DataScale {
        /// The column (feature) with the widest spread.
        column: usize,
        /// Its largest minus its smallest value (`inf` if that overflows).
        spread: f64,
        /// The widest spread the fit accepts for these data.
        limit: f64,
        /// The precision whose range is exceeded (`"f32"` or `"f64"`).
        precision: &'static str,
        /// Further advice (", or fit in f64" for `f32` data).
        hint: &'static str,
    },
    /// The fitted covariances are so ill-conditioned that rounding in the
    /// data's precision leaves the mean log-likelihood uncertain by more than
    /// [`crate::PRECISION_TOLERANCE`] per row ([`crate::check_precision`];
    /// `docs/numerics.md`, "What `f32` guarantees").
    #[error(
        "rounding in {precision} leaves the fitted model's mean log-likelihood uncertain by about {uncertainty:.1e} per row, more than 1e-2: feature {feature} of component {component} keeps only {ratio:.1e} of its variance once regressed on the other features; fit in f64, raise reg_covar, or drop nearly collinear features"
    )]
    Precision {
        /// The component with the worst conditioning (0 for a tied
        /// covariance).
        component: usize,
        /// Its feature with the smallest residual variance.
        feature: usize,
        /// That residual variance relative to the feature's own variance.
        ratio: f64,
        /// The estimated uncertainty of the mean log-likelihood per row,
        /// `ε/2 Σₖ wₖ / rₖ`.
        uncertainty: f64,
        /// The data's precision (`"f32"` or `"f64"`).
        precision: &'static str,
    },
    /// Nothing could be fitted: every component degenerated, or a shared
    /// covariance became singular even after regularization.
    #[error(
        "no model could be fitted: {reason}. Try more regularization (a larger reg_covar for Gaussian mixtures, a larger scale_floor for Laplace mixtures), fewer components, or scaling the data"
    )]
    Degenerate {
        /// What happened.
        reason: String,
    },
    /// The rows could not be read (out-of-core fits), or changed between
    /// passes.
    #[error(transparent)]
    Source(#[from] mixtures_core::source::SourceError),
    /// Partial statistics that do not belong together.
    #[error(transparent)]
    Stats(#[from] crate::StatsError),
    /// A setting that needs every row in memory, asked of a fit that reads
    /// its rows in batches.
    #[error(
        "{what} needs the rows in memory; load them into a Dataset, or fit without it when reading in batches"
    )]
    NeedsRowsInMemory {
        /// The setting.
        what: &'static str,
    },
    /// A setting or family not available on data with missing values.
    #[error(
        "{what} cannot be fitted to data with missing values (fit without it, or fit the complete rows)"
    )]
    MissingValues {
        /// The setting or family.
        what: &'static str,
    },
}

impl FitError {
    /// This error in another crate's error type: an invalid parameter as
    /// that type's own `InvalidParameter` (built by `invalid`), anything else
    /// wrapped. How a params type that holds an [`crate::EmControl`] reports its
    /// settings in its own error type.
    pub fn into_own<E: From<FitError>>(
        self,
        invalid: impl FnOnce(&'static str, ParamValue, &'static str) -> E,
    ) -> E {
        match self {
            Self::InvalidParameter {
                name,
                value,
                reason,
            } => invalid(name, value, reason),
            other => other.into(),
        }
    }

    /// [`FitError::WarmStartDimension`] unless a warm-start model's
    /// dimension is the data's.
    ///
    /// # Errors
    /// [`FitError::WarmStartDimension`].
    pub fn check_warm_start(model: usize, data: usize) -> Result<(), Self> {
        if model == data {
            Ok(())
        } else {
            Err(Self::WarmStartDimension { model, data })
        }
    }

    /// [`FitError::InvalidParameter`] for `name = value`, breaking `reason`.
    pub fn invalid(name: &'static str, value: impl Into<ParamValue>, reason: &'static str) -> Self {
        Self::InvalidParameter {
            name,
            value: value.into(),
            reason,
        }
    }
}
