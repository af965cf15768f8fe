//! Data with missing cells (`--missing`): a CSV file whose empty cells and
//! missing tokens (`NA`, `NaN`, `nan` by default) are missing values, read
//! into an [`IncompleteDataset`] (rows grouped by missingness pattern), with
//! the library's errors re-told in the file's terms (a row by its number, a
//! column by its name).
//!
//! ```
//! use mixtures_cli::input::{DEFAULT_MISSING_TOKENS, Selection, read_incomplete};
//!
//! let dir = std::env::temp_dir().join(format!("mixtures-incomplete-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let path = dir.join("d.csv");
//! mixtures_core::io::write_bytes_atomic(&path, b"x,y\n1,NA\n,2\n3,4\n")?;
//! let sel = Selection {
//!     missing: Some(DEFAULT_MISSING_TOKENS.map(str::to_owned).to_vec()),
//!     ..Selection::default()
//! };
//! let table = read_incomplete::<f64>(&path, b',', &sel)?;
//! assert_eq!(table.data.n_missing(), 2);
//! assert_eq!(table.data.value(0, 1), None);
//! assert_eq!(table.data.value(2, 1), Some(4.0));
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::path::Path;

use mixtures_core::missing::IncompleteDataset;
use mixtures_core::{DataError, Dataset, Scalar};

use super::{Chunk, CsvReader, Selection, format_of, open};
use crate::error::{CliError, source_name};

/// What `--missing` takes for a missing value besides an empty cell, unless
/// `--missing-tokens` says otherwise.
pub const DEFAULT_MISSING_TOKENS: [&str; 3] = ["NA", "NaN", "nan"];

/// A CSV file with missing cells, read whole.
#[derive(Debug, Clone)]
pub struct IncompleteTable<T: Scalar> {
    /// Names of the feature columns, in the data set's column order.
    pub features: Vec<String>,
    /// The features, with their missing cells.
    pub data: IncompleteDataset<T>,
    /// The labels, when a label column was read.
    pub labels: Option<Vec<u8>>,
    /// A column named `label` left out of the features.
    pub left_out: Option<String>,
    /// The names of the kept columns ([`Selection::keep`]).
    pub kept_names: Vec<String>,
    /// Their text, `rows × kept_names.len()`, row by row.
    pub kept: Vec<String>,
}

/// The library's refusal of data with missing cells in the file's terms:
/// rows counted from 1 after the header (the first row of `rows_before`
/// chunks read earlier), columns by name.
pub fn incomplete_error(
    path: &Path,
    features: &[String],
    rows_before: usize,
    e: DataError,
) -> CliError {
    let name = |col: usize| {
        features
            .get(col)
            .map_or_else(|| format!("{col}"), |n| format!("{n:?}"))
    };
    match e {
        DataError::NoObservedValue { row } => CliError::input(
            path,
            format!(
                "data row {} (counting from 1 after the header): every feature is missing; a row \
                 needs at least one observed value (drop it, or give it a value)",
                rows_before + row + 1
            ),
        ),
        DataError::NeverObserved { col } => CliError::input(
            path,
            format!(
                "column {} has no observed value: nothing can be fitted to it (leave it out \
                 with --columns)",
                name(col)
            ),
        ),
        source => CliError::Data {
            path: source_name(path),
            source,
        },
    }
}

/// Reads a CSV file (or standard input, `-`) whose missing feature cells are
/// those `sel.missing` names (see [`Selection::missing`]), whole.
///
/// # Errors
/// [`CliError::Usage`] for a Parquet or Arrow IPC file (not read with
/// missing values yet) or a selection without missing tokens; as
/// [`super::read_table`]; [`CliError::Input`] for a row whose every feature
/// is missing.
pub fn read_incomplete<T: Scalar>(
    path: &Path,
    delimiter: u8,
    sel: &Selection,
) -> Result<IncompleteTable<T>, CliError> {
    if let Some(format) = format_of(path) {
        return Err(CliError::Usage(format!(
            "--missing reads CSV files only so far; {} is {} (write it as CSV, with empty \
             cells where values are missing)",
            path.display(),
            format.name()
        )));
    }
    if sel.missing.is_none() {
        return Err(CliError::Usage(
            "reading missing values needs their tokens (--missing)".to_owned(),
        ));
    }
    let mut reader = CsvReader::new(open(path)?, path, delimiter, sel)?;
    let mut chunk = Chunk::<T>::default();
    reader.next_chunk::<T>(usize::MAX, &mut chunk)?;
    if chunk.rows == 0 {
        return Err(CliError::input(path, "no data rows after the header"));
    }
    let d = reader.features.len();
    let data = Dataset::with_missing(&chunk.values, chunk.rows, d)
        .map_err(|e| incomplete_error(path, &reader.features, 0, e))?;
    Ok(IncompleteTable {
        data,
        labels: reader.has_label.then_some(chunk.labels),
        left_out: reader.left_out,
        kept_names: reader.kept,
        kept: chunk.kept,
        features: reader.features,
    })
}
