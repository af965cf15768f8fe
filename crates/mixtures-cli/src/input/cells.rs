//! One cell at a time: numbers, labels, and the messages for cells and
//! records that are not what the header promises.

use std::path::Path;

use mixtures_core::Scalar;

use crate::error::CliError;

/// Field separators a file may use instead of the one asked for; a cell that
/// holds one of them suggests `--delimiter`.
const OTHER_DELIMITERS: [(u8, &str); 4] = [(b';', ";"), (b'\t', "\\t"), (b'|', "|"), (b',', ",")];

/// A hint for a cell (or a header name) that contains another common field
/// separator than `delimiter`: the file is likely split by that one.
pub fn delimiter_hint(cell: &[u8], delimiter: u8) -> Option<String> {
    OTHER_DELIMITERS
        .iter()
        .find(|(d, _)| *d != delimiter && cell.contains(d))
        .map(|(_, name)| {
            format!(" (is the file separated by {name:?}? then pass --delimiter '{name}')")
        })
}

/// Parses one cell as a finite number of type `T`.
pub fn parse_number<T: Scalar>(cell: &[u8], delimiter: u8) -> Result<T, String> {
    let text = std::str::from_utf8(cell)
        .map_err(|_| "the cell is not valid UTF-8 text".to_owned())?
        .trim();
    if text.is_empty() {
        return Err("empty cell; every feature needs a number".to_owned());
    }
    let v: f64 = text.parse().map_err(|_| {
        format!(
            "{text:?} is not a number{}",
            delimiter_hint(cell, delimiter).unwrap_or_default()
        )
    })?;
    if !v.is_finite() {
        return Err(format!("{text:?} is not a finite number"));
    }
    let t = T::c(v);
    if !t.is_finite() {
        return Err(format!("{text} is out of range for {}", T::NAME));
    }
    Ok(t)
}

/// Whether a feature cell is a missing value under `--missing`: empty (after
/// trimming) or exactly one of `tokens`.
pub fn is_missing(cell: &[u8], tokens: &[String]) -> bool {
    let cell = cell.trim_ascii();
    cell.is_empty() || tokens.iter().any(|t| t.as_bytes() == cell)
}

/// Whether a header cell reads as a number (a header row is names; a first
/// row of numbers is data).
pub fn is_number(cell: &str) -> bool {
    cell.trim().parse::<f64>().is_ok()
}

/// Parses a label: 0 or 1 (as integers or decimals), or false/true.
pub fn parse_label(cell: &[u8]) -> Result<u8, String> {
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
pub fn csv_error(path: &Path, e: &csv::Error) -> CliError {
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

/// The message for a record with `found` fields where the header has
/// `expected`: an open quote (a field that runs over a line end) is named as
/// such, since the field count is only its consequence.
pub fn ragged(record: &csv::ByteRecord, line: u64, expected: usize) -> String {
    if record
        .iter()
        .any(|f| f.contains(&b'\n') || f.contains(&b'\r'))
    {
        format!(
            "line {line}: a quoted field that starts on this line runs over the end of the \
             line: is a '\"' quote left open? ({} fields where the header has {expected})",
            record.len()
        )
    } else {
        format!(
            "line {line}: {} fields, but the header has {expected} (a ragged row)",
            record.len()
        )
    }
}
