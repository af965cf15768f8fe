//! Errors of data validation and of the numeric kernels. Every variant names the
//! place (row, column, pivot) where the problem was found.

use thiserror::Error;

/// Why a data set was rejected. Rows and columns are zero-based.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum DataError {
    /// No rows or no columns.
    #[error("data is empty: {rows} rows x {cols} columns (need at least one row and one column)")]
    Empty {
        /// Number of rows found.
        rows: usize,
        /// Number of columns found.
        cols: usize,
    },
    /// A flat buffer whose length is not `rows * cols`.
    #[error("buffer of {len} values cannot be a {rows} x {cols} matrix (needs {})", rows.saturating_mul(*cols))]
    LengthMismatch {
        /// Length of the buffer.
        len: usize,
        /// Rows asked for.
        rows: usize,
        /// Columns asked for.
        cols: usize,
    },
    /// A row of a nested `Vec<Vec<_>>` with another length than the first row.
    #[error("row {row} has {found} values, but row 0 has {expected}")]
    RaggedRow {
        /// The offending row.
        row: usize,
        /// Length of row 0.
        expected: usize,
        /// Length of this row.
        found: usize,
    },
    /// A NaN or infinite value.
    #[error("value at row {row}, column {col} is not finite ({value})")]
    NonFinite {
        /// Row of the value.
        row: usize,
        /// Column of the value.
        col: usize,
        /// The value itself (NaN or ±inf), widened to f64.
        value: f64,
    },
    /// Sample weights whose count differs from the number of rows.
    #[error("{found} sample weights given for {expected} rows")]
    WeightsLength {
        /// Number of rows.
        expected: usize,
        /// Number of weights.
        found: usize,
    },
    /// A negative or non-finite sample weight.
    #[error("sample weight of row {row} is {value}; weights must be finite and >= 0")]
    InvalidWeight {
        /// Row of the weight.
        row: usize,
        /// The weight.
        value: f64,
    },
    /// Sample weights that add up to zero (or overflow).
    #[error("sample weights sum to {sum}; they must have a positive, finite sum")]
    BadWeightSum {
        /// The sum that was found.
        sum: f64,
    },
    /// Data with another number of columns than the model expects.
    #[error("data has {found} columns but the model has {expected} dimensions")]
    DimensionMismatch {
        /// Dimension the model was built for.
        expected: usize,
        /// Columns of the data.
        found: usize,
    },
}

/// Why a matrix factorization failed.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum LinalgError {
    /// A matrix that should be square is not.
    #[error("matrix is {rows} x {cols}, not square")]
    NotSquare {
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
    },
    /// A NaN or infinite entry.
    #[error("matrix entry ({row}, {col}) is not finite")]
    NonFinite {
        /// Row of the entry.
        row: usize,
        /// Column of the entry.
        col: usize,
    },
    /// The Cholesky factorization met a pivot that is not positive.
    #[error("matrix is not positive definite (Cholesky pivot {pivot} is not positive)")]
    NotPositiveDefinite {
        /// Zero-based index of the failing pivot.
        pivot: usize,
    },
    /// The factorization succeeded but the matrix is numerically singular: one
    /// variable is a linear combination of the others to within rounding.
    #[error(
        "matrix is numerically singular: variable {pivot} is a linear combination of the others to within rounding (residual variance {ratio:e} of its own, limit {limit:e})"
    )]
    IllConditioned {
        /// Index of the variable (row and column) best explained by the others.
        pivot: usize,
        /// Its variance left after regressing it on the others, relative to its
        /// own (`1 − R²`).
        ratio: f64,
        /// The ratio at or below which a matrix is refused
        /// ([`crate::kernels::conditioning_limit`]).
        limit: f64,
    },
}
