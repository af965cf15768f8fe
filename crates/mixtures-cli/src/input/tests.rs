//! The reader on small inputs.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use super::*;

fn write(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mixtures-cli-input-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    mixtures_core::io::write_bytes_atomic(&p, text.as_bytes()).unwrap();
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

#[test]
fn no_header_chunks_kept_columns_and_the_label_by_name() {
    let text = "1,2,x\n3,4,y\n5,6,z\n";
    let sel = Selection {
        no_header: true,
        columns: Some(vec![" f1".into(), "f0 ".into()]),
        keep: vec!["f2".into()],
        ..Selection::default()
    };
    let mut r = CsvReader::new(text.as_bytes(), "mem", b',', &sel).unwrap();
    assert_eq!(r.features, ["f1", "f0"]);
    let mut chunk = Chunk::<f64>::default();
    assert!(r.next_chunk(2, &mut chunk).unwrap());
    assert_eq!(
        (chunk.rows, &chunk.values[..]),
        (2, &[2.0, 1.0, 4.0, 3.0][..])
    );
    assert_eq!(chunk.kept, ["x", "y"]);
    assert!(r.next_chunk(2, &mut chunk).unwrap());
    assert_eq!((chunk.rows, &chunk.kept[..]), (1, &["z".to_owned()][..]));
    assert!(!r.next_chunk(2, &mut chunk).unwrap());
    assert_eq!(chunk.rows, 0);

    // A header of numbers is data without a header.
    let e = read_table::<f64, _>(&b"1,2\n3,4\n"[..], "mem", b',', &Selection::default());
    assert!(e.unwrap_err().to_string().contains("--no-header"));
    // A byte-order mark is not part of the first name; a column named
    // `label` is left out when asked.
    let sel = Selection {
        label_by_name: true,
        ..Selection::default()
    };
    let t = read_table::<f64, _>(&b"\xEF\xBB\xBFa,Label\n1,0\n"[..], "mem", b',', &sel).unwrap();
    assert_eq!(t.features, ["a"]);
    assert_eq!(t.left_out.as_deref(), Some("Label"));
}

#[test]
fn open_quotes_and_other_delimiters_are_named() {
    let sel = Selection::default();
    let e = read_table::<f64, _>(&b"a,b\n\"1,2\n3,4\n"[..], "mem", b',', &sel).unwrap_err();
    assert!(e.to_string().contains("quote left open"), "{e}");
    let e = read_table::<f64, _>(&b"a;b\n1;2\n"[..], "mem", b',', &sel).unwrap_err();
    assert!(e.to_string().contains("--delimiter ';'"), "{e}");
    let e = read_table::<f64, _>(&b"a\tb,c\n1\t2,3\n"[..], "mem", b',', &sel).unwrap_err();
    assert!(e.to_string().contains("--delimiter '\\t'"), "{e}");
}
