//! Data with missing cells (`--missing`): a CSV file whose empty cells and
//! missing tokens (`NA`, `NaN`, `nan` by default) are missing values, or a
//! Parquet or Arrow IPC file whose nulls and NaN values in the feature
//! columns are (the tokens are for CSV text), read into an
//! [`IncompleteDataset`] (rows grouped by missingness pattern), with the
//! library's errors re-told in the file's terms (a row by its number, a
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

use faer::MatRef;
use mixtures_arrow::Format;
use mixtures_core::missing::IncompleteDataset;
use mixtures_core::{DataError, Dataset, Scalar};

use super::{Chunk, CsvReader, Selection, format_of, open, open_files};
use crate::error::{CliError, source_name};

/// What `--missing` takes for a missing value besides an empty cell, unless
/// `--missing-tokens` says otherwise.
pub const DEFAULT_MISSING_TOKENS: [&str; 3] = ["NA", "NaN", "nan"];

/// A data file with missing cells, read whole.
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
/// rows counted from 1 after the header in a CSV file, from 0 in a Parquet
/// or Arrow IPC file (as their other errors count them), `rows_before` rows
/// having been read in earlier chunks; columns by name.
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
        DataError::NoObservedValue { row } if format_of(path).is_some() => CliError::Input {
            path: format!("{}, row {}", path.display(), rows_before + row),
            message: "every feature is missing (null or NaN); a row needs at least one \
                      observed value (drop it, or give it a value)"
                .to_owned(),
        },
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

/// Reads a data file whole with its missing values: a CSV file (or
/// standard input, `-`) whose missing feature cells are those `sel.missing`
/// names (see [`Selection::missing`]), or a Parquet or Arrow IPC file (by
/// its extension) whose nulls and NaN values in the feature columns are
/// missing (a null label is still refused).
///
/// # Errors
/// [`CliError::Usage`] for a selection without missing tokens; as
/// [`super::read_table`] and [`super::read_file`]; [`CliError::Input`] for a
/// row whose every feature is missing.
pub fn read_incomplete<T: Scalar>(
    path: &Path,
    delimiter: u8,
    sel: &Selection,
) -> Result<IncompleteTable<T>, CliError> {
    if sel.missing.is_none() {
        return Err(CliError::Usage(
            "reading missing values needs their tokens (--missing)".to_owned(),
        ));
    }
    if let Some(format) = format_of(path) {
        return read_incomplete_files(path, format, sel);
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

/// Appends the rows of a Parquet or Arrow IPC batch to `chunk` as a CSV
/// chunk holds them: the features row by row (NaN where missing), the
/// labels, the kept columns' text.
pub fn append_rows<T: Scalar>(chunk: &mut Chunk<T>, rows: &mixtures_arrow::Chunk<'_, T>) {
    push_row_major(&mut chunk.values, rows.rows);
    chunk.labels.extend_from_slice(rows.labels.unwrap_or(&[]));
    chunk.kept.extend_from_slice(rows.kept);
    chunk.rows += rows.rows.nrows();
}

/// Appends `m`'s rows to `values`, row by row.
fn push_row_major<T: Scalar>(values: &mut Vec<T>, m: MatRef<'_, T>) {
    values.reserve(m.nrows() * m.ncols());
    for i in 0..m.nrows() {
        values.extend((0..m.ncols()).map(|j| m[(i, j)]));
    }
}

/// [`read_incomplete`] of a Parquet or Arrow IPC file: nulls and NaN in the
/// feature columns are the missing values.
fn read_incomplete_files<T: Scalar>(
    path: &Path,
    format: Format,
    sel: &Selection,
) -> Result<IncompleteTable<T>, CliError> {
    let files = open_files(&[path.to_path_buf()], format, sel)?;
    let layout = files.layout().clone();
    let mut chunk = Chunk::<T>::default();
    files.for_each_chunk::<T>(true, &mut |c| {
        append_rows(&mut chunk, &c);
        Ok(())
    })?;
    if chunk.rows == 0 {
        return Err(CliError::input(path, "the file has no rows"));
    }
    let data = Dataset::with_missing(&chunk.values, chunk.rows, layout.features.len())
        .map_err(|e| incomplete_error(path, &layout.features, 0, e))?;
    Ok(IncompleteTable {
        data,
        labels: layout.label.is_some().then_some(chunk.labels),
        left_out: layout.left_out,
        kept_names: layout.kept,
        kept: chunk.kept,
        features: layout.features,
    })
}
