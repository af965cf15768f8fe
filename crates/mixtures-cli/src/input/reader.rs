//! The streaming reader: the header is read and the columns are resolved once,
//! then rows are parsed in chunks of a bounded size, so that a command that
//! works chunk by chunk (`score`) holds one chunk, never the file.

use std::io::Read;
use std::path::{Path, PathBuf};

use mixtures_core::Scalar;

use super::cells::{
    csv_error, delimiter_hint, is_missing, is_number, parse_label, parse_number, ragged,
};
use super::{LABEL_NAME, Selection, find_column, quoted};
use crate::error::CliError;

/// Where a column of the header is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Feature number `j` of the data set.
    Feature(usize),
    /// The label column.
    Label,
    /// Not read as a number.
    Ignored,
}

/// Rows read from a CSV source, in row-major order; reused from chunk to
/// chunk.
#[derive(Debug, Clone)]
pub struct Chunk<T> {
    /// The features, `rows × features.len()`, row by row.
    pub values: Vec<T>,
    /// The labels, when a label column is read.
    pub labels: Vec<u8>,
    /// The kept columns' text, `rows × kept.len()`, row by row.
    pub kept: Vec<String>,
    /// The number of rows.
    pub rows: usize,
}

impl<T> Default for Chunk<T> {
    fn default() -> Self {
        Self {
            values: Vec::new(),
            labels: Vec::new(),
            kept: Vec::new(),
            rows: 0,
        }
    }
}

impl<T> Chunk<T> {
    /// Drops every row, keeping the buffers.
    pub fn clear(&mut self) {
        self.values.clear();
        self.labels.clear();
        self.kept.clear();
        self.rows = 0;
    }
}

/// A CSV source whose header has been read: the columns are known, the rows
/// come in chunks ([`CsvReader::next_chunk`]).
pub struct CsvReader<R: Read> {
    reader: csv::Reader<R>,
    path: PathBuf,
    delimiter: u8,
    header: Vec<String>,
    roles: Vec<Role>,
    keep: Vec<usize>,
    /// The names of the feature columns, in the data set's column order.
    pub features: Vec<String>,
    /// The names of the kept columns ([`Selection::keep`]).
    pub kept: Vec<String>,
    /// A column named `label` that was left out of the features
    /// ([`Selection::label_by_name`]).
    pub left_out: Option<String>,
    /// Whether the label column is read.
    pub has_label: bool,
    /// A first record that is data (`--no-header`), read before the others.
    pending: Option<csv::ByteRecord>,
    /// The tokens of a missing feature cell ([`Selection::missing`]).
    missing: Option<Vec<String>>,
    record: csv::ByteRecord,
}

impl<R: Read> CsvReader<R> {
    /// Reads the header of `source` (or, with [`Selection::no_header`], names
    /// the columns `f0, f1, …`) and resolves the columns `sel` asks for.
    ///
    /// # Errors
    /// [`CliError::Input`] for an unreadable or empty source, a first row of
    /// numbers where a header is expected, and columns that are not there or
    /// are named twice; [`CliError::Usage`] for contradictory choices.
    pub fn new(
        source: R,
        name: impl AsRef<Path>,
        delimiter: u8,
        sel: &Selection,
    ) -> Result<Self, CliError> {
        let path = name.as_ref().to_path_buf();
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            // The header is read as a record, to tell names from data.
            .has_headers(false)
            // Ragged rows are checked here, to say which line and how.
            .flexible(true)
            .from_reader(source);
        let mut first = csv::ByteRecord::new();
        let empty = || {
            CliError::input(
                &path,
                "the file is empty; it needs a header row naming the columns, then data rows",
            )
        };
        if !reader
            .read_byte_record(&mut first)
            .map_err(|e| csv_error(&path, &e))?
        {
            return Err(empty());
        }
        let (header, pending) = if sel.no_header {
            let names = (0..first.len()).map(|j| format!("f{j}")).collect();
            (names, Some(first.clone()))
        } else {
            (header_names(&path, &first, delimiter)?, None)
        };
        if header.is_empty() || (header.len() == 1 && header[0].is_empty()) {
            return Err(empty());
        }
        let mut sel = sel.clone();
        let mut left_out = None;
        if sel.label_by_name && sel.columns.is_none() && sel.label_column.is_none() {
            left_out = header
                .iter()
                .find(|h| h.eq_ignore_ascii_case(LABEL_NAME))
                .filter(|_| header.len() > 1)
                .cloned();
            if let Some(label) = &left_out {
                sel.columns = Some(header.iter().filter(|h| *h != label).cloned().collect());
            }
        }
        let roles = roles(&path, &header, &sel)?;
        let keep = sel
            .keep
            .iter()
            .map(|k| find_column(&path, &header, k.trim(), "--keep-columns"))
            .collect::<Result<Vec<_>, _>>()?;
        let d = roles
            .iter()
            .filter(|r| matches!(r, Role::Feature(_)))
            .count();
        let mut features = vec![String::new(); d];
        for (i, r) in roles.iter().enumerate() {
            if let Role::Feature(j) = r {
                features[*j] = header[i].clone();
            }
        }
        let has_label = roles.contains(&Role::Label);
        if sel.labels_required && !has_label {
            return Err(CliError::Usage(
                "this command needs --label-column NAME".to_owned(),
            ));
        }
        Ok(Self {
            reader,
            kept: keep.iter().map(|&i| header[i].clone()).collect(),
            path,
            delimiter,
            header,
            roles,
            keep,
            features,
            left_out,
            has_label,
            pending,
            missing: sel.missing.clone(),
            record: csv::ByteRecord::new(),
        })
    }

    /// The names of every column of the header (or `f0, f1, …`).
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// The name messages give the source.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads up to `max_rows` rows into `chunk` (its previous rows are
    /// dropped, its buffers reused); `false` when the source had no row left.
    ///
    /// # Errors
    /// [`CliError::Input`] for a cell that is not a finite number (or, in the
    /// label column, not 0/1), a ragged row, or an unreadable source, naming
    /// the line and the column.
    pub fn next_chunk<T: Scalar>(
        &mut self,
        max_rows: usize,
        chunk: &mut Chunk<T>,
    ) -> Result<bool, CliError> {
        chunk.clear();
        while chunk.rows < max_rows {
            if let Some(first) = self.pending.take() {
                self.parse(&first, chunk)?;
                continue;
            }
            let mut record = std::mem::take(&mut self.record);
            let more = self
                .reader
                .read_byte_record(&mut record)
                .map_err(|e| csv_error(&self.path, &e));
            let parsed = match more {
                Ok(true) => self.parse(&record, chunk).map(|()| true),
                other => other,
            };
            self.record = record;
            if !parsed? {
                break;
            }
        }
        Ok(chunk.rows > 0)
    }

    /// Parses one record into `chunk`.
    fn parse<T: Scalar>(
        &self,
        record: &csv::ByteRecord,
        chunk: &mut Chunk<T>,
    ) -> Result<(), CliError> {
        let line = record.position().map_or(0, csv::Position::line);
        if record.len() != self.header.len() {
            return Err(CliError::input(
                &self.path,
                ragged(record, line, self.header.len()),
            ));
        }
        let at = |i: usize, msg: String| {
            CliError::input(
                &self.path,
                format!(
                    "line {line}, column {} ({}): {msg}",
                    i + 1,
                    quoted(&self.header[i])
                ),
            )
        };
        let start = chunk.values.len();
        chunk.values.resize(start + self.features.len(), T::zero());
        for (i, (cell, role)) in record.iter().zip(&self.roles).enumerate() {
            match role {
                Role::Feature(j) => {
                    chunk.values[start + j] = match &self.missing {
                        // A missing cell is NaN in the chunk, which only
                        // `Dataset::with_missing` accepts.
                        Some(tokens) if is_missing(cell, tokens) => T::nan(),
                        _ => parse_number(cell, self.delimiter).map_err(|m| at(i, m))?,
                    };
                }
                Role::Label => chunk.labels.push(parse_label(cell).map_err(|m| at(i, m))?),
                Role::Ignored => {}
            }
        }
        for &i in &self.keep {
            let text = std::str::from_utf8(&record[i])
                .map_err(|_| at(i, "the cell is not valid UTF-8 text".to_owned()))?;
            chunk.kept.push(text.to_owned());
        }
        chunk.rows += 1;
        Ok(())
    }
}

/// The names of a header record, trimmed; a record of numbers is refused as
/// data without a header.
fn header_names(
    path: &Path,
    first: &csv::ByteRecord,
    delimiter: u8,
) -> Result<Vec<String>, CliError> {
    let mut names = Vec::with_capacity(first.len());
    for (i, cell) in first.iter().enumerate() {
        // A byte-order mark opens some files written on Windows.
        let cell = if i == 0 {
            cell.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(cell)
        } else {
            cell
        };
        let name = std::str::from_utf8(cell).map_err(|_| {
            CliError::input(path, format!("header: not valid UTF-8 in field {}", i + 1))
        })?;
        names.push(name.trim().to_owned());
    }
    if !names.is_empty() && names.iter().all(|n| is_number(n)) {
        let shown: Vec<&str> = names.iter().take(4).map(String::as_str).collect();
        let more = if names.len() > 4 { ", …" } else { "" };
        return Err(CliError::input(
            path,
            format!(
                "the first row ({}{more}) is all numbers, so the file seems to have no header \
                 row; add one naming the columns, or pass --no-header to name them f0, f1, …",
                shown.join(", ")
            ),
        ));
    }
    if let [only] = names.as_slice()
        && let Some(hint) = delimiter_hint(only.as_bytes(), delimiter)
    {
        // One column whose name holds another separator: most likely the
        // wrong delimiter; said here, since the cells may still parse.
        return Err(CliError::input(
            path,
            format!("the header {} is one column{hint}", quoted(only)),
        ));
    }
    Ok(names)
}

/// The role of every header column.
fn roles(path: &Path, header: &[String], sel: &Selection) -> Result<Vec<Role>, CliError> {
    let mut roles = vec![Role::Ignored; header.len()];
    let label = match &sel.label_column {
        Some(name) => {
            let i = find_column(path, header, name.trim(), "--label-column")?;
            roles[i] = Role::Label;
            Some(i)
        }
        None => None,
    };
    let from = sel.columns_from;
    match &sel.columns {
        Some(names) => {
            if names.is_empty() {
                return Err(CliError::Usage(format!("{from} names no column")));
            }
            for (j, name) in names.iter().enumerate() {
                let name = name.trim();
                let i = find_column(path, header, name, from)?;
                match roles[i] {
                    Role::Label => {
                        return Err(CliError::Usage(format!(
                            "column {} is the label column; it cannot also be a feature",
                            quoted(name)
                        )));
                    }
                    Role::Feature(_) => {
                        return Err(CliError::Usage(format!(
                            "column {} is named twice in {from}",
                            quoted(name)
                        )));
                    }
                    Role::Ignored => roles[i] = Role::Feature(j),
                }
            }
        }
        None => {
            let mut j = 0;
            for (i, r) in roles.iter_mut().enumerate() {
                if Some(i) != label {
                    // A model's feature names pick columns later: they must be
                    // unique.
                    if let Some(k) = header[..i].iter().position(|h| *h == header[i]) {
                        return Err(CliError::input(
                            path,
                            format!(
                                "column name {} appears more than once (columns {} and {}); \
                                 rename one or pick features with --columns",
                                quoted(&header[i]),
                                k + 1,
                                i + 1
                            ),
                        ));
                    }
                    *r = Role::Feature(j);
                    j += 1;
                }
            }
            if j == 0 {
                return Err(CliError::input(
                    path,
                    "no feature column: the only column is the label column",
                ));
            }
        }
    }
    Ok(roles)
}
