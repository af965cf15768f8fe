//! Arrow columns into faer matrices: the `Float64` columns of a record batch
//! copied into the first rows of a reused `m x D` matrix (column-major, as
//! the E-step reads them), with NULLs and non-numeric columns refused.
//!
//! (The arrow crate of the workspace has its own conversion; this one is the
//! few lines this crate needs, kept here so that it depends on DataFusion's
//! arrow only.)

use datafusion::arrow::array::{Array, ArrayRef, Float64Array};
use datafusion::arrow::datatypes::DataType;
use faer::Mat;

/// Why a batch's columns could not be copied.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ColumnProblem {
    /// Column `col` is not `Float64` (the projection casts every feature, so
    /// this is an internal mismatch or a caller's array of another type).
    NotFloat64 { col: usize, found: DataType },
    /// Row `row` (of the batch) of column `col` is NULL.
    Null { row: usize, col: usize },
    /// Row `row` (of the batch) of column `col` is NaN or infinite.
    NonFinite { row: usize, col: usize, value: f64 },
    /// Columns of different lengths.
    Lengths,
}

/// The columns as `Float64Array`s.
pub(crate) fn float_columns(columns: &[ArrayRef]) -> Result<Vec<&Float64Array>, ColumnProblem> {
    columns
        .iter()
        .enumerate()
        .map(|(col, a)| {
            a.as_any()
                .downcast_ref::<Float64Array>()
                .ok_or_else(|| ColumnProblem::NotFloat64 {
                    col,
                    found: a.data_type().clone(),
                })
        })
        .collect()
}

/// Copies the columns into the first `m` rows of `out` (grown when it has
/// fewer rows, or another number of columns) and returns `m`. NULLs are
/// refused; `finite` also refuses NaN and infinite values (a pass whose
/// reader checks them itself leaves it off).
pub(crate) fn copy_columns(
    columns: &[&Float64Array],
    out: &mut Mat<f64>,
    finite: bool,
) -> Result<usize, ColumnProblem> {
    let d = columns.len();
    let m = columns.first().map_or(0, |c| c.len());
    if columns.iter().any(|c| c.len() != m) {
        return Err(ColumnProblem::Lengths);
    }
    for (col, c) in columns.iter().enumerate() {
        if c.null_count() > 0 {
            let row = (0..m).find(|&i| c.is_null(i)).unwrap_or(0);
            return Err(ColumnProblem::Null { row, col });
        }
        if finite {
            let values = c.values();
            if !values.iter().all(|v| v.is_finite()) {
                let row = values.iter().position(|v| !v.is_finite()).unwrap_or(0);
                return Err(ColumnProblem::NonFinite {
                    row,
                    col,
                    value: values[row],
                });
            }
        }
    }
    if out.ncols() != d || out.nrows() < m {
        *out = Mat::zeros(m.max(out.nrows()), d);
    }
    for (j, c) in columns.iter().enumerate() {
        out.col_as_slice_mut(j)[..m].copy_from_slice(c.values());
    }
    Ok(m)
}

/// Whether a column of this type can be a feature (cast to `Float64`):
/// integers, floating point and decimals.
pub(crate) fn is_feature_type(t: &DataType) -> bool {
    t.is_numeric()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::Arc;

    use super::*;

    #[test]
    fn copies_columns_and_refuses_nulls_and_nan() {
        let a: ArrayRef = Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0]));
        let b: ArrayRef = Arc::new(Float64Array::from(vec![4.0, 5.0, 6.0]));
        let cols = [a, b];
        let f = float_columns(&cols).unwrap();
        let mut out = Mat::zeros(0, 0);
        assert_eq!(copy_columns(&f, &mut out, true).unwrap(), 3);
        assert_eq!(out[(2, 1)], 6.0);
        let n: ArrayRef = Arc::new(Float64Array::from(vec![Some(1.0), None]));
        let f = float_columns(std::slice::from_ref(&n)).unwrap();
        assert_eq!(
            copy_columns(&f, &mut out, true),
            Err(ColumnProblem::Null { row: 1, col: 0 })
        );
        let nan: ArrayRef = Arc::new(Float64Array::from(vec![1.0, f64::NAN]));
        let f = float_columns(std::slice::from_ref(&nan)).unwrap();
        assert!(matches!(
            copy_columns(&f, &mut out, true),
            Err(ColumnProblem::NonFinite { row: 1, col: 0, .. })
        ));
        assert!(copy_columns(&f, &mut out, false).is_ok());
        let s: ArrayRef = Arc::new(datafusion::arrow::array::StringArray::from(vec!["x"]));
        assert!(matches!(
            float_columns(&[s]),
            Err(ColumnProblem::NotFloat64 { col: 0, .. })
        ));
    }
}
