//! Parquet and Arrow IPC files for the commands (by extension: `.parquet`,
//! `.arrow`, `.ipc`, `.feather`, ...), read by `mixtures-arrow` with the same
//! column choices as a CSV file: [`Selection`] becomes the library's
//! [`Columns`], and its tables and errors become the command line's.

use std::path::{Path, PathBuf};

use mixtures_arrow::{ArrowFiles, Columns, Format};
use mixtures_core::Scalar;

use super::{Selection, Table, read_csv};
use crate::error::CliError;

/// The format of a data file, by its extension: Parquet and Arrow IPC by
/// theirs, CSV otherwise (standard input too).
pub fn format_of(path: &Path) -> Option<Format> {
    Format::of(path)
}

/// The data files that command-line arguments name: each argument is a
/// file, a directory (its files, but those whose names start with `.` or `_`)
/// or a glob pattern quoted against the shell (`'data/part-*.parquet'`),
/// expanded in sorted order. Every file must be of one format.
///
/// # Errors
/// [`CliError::Source`] for a directory or pattern that names no file;
/// [`CliError::Usage`] for files of different formats, or standard input
/// among several files.
pub fn expand_data(args: &[PathBuf]) -> Result<Vec<PathBuf>, CliError> {
    let mut files = Vec::new();
    for arg in args {
        match arg.to_str() {
            Some(text) if !super::is_stdin(arg) => files.extend(mixtures_arrow::expand(text)?),
            _ => files.push(arg.clone()),
        }
    }
    if files.len() > 1 && files.iter().any(|f| super::is_stdin(f)) {
        return Err(CliError::Usage(
            "standard input (-) cannot be one of several data files".to_owned(),
        ));
    }
    let name = |f: Option<Format>| f.map_or("CSV", Format::name);
    if let Some(first) = files.first() {
        let format = format_of(first);
        if let Some(other) = files.iter().find(|f| format_of(f) != format) {
            return Err(CliError::Usage(format!(
                "the data files mix formats: {} is {}, {} is {}; give files of one format",
                first.display(),
                name(format),
                other.display(),
                name(format_of(other))
            )));
        }
    }
    Ok(files)
}

/// The library's columns for a selection.
///
/// # Errors
/// [`CliError::Usage`] for `--no-header`, which only CSV files have.
pub fn columns_of(sel: &Selection) -> Result<Columns, CliError> {
    if sel.no_header {
        return Err(CliError::Usage(
            "--no-header applies to CSV files; Parquet and Arrow IPC files name their columns"
                .to_owned(),
        ));
    }
    Ok(Columns {
        features: sel.columns.clone(),
        features_from: Some(sel.columns_from.to_owned()),
        label: sel.label_column.clone(),
        label_by_name: sel.label_by_name,
        keep: sel.keep.clone(),
        // `--missing`: nulls (and NaN) are the missing values; the tokens
        // are for CSV text.
        nulls_as_missing: sel.missing.is_some(),
    })
}

/// Opens Parquet or Arrow IPC files of one format with a selection.
///
/// # Errors
/// As [`columns_of`]; [`CliError::Source`] for files that cannot be read or
/// resolved; [`CliError::Usage`] when `sel.labels_required` and no label
/// column is named.
pub fn open_files(
    paths: &[PathBuf],
    format: Format,
    sel: &Selection,
) -> Result<ArrowFiles, CliError> {
    let columns = columns_of(sel)?;
    if sel.labels_required && sel.label_column.is_none() {
        return Err(CliError::Usage(
            "this command needs --label-column NAME".to_owned(),
        ));
    }
    Ok(ArrowFiles::open(paths, format, &columns)?)
}

/// Reads a data file of any format into a table: Parquet and Arrow IPC by
/// their extension, CSV (with `delimiter`) otherwise.
///
/// # Errors
/// As [`read_csv`] for CSV; as [`open_files`] and
/// [`ArrowFiles::read_table`] for the others.
pub fn read_file<T: Scalar>(
    path: &Path,
    delimiter: u8,
    sel: &Selection,
) -> Result<Table<T>, CliError> {
    let Some(format) = format_of(path) else {
        return read_csv(path, delimiter, sel);
    };
    let files = open_files(&[path.to_path_buf()], format, sel)?;
    let t = files.read_table::<T>()?;
    Ok(Table {
        features: t.features,
        data: t.data,
        labels: t.labels,
        left_out: t.left_out,
    })
}
