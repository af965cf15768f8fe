//! Data input: CSV here (a header row, or `--no-header`, then one sample per
//! row); Parquet and Arrow IPC files, told by their extension, through
//! mixtures-arrow with the same column choices ([`read_file`] reads any of
//! the three, [`expand_data`] lists the files of directories and globs,
//! [`CsvSource`] reads CSV files in chunks once per pass).
//!
//! Sources are read exactly once, front to back, so a pipe, a FIFO or
//! standard input (`-`) reads like a file. Each record is parsed into a
//! reused buffer and its selected cells straight into numbers; the text of a
//! large file is never held. [`CsvReader`] hands out the rows in chunks of a
//! bounded size (`score` streams with it); [`read_table`] and [`read_csv`]
//! read everything into one data set. Every cell that is not a finite number,
//! and every row with another number of fields than the header, is refused
//! with the file, the line and the column (1-based, as editors count); a
//! first row of numbers where a header is expected is refused too, naming
//! `--no-header`. Every outcome is the data or a [`CliError`], never a panic.
//!
//! ```
//! use mixtures_cli::input::{Selection, read_table};
//!
//! let csv = "x,y,label\n1.0,2.0,0\n3.5,-4e1,1\n";
//! let sel = Selection {
//!     label_column: Some("label".to_owned()),
//!     ..Selection::default()
//! };
//! let table = read_table::<f64, _>(csv.as_bytes(), "inline.csv", b',', &sel)?;
//! assert_eq!(table.features, ["x", "y"]);
//! assert_eq!(table.data.to_row_major(), [1.0, 2.0, 3.5, -40.0]);
//! assert_eq!(table.labels.as_deref(), Some(&[0u8, 1][..]));
//!
//! let bad = read_table::<f64, _>(&b"x,y\n1,oops\n"[..], "bad.csv", b',', &sel);
//! assert!(bad.is_err());
//! // Without a header row, the first row is not taken for names.
//! let headless = read_table::<f64, _>(&b"1,2\n3,4\n"[..], "h.csv", b',', &Selection::default());
//! assert!(headless.unwrap_err().to_string().contains("--no-header"));
//! # Ok::<(), mixtures_cli::error::CliError>(())
//! ```

mod cells;
mod columnar;
mod incomplete;
mod reader;
mod source;
#[cfg(test)]
mod tests;

use std::io::Read;
use std::path::Path;

use mixtures_core::{Dataset, Scalar};

pub use columnar::{columns_of, expand_data, format_of, open_files, read_file};
pub use incomplete::{
    DEFAULT_MISSING_TOKENS, IncompleteTable, append_rows, incomplete_error, read_incomplete,
};
pub use reader::{Chunk, CsvReader};
pub use source::CsvSource;

use crate::error::CliError;

/// The path that means standard input.
pub const STDIN: &str = "-";

/// The name of a column that is left out of the features when
/// [`Selection::label_by_name`] asks for it (the demo's files, and most
/// labelled data sets, have one).
pub const LABEL_NAME: &str = "label";

/// Whether `path` means standard input (`-`).
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == STDIN
}

/// Which columns are features, which one holds labels, and how the file
/// begins.
#[derive(Debug, Clone)]
pub struct Selection {
    /// Feature columns by name, in this order (names are trimmed, as the
    /// header is); `None`: every column except the label column.
    pub columns: Option<Vec<String>>,
    /// Where [`Selection::columns`] came from, for messages (`--columns`, or
    /// the model's `feature_names`).
    pub columns_from: &'static str,
    /// A column of 0/1 labels (1 = anomaly), never a feature.
    pub label_column: Option<String>,
    /// Whether the label column must be present (evaluate, `--best-f1`).
    pub labels_required: bool,
    /// With neither `columns` nor `label_column`: leave a column named
    /// `label` (any case) out of the features ([`CsvReader::left_out`] names
    /// it), as training commands do.
    pub label_by_name: bool,
    /// Columns whose text is carried through ([`Chunk::kept`]), whatever
    /// their other role.
    pub keep: Vec<String>,
    /// The file has no header row: the first row is data, and the columns
    /// are named `f0, f1, …`.
    pub no_header: bool,
    /// `--missing`: a feature cell that is empty or one of these tokens is a
    /// missing value (NaN in the rows read; see [`read_incomplete`]).
    /// `None`: every feature cell must be a finite number.
    pub missing: Option<Vec<String>>,
}

impl Selection {
    /// What a scoring command reads: the model's feature columns by name
    /// (every column but one named `label` when the model has no names),
    /// carrying `keep` through.
    pub fn for_model(names: Option<&[String]>, keep: Vec<String>, no_header: bool) -> Self {
        Self {
            columns: names.map(<[String]>::to_vec),
            columns_from: "the model's feature_names",
            label_by_name: names.is_none(),
            keep,
            no_header,
            ..Self::default()
        }
    }
}

impl Default for Selection {
    fn default() -> Self {
        Self {
            columns: None,
            columns_from: "--columns",
            label_column: None,
            labels_required: false,
            label_by_name: false,
            keep: Vec::new(),
            no_header: false,
            missing: None,
        }
    }
}

/// A CSV file read into a data set.
#[derive(Debug, Clone)]
pub struct Table<T: Scalar> {
    /// Names of the feature columns, in the data set's column order.
    pub features: Vec<String>,
    /// The features, validated.
    pub data: Dataset<T>,
    /// The labels (0 normal, 1 anomaly), when a label column was read.
    pub labels: Option<Vec<u8>>,
    /// A column named `label` left out of the features
    /// ([`Selection::label_by_name`]).
    pub left_out: Option<String>,
}

impl<T: Scalar> Table<T> {
    /// The labels, or an error naming the flag that would give them.
    ///
    /// # Errors
    /// [`CliError::Usage`] when no label column was read.
    pub fn require_labels(&self, what: &str) -> Result<&[u8], CliError> {
        self.labels
            .as_deref()
            .ok_or_else(|| CliError::Usage(format!("{what} needs --label-column NAME")))
    }
}

/// The display form of a header name in messages.
fn quoted(name: &str) -> String {
    format!("{name:?}")
}

/// Finds the one column named `name`; `flag` is what asked for it.
fn find_column(path: &Path, header: &[String], name: &str, flag: &str) -> Result<usize, CliError> {
    let mut found = header.iter().enumerate().filter(|(_, h)| *h == name);
    match (found.next(), found.next()) {
        (Some((i, _)), None) => Ok(i),
        (Some((i, _)), Some((j, _))) => Err(CliError::input(
            path,
            format!(
                "column name {} appears more than once (columns {} and {}); rename one",
                quoted(name),
                i + 1,
                j + 1
            ),
        )),
        (None, _) => Err(CliError::input(
            path,
            format!(
                "no column named {} (from {flag}); the header has: {}",
                quoted(name),
                header.join(", ")
            ),
        )),
    }
}

/// Opens a data source: the file at `path`, or standard input for `-`.
///
/// # Errors
/// [`CliError::Input`] when the file cannot be opened.
pub fn open(path: &Path) -> Result<Box<dyn Read>, CliError> {
    if is_stdin(path) {
        return Ok(Box::new(std::io::stdin().lock()));
    }
    let file = std::fs::File::open(path)
        .map_err(|e| CliError::input(path, format!("cannot read: {e}")))?;
    Ok(Box::new(file))
}

/// Reads a CSV file (or standard input, for `-`) with a header row (see
/// [`read_table`]).
///
/// # Errors
/// [`CliError::Input`] for a missing or unreadable file, and everything
/// [`read_table`] refuses.
pub fn read_csv<T: Scalar>(
    path: &Path,
    delimiter: u8,
    sel: &Selection,
) -> Result<Table<T>, CliError> {
    read_table(open(path)?, path, delimiter, sel)
}

/// Reads CSV text from `source`, once: the columns `sel` picks as features
/// (all but the label column by default) and the label column, if `sel` names
/// one. `name` is what messages call the source (a file name). `delimiter`
/// separates fields (`b','` for CSV). The text is streamed, never held whole.
///
/// # Errors
/// [`CliError::Input`] for an unreadable source, a missing header (or a
/// first row of numbers without [`Selection::no_header`]), a column that is
/// not there or a duplicated name, a cell that is not a finite number (or, in
/// the label column, not 0/1), a ragged row or an open quote, or no data
/// rows; [`CliError::Usage`] for contradictory column choices (a label column
/// named as a feature, a feature named twice, an empty `columns`) and for a
/// label column that `sel.labels_required` asks for but `sel` does not name.
pub fn read_table<T: Scalar, R: Read>(
    source: R,
    name: impl AsRef<Path>,
    delimiter: u8,
    sel: &Selection,
) -> Result<Table<T>, CliError> {
    let mut reader = CsvReader::new(source, name, delimiter, sel)?;
    let mut chunk = Chunk::default();
    reader.next_chunk::<T>(usize::MAX, &mut chunk)?;
    let path = reader.path();
    if chunk.rows == 0 {
        return Err(CliError::input(path, "no data rows after the header"));
    }
    let d = reader.features.len();
    let data =
        Dataset::from_row_major(&chunk.values, chunk.rows, d).map_err(|source| CliError::Data {
            path: path.display().to_string(),
            source,
        })?;
    Ok(Table {
        data,
        labels: reader.has_label.then_some(chunk.labels),
        left_out: reader.left_out,
        features: reader.features,
    })
}
