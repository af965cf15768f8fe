//! The two formats by name: a [`ParquetSource`] and an [`ArrowIpcSource`]
//! are [`ArrowFiles`] of one format, for callers that know theirs.

use std::path::Path;

use mixtures_core::Scalar;
use mixtures_core::source::{Batch, RowSource, SourceError};

use crate::{ArrowFiles, Columns, Format};

macro_rules! typed_source {
    ($(#[$doc:meta])* $name:ident, $format:expr) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name(ArrowFiles);

        impl $name {
            /// Opens the files and resolves `columns` (see
            /// [`ArrowFiles::open`]); batches of
            #[doc = concat!("[`DEFAULT_BATCH_ROWS`](crate::DEFAULT_BATCH_ROWS) rows until [`", stringify!($name), "::batch_rows`].")]
            ///
            /// # Errors
            /// As [`ArrowFiles::open`].
            pub fn open(paths: &[impl AsRef<Path>], columns: &Columns) -> Result<Self, SourceError> {
                ArrowFiles::open(paths, $format, columns).map(Self)
            }

            /// The same files read in batches of `rows` rows (at least one).
            #[must_use]
            pub fn batch_rows(self, rows: usize) -> Self {
                Self(self.0.batch_rows(rows))
            }

            /// The opened files: paths, columns, feature names, row count.
            pub fn files(&self) -> &ArrowFiles {
                &self.0
            }

            /// The feature columns' names, in the rows' column order.
            pub fn features(&self) -> &[String] {
                self.0.features()
            }
        }

        impl<T: Scalar> RowSource<T> for $name {
            fn n_features(&self) -> usize {
                RowSource::<T>::n_features(&self.0)
            }

            fn for_each_batch(
                &self,
                f: &mut dyn FnMut(Batch<'_, T>) -> Result<(), SourceError>,
            ) -> Result<(), SourceError> {
                self.0.for_each_batch(f)
            }

            fn locate(&self, row: u64) -> String {
                RowSource::<T>::locate(&self.0, row)
            }

            fn describe(&self) -> String {
                RowSource::<T>::describe(&self.0)
            }
        }
    };
}

typed_source!(
    /// Parquet files as a [`RowSource`], read in batches (row groups are
    /// decoded as the batches need them; only the selected columns are
    /// read).
    ParquetSource,
    Format::Parquet
);

typed_source!(
    /// Arrow IPC files (the file format, which Feather v2 is, or the stream
    /// format) as a [`RowSource`], read record batch by record batch.
    ArrowIpcSource,
    Format::ArrowIpc
);
