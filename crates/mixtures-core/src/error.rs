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
    /// A row index past the last row.
    #[error("row {row} does not exist: the data have {rows} rows")]
    RowOutOfRange {
        /// The index asked for.
        row: usize,
        /// Number of rows.
        rows: usize,
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
    /// A row whose every value is missing (it says nothing about the data).
    #[error("row {row} has no observed value")]
    NoObservedValue {
        /// The row.
        row: usize,
    },
    /// A column whose every value is missing (nothing can be learnt of it).
    #[error("column {col} is never observed: every value is missing")]
    NeverObserved {
        /// The column.
        col: usize,
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
    /// A model could not be evaluated on valid data for a reason outside the
    /// data (a tensor backend or device failure of a neural model).
    #[error("the model could not be evaluated: {message}")]
    Evaluation {
        /// What failed.
        message: String,
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

/// The value of a parameter that was refused, as given: every error type of
/// the workspace reports a refused parameter as
/// `InvalidParameter { name, value: ParamValue, reason }`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ParamValue {
    /// A count or another non-negative whole number.
    Count(u64),
    /// A negative whole number.
    Int(i64),
    /// A real number (NaN and infinities included, as given).
    Float(f64),
    /// A name or anything else that is not a number.
    Text(String),
}

impl core::fmt::Display for ParamValue {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Count(v) => write!(f, "{v}"),
            Self::Int(v) => write!(f, "{v}"),
            Self::Float(v) => write!(f, "{v}"),
            Self::Text(v) => f.write_str(v),
        }
    }
}

macro_rules! param_value_from {
    ($variant:ident as $wide:ty: $($t:ty),*) => {$(
        impl From<$t> for ParamValue {
            fn from(v: $t) -> Self {
                Self::$variant(<$wide>::from(v))
            }
        }
    )*};
}
param_value_from!(Count as u64: u8, u16, u32, u64);
param_value_from!(Int as i64: i32, i64);
param_value_from!(Float as f64: f32, f64);

impl From<usize> for ParamValue {
    fn from(v: usize) -> Self {
        // usize is at most 64 bits on every supported target.
        Self::Count(v as u64)
    }
}

impl From<&str> for ParamValue {
    fn from(v: &str) -> Self {
        Self::Text(v.to_owned())
    }
}

impl From<String> for ParamValue {
    fn from(v: String) -> Self {
        Self::Text(v)
    }
}

impl PartialEq<&str> for ParamValue {
    fn eq(&self, o: &&str) -> bool {
        matches!(self, Self::Text(t) if t == o)
    }
}

impl PartialEq<f64> for ParamValue {
    /// A number equal to `o` (an integer compares by value).
    fn eq(&self, o: &f64) -> bool {
        match self {
            Self::Count(v) => *v as f64 == *o,
            Self::Int(v) => *v as f64 == *o,
            Self::Float(v) => v == o,
            Self::Text(_) => false,
        }
    }
}
