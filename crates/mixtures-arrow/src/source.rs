//! Parquet and Arrow IPC files as a [`RowSource`]: opened once (every file's
//! schema read and compared with the first's), then read in batches of a
//! bounded number of rows on every pass, each record batch converted column
//! by column into the batch's matrix. A batch never spans two files.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use faer::{Mat, MatRef};
use mixtures_core::Scalar;
use mixtures_core::source::{Batch, RowSource, SourceError};

use crate::columns::{Columns, Layout, schema_difference};
use crate::convert::{self, Bad};
use crate::files::{Format, open};

/// Rows per batch unless set ([`ArrowFiles::batch_rows`]): 65 536 rows of
/// 16 `f64` features are 8 MiB.
pub const DEFAULT_BATCH_ROWS: usize = 65_536;

/// One or more Parquet or Arrow IPC files of the same columns, opened: the
/// columns resolved against the first file, every other file's columns
/// checked against the first's. A [`RowSource`] for `f32` and `f64` alike;
/// each pass opens the files again and reads them in batches of
/// [`ArrowFiles::batch_rows`] rows, so memory holds a batch, never a file.
#[derive(Debug)]
pub struct ArrowFiles {
    format: Format,
    paths: Vec<PathBuf>,
    layout: Layout,
    schema: SchemaRef,
    batch_rows: usize,
    /// [`Columns::nulls_as_missing`].
    missing: bool,
    /// The first row (over all files) of each file, where known: from the
    /// files' footers (Parquet) or learnt by the passes (Arrow IPC), for
    /// [`RowSource::locate`].
    starts: Mutex<Vec<Option<u64>>>,
    /// Each file's rows, where its footer says (Parquet).
    counts: Vec<Option<u64>>,
}

/// Rows of a pass with what [`ArrowFiles::for_each_chunk`] was asked for.
#[derive(Debug, Clone, Copy)]
pub struct Chunk<'a, T: Scalar> {
    /// The features, `m x D`.
    pub rows: MatRef<'a, T>,
    /// The labels (0/1), when the layout has a label column and they were
    /// asked for.
    pub labels: Option<&'a [u8]>,
    /// The kept columns' text, `m x kept.len()`, row by row (empty unless
    /// asked for).
    pub kept: &'a [String],
    /// Index of the first row among all rows of the files.
    pub first: u64,
    /// Which file ([`ArrowFiles::paths`]) the rows are from.
    pub file: usize,
}

impl ArrowFiles {
    /// Opens `paths` (in this order) of one `format` and resolves `columns`
    /// against the first file's columns.
    ///
    /// # Errors
    /// [`SourceError::Empty`] for no path; [`SourceError::Read`] for a
    /// file that is missing, unreadable or not of the format;
    /// [`SourceError::Schema`] for columns that cannot be resolved
    /// ([`Columns::resolve`]) and for a file whose columns (names and types)
    /// differ from the first file's, naming the file and the difference.
    pub fn open(
        paths: &[impl AsRef<Path>],
        format: Format,
        columns: &Columns,
    ) -> Result<Self, SourceError> {
        let paths: Vec<PathBuf> = paths.iter().map(|p| p.as_ref().to_path_buf()).collect();
        let Some(first) = paths.first() else {
            return Err(SourceError::Empty {
                location: "an empty list of files".to_owned(),
            });
        };
        let head = open(first, format, None, 1)?;
        let layout = columns.resolve(first, &head.schema)?;
        let mut starts = vec![None; paths.len()];
        let mut counts = vec![None; paths.len()];
        let mut at = Some(0u64);
        for (i, path) in paths.iter().enumerate() {
            let rows = if i == 0 {
                head.rows
            } else {
                let o = open(path, format, None, 1)?;
                if let Some(diff) = schema_difference(&head.schema, &o.schema) {
                    return Err(SourceError::Schema {
                        location: path.display().to_string(),
                        message: format!(
                            "its columns differ from those of {}: {diff}",
                            first.display()
                        ),
                    });
                }
                o.rows
            };
            starts[i] = at;
            counts[i] = rows;
            at = at.zip(rows).map(|(a, r)| a + r);
        }
        Ok(Self {
            format,
            layout,
            schema: head.schema,
            paths,
            batch_rows: DEFAULT_BATCH_ROWS,
            missing: columns.nulls_as_missing,
            starts: Mutex::new(starts),
            counts,
        })
    }

    /// The same files read in batches of `rows` rows (at least one; a
    /// file's last batch may be shorter).
    #[must_use]
    pub fn batch_rows(mut self, rows: usize) -> Self {
        self.batch_rows = rows.max(1);
        self
    }

    /// The files' format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The files, in the order their rows are read.
    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }

    /// The columns read.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The feature columns' names, in the rows' column order.
    pub fn features(&self) -> &[String] {
        &self.layout.features
    }

    /// Whether nulls and NaN in the feature columns are read as missing
    /// values (NaN) rather than refused ([`Columns::nulls_as_missing`]).
    pub fn nulls_as_missing(&self) -> bool {
        self.missing
    }

    /// The first file's schema (every file's, up to the order of columns).
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// The number of rows, when every file's footer says it (Parquet).
    pub fn n_rows(&self) -> Option<u64> {
        self.counts.iter().copied().sum()
    }

    /// One pass over every row: `f` gets each batch of at most
    /// [`ArrowFiles::batch_rows`] rows, with the labels and kept columns
    /// when `extras` asks for them.
    ///
    /// # Errors
    /// [`SourceError::Read`] for a file that cannot be read (or no longer
    /// matches the first pass's columns), a null, or a value out of range
    /// for `T`; [`SourceError::NonFinite`] for NaN or an infinity; each
    /// names the file and the row (counted from 0 within the file) and
    /// the column. With [`Columns::nulls_as_missing`], a null or NaN in a
    /// feature column is NaN in the rows instead (a null label is still
    /// refused). Or the first error `f` returns.
    pub fn for_each_chunk<T: Scalar>(
        &self,
        extras: bool,
        f: &mut dyn FnMut(Chunk<'_, T>) -> Result<(), SourceError>,
    ) -> Result<(), SourceError> {
        let names = self.layout.needed(extras);
        let d = self.layout.features.len();
        let mut buf = Buffers::new(self.batch_rows, d);
        let mut global = 0u64;
        for (file, path) in self.paths.iter().enumerate() {
            self.record_start(file, global);
            let mut opened = open(path, self.format, Some(&names), self.batch_rows)?;
            if let Some(diff) = schema_difference(&self.schema, &opened.schema) {
                return Err(SourceError::Schema {
                    location: path.display().to_string(),
                    message: format!("its columns changed since it was opened: {diff}"),
                });
            }
            let mut in_file = 0u64;
            while let Some(rb) = opened.batches.next_batch(path)? {
                let cols = Arrays::of(path, &rb, &self.layout, extras)?;
                let mut off = 0;
                while off < rb.num_rows() {
                    let take = (self.batch_rows - buf.fill).min(rb.num_rows() - off);
                    buf.push(
                        path,
                        &self.layout,
                        &cols,
                        (off, take),
                        in_file,
                        self.missing,
                    )?;
                    off += take;
                    in_file += take as u64;
                    if buf.fill == self.batch_rows {
                        buf.emit(global, file, extras, f)?;
                        global += self.batch_rows as u64;
                    }
                }
            }
            if buf.fill > 0 {
                let m = buf.fill as u64;
                buf.emit(global, file, extras, f)?;
                global += m;
            }
        }
        Ok(())
    }

    fn record_start(&self, file: usize, row: u64) {
        let mut starts = self.starts.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(s) = starts.get_mut(file) {
            *s = Some(row);
        }
    }
}

impl<T: Scalar> RowSource<T> for ArrowFiles {
    fn n_features(&self) -> usize {
        self.layout.features.len()
    }

    fn for_each_batch(
        &self,
        f: &mut dyn FnMut(Batch<'_, T>) -> Result<(), SourceError>,
    ) -> Result<(), SourceError> {
        self.for_each_chunk::<T>(false, &mut |c| {
            f(Batch {
                rows: c.rows,
                weights: None,
                first: c.first,
            })
        })
    }

    fn locate(&self, row: u64) -> String {
        let starts = self.starts.lock().unwrap_or_else(PoisonError::into_inner);
        // Starts grow with the file index: the last file that starts at or
        // before the row holds it.
        let found = starts
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.map(|s| (i, s)))
            .rfind(|&(_, s)| s <= row);
        match found {
            Some((i, s)) => format!("{}, row {}", self.paths[i].display(), row - s),
            None => format!("row {row} of {}", RowSource::<T>::describe(self)),
        }
    }

    fn describe(&self) -> String {
        match self.paths.as_slice() {
            [one] => one.display().to_string(),
            [first, .., last] => format!(
                "{} {} files ({} ... {})",
                self.paths.len(),
                self.format.name(),
                first.display(),
                last.display()
            ),
            [] => "no files".to_owned(),
        }
    }
}

/// The arrays of one record batch in the layout's roles.
struct Arrays<'a> {
    features: Vec<&'a dyn arrow::array::Array>,
    label: Option<&'a dyn arrow::array::Array>,
    kept: Vec<&'a dyn arrow::array::Array>,
}

impl<'a> Arrays<'a> {
    fn of(
        path: &Path,
        rb: &'a RecordBatch,
        layout: &Layout,
        extras: bool,
    ) -> Result<Self, SourceError> {
        let get = |name: &str| {
            rb.column_by_name(name)
                .map(AsRef::as_ref)
                .ok_or_else(|| SourceError::Schema {
                    location: path.display().to_string(),
                    message: format!("a record batch has no column {name:?}"),
                })
        };
        let features = layout
            .features
            .iter()
            .map(|n| get(n))
            .collect::<Result<_, _>>()?;
        let (label, kept) = if extras {
            (
                layout.label.as_deref().map(get).transpose()?,
                layout
                    .kept
                    .iter()
                    .map(|n| get(n))
                    .collect::<Result<_, _>>()?,
            )
        } else {
            (None, Vec::new())
        };
        Ok(Self {
            features,
            label,
            kept,
        })
    }
}

/// The batch being filled: rows, labels and kept text.
struct Buffers<T: Scalar> {
    rows: Mat<T>,
    labels: Vec<u8>,
    kept: Vec<String>,
    fill: usize,
}

impl<T: Scalar> Buffers<T> {
    fn new(batch_rows: usize, d: usize) -> Self {
        Self {
            rows: Mat::zeros(batch_rows, d),
            labels: Vec::new(),
            kept: Vec::new(),
            fill: 0,
        }
    }

    /// Appends rows `off..off + take` of the record batch whose first row is
    /// row `in_file` of the file; `missing`: nulls and NaN in the features
    /// are missing values.
    fn push(
        &mut self,
        path: &Path,
        layout: &Layout,
        cols: &Arrays<'_>,
        (off, take): (usize, usize),
        in_file: u64,
        missing: bool,
    ) -> Result<(), SourceError> {
        let fill = self.fill;
        let at = |bad: Bad, column: &str| located::<T>(path, in_file, column, bad);
        for (j, name) in layout.features.iter().enumerate() {
            let out = &mut self.rows.col_as_slice_mut(j)[fill..fill + take];
            convert::numbers(cols.features[j], off, out, missing).map_err(|b| at(b, name))?;
        }
        if let (Some(label), Some(name)) = (cols.label, &layout.label) {
            convert::labels(label, off, take, &mut self.labels).map_err(|b| match b {
                // Missing features are read, a missing label is not.
                Bad::Null(i) if missing => SourceError::Read {
                    location: format!("{}, row {}", path.display(), in_file + i as u64),
                    message: format!(
                        "column {name:?}: missing label (null); a label must be 0 (normal) or \
                         1 (anomaly), even where features are missing"
                    ),
                },
                b => at(b, name),
            })?;
        }
        if !cols.kept.is_empty() {
            // Row by row: each row's kept cells together.
            let mut per_col: Vec<Vec<String>> = Vec::with_capacity(cols.kept.len());
            for (k, name) in cols.kept.iter().zip(&layout.kept) {
                let mut text = Vec::with_capacity(take);
                convert::text(*k, off, take, &mut text).map_err(|b| at(b, name))?;
                per_col.push(text);
            }
            for i in 0..take {
                for col in &mut per_col {
                    self.kept.push(std::mem::take(&mut col[i]));
                }
            }
        }
        self.fill += take;
        Ok(())
    }

    fn emit(
        &mut self,
        first: u64,
        file: usize,
        extras: bool,
        f: &mut dyn FnMut(Chunk<'_, T>) -> Result<(), SourceError>,
    ) -> Result<(), SourceError> {
        let m = self.fill;
        let chunk = Chunk {
            rows: self.rows.as_ref().subrows(0, m),
            labels: (extras && self.labels.len() == m).then_some(&self.labels[..]),
            kept: &self.kept,
            first,
            file,
        };
        let result = f(chunk);
        self.fill = 0;
        self.labels.clear();
        self.kept.clear();
        result
    }
}

/// The error for a bad value at row `in_file + i` of `path`.
fn located<T: Scalar>(path: &Path, in_file: u64, column: &str, bad: Bad) -> SourceError {
    let at = |i: usize| format!("{}, row {}", path.display(), in_file + i as u64);
    match bad {
        Bad::Null(i) => SourceError::Read {
            location: at(i),
            message: format!(
                "column {column:?}: missing value (null); every feature and label needs a value"
            ),
        },
        Bad::NonFinite(i, value) => SourceError::NonFinite {
            location: at(i),
            column: column.to_owned(),
            value,
        },
        Bad::Range(i, value) => SourceError::Read {
            location: at(i),
            message: format!("column {column:?}: {value} is out of range for {}", T::NAME),
        },
        Bad::Other(i, message) => SourceError::Read {
            location: at(i),
            message: format!("column {column:?}: {message}"),
        },
    }
}
