//! Errors of building, loading and saving mixture models.

use mixtures_core::{LinalgError, ParamValue};
use thiserror::Error;

/// Why a mixture or a set of components could not be built or loaded. Component,
/// row and column indices are zero-based. A tied covariance belongs to no single
/// component, so its errors carry `component: None`.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum ModelError {
    /// A parameter out of its range (a structure name that does not parse,
    /// a structure the family does not have, ...).
    #[error("invalid parameter {name} = {value}: {reason}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// Its value, as given.
        value: ParamValue,
        /// The rule it breaks.
        reason: &'static str,
    },
    /// A model needs at least one component.
    #[error("a mixture needs at least one component, found none")]
    NoComponents,
    /// A model needs at least one dimension.
    #[error("components must have at least one dimension, found 0")]
    NoDimensions,
    /// A parameter list of the wrong length (one entry per component expected).
    #[error("{what}: expected {expected} entries (one per component), found {found}")]
    WrongCount {
        /// Which parameter.
        what: &'static str,
        /// Entries expected.
        expected: usize,
        /// Entries found.
        found: usize,
    },
    /// A parameter matrix of the wrong shape.
    #[error("{what}{}: expected a {}x{} matrix, found {}x{}", at(*component), expected.0, expected.1, found.0, found.1)]
    WrongShape {
        /// Which parameter.
        what: &'static str,
        /// The component it belongs to, if any.
        component: Option<usize>,
        /// (rows, columns) expected.
        expected: (usize, usize),
        /// (rows, columns) found.
        found: (usize, usize),
    },
    /// A NaN or infinite parameter.
    #[error("{what}{}, entry {index} is not finite ({value})", at(Some(*component)))]
    NonFiniteParameter {
        /// Which parameter.
        what: &'static str,
        /// Component (or row of a tied matrix).
        component: usize,
        /// Index within the component's parameter.
        index: usize,
        /// The value.
        value: f64,
    },
    /// A negative or non-finite mixing weight.
    #[error("weight of component {component} is {value}; weights must be finite and >= 0")]
    InvalidWeight {
        /// The component.
        component: usize,
        /// The weight.
        value: f64,
    },
    /// Mixing weights that do not sum to one within tolerance.
    #[error("weights sum to {sum}, not 1 (tolerance {tolerance:e})")]
    WeightSum {
        /// The sum found.
        sum: f64,
        /// The tolerance allowed.
        tolerance: f64,
    },
    /// A covariance matrix that is not symmetric.
    #[error("covariance{} is not symmetric: entries ({row}, {col}) = {upper} and ({col}, {row}) = {lower}", at(*component))]
    NotSymmetric {
        /// The component (None for a tied covariance).
        component: Option<usize>,
        /// Row of the upper entry.
        row: usize,
        /// Column of the upper entry.
        col: usize,
        /// Value at (row, col).
        upper: f64,
        /// Value at (col, row).
        lower: f64,
    },
    /// A covariance matrix that is not (numerically) positive definite.
    #[error("covariance{} is not positive definite: {source}", at(*component))]
    NotPositiveDefinite {
        /// The component (None for a tied covariance).
        component: Option<usize>,
        /// What the factorization found.
        #[source]
        source: LinalgError,
    },
    /// A variance (diagonal or spherical covariance) that is not positive.
    #[error(
        "variance of component {component}, feature {feature} is {value}; variances must be > 0"
    )]
    InvalidVariance {
        /// The component.
        component: usize,
        /// The feature (0 for spherical).
        feature: usize,
        /// The value.
        value: f64,
    },
    /// A Laplace scale that is not positive.
    #[error(
        "Laplace scale of component {component}, feature {feature} is {value}; scales must be > 0"
    )]
    InvalidScale {
        /// The component.
        component: usize,
        /// The feature (0 for spherical scales).
        feature: usize,
        /// The value.
        value: f64,
    },
    /// Feature names whose count differs from the dimension.
    #[error("{found} feature names given for {expected} dimensions")]
    FeatureNames {
        /// The dimension.
        expected: usize,
        /// Names given.
        found: usize,
    },
    /// A model file that is not valid JSON or not of the expected structure.
    #[error("model file is not valid JSON at line {line}, column {column}: {message}")]
    Json {
        /// 1-based line (0 when unknown).
        line: usize,
        /// 1-based column (0 when unknown).
        column: usize,
        /// What the parser said.
        message: String,
    },
    /// A model file of a format version this library cannot read.
    #[error("model file has format_version {found}; this library reads version {supported}")]
    UnsupportedVersion {
        /// Version in the file.
        found: u64,
        /// Version this library reads.
        supported: u32,
    },
    /// A `family` this library does not know.
    #[error("unknown family {0:?} (expected \"gaussian\", \"laplace\" or \"student-t\")")]
    UnknownFamily(String),
    /// A `covariance_type` the family does not have.
    #[error("unknown covariance_type {found:?} for family {family} (expected one of {expected})")]
    UnknownCovarianceType {
        /// The family.
        family: &'static str,
        /// What the file says.
        found: String,
        /// The accepted names.
        expected: &'static str,
    },
    /// A model file of one family loaded as another.
    #[error("model file holds a {found} mixture, but a {expected} mixture was asked for")]
    FamilyMismatch {
        /// The family asked for.
        expected: &'static str,
        /// The family in the file.
        found: String,
    },
    /// A field of a model file that is missing or has the wrong shape.
    #[error("model file field `{field}`: {reason}")]
    InvalidField {
        /// Path of the field, e.g. `covariances[2][1]`.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// Data the model cannot be evaluated on.
    #[error(transparent)]
    Data(#[from] mixtures_core::DataError),
    /// What this model does not do (with missing values, a noise component).
    #[error("{what} is not supported")]
    Unsupported {
        /// What was asked for.
        what: String,
    },
    /// A model file that could not be read or written.
    #[error("cannot access model file {path}: {message}")]
    Io {
        /// The path.
        path: String,
        /// The operating system's message.
        message: String,
    },
}

fn at(component: Option<usize>) -> String {
    component.map_or_else(String::new, |k| format!(" of component {k}"))
}

impl ModelError {
    /// [`ModelError::InvalidParameter`] for `name = value`, breaking `reason`.
    pub fn invalid(name: &'static str, value: impl Into<ParamValue>, reason: &'static str) -> Self {
        Self::InvalidParameter {
            name,
            value: value.into(),
            reason,
        }
    }
}
