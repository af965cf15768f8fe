//! Every row of the files in memory, for the commands that need them all
//! (a selection of the model, thresholds, plots): a [`Dataset`] with the
//! feature names and the labels.

use mixtures_core::source::SourceError;
use mixtures_core::{Dataset, Scalar};

use crate::ArrowFiles;

/// The files' rows read into memory.
#[derive(Debug, Clone)]
pub struct Table<T: Scalar> {
    /// Names of the feature columns, in the data set's column order.
    pub features: Vec<String>,
    /// The features.
    pub data: Dataset<T>,
    /// The labels (0 normal, 1 anomaly), when the layout has a label column.
    pub labels: Option<Vec<u8>>,
    /// A column named `label` left out of the features
    /// ([`Columns::label_by_name`](crate::Columns::label_by_name)).
    pub left_out: Option<String>,
}

impl ArrowFiles {
    /// Reads every row (features and labels) into memory.
    ///
    /// # Errors
    /// As [`ArrowFiles::for_each_chunk`]; [`SourceError::Empty`] when the
    /// files have no rows; [`SourceError::Read`] for a missing value read
    /// with [`Columns::nulls_as_missing`](crate::Columns::nulls_as_missing)
    /// (a [`Dataset`] has none: pass the chunks to
    /// [`Dataset::with_missing`] instead).
    pub fn read_table<T: Scalar>(&self) -> Result<Table<T>, SourceError> {
        let d = self.features().len();
        let mut cols: Vec<Vec<T>> = vec![Vec::new(); d];
        let has_label = self.layout().label.is_some();
        let mut labels = Vec::new();
        self.for_each_chunk::<T>(true, &mut |c| {
            for (j, col) in cols.iter_mut().enumerate() {
                col.extend(c.rows.col(j).iter());
            }
            labels.extend_from_slice(c.labels.unwrap_or(&[]));
            Ok(())
        })?;
        let n = cols.first().map_or(0, Vec::len);
        if n == 0 {
            return Err(SourceError::Empty {
                location: mixtures_core::source::RowSource::<T>::describe(self),
            });
        }
        // Column after column, each freed once copied: the peak is the
        // data twice, as for a CSV file.
        let mut all = Vec::with_capacity(n * d);
        for col in cols {
            all.extend(col);
        }
        let data = Dataset::from_col_major(&all, n, d).map_err(|e| SourceError::Read {
            location: mixtures_core::source::RowSource::<T>::describe(self),
            message: e.to_string(),
        })?;
        Ok(Table {
            features: self.features().to_vec(),
            data,
            labels: has_label.then_some(labels),
            left_out: self.layout().left_out.clone(),
        })
    }

    /// The label column alone, as 0/1 (where the layout has one).
    ///
    /// # Errors
    /// As [`ArrowFiles::for_each_chunk`].
    pub fn read_labels(&self) -> Result<Option<Vec<u8>>, SourceError> {
        if self.layout().label.is_none() {
            return Ok(None);
        }
        let mut labels = Vec::new();
        self.for_each_chunk::<f64>(true, &mut |c| {
            labels.extend_from_slice(c.labels.unwrap_or(&[]));
            Ok(())
        })?;
        Ok(Some(labels))
    }
}
