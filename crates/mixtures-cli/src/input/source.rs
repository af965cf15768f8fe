//! CSV files as a [`RowSource`]: the chunked [`CsvReader`] run once per pass
//! over each file, its chunks handed over as batches. For out-of-core fits,
//! which read the rows once per EM iteration and never hold them all.

use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

use faer::Mat;
use mixtures_core::Scalar;
use mixtures_core::source::{Batch, RowSource, SourceError};

use super::{Chunk, CsvReader, Selection, is_stdin, open};
use crate::error::CliError;

/// One or more CSV files with the same header, read in batches of a bounded
/// number of rows on every pass (each pass opens the files again, so
/// standard input, which can be read once only, is refused).
///
/// ```
/// use mixtures_cli::input::{CsvSource, Selection};
/// use mixtures_core::source::RowSource;
///
/// let dir = std::env::temp_dir().join(format!("mixtures-csv-source-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let (a, b) = (dir.join("a.csv"), dir.join("b.csv"));
/// mixtures_core::io::write_bytes_atomic(&a, b"x,y\n1,2\n3,4\n5,6\n")?;
/// mixtures_core::io::write_bytes_atomic(&b, b"x,y\n7,8\n")?;
/// let source = CsvSource::open(&[a, b], b',', &Selection::default(), 2)?;
/// let mut rows = 0;
/// RowSource::<f64>::for_each_batch(&source, &mut |batch| {
///     rows += batch.rows.nrows();
///     Ok(())
/// })?;
/// assert_eq!(rows, 4);
/// assert!(RowSource::<f64>::locate(&source, 3).ends_with("b.csv, row 0"));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct CsvSource {
    paths: Vec<PathBuf>,
    delimiter: u8,
    /// The selection with its columns resolved by the first file, so that
    /// every file is read the same way.
    sel: Selection,
    features: Vec<String>,
    left_out: Option<String>,
    batch_rows: usize,
    /// The first row of each file, learnt by the passes (for
    /// [`RowSource::locate`]).
    starts: Mutex<Vec<Option<u64>>>,
}

/// A CLI error as a source error (the message already says where).
fn source_error(e: CliError) -> SourceError {
    match e {
        CliError::Input { path, message } => SourceError::Read {
            location: path,
            message,
        },
        other => SourceError::Read {
            location: "CSV".to_owned(),
            message: other.to_string(),
        },
    }
}

impl CsvSource {
    /// Opens `paths` (in this order): each file's header is read and must
    /// equal the first file's; `sel` picks the columns as for
    /// [`read_table`](super::read_table). Batches hold `batch_rows` rows (at
    /// least one).
    ///
    /// # Errors
    /// [`CliError::Usage`] for no file, standard input, or contradictory
    /// column choices; [`CliError::Input`] for a file that cannot be read or
    /// whose header differs from the first file's (naming both and the
    /// difference), and as [`CsvReader::new`].
    pub fn open(
        paths: &[PathBuf],
        delimiter: u8,
        sel: &Selection,
        batch_rows: usize,
    ) -> Result<Self, CliError> {
        let Some(first) = paths.first() else {
            return Err(CliError::Usage("no data file".to_owned()));
        };
        if let Some(p) = paths.iter().find(|p| is_stdin(p)) {
            return Err(CliError::input(
                p,
                "an out-of-core fit reads its rows once per iteration, and standard input \
                 can be read only once: give a file",
            ));
        }
        let reader = CsvReader::new(open(first)?, first, delimiter, sel)?;
        let header = reader.header().to_vec();
        for p in &paths[1..] {
            let other = CsvReader::new(open(p)?, p, delimiter, sel)?;
            if other.header() != header {
                return Err(CliError::input(
                    p,
                    format!(
                        "its header differs from that of {}: {}",
                        first.display(),
                        header_difference(&header, other.header())
                    ),
                ));
            }
        }
        let mut resolved = sel.clone();
        // The first file's features by name, and nothing else parsed: a
        // label column is only left out, as in the first file.
        resolved.columns = Some(reader.features.clone());
        resolved.label_by_name = false;
        resolved.label_column = None;
        resolved.labels_required = false;
        resolved.keep.clear();
        Ok(Self {
            paths: paths.to_vec(),
            delimiter,
            sel: resolved,
            features: reader.features,
            left_out: reader.left_out,
            batch_rows: batch_rows.max(1),
            starts: Mutex::new(vec![None; paths.len()]),
        })
    }

    /// The feature columns' names, in the rows' column order.
    pub fn features(&self) -> &[String] {
        &self.features
    }

    /// A column named `label` left out of the features
    /// ([`Selection::label_by_name`]).
    pub fn left_out(&self) -> Option<&str> {
        self.left_out.as_deref()
    }

    /// The files, in the order their rows are read.
    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }

    fn record_start(&self, file: usize, row: u64) {
        let mut starts = self.starts.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(s) = starts.get_mut(file) {
            *s = Some(row);
        }
    }
}

/// How header `b` differs from header `a`.
fn header_difference(a: &[String], b: &[String]) -> String {
    let missing: Vec<&str> = a
        .iter()
        .filter(|n| !b.contains(n))
        .map(String::as_str)
        .collect();
    let extra: Vec<&str> = b
        .iter()
        .filter(|n| !a.contains(n))
        .map(String::as_str)
        .collect();
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!("it lacks the column(s) {}", missing.join(", ")));
    }
    if !extra.is_empty() {
        parts.push(format!("it has the extra column(s) {}", extra.join(", ")));
    }
    if parts.is_empty() {
        parts.push(format!(
            "the columns are in another order ({} there, {} here)",
            a.join(","),
            b.join(",")
        ));
    }
    parts.join("; ")
}

impl<T: Scalar> RowSource<T> for CsvSource {
    fn n_features(&self) -> usize {
        self.features.len()
    }

    fn for_each_batch(
        &self,
        f: &mut dyn FnMut(Batch<'_, T>) -> Result<(), SourceError>,
    ) -> Result<(), SourceError> {
        let d = self.features.len();
        let mut chunk = Chunk::<T>::default();
        let mut rows = Mat::<T>::zeros(self.batch_rows, d);
        let mut first = 0u64;
        for (i, path) in self.paths.iter().enumerate() {
            self.record_start(i, first);
            let mut reader = open(path)
                .and_then(|r| CsvReader::new(r, path, self.delimiter, &self.sel))
                .map_err(source_error)?;
            while reader
                .next_chunk(self.batch_rows, &mut chunk)
                .map_err(source_error)?
            {
                let m = chunk.rows;
                // Row-major text order into the column-major batch.
                for j in 0..d {
                    let col = &mut rows.col_as_slice_mut(j)[..m];
                    for (r, v) in col.iter_mut().enumerate() {
                        *v = chunk.values[r * d + j];
                    }
                }
                f(Batch {
                    rows: rows.as_ref().subrows(0, m),
                    weights: None,
                    first,
                })?;
                first += m as u64;
            }
        }
        Ok(())
    }

    fn locate(&self, row: u64) -> String {
        let starts = self.starts.lock().unwrap_or_else(PoisonError::into_inner);
        let found = starts
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.map(|s| (i, s)))
            .rfind(|&(_, s)| s <= row);
        match found {
            Some((i, s)) => format!("{}, row {}", self.paths[i].display(), row - s),
            None => format!("row {row}"),
        }
    }

    fn describe(&self) -> String {
        match self.paths.as_slice() {
            [one] => one.display().to_string(),
            [first, .., last] => format!(
                "{} CSV files ({} ... {})",
                self.paths.len(),
                first.display(),
                last.display()
            ),
            [] => "no files".to_owned(),
        }
    }
}
