//! CSV input: a header row, then one sample per row.
//!
//! Files are streamed: each record is read into one reused byte buffer and its
//! selected cells are parsed straight into a numeric buffer, so the text of a
//! large file is never held. Every cell that is not a finite number, and every
//! row with another number of fields than the header, is refused with the file,
//! the line and the column (1-based, as editors count).
//!
//! [`read_table`] reads from any [`Read`] (a file, standard input, bytes in
//! memory); [`read_csv`] opens a file and calls it. Both return the data or a
//! [`CliError`], never a panic, for any input.
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
//! # Ok::<(), mixtures_cli::error::CliError>(())
//! ```

use std::io::Read;
use std::path::Path;

use mixtures_core::{Dataset, Scalar};

use crate::error::CliError;

/// Which columns are features, and which one holds labels.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Feature columns by name, in this order; `None`: every column except the
    /// label column.
    pub columns: Option<Vec<String>>,
    /// A column of 0/1 labels (1 = anomaly), never a feature.
    pub label_column: Option<String>,
    /// Whether the label column must be present (evaluate, `--best-f1`).
    pub labels_required: bool,
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

/// Where a column of the header is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Feature number `j` of the data set.
    Feature(usize),
    /// The label column.
    Label,
    /// Not read.
    Ignored,
}

/// The display form of a header name in messages.
fn quoted(name: &str) -> String {
    format!("{name:?}")
}

/// Finds the one column named `name`.
fn find_column(path: &Path, header: &[String], name: &str) -> Result<usize, CliError> {
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
                "no column named {}; the header has: {}",
                quoted(name),
                header.join(", ")
            ),
        )),
    }
}

/// The role of every header column.
fn roles(path: &Path, header: &[String], sel: &Selection) -> Result<Vec<Role>, CliError> {
    let mut roles = vec![Role::Ignored; header.len()];
    let label = match &sel.label_column {
        Some(name) => {
            let i = find_column(path, header, name)?;
            roles[i] = Role::Label;
            Some(i)
        }
        None => None,
    };
    match &sel.columns {
        Some(names) => {
            if names.is_empty() {
                return Err(CliError::Usage("--columns names no column".to_owned()));
            }
            for (j, name) in names.iter().enumerate() {
                let i = find_column(path, header, name)?;
                match roles[i] {
                    Role::Label => {
                        return Err(CliError::Usage(format!(
                            "column {} is the label column; it cannot also be a feature",
                            quoted(name)
                        )));
                    }
                    Role::Feature(_) => {
                        return Err(CliError::Usage(format!(
                            "column {} is named twice in --columns",
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

/// Parses one cell as a finite number of type `T`.
fn parse_number<T: Scalar>(cell: &[u8]) -> Result<T, String> {
    let text = std::str::from_utf8(cell)
        .map_err(|_| "the cell is not valid UTF-8 text".to_owned())?
        .trim();
    if text.is_empty() {
        return Err("empty cell; every feature needs a number".to_owned());
    }
    let v: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number"))?;
    if !v.is_finite() {
        return Err(format!("{text:?} is not a finite number"));
    }
    let t = T::c(v);
    if !t.is_finite() {
        return Err(format!("{text} is out of range for {}", T::NAME));
    }
    Ok(t)
}

/// Parses a label: 0 or 1 (as integers or decimals), or false/true.
fn parse_label(cell: &[u8]) -> Result<u8, String> {
    let text = std::str::from_utf8(cell)
        .map_err(|_| "the cell is not valid UTF-8 text".to_owned())?
        .trim();
    if text.eq_ignore_ascii_case("true") {
        return Ok(1);
    }
    if text.eq_ignore_ascii_case("false") {
        return Ok(0);
    }
    match text.parse::<f64>() {
        Ok(0.0) => Ok(0),
        Ok(1.0) => Ok(1),
        _ => Err(format!(
            "label {text:?} is not 0 (normal) or 1 (anomaly) (true/false are accepted too)"
        )),
    }
}

/// A csv error as an input error (the csv crate's own message names the
/// line for malformed quoting and I/O errors).
fn csv_error(path: &Path, e: &csv::Error) -> CliError {
    match e.kind() {
        csv::ErrorKind::Io(io) => CliError::input(path, format!("cannot read: {io}")),
        csv::ErrorKind::Utf8 { pos, err } => CliError::input(
            path,
            format!(
                "{}: not valid UTF-8 in field {}",
                pos.as_ref()
                    .map_or_else(|| "header".to_owned(), |p| format!("line {}", p.line())),
                err.field() + 1
            ),
        ),
        _ => CliError::input(path, e.to_string()),
    }
}

/// Reads a CSV file with a header row (see [`read_table`]).
///
/// # Errors
/// [`CliError::Input`] for a missing or unreadable file, and everything
/// [`read_table`] refuses.
pub fn read_csv<T: Scalar>(
    path: &Path,
    delimiter: u8,
    sel: &Selection,
) -> Result<Table<T>, CliError> {
    let file = std::fs::File::open(path)
        .map_err(|e| CliError::input(path, format!("cannot read: {e}")))?;
    read_table(file, path, delimiter, sel)
}

/// Reads CSV text with a header row from `source`: the columns `sel` picks
/// as features (all but the label column by default) and the label column,
/// if `sel` names one. `name` is what messages call the source (a file name).
/// `delimiter` separates fields (`b','` for CSV). The text is streamed, never
/// held whole.
///
/// # Errors
/// [`CliError::Input`] for an unreadable source, a missing header, a column
/// that is not there or a duplicated name, a cell that is not a finite number
/// (or, in the label column, not 0/1), a ragged row, or no data rows;
/// [`CliError::Usage`] for contradictory column choices (a label column
/// named as a feature, a feature named twice, an empty `columns`) and for a
/// label column that `sel.labels_required` asks for but `sel` does not name.
pub fn read_table<T: Scalar, R: Read>(
    source: R,
    name: impl AsRef<Path>,
    delimiter: u8,
    sel: &Selection,
) -> Result<Table<T>, CliError> {
    let path = name.as_ref();
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        // Ragged rows are checked here, to say which line and how.
        .flexible(true)
        .from_reader(source);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| csv_error(path, &e))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    if header.is_empty() || (header.len() == 1 && header[0].is_empty()) {
        return Err(CliError::input(
            path,
            "the file is empty; it needs a header row naming the columns, then data rows",
        ));
    }
    let roles = roles(path, &header, sel)?;
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

    let mut values: Vec<T> = Vec::new();
    let mut labels: Vec<u8> = Vec::new();
    let mut row = vec![T::zero(); d];
    let mut record = csv::ByteRecord::new();
    let mut n = 0usize;
    while reader
        .read_byte_record(&mut record)
        .map_err(|e| csv_error(path, &e))?
    {
        let line = record.position().map_or(0, csv::Position::line);
        if record.len() != header.len() {
            return Err(CliError::input(
                path,
                format!(
                    "line {line}: {} fields, but the header has {} (a ragged row)",
                    record.len(),
                    header.len()
                ),
            ));
        }
        for (i, (cell, role)) in record.iter().zip(&roles).enumerate() {
            let at = |msg: String| {
                CliError::input(
                    path,
                    format!(
                        "line {line}, column {} ({}): {msg}",
                        i + 1,
                        quoted(&header[i])
                    ),
                )
            };
            match role {
                Role::Feature(j) => row[*j] = parse_number(cell).map_err(at)?,
                Role::Label => labels.push(parse_label(cell).map_err(at)?),
                Role::Ignored => {}
            }
        }
        values.extend_from_slice(&row);
        n += 1;
    }
    if n == 0 {
        return Err(CliError::input(path, "no data rows after the header"));
    }
    let data = Dataset::from_row_major(&values, n, d).map_err(|source| CliError::Data {
        path: path.display().to_string(),
        source,
    })?;
    Ok(Table {
        features,
        data,
        labels: has_label.then_some(labels),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn write(name: &str, text: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("mixtures-cli-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn reads_features_and_labels() {
        let p = write("ok.csv", "a,label,b\n1,0,2\n3.5,1,-4e1\n");
        let sel = Selection {
            label_column: Some("label".into()),
            ..Selection::default()
        };
        let t = read_csv::<f64>(&p, b',', &sel).unwrap();
        assert_eq!(t.features, ["a", "b"]);
        assert_eq!(t.data.to_row_major(), [1.0, 2.0, 3.5, -40.0]);
        assert_eq!(t.labels.unwrap(), [0, 1]);
    }

    #[test]
    fn picks_columns_by_name_in_order() {
        let p = write("cols.csv", "id;x;y\nr1;1;2\nr2;3;4\n");
        let sel = Selection {
            columns: Some(vec!["y".into(), "x".into()]),
            ..Selection::default()
        };
        let t = read_csv::<f32>(&p, b';', &sel).unwrap();
        assert_eq!(t.features, ["y", "x"]);
        assert_eq!(t.data.to_row_major(), [2.0, 1.0, 4.0, 3.0]);
    }

    #[test]
    fn bad_cells_name_line_and_column() {
        let p = write("bad.csv", "a,b\n1,2\n3,x\n");
        let e = read_csv::<f64>(&p, b',', &Selection::default()).unwrap_err();
        assert!(e.to_string().contains("line 3, column 2 (\"b\")"), "{e}");
        let p = write("nan.csv", "a,b\n1,nan\n");
        let e = read_csv::<f64>(&p, b',', &Selection::default()).unwrap_err();
        assert!(e.to_string().contains("not a finite number"), "{e}");
        let p = write("big.csv", "a\n1e300\n");
        let e = read_csv::<f32>(&p, b',', &Selection::default()).unwrap_err();
        assert!(e.to_string().contains("out of range for f32"), "{e}");
        let p = write("lab.csv", "a,y\n1,2\n");
        let sel = Selection {
            label_column: Some("y".into()),
            ..Selection::default()
        };
        let e = read_csv::<f64>(&p, b',', &sel).unwrap_err();
        assert!(e.to_string().contains("line 2, column 2"), "{e}");
    }

    #[test]
    fn ragged_rows_and_empty_files() {
        let p = write("ragged.csv", "a,b\n1,2\n3\n");
        let e = read_csv::<f64>(&p, b',', &Selection::default()).unwrap_err();
        assert!(
            e.to_string()
                .contains("line 3: 1 fields, but the header has 2"),
            "{e}"
        );
        let p = write("empty.csv", "");
        assert!(read_csv::<f64>(&p, b',', &Selection::default()).is_err());
        let p = write("header.csv", "a,b\n");
        let e = read_csv::<f64>(&p, b',', &Selection::default()).unwrap_err();
        assert!(e.to_string().contains("no data rows"), "{e}");
        let p = write("dup.csv", "a,a\n1,2\n");
        let e = read_csv::<f64>(&p, b',', &Selection::default()).unwrap_err();
        assert!(e.to_string().contains("more than once"), "{e}");
    }

    #[test]
    fn reads_from_bytes_and_names_the_source() {
        let sel = Selection::default();
        let t = read_table::<f64, _>(&b"a;b\n1;2\n"[..], "mem", b';', &sel).unwrap();
        assert_eq!(t.data.to_row_major(), [1.0, 2.0]);
        // Malformed bytes: typed errors naming the source, never a panic.
        for bytes in [
            &b""[..],
            b"\xff\xfe,a\n1,2\n",
            b"a,b\n1,\xff\n",
            b"a\n\"unterminated\n",
            b",\n,\n",
        ] {
            let e = read_table::<f32, _>(bytes, "mem", b',', &sel).unwrap_err();
            assert!(e.to_string().starts_with("mem: "), "{e}");
        }
        let e = read_csv::<f64>(Path::new("/nonexistent/x.csv"), b',', &sel).unwrap_err();
        assert!(e.to_string().contains("cannot read"), "{e}");
        assert_eq!(e.exit_code(), crate::error::EXIT_USAGE);
    }
}
