//! Errors of model selection.

use mixtures_core::{DataError, ParamValue};
use mixtures_dist::ModelError;
use mixtures_em::FitError;
use thiserror::Error;

/// Why a selection could not start or produced nothing.
///
/// Every check that can fail on the parameters or the shape of the data runs
/// before any fitting work. Non-convergence is not an error (it is reported), and
/// a grid cell that cannot be fitted is skipped and reported in its table row.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum SelectError {
    /// The data were rejected.
    #[error(transparent)]
    Data(#[from] DataError),
    /// A model built during the fit was rejected.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// An expectation–maximization fit failed outside a grid cell.
    #[error(transparent)]
    Fit(#[from] FitError),
    /// A grid with no number of components to try.
    #[error("the range of component counts is empty; give at least one k (for example 1..=8)")]
    EmptyKRange,
    /// A grid with no structure (covariance constraint or Laplace scale
    /// structure) to try.
    #[error("no structure to try; give at least one covariance constraint or Laplace structure")]
    NoStructures,
    /// A parameter out of its range.
    #[error("invalid parameter {name} = {value}: {reason}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// Its value, as given.
        value: ParamValue,
        /// The rule it breaks.
        reason: &'static str,
    },
    /// More components than distinct points (with positive weight).
    #[error(
        "k = {k} components but only {distinct} distinct points (with positive weight); use k <= {distinct}"
    )]
    TooFewDistinctPoints {
        /// Distinct points found (counting stops at `k`).
        distinct: usize,
        /// The number of components asked for (the largest of a grid).
        k: usize,
    },
    /// Every cell of a grid failed; the reason of the first is given.
    #[error(
        "all {cells} cells of the grid failed; the first (k = {k}, {structure}) because: {reason}"
    )]
    AllCellsFailed {
        /// Number of cells.
        cells: usize,
        /// `k` of the first cell.
        k: usize,
        /// Structure of the first cell.
        structure: String,
        /// Why the first cell failed.
        reason: FitError,
    },
}

impl SelectError {
    /// [`SelectError::InvalidParameter`] for `name = value`, breaking `reason`.
    pub fn invalid(name: &'static str, value: impl Into<ParamValue>, reason: &'static str) -> Self {
        Self::InvalidParameter {
            name,
            value: value.into(),
            reason,
        }
    }
}
