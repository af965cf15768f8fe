//! Validated data: an `n x d` matrix of finite values with optional sample weights.

use faer::{Mat, MatRef};

use crate::{DataError, Scalar};

/// An `n x d` data set (rows are samples, columns features) checked once on
/// construction: at least one row and one column, every value finite, and sample
/// weights (if any) finite, non-negative and with a positive sum.
///
/// The values are stored column-major (each feature contiguous), the layout every
/// kernel of the workspace works on; construction copies once.
///
/// ```
/// use mixtures_core::Dataset;
/// let data = Dataset::from_rows(&[vec![1.0_f64, 2.0], vec![3.0, 4.0]])?;
/// assert_eq!((data.n_samples(), data.n_features()), (2, 2));
/// assert!(Dataset::from_rows(&[vec![1.0_f64, f64::NAN]]).is_err());
/// # Ok::<(), mixtures_core::DataError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset<T: Scalar> {
    x: Mat<T>,
    weights: Option<Vec<T>>,
}

fn check_shape(rows: usize, cols: usize) -> Result<(), DataError> {
    if rows == 0 || cols == 0 {
        return Err(DataError::Empty { rows, cols });
    }
    Ok(())
}

fn non_finite<T: Scalar>(row: usize, col: usize, value: T) -> DataError {
    DataError::NonFinite {
        row,
        col,
        value: value.as_f64(),
    }
}

impl<T: Scalar> Dataset<T> {
    /// Builds a data set from a row-major buffer of `rows * cols` values.
    ///
    /// # Errors
    /// [`DataError::Empty`], [`DataError::LengthMismatch`], or
    /// [`DataError::NonFinite`] naming the first bad value in row-major order.
    pub fn from_row_major(values: &[T], rows: usize, cols: usize) -> Result<Self, DataError> {
        check_shape(rows, cols)?;
        if rows.checked_mul(cols) != Some(values.len()) {
            return Err(DataError::LengthMismatch {
                len: values.len(),
                rows,
                cols,
            });
        }
        if let Some(pos) = values.iter().position(|v| !v.is_finite()) {
            return Err(non_finite(pos / cols, pos % cols, values[pos]));
        }
        let x = Mat::from_fn(rows, cols, |i, j| values[i * cols + j]);
        Ok(Self { x, weights: None })
    }

    /// Builds a data set from a column-major buffer of `rows * cols` values (the
    /// layout of faer, ndarray's Fortran order and scikit-learn's `X.T`).
    ///
    /// # Errors
    /// As [`Dataset::from_row_major`].
    pub fn from_col_major(values: &[T], rows: usize, cols: usize) -> Result<Self, DataError> {
        check_shape(rows, cols)?;
        if rows.checked_mul(cols) != Some(values.len()) {
            return Err(DataError::LengthMismatch {
                len: values.len(),
                rows,
                cols,
            });
        }
        let view = MatRef::from_column_major_slice(values, rows, cols);
        Self::from_mat(view)
    }

    /// Builds a data set from any faer matrix view (copied into column-major storage).
    ///
    /// # Errors
    /// [`DataError::Empty`] or [`DataError::NonFinite`] naming the first bad value
    /// in row-major order.
    pub fn from_mat(m: MatRef<'_, T>) -> Result<Self, DataError> {
        check_shape(m.nrows(), m.ncols())?;
        let x = m.to_owned();
        let mut first: Option<(usize, usize)> = None;
        for j in 0..x.ncols() {
            if let Some(i) = x.col_as_slice(j).iter().position(|v| !v.is_finite()) {
                // Keep the earliest position in row-major order.
                if first.is_none_or(|(r, _)| i < r) {
                    first = Some((i, j));
                }
            }
        }
        if let Some((i, j)) = first {
            return Err(non_finite(i, j, x[(i, j)]));
        }
        Ok(Self { x, weights: None })
    }

    /// Builds a data set from rows (`&[Vec<T>]`, `&[[T; D]]`, ...).
    ///
    /// # Errors
    /// [`DataError::Empty`], [`DataError::RaggedRow`] or [`DataError::NonFinite`].
    pub fn from_rows<R: AsRef<[T]>>(rows: &[R]) -> Result<Self, DataError> {
        let n = rows.len();
        let d = rows.first().map_or(0, |r| r.as_ref().len());
        check_shape(n, d)?;
        for (i, r) in rows.iter().enumerate() {
            let r = r.as_ref();
            if r.len() != d {
                return Err(DataError::RaggedRow {
                    row: i,
                    expected: d,
                    found: r.len(),
                });
            }
            if let Some(j) = r.iter().position(|v| !v.is_finite()) {
                return Err(non_finite(i, j, r[j]));
            }
        }
        let x = Mat::from_fn(n, d, |i, j| rows[i].as_ref()[j]);
        Ok(Self { x, weights: None })
    }

    /// The rows `rows` of the data, in that order, with their weights.
    ///
    /// # Errors
    /// [`DataError::RowOutOfRange`] for an index past the last row,
    /// [`DataError::Empty`] for no rows, [`DataError::BadWeightSum`] when the
    /// chosen rows' weights add up to zero.
    pub fn select_rows(&self, rows: &[usize]) -> Result<Self, DataError> {
        let n = self.n_samples();
        if let Some(&row) = rows.iter().find(|&&r| r >= n) {
            return Err(DataError::RowOutOfRange { row, rows: n });
        }
        let x = self.view();
        let m = Mat::from_fn(rows.len(), self.n_features(), |i, j| x[(rows[i], j)]);
        let sub = Self::from_mat(m.as_ref())?;
        match self.weights() {
            Some(w) => sub.with_weights(rows.iter().map(|&i| w[i]).collect()),
            None => Ok(sub),
        }
    }

    /// At most `m` rows drawn without replacement by `seed` and kept in their
    /// order (with their weights), or `None` when the data have no more than
    /// `m` rows. The draw depends on `seed`, `m` and the number of rows only.
    ///
    /// # Errors
    /// As [`Dataset::select_rows`] (only [`DataError::Empty`] for `m = 0` and
    /// [`DataError::BadWeightSum`] can occur).
    pub fn sample_rows(&self, m: usize, seed: u64) -> Result<Option<Self>, DataError> {
        match crate::seed::sample_indices(self.n_samples(), m, seed) {
            Some(idx) => self.select_rows(&idx).map(Some),
            None => Ok(None),
        }
    }

    /// Attaches per-sample weights (one per row, finite, `>= 0`, positive sum).
    ///
    /// # Errors
    /// [`DataError::WeightsLength`], [`DataError::InvalidWeight`] or
    /// [`DataError::BadWeightSum`].
    pub fn with_weights(mut self, weights: Vec<T>) -> Result<Self, DataError> {
        check_weights(&weights, self.n_samples())?;
        self.weights = Some(weights);
        Ok(self)
    }

    /// A data set of values and weights already checked.
    pub(crate) fn from_checked(x: Mat<T>, weights: Option<Vec<T>>) -> Self {
        Self { x, weights }
    }

    /// Removes the sample weights.
    #[must_use]
    pub fn without_weights(mut self) -> Self {
        self.weights = None;
        self
    }

    /// Number of samples (rows), at least 1.
    #[inline]
    pub fn n_samples(&self) -> usize {
        self.x.nrows()
    }

    /// Number of features (columns), at least 1.
    #[inline]
    pub fn n_features(&self) -> usize {
        self.x.ncols()
    }

    /// The data as an `n x d` column-major view.
    #[inline]
    pub fn view(&self) -> MatRef<'_, T> {
        self.x.as_ref()
    }

    /// The values of feature `j`, one per sample.
    ///
    /// # Panics
    /// If `j >= n_features()`.
    #[inline]
    pub fn column(&self, j: usize) -> &[T] {
        self.x.col_as_slice(j)
    }

    /// The smallest and largest value of column `j`, widened to `f64`.
    ///
    /// ```
    /// let d = mixtures_core::Dataset::from_rows(&[[1.0_f64, 5.0], [-2.0, 3.0]])?;
    /// assert_eq!(d.column_range(0), (-2.0, 1.0));
    /// # Ok::<(), mixtures_core::DataError>(())
    /// ```
    ///
    /// # Panics
    /// If `j >= n_features()`.
    pub fn column_range(&self, j: usize) -> (f64, f64) {
        self.column(j)
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                let v = v.as_f64();
                (lo.min(v), hi.max(v))
            })
    }

    /// The sample weights, if any were attached.
    #[inline]
    pub fn weights(&self) -> Option<&[T]> {
        self.weights.as_deref()
    }

    /// Sum of the sample weights, or the number of samples when unweighted.
    pub fn total_weight(&self) -> f64 {
        self.weights.as_ref().map_or(self.n_samples() as f64, |w| {
            w.iter().map(|v| v.as_f64()).sum()
        })
    }

    /// Checks that the data has `expected` columns.
    ///
    /// # Errors
    /// [`DataError::DimensionMismatch`].
    pub fn check_dim(&self, expected: usize) -> Result<(), DataError> {
        if self.n_features() != expected {
            return Err(DataError::DimensionMismatch {
                expected,
                found: self.n_features(),
            });
        }
        Ok(())
    }

    /// The rows as a row-major vector (a copy).
    pub fn to_row_major(&self) -> Vec<T> {
        let (n, d) = (self.n_samples(), self.n_features());
        let mut out = Vec::with_capacity(n * d);
        for i in 0..n {
            for j in 0..d {
                out.push(self.x[(i, j)]);
            }
        }
        out
    }

    /// Splits into the owned matrix and the weights.
    pub fn into_parts(self) -> (Mat<T>, Option<Vec<T>>) {
        (self.x, self.weights)
    }
}

impl<T: Scalar> TryFrom<Vec<Vec<T>>> for Dataset<T> {
    type Error = DataError;
    fn try_from(rows: Vec<Vec<T>>) -> Result<Self, DataError> {
        Self::from_rows(&rows)
    }
}

impl<T: Scalar> TryFrom<MatRef<'_, T>> for Dataset<T> {
    type Error = DataError;
    fn try_from(m: MatRef<'_, T>) -> Result<Self, DataError> {
        Self::from_mat(m)
    }
}

/// Sample weights: one per row, finite, `>= 0`, with a positive sum.
pub(crate) fn check_weights<T: Scalar>(weights: &[T], n: usize) -> Result<(), DataError> {
    if weights.len() != n {
        return Err(DataError::WeightsLength {
            expected: n,
            found: weights.len(),
        });
    }

    if let Some(row) = weights
        .iter()
        .position(|w| !w.is_finite() || *w < T::zero())
    {
        return Err(DataError::InvalidWeight {
            row,
            value: weights[row].as_f64(),
        });
    }
    let sum: f64 = weights.iter().map(|w| w.as_f64()).sum();
    if !(sum > 0.0 && sum.is_finite() && T::c(sum).is_finite()) {
        return Err(DataError::BadWeightSum { sum });
    }
    Ok(())
}
