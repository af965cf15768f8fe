//! Data with missing cells. An [`IncompleteDataset`] keeps the values, which
//! cells are observed, and the rows grouped by their *missingness pattern*
//! (the set of observed features): a fit or a score computes what depends on
//! the pattern (the marginal covariance's factor, the regression of the
//! missing features on the observed ones) once per pattern, not per row.
//!
//! A [`Dataset`] never holds a missing value: a NaN there is an error that
//! names its row and column. Missing cells are asked for explicitly, by
//! [`Dataset::with_missing`] (NaN marks a missing cell) or
//! [`IncompleteDataset::from_mask`].
//!
//! ```
//! use mixtures_core::Dataset;
//!
//! let nan = f64::NAN;
//! let data = Dataset::with_missing(&[1.0, 2.0, nan, 4.0, 5.0, nan, 7.0, 8.0], 4, 2)?;
//! assert_eq!(data.n_missing(), 2);
//! assert_eq!(data.patterns().len(), 3); // both observed, only x0, only x1
//! assert_eq!(data.value(1, 0), None);
//! assert!(Dataset::with_missing(&[nan, nan, 1.0, 2.0], 2, 2).is_err()); // row 0 is empty
//! // A column never observed can be scored, not fitted.
//! let blind = Dataset::with_missing(&[1.0, nan, 2.0, nan], 2, 2)?;
//! assert!(blind.check_every_column_observed().is_err());
//! # Ok::<(), mixtures_core::DataError>(())
//! ```

use faer::{Mat, MatRef};

use crate::{DataError, Dataset, Scalar};

/// Rows that share one missingness pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    /// The observed features, ascending.
    pub observed: Vec<usize>,
    /// The missing features, ascending.
    pub missing: Vec<usize>,
    /// The rows with this pattern, ascending (indices into the data set).
    pub rows: Vec<usize>,
}

impl Pattern {
    /// Whether every feature is observed.
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty()
    }

    /// The pattern's rows' observed values, `rows x observed` (the block a
    /// pattern's computations read).
    pub fn observed_block<T: Scalar>(&self, data: &IncompleteDataset<T>) -> Mat<T> {
        Mat::from_fn(self.rows.len(), self.observed.len(), |i, j| {
            data.x[(self.rows[i], self.observed[j])]
        })
    }
}

/// A data set some of whose cells are missing (missing at random is what the
/// fits assume: the pattern carries no information about the values).
/// Every row has at least one observed value and every column is observed in
/// at least one row; observed values are finite. Optional sample weights as
/// [`Dataset`]'s.
#[derive(Debug, Clone, PartialEq)]
pub struct IncompleteDataset<T: Scalar> {
    /// `n x D`; a missing cell holds NaN.
    x: Mat<T>,
    weights: Option<Vec<T>>,
    /// Grouped rows, in the order of each pattern's first row.
    patterns: Vec<Pattern>,
    n_missing: usize,
    /// The incomplete rows as `(row, pattern)`, pattern after pattern.
    order: Vec<(usize, usize)>,
    /// Their values in that order (`order.len() x D`, NaN where missing):
    /// what the fits read every iteration, contiguous column by column.
    ordered: Mat<T>,
}

impl<T: Scalar> Dataset<T> {
    /// A data set whose NaN cells are missing values (a row-major buffer of
    /// `rows * cols` values). Infinite values are still errors.
    ///
    /// # Errors
    /// As [`IncompleteDataset::from_mask`].
    pub fn with_missing(
        values: &[T],
        rows: usize,
        cols: usize,
    ) -> Result<IncompleteDataset<T>, DataError> {
        if rows.checked_mul(cols) != Some(values.len()) {
            return Err(DataError::LengthMismatch {
                len: values.len(),
                rows,
                cols,
            });
        }
        let x = MatRef::from_row_major_slice(values, rows, cols);
        let observed: Vec<bool> = values.iter().map(|v| !v.is_nan()).collect();
        IncompleteDataset::from_mask(x, &observed)
    }
}

impl<T: Scalar> IncompleteDataset<T> {
    /// Values with an explicit mask: `observed[i * cols + j]` tells whether
    /// cell `(i, j)` is observed (row-major); the values of missing cells are
    /// not read.
    ///
    /// # Errors
    /// [`DataError::Empty`]; [`DataError::LengthMismatch`] if the mask does
    /// not have a flag per cell; [`DataError::NonFinite`] for an observed
    /// value that is not finite; [`DataError::NoObservedValue`] for a row
    /// whose every value is missing. A column whose every value is missing
    /// may be scored or imputed, not fitted
    /// ([`IncompleteDataset::check_every_column_observed`]).
    pub fn from_mask(values: MatRef<'_, T>, observed: &[bool]) -> Result<Self, DataError> {
        let (n, d) = (values.nrows(), values.ncols());
        if n == 0 || d == 0 {
            return Err(DataError::Empty { rows: n, cols: d });
        }
        if n.checked_mul(d) != Some(observed.len()) {
            return Err(DataError::LengthMismatch {
                len: observed.len(),
                rows: n,
                cols: d,
            });
        }
        let seen = |i: usize, j: usize| observed[i * d + j];
        let mut n_missing = 0;
        for i in 0..n {
            let mut any = false;
            for j in 0..d {
                if seen(i, j) {
                    let v = values[(i, j)];
                    if !v.is_finite() {
                        return Err(DataError::NonFinite {
                            row: i,
                            col: j,
                            value: v.as_f64(),
                        });
                    }
                    any = true;
                } else {
                    n_missing += 1;
                }
            }
            if !any {
                return Err(DataError::NoObservedValue { row: i });
            }
        }
        let x = Mat::from_fn(
            n,
            d,
            |i, j| {
                if seen(i, j) { values[(i, j)] } else { T::nan() }
            },
        );
        let patterns = group(n, d, &seen);
        let order: Vec<(usize, usize)> = patterns
            .iter()
            .enumerate()
            .filter(|(_, p)| !p.is_complete())
            .flat_map(|(i, p)| p.rows.iter().map(move |&r| (r, i)))
            .collect();
        let ordered = Mat::from_fn(order.len(), d, |i, j| x[(order[i].0, j)]);
        Ok(Self {
            x,
            weights: None,
            patterns,
            n_missing,
            order,
            ordered,
        })
    }

    /// A complete data set seen as one with no missing cell.
    pub fn from_complete(data: &Dataset<T>) -> Self {
        let (n, d) = (data.n_samples(), data.n_features());
        Self {
            x: data.view().to_owned(),
            weights: data.weights().map(<[T]>::to_vec),
            patterns: vec![Pattern {
                observed: (0..d).collect(),
                missing: Vec::new(),
                rows: (0..n).collect(),
            }],
            n_missing: 0,
            order: Vec::new(),
            ordered: Mat::zeros(0, d),
        }
    }

    /// Attaches sample weights, as [`Dataset::with_weights`].
    ///
    /// # Errors
    /// As [`Dataset::with_weights`].
    pub fn with_weights(mut self, weights: Vec<T>) -> Result<Self, DataError> {
        crate::dataset::check_weights(&weights, self.n_samples())?;
        self.weights = Some(weights);
        Ok(self)
    }

    /// Number of rows.
    pub fn n_samples(&self) -> usize {
        self.x.nrows()
    }

    /// Number of features.
    pub fn n_features(&self) -> usize {
        self.x.ncols()
    }

    /// Refuses data with a column whose every value is missing: nothing can
    /// be fitted to it.
    ///
    /// # Errors
    /// [`DataError::NeverObserved`] naming the first such column.
    pub fn check_every_column_observed(&self) -> Result<(), DataError> {
        let mut seen = vec![false; self.n_features()];
        for p in &self.patterns {
            for &j in &p.observed {
                seen[j] = true;
            }
        }
        match seen.iter().position(|s| !s) {
            Some(col) => Err(DataError::NeverObserved { col }),
            None => Ok(()),
        }
    }

    /// Number of missing cells.
    pub fn n_missing(&self) -> usize {
        self.n_missing
    }

    /// The rows grouped by missingness pattern, in the order of each
    /// pattern's first row.
    pub fn patterns(&self) -> &[Pattern] {
        &self.patterns
    }

    /// The rows with a missing cell as `(row, pattern)`, pattern after
    /// pattern (indices into the data and into [`IncompleteDataset::patterns`]).
    pub fn incomplete_order(&self) -> &[(usize, usize)] {
        &self.order
    }

    /// The values of the rows of [`IncompleteDataset::incomplete_order`], in
    /// that order (NaN where missing).
    pub fn incomplete_values(&self) -> MatRef<'_, T> {
        self.ordered.as_ref()
    }

    /// The value of cell `(i, j)`, `None` when it is missing (or out of range).
    pub fn value(&self, i: usize, j: usize) -> Option<T> {
        if i >= self.n_samples() || j >= self.n_features() {
            return None;
        }
        let v = self.x[(i, j)];
        (!v.is_nan()).then_some(v)
    }

    /// The values, `n x D`, NaN where missing.
    pub fn view(&self) -> MatRef<'_, T> {
        self.x.as_ref()
    }

    /// Sample weights, if any.
    pub fn weights(&self) -> Option<&[T]> {
        self.weights.as_deref()
    }

    /// Sum of the weights (the number of rows without weights).
    pub fn total_weight(&self) -> f64 {
        match &self.weights {
            Some(w) => w.iter().map(|v| v.as_f64()).sum(),
            None => self.n_samples() as f64,
        }
    }

    /// Per feature, the (weighted) mean of its observed values.
    pub fn observed_means(&self) -> Vec<T> {
        (0..self.n_features())
            .map(|j| {
                let (mut s, mut w) = (0.0, 0.0);
                for i in 0..self.n_samples() {
                    if let Some(v) = self.value(i, j) {
                        let wi = self.weights.as_ref().map_or(1.0, |ws| ws[i].as_f64());
                        s += wi * v.as_f64();
                        w += wi;
                    }
                }
                T::c(if w > 0.0 { s / w } else { 0.0 })
            })
            .collect()
    }

    /// The data with every missing cell replaced by its column's observed
    /// mean (a start for a fit, never its result), with the same weights.
    pub fn mean_filled(&self) -> Dataset<T> {
        let means = self.observed_means();
        let x = Mat::from_fn(self.n_samples(), self.n_features(), |i, j| {
            self.value(i, j).unwrap_or(means[j])
        });
        Dataset::from_checked(x, self.weights.clone())
    }

    /// The complete rows as a data set (with their weights), and their
    /// indices; `None` when no row is complete.
    pub fn complete_rows(&self) -> Option<(Dataset<T>, &[usize])> {
        let p = self.patterns.iter().find(|p| p.is_complete())?;
        let x = Mat::from_fn(p.rows.len(), self.n_features(), |i, j| {
            self.x[(p.rows[i], j)]
        });
        // The complete rows' weights may sum to zero: then they are left out
        // (they add nothing to any statistic).
        let weights = self
            .weights
            .as_ref()
            .map(|w| p.rows.iter().map(|&i| w[i]).collect::<Vec<T>>());
        if weights
            .as_ref()
            .is_some_and(|w| w.iter().all(|v| *v == T::zero()))
        {
            return None;
        }
        Some((Dataset::from_checked(x, weights), &p.rows))
    }
}

/// The rows grouped by pattern, in the order of each pattern's first row.
fn group(n: usize, d: usize, seen: &dyn Fn(usize, usize) -> bool) -> Vec<Pattern> {
    let mut index: std::collections::HashMap<Vec<bool>, usize> = std::collections::HashMap::new();
    let mut patterns: Vec<Pattern> = Vec::new();
    for i in 0..n {
        let key: Vec<bool> = (0..d).map(|j| seen(i, j)).collect();
        let next = patterns.len();
        let p = *index.entry(key.clone()).or_insert(next);
        if p == next {
            patterns.push(Pattern {
                observed: (0..d).filter(|&j| key[j]).collect(),
                missing: (0..d).filter(|&j| !key[j]).collect(),
                rows: Vec::new(),
            });
        }
        patterns[p].rows.push(i);
    }
    patterns
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const NAN: f64 = f64::NAN;

    #[test]
    fn patterns_group_rows_and_name_the_missing_features() {
        let v = [1.0, NAN, 3.0, 4.0, 5.0, 6.0, 7.0, NAN, 9.0, NAN, 11.0, 12.0];
        let data = Dataset::with_missing(&v, 4, 3).unwrap();
        data.check_every_column_observed().unwrap();
        let p = data.patterns();
        assert_eq!(p.len(), 3);
        assert_eq!(
            (p[0].observed.clone(), p[0].missing.clone()),
            (vec![0, 2], vec![1])
        );
        assert_eq!(p[0].rows, vec![0, 2]);
        assert!(p[1].is_complete());
        assert_eq!(p[2].missing, vec![0]);
        assert_eq!(data.n_missing(), 3);
        let block = p[0].observed_block(&data);
        assert_eq!((block[(1, 0)], block[(1, 1)]), (7.0, 9.0));
        let (complete, rows) = data.complete_rows().unwrap();
        assert_eq!((complete.n_samples(), rows), (1, &[1usize][..]));
        let filled = data.mean_filled();
        assert_eq!(filled.view()[(0, 1)], 8.0);
    }

    #[test]
    fn empty_rows_never_observed_columns_and_infinities_are_refused() {
        assert_eq!(
            Dataset::with_missing(&[1.0, 2.0, NAN, NAN], 2, 2).unwrap_err(),
            DataError::NoObservedValue { row: 1 }
        );
        let blind = Dataset::with_missing(&[1.0, NAN, 3.0, NAN], 2, 2).unwrap();
        assert_eq!(
            blind.check_every_column_observed().unwrap_err(),
            DataError::NeverObserved { col: 1 }
        );
        assert!(matches!(
            Dataset::with_missing(&[1.0, f64::INFINITY], 1, 2),
            Err(DataError::NonFinite { row: 0, col: 1, .. })
        ));
        assert!(matches!(
            Dataset::with_missing(&[1.0, 2.0, 3.0], 2, 2),
            Err(DataError::LengthMismatch { .. })
        ));
    }

    #[test]
    fn weights_are_checked_as_a_datasets() {
        let data = Dataset::with_missing(&[1.0, NAN, 3.0, 4.0], 2, 2).unwrap();
        assert!(data.clone().with_weights(vec![1.0]).is_err());
        assert!(data.clone().with_weights(vec![1.0, -1.0]).is_err());
        let w = data.with_weights(vec![1.0, 3.0]).unwrap();
        assert_eq!(w.total_weight(), 4.0);
        assert_eq!(w.observed_means(), vec![2.5, 4.0]);
    }
}
