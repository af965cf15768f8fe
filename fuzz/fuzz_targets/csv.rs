//! Arbitrary bytes through the command line's CSV reader
//! (`mixtures_cli::input::read_table`): a table whose data are finite, whose
//! feature names match the data's columns and whose labels are 0/1, one per
//! row; or a typed `CliError`; never a panic.
//!
//! Input layout: two bytes of settings (delimiter, precision, column
//! selection, the size of the pieces the text arrives in), then the CSV text.
#![no_main]

use std::io::Read;

use libfuzzer_sys::fuzz_target;
use mixtures::Scalar;
use mixtures_cli::input::{Selection, read_table};

/// A reader that hands out at most `piece` bytes per call, so the csv
/// crate's buffer refills at arbitrary points (inside a quoted field, between
/// `\r` and `\n`, inside a UTF-8 sequence).
struct Pieces<'a> {
    bytes: &'a [u8],
    piece: usize,
}

impl Read for Pieces<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.piece.min(buf.len()).min(self.bytes.len());
        buf[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        Ok(n)
    }
}

/// The column selection the settings byte asks for; names the seed corpus
/// uses (`x`, `y`, `label`) and the header's own first name.
fn selection(mode: u8, text: &[u8], delimiter: u8) -> Selection {
    let first_name = || {
        let line = text.split(|&b| b == b'\n').next().unwrap_or_default();
        let field = line.split(|&b| b == delimiter).next().unwrap_or_default();
        String::from_utf8_lossy(field).trim().to_owned()
    };
    let names = |v: &[&str]| Some(v.iter().map(|s| (*s).to_owned()).collect());
    match mode % 8 {
        0 => Selection::default(),
        1 => Selection {
            label_column: Some("label".to_owned()),
            ..Selection::default()
        },
        2 => Selection {
            columns: names(&["x", "y"]),
            ..Selection::default()
        },
        3 => Selection {
            columns: names(&["y"]),
            label_column: Some("label".to_owned()),
            labels_required: true,
            ..Selection::default()
        },
        4 => Selection {
            labels_required: true,
            ..Selection::default()
        },
        5 => Selection {
            label_column: Some(first_name()),
            ..Selection::default()
        },
        6 => Selection {
            columns: Some(vec![first_name()]),
            ..Selection::default()
        },
        _ => Selection {
            columns: Some(Vec::new()),
            ..Selection::default()
        },
    }
}

fn check<T: Scalar>(text: &[u8], delimiter: u8, sel: &Selection, piece: usize) {
    let source = Pieces { bytes: text, piece };
    let table = match read_table::<T, _>(source, "fuzz.csv", delimiter, sel) {
        Ok(t) => t,
        Err(e) => {
            // Every refusal is a typed error with a message.
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    let data = &table.data;
    let (n, d) = (data.n_samples(), data.n_features());
    assert!(n >= 1 && d >= 1);
    assert_eq!(table.features.len(), d);
    if let Some(columns) = &sel.columns {
        // Names are matched trimmed, as the header is.
        let trimmed: Vec<&str> = columns.iter().map(|c| c.trim()).collect();
        assert_eq!(table.features, trimmed);
    }
    assert!(data.to_row_major().iter().all(|v| v.is_finite()));
    match (&table.labels, &sel.label_column) {
        (Some(labels), Some(_)) => {
            assert_eq!(labels.len(), n);
            assert!(labels.iter().all(|&l| l <= 1));
        }
        (None, None) => assert!(!sel.labels_required),
        (labels, label_column) => {
            panic!("labels {labels:?} read for label column {label_column:?}")
        }
    }
    // Every data row is at least one line of text after the header.
    let lines = text.iter().filter(|&&b| b == b'\n' || b == b'\r').count() + 1;
    assert!(n < lines, "{n} rows from {lines} lines");
}

fuzz_target!(|bytes: &[u8]| {
    let [settings, piece, text @ ..] = bytes else {
        return;
    };
    let delimiter = [b',', b';', b'\t', b'|', b' ', b'"', b'\n', b'x'][usize::from(settings & 7)];
    let sel = selection(settings >> 3, text, delimiter);
    // Pieces of 1 to 64 bytes, or everything at once.
    let piece = if *piece >= 64 {
        usize::MAX
    } else {
        usize::from(*piece) + 1
    };
    if settings & 0x80 == 0 {
        check::<f64>(text, delimiter, &sel, piece);
    } else {
        check::<f32>(text, delimiter, &sel, piece);
    }
});
