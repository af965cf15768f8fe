//! Rows in batches: what an out-of-core fit reads. A [`RowSource`] hands its
//! rows over in batches, in the same order on every pass, as often as asked;
//! an in-memory [`Dataset`] is a source of one batch, so the fits that read
//! sources read a data set through the same code.
//!
//! ```
//! use mixtures_core::Dataset;
//! use mixtures_core::source::{Fingerprint, RowSource};
//!
//! let data = Dataset::from_row_major(&[1.0_f64, 2.0, 3.0, 4.0, 5.0, 6.0], 3, 2)?;
//! let mut seen = 0;
//! let mut print = Fingerprint::default();
//! data.for_each_batch(&mut |batch| {
//!     seen += batch.rows.nrows();
//!     print.add(&batch)?;
//!     Ok(())
//! })?;
//! assert_eq!(seen, 3);
//! assert_eq!(print.rows, 3);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use faer::MatRef;
use thiserror::Error;

use crate::{Dataset, Scalar};

/// One batch of rows: `rows` is `m x D`, `first` the index of its first row
/// among all the rows of the source.
#[derive(Clone, Copy, Debug)]
pub struct Batch<'a, T: Scalar> {
    /// The rows of the batch.
    pub rows: MatRef<'a, T>,
    /// Their sample weights, if the source has any.
    pub weights: Option<&'a [T]>,
    /// Index of the batch's first row among all rows of the source.
    pub first: u64,
}

/// Why a source could not be read, or a pass over it was refused.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum SourceError {
    /// Reading failed (a file that is missing, unreadable or malformed).
    #[error("{location}: {message}")]
    Read {
        /// The file (and row) where it failed.
        location: String,
        /// What went wrong.
        message: String,
    },
    /// The columns differ from what the source started with (another file of
    /// a multi-file source with other columns, a column that is not numeric).
    #[error("{location}: {message}")]
    Schema {
        /// The file whose columns differ.
        location: String,
        /// How they differ.
        message: String,
    },
    /// A NaN or infinite value.
    #[error("{location}, column {column}: value is not finite ({value})")]
    NonFinite {
        /// The file and row of the value.
        location: String,
        /// The column's name (or index).
        column: String,
        /// The value, widened to `f64`.
        value: f64,
    },
    /// The source has no rows.
    #[error("{location}: the source has no rows")]
    Empty {
        /// The source.
        location: String,
    },
    /// A later pass read other rows than the first pass (the files changed
    /// while the fit read them).
    #[error(
        "the rows changed between passes over {location}: the first pass read {first_rows} rows \
         (checksum {first_checksum:016x}), pass {pass} read {rows} (checksum {checksum:016x})"
    )]
    Changed {
        /// The source.
        location: String,
        /// The pass (from 1) that differed.
        pass: usize,
        /// Rows of the first pass.
        first_rows: u64,
        /// Checksum of the first pass.
        first_checksum: u64,
        /// Rows of this pass.
        rows: u64,
        /// Checksum of this pass.
        checksum: u64,
    },
    /// The reader of a batch refused it (the consumer's own error, carried
    /// through the source).
    #[error("{0}")]
    Consumer(String),
}

/// Rows handed over in batches, in the same order on every pass.
///
/// Implementations: [`Dataset`] (one batch); CSV, Arrow IPC and Parquet
/// files in the crates that read them. A pass calls `f` with each batch in
/// order and stops at the first error.
pub trait RowSource<T: Scalar>: Sync {
    /// Number of features (columns) of every row.
    fn n_features(&self) -> usize;

    /// One pass over every row.
    ///
    /// # Errors
    /// Why a batch could not be read, or the first error `f` returned.
    fn for_each_batch(
        &self,
        f: &mut dyn FnMut(Batch<'_, T>) -> Result<(), SourceError>,
    ) -> Result<(), SourceError>;

    /// Where row `row` (counted over all rows of the source) is, for error
    /// messages: a file and its row, say.
    fn locate(&self, row: u64) -> String {
        format!("row {row}")
    }

    /// A name for the whole source in messages (its file, say).
    fn describe(&self) -> String {
        "the rows".into()
    }

    /// The rows as one data set, when they are already in memory (fits then
    /// use their in-memory initialization and checks).
    fn as_dataset(&self) -> Option<&Dataset<T>> {
        None
    }
}

impl<T: Scalar> RowSource<T> for Dataset<T> {
    fn n_features(&self) -> usize {
        Dataset::n_features(self)
    }

    fn for_each_batch(
        &self,
        f: &mut dyn FnMut(Batch<'_, T>) -> Result<(), SourceError>,
    ) -> Result<(), SourceError> {
        f(Batch {
            rows: self.view(),
            weights: self.weights(),
            first: 0,
        })
    }

    fn as_dataset(&self) -> Option<&Dataset<T>> {
        Some(self)
    }
}

/// A data set in memory read in batches of a fixed number of rows, as an
/// out-of-core fit reads a file (for tests of the batched path, and to bound
/// a pass's working memory over data already in memory).
#[derive(Debug, Clone, Copy)]
pub struct Chunked<'a, T: Scalar> {
    data: &'a Dataset<T>,
    rows: usize,
}

impl<'a, T: Scalar> Chunked<'a, T> {
    /// `data` in batches of `rows` rows (at least one).
    pub fn new(data: &'a Dataset<T>, rows: usize) -> Self {
        Self {
            data,
            rows: rows.max(1),
        }
    }
}

impl<T: Scalar> RowSource<T> for Chunked<'_, T> {
    fn n_features(&self) -> usize {
        self.data.n_features()
    }

    fn for_each_batch(
        &self,
        f: &mut dyn FnMut(Batch<'_, T>) -> Result<(), SourceError>,
    ) -> Result<(), SourceError> {
        let (x, n) = (self.data.view(), self.data.n_samples());
        let mut start = 0;
        while start < n {
            let m = self.rows.min(n - start);
            f(Batch {
                rows: x.subrows(start, m),
                weights: self.data.weights().map(|w| &w[start..start + m]),
                first: start as u64,
            })?;
            start += m;
        }
        Ok(())
    }

    fn describe(&self) -> String {
        format!("a data set in batches of {} rows", self.rows)
    }
}

/// Row count and checksum of a pass, to notice a source that changed between
/// passes. The checksum adds, over every value (and weight), its bits times
/// an odd number that depends on its position among all values (wrapping), so
/// it does not depend on how the rows are split into batches and changes when
/// a value changes or two different values swap places.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fingerprint {
    /// Rows seen.
    pub rows: u64,
    /// The checksum so far.
    pub checksum: u64,
}

impl Fingerprint {
    /// Adds a batch, and checks that it starts where the previous one ended
    /// and that every value is finite; a value that is not finite is named
    /// as `row N` (counted over the whole source).
    ///
    /// # Errors
    /// As [`Fingerprint::add_located`].
    pub fn add<T: Scalar>(&mut self, batch: &Batch<'_, T>) -> Result<(), SourceError> {
        self.add_located(batch, &|row| format!("row {row}"))
    }

    /// [`Fingerprint::add`], a value that is not finite named by
    /// `locate(row)` (a source's [`RowSource::locate`]: its file and row).
    ///
    /// # Errors
    /// [`SourceError::NonFinite`] naming the first value that is not finite
    /// (in the first column that has one); [`SourceError::Consumer`] if the
    /// batch does not follow the previous.
    pub fn add_located<T: Scalar>(
        &mut self,
        batch: &Batch<'_, T>,
        locate: &dyn Fn(u64) -> String,
    ) -> Result<(), SourceError> {
        use rayon::prelude::*;
        if batch.first != self.rows {
            return Err(SourceError::Consumer(format!(
                "a batch starts at row {} after {} rows",
                batch.first, self.rows
            )));
        }
        let (m, d) = (batch.rows.nrows(), batch.rows.ncols());
        // Each column's part of the sum, and whether it holds a value that
        // is not finite. The parts are added with wrapping arithmetic, which
        // does not depend on the order, so the columns may run in parallel;
        // small batches stay on one thread, where that costs less.
        let column = |j: usize| {
            let col = batch.rows.col(j);
            // The multiplier of row i, column j is (i A + j B) | 1: one add
            // per value, so the sweep costs about as much as reading it.
            let mut mult = (batch.first)
                .wrapping_mul(ROW_STEP)
                .wrapping_add((j as u64).wrapping_mul(COL_STEP));
            let mut bad = false;
            let mut part = 0u64;
            for i in 0..m {
                let bits = col[i].as_f64().to_bits();
                bad |= bits & EXPONENT == EXPONENT;
                part = part.wrapping_add(bits.wrapping_mul(mult | 1));
                mult = mult.wrapping_add(ROW_STEP);
            }
            (part, bad)
        };
        let parts: Vec<(u64, bool)> = if m.saturating_mul(d) >= PARALLEL_VALUES && d > 1 {
            (0..d).into_par_iter().map(column).collect()
        } else {
            (0..d).map(column).collect()
        };
        let mut sum = self.checksum;
        for (j, &(part, bad)) in parts.iter().enumerate() {
            if bad {
                let col = batch.rows.col(j);
                let i = (0..m).find(|&i| !col[i].is_finite()).unwrap_or(0);
                return Err(SourceError::NonFinite {
                    location: locate(batch.first + i as u64),
                    column: j.to_string(),
                    value: col[i].as_f64(),
                });
            }
            sum = sum.wrapping_add(part);
        }
        if let Some(w) = batch.weights {
            let mut mult = (batch.first)
                .wrapping_mul(ROW_STEP)
                .wrapping_add(WEIGHT_STEP);
            for v in w {
                sum = sum.wrapping_add(v.as_f64().to_bits().wrapping_mul(mult | 1));
                mult = mult.wrapping_add(ROW_STEP);
            }
        }
        self.checksum = sum;
        self.rows += m as u64;
        Ok(())
    }
}

/// Values in a batch above which its columns are fingerprinted in parallel.
const PARALLEL_VALUES: usize = 1 << 15;
/// The exponent bits of an `f64`: all set for NaN and the infinities.
const EXPONENT: u64 = 0x7FF0_0000_0000_0000;
/// Steps of the position multipliers between rows and between columns (odd
/// constants with well-mixed bits, from SplitMix64), and the offset of the
/// weights' column.
const ROW_STEP: u64 = 0x9E37_79B9_7F4A_7C15;
const COL_STEP: u64 = 0xD1B5_4A32_D192_ED03;
const WEIGHT_STEP: u64 = 0x94D0_49BB_1331_11EB;

#[cfg(test)]
mod tests {
    use super::*;

    fn print_of(data: &Dataset<f64>, split: usize) -> Fingerprint {
        let mut p = Fingerprint::default();
        let x = data.view();
        let mut start = 0;
        while start < x.nrows() {
            let m = split.min(x.nrows() - start);
            p.add(&Batch {
                rows: x.subrows(start, m),
                weights: None,
                first: start as u64,
            })
            .unwrap();
            start += m;
        }
        p
    }

    #[test]
    fn checksum_ignores_batches_and_sees_swaps() {
        let v: Vec<f64> = (0..60).map(|i| (i as f64 * 0.37).sin()).collect();
        let data = Dataset::from_row_major(&v, 20, 3).unwrap();
        let whole = print_of(&data, 20);
        for split in [1, 3, 7, 19] {
            assert_eq!(print_of(&data, split), whole);
        }
        let mut w = v.clone();
        w.swap(4, 31);
        let swapped = Dataset::from_row_major(&w, 20, 3).unwrap();
        assert_ne!(print_of(&swapped, 20).checksum, whole.checksum);
        let mut u = v;
        u[10] = f64::from_bits(u[10].to_bits() ^ 1);
        let changed = Dataset::from_row_major(&u, 20, 3).unwrap();
        assert_ne!(print_of(&changed, 5).checksum, whole.checksum);
    }

    #[test]
    fn parallel_columns_give_the_serial_checksum() {
        // 30 000 x 3 values: the whole batch is past the parallel threshold,
        // batches of 1000 rows are not.
        let v: Vec<f64> = (0..90_000).map(|i| (i as f64 * 0.013).cos()).collect();
        let data = Dataset::from_row_major(&v, 30_000, 3).unwrap();
        const { assert!(30_000 * 3 >= PARALLEL_VALUES && 1000 * 3 < PARALLEL_VALUES) };
        assert_eq!(print_of(&data, 30_000), print_of(&data, 1000));
    }

    #[test]
    fn a_value_that_is_not_finite_is_named_by_the_locator() {
        let x = faer::Mat::from_fn(
            4,
            2,
            |i, j| if i == 2 && j == 0 { f64::INFINITY } else { 1.0 },
        );
        let mut p = Fingerprint {
            rows: 10,
            checksum: 0,
        };
        let e = p.add_located(
            &Batch {
                rows: x.as_ref(),
                weights: None,
                first: 10,
            },
            &|row| format!("part-1.parquet, row {}", row - 8),
        );
        assert!(
            matches!(e, Err(SourceError::NonFinite { ref location, ref column, .. })
            if location == "part-1.parquet, row 4" && column == "0")
        );
    }

    #[test]
    fn gaps_and_nan_are_errors() {
        let x = faer::Mat::from_fn(2, 2, |i, j| if i == 1 && j == 1 { f64::NAN } else { 1.0 });
        let mut p = Fingerprint::default();
        let e = p.add(&Batch {
            rows: x.as_ref(),
            weights: None,
            first: 0,
        });
        assert!(
            matches!(e, Err(SourceError::NonFinite { ref location, .. }) if location == "row 1")
        );
        let mut p = Fingerprint::default();
        let e = p.add(&Batch {
            rows: x.as_ref().subrows(0, 1),
            weights: None,
            first: 5,
        });
        assert!(matches!(e, Err(SourceError::Consumer(_))));
    }
}
