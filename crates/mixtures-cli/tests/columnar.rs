//! Parquet and Arrow IPC data files on the command line: the same results as
//! the same rows in CSV, several files and globs, out-of-core fits with
//! --chunk-rows equal to the in-memory fit from the same start, and every bad
//! input a clear error with exit code 2, no panic and nothing written.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::*;
use mixtures_arrow::arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use mixtures_arrow::arrow::datatypes::{Field, Schema};
use mixtures_arrow::arrow::ipc::writer::FileWriter;
use mixtures_arrow::parquet::arrow::ArrowWriter;
use mixtures_arrow::parquet::file::properties::WriterProperties;

/// Rows of `id, a, label, b`: two clusters and a few far points (label 1).
struct Rows {
    id: Vec<String>,
    a: Vec<f64>,
    label: Vec<i64>,
    b: Vec<f64>,
}

fn rows(n: usize) -> Rows {
    let mut r = Rows {
        id: Vec::new(),
        a: Vec::new(),
        label: Vec::new(),
        b: Vec::new(),
    };
    for i in 0..n {
        let t = i as f64 * 0.37;
        let far = i % 40 == 39;
        let (a, b) = if far {
            (15.0 + t.sin(), -9.0 + t.cos())
        } else if i % 2 == 0 {
            (t.sin(), 0.5 * t.cos())
        } else {
            (6.0 + 0.7 * t.cos(), 4.0 + 0.6 * t.sin())
        };
        r.id.push(format!("r{i}"));
        r.a.push(a);
        r.label.push(i64::from(far));
        r.b.push(b);
    }
    r
}

impl Rows {
    fn range(&self, at: std::ops::Range<usize>) -> Self {
        Self {
            id: self.id[at.clone()].to_vec(),
            a: self.a[at.clone()].to_vec(),
            label: self.label[at.clone()].to_vec(),
            b: self.b[at].to_vec(),
        }
    }

    /// CSV with the numbers printed to round-trip exactly.
    fn csv(&self, path: &Path) -> PathBuf {
        let mut text = String::from("id,a,label,b\n");
        for i in 0..self.a.len() {
            text.push_str(&format!(
                "{},{:?},{},{:?}\n",
                self.id[i], self.a[i], self.label[i], self.b[i]
            ));
        }
        std::fs::write(path, text).unwrap();
        path.to_path_buf()
    }

    fn batch(&self) -> RecordBatch {
        let cols: Vec<(&str, ArrayRef)> = vec![
            ("id", Arc::new(StringArray::from(self.id.clone()))),
            ("a", Arc::new(Float64Array::from(self.a.clone()))),
            ("label", Arc::new(Int64Array::from(self.label.clone()))),
            ("b", Arc::new(Float64Array::from(self.b.clone()))),
        ];
        batch(cols)
    }

    fn parquet(&self, path: &Path) -> PathBuf {
        write_parquet(path, &self.batch());
        path.to_path_buf()
    }
}

fn batch(cols: Vec<(&str, ArrayRef)>) -> RecordBatch {
    let schema = Schema::new(
        cols.iter()
            .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
            .collect::<Vec<_>>(),
    );
    RecordBatch::try_new(Arc::new(schema), cols.into_iter().map(|(_, a)| a).collect()).unwrap()
}

fn write_parquet(path: &Path, batch: &RecordBatch) {
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(50))
        .build();
    let file = std::fs::File::create(path).unwrap();
    let mut w = ArrowWriter::try_new(file, batch.schema(), Some(props)).unwrap();
    w.write(batch).unwrap();
    w.close().unwrap();
}

fn write_ipc(path: &Path, batch: &RecordBatch) {
    let file = std::fs::File::create(path).unwrap();
    let mut w = FileWriter::try_new(file, &batch.schema()).unwrap();
    w.write(batch).unwrap();
    w.finish().unwrap();
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap()
}

/// The largest difference between two model files' numbers, relative to
/// the larger of their sizes and 1.
fn gap(a: &serde_json::Value, b: &serde_json::Value) -> f64 {
    use serde_json::Value as V;
    match (a, b) {
        (V::Number(x), V::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            (x - y).abs() / x.abs().max(y.abs()).max(1.0)
        }
        (V::Array(x), V::Array(y)) => {
            assert_eq!(x.len(), y.len());
            x.iter().zip(y).map(|(x, y)| gap(x, y)).fold(0.0, f64::max)
        }
        (V::Object(x), V::Object(y)) => x
            .iter()
            .filter(|(k, _)| *k != "fit")
            .map(|(k, v)| gap(v, &y[k]))
            .fold(0.0, f64::max),
        (x, y) => {
            assert_eq!(x, y);
            0.0
        }
    }
}

#[test]
fn every_command_reads_parquet_and_arrow_as_it_reads_csv() {
    let dir = temp_dir("columnar-same");
    let r = rows(240);
    let csv = r.csv(&dir.join("d.csv"));
    let pq = r.parquet(&dir.join("d.parquet"));
    let ipc = dir.join("d.feather");
    write_ipc(&ipc, &r.batch());
    let model = |data: &Path, name: &str| {
        let out = dir.join(name);
        ok(&[
            "fit",
            s(data),
            "-o",
            s(&out),
            "-k",
            "2",
            "--seed",
            "3",
            "--columns",
            "a,b",
            "-q",
        ]);
        read(&out)
    };
    let from_csv = model(&csv, "m_csv.json");
    assert_eq!(model(&pq, "m_pq.json"), from_csv);
    assert_eq!(model(&ipc, "m_ipc.json"), from_csv);
    // The automatic choice.
    let auto = |data: &Path, name: &str| {
        let out = dir.join(name);
        ok(&[
            "fit",
            s(data),
            "-o",
            s(&out),
            "--max-components",
            "3",
            "--columns",
            "a,b",
            "-q",
        ]);
        read(&out)
    };
    assert_eq!(auto(&pq, "a_pq.json"), auto(&csv, "a_csv.json"));

    let m = dir.join("m_csv.json");
    let score = |data: &Path| ok(&["score", s(&m), s(data), "--keep-columns", "id,label"]);
    assert_eq!(score(&pq), score(&csv));
    assert_eq!(score(&ipc), score(&csv));

    let detect = |data: &Path, name: &str| {
        let out = dir.join(name);
        ok(&[
            "detect",
            s(data),
            "-o",
            s(&out),
            "-k",
            "2",
            "--columns",
            "a,b",
            "--label-column",
            "label",
            "--best-f1",
            "-q",
        ]);
        read(&out)
    };
    assert_eq!(detect(&pq, "det_pq.json"), detect(&csv, "det_csv.json"));
    let det = dir.join("det_csv.json");
    let evaluate = |data: &Path| {
        ok(&[
            "evaluate",
            s(&det),
            s(data),
            "--label-column",
            "label",
            "--json",
        ])
    };
    assert_eq!(evaluate(&pq), evaluate(&csv));
    let select = |data: &Path| {
        ok(&[
            "select",
            s(data),
            "-k",
            "1..3",
            "--columns",
            "a,b",
            "--json",
        ])
    };
    assert_eq!(select(&pq), select(&csv).replace("d.csv", "d.parquet"));
    let explain = |data: &Path| ok(&["explain", s(&m), s(data), "--top", "2"]);
    assert_eq!(explain(&ipc), explain(&csv));
}

#[test]
fn several_files_globs_and_chunk_rows_fit_out_of_core() {
    let dir = temp_dir("columnar-many");
    let parts = dir.join("parts");
    std::fs::create_dir_all(&parts).unwrap();
    let r = rows(300);
    let whole = r.parquet(&dir.join("all.parquet"));
    let csv = r.csv(&dir.join("all.csv"));
    let mut files = Vec::new();
    for (i, at) in [0..90, 90..91, 91..300].into_iter().enumerate() {
        files.push(
            r.range(at)
                .parquet(&parts.join(format!("part-{i}.parquet"))),
        );
    }
    std::fs::write(parts.join("_SUCCESS"), b"").unwrap();
    let fit = |data: &[&str], extra: &[&str], name: &str| {
        let out = dir.join(name);
        let mut args = vec!["fit"];
        args.extend(data);
        args.extend([
            "-o",
            s(&out),
            "-k",
            "2",
            "--seed",
            "4",
            "--columns",
            "a,b",
            "-q",
        ]);
        args.extend(extra);
        ok(&args);
        json(&read(&out))
    };
    let listed = fit(
        &[s(&files[0]), s(&files[1]), s(&files[2])],
        &[],
        "listed.json",
    );
    let glob = format!("{}/part-*.parquet", parts.display());
    assert_eq!(fit(&[&glob], &[], "glob.json"), listed);
    assert_eq!(fit(&[s(&parts)], &[], "dir.json"), listed);
    // One file in other batches: the same start, the same fit.
    for chunk in ["7", "64", "100000"] {
        let one = fit(&[s(&whole)], &["--chunk-rows", chunk], "one.json");
        assert!(gap(&one, &listed) < 1e-10, "--chunk-rows {chunk}");
        let from_csv = fit(&[s(&csv)], &["--chunk-rows", chunk], "csv.json");
        assert!(gap(&from_csv, &listed) < 1e-10, "CSV --chunk-rows {chunk}");
    }

    // From the same start, out of core equals in memory.
    let start = dir.join("start.json");
    ok(&[
        "fit",
        s(&csv),
        "-o",
        s(&start),
        "-k",
        "2",
        "--seed",
        "1",
        "--max-iter",
        "2",
        "--columns",
        "a,b",
        "-q",
    ]);
    let warm = ["--init", s(&start), "--max-iter", "6", "--tol", "0"];
    let memory = {
        let out = dir.join("memory.json");
        let mut args = vec!["fit", s(&csv), "-o", s(&out), "-q"];
        args.extend(warm);
        ok(&args);
        json(&read(&out))
    };
    for chunk in ["5", "128"] {
        let out = dir.join("ooc.json");
        let mut args = vec!["fit", s(&whole), "-o", s(&out), "-q", "--chunk-rows", chunk];
        args.extend(warm);
        ok(&args);
        let g = gap(&json(&read(&out)), &memory);
        assert!(g < 1e-10, "--chunk-rows {chunk}: {g:e}");
    }
    // The automatic choice: its candidates on the rows the in-memory search
    // samples, the winner refitted out of core: the in-memory model.
    let auto = |data: &str, extra: &[&str], name: &str| {
        let out = dir.join(name);
        let mut args = vec!["fit", data, "-o", s(&out), "--columns", "a,b", "--json"];
        args.extend(["--max-components", "3", "--search-rows", "120", "-q"]);
        args.extend(extra);
        let summary = json(&ok(&args));
        (json(&read(&out)), summary)
    };
    let (memory, m_summary) = auto(s(&csv), &[], "auto_mem.json");
    assert_eq!(m_summary["selection"]["search"]["rows"], 120);
    for (data, chunk) in [(s(&whole), "16"), (glob.as_str(), "1000"), (s(&csv), "77")] {
        let (model, summary) = auto(data, &["--chunk-rows", chunk], "auto_ooc.json");
        assert!(gap(&model, &memory) < 1e-10, "{data} --chunk-rows {chunk}");
        assert_eq!(summary["selection"]["k"], m_summary["selection"]["k"]);
        assert_eq!(
            summary["selection"]["value"],
            m_summary["selection"]["value"]
        );
    }

    // The summary says how the rows were read.
    let out = dir.join("summary.json");
    let text = ok(&[
        "fit",
        &glob,
        "-o",
        s(&out),
        "-k",
        "2",
        "--columns",
        "a,b",
        "--chunk-rows",
        "50",
        "--json",
    ]);
    let v = json(&text);
    assert_eq!(v["out_of_core"], true);
    assert_eq!(v["rows"], 300);
    assert_eq!(v["files"].as_array().unwrap().len(), 3);
}

/// Runs `args`, expects exit code 2 with `needles` in the message, and
/// checks that `out` was not written.
fn refused(args: &[&str], needles: &[&str], out: &Path) {
    bad(args, needles);
    assert!(!out.exists(), "{args:?} wrote {}", out.display());
}

#[test]
fn bad_files_are_clear_errors_and_nothing_is_written() {
    let dir = temp_dir("columnar-bad");
    let out = dir.join("model.json");
    let o = s(&out);
    let r = rows(60);
    let good = r.parquet(&dir.join("good.parquet"));

    // Another file with other columns.
    let other = dir.join("other.parquet");
    let extra: ArrayRef = Arc::new(Float64Array::from(vec![1.0; 10]));
    let a: ArrayRef = Arc::new(Float64Array::from(vec![1.0; 10]));
    write_parquet(&other, &batch(vec![("a", a.clone()), ("z", extra)]));
    for args in [
        vec![
            "fit",
            s(&good),
            s(&other),
            "-o",
            o,
            "-k",
            "1",
            "--columns",
            "a,b",
        ],
        vec![
            "fit",
            s(&good),
            s(&other),
            "-o",
            o,
            "-k",
            "1",
            "--columns",
            "a",
        ],
    ] {
        refused(
            &args,
            &["other.parquet", "differ", "good.parquet", "z"],
            &out,
        );
    }
    // A text column read as a feature, in memory and out of core.
    refused(
        &["fit", s(&good), "-o", o, "-k", "1"],
        &["good.parquet", "\"id\"", "not numbers"],
        &out,
    );
    refused(
        &["fit", s(&good), "-o", o, "-k", "1", "--chunk-rows", "10"],
        &["\"id\"", "not numbers"],
        &out,
    );
    // NaN and null: the file and the row, in memory and out of core.
    for (name, v) in [("nan.parquet", Some(f64::NAN)), ("null.parquet", None)] {
        let mut values: Vec<Option<f64>> = (0..20).map(|i| Some(f64::from(i))).collect();
        values[13] = v;
        let col: ArrayRef = Arc::new(Float64Array::from(values));
        let p = dir.join(name);
        write_parquet(
            &p,
            &batch(vec![("a", a.slice(0, 10).clone()), ("b", col.slice(0, 10))]),
        );
        let p2 = dir.join(format!("2{name}"));
        let a20: ArrayRef = Arc::new(Float64Array::from(vec![2.0; 20]));
        write_parquet(&p2, &batch(vec![("a", a20), ("b", col)]));
        let at = format!("{}, row 13", p2.display());
        refused(&["fit", s(&p2), "-o", o, "-k", "1"], &[&at], &out);
        refused(&["fit", s(&p), s(&p2), "-o", o, "-k", "1"], &[&at], &out);
        refused(
            &["fit", s(&p2), "-o", o, "-k", "1", "--chunk-rows", "4"],
            &[&at],
            &out,
        );
        let m = dir.join("m.json");
        ok(&[
            "fit",
            s(&good),
            "-o",
            s(&m),
            "-k",
            "1",
            "--columns",
            "a,b",
            "-q",
        ]);
        let scores = dir.join("scores.csv");
        refused(&["score", s(&m), s(&p2), "-o", s(&scores)], &[&at], &scores);
    }
    // An empty file, a corrupt one, a missing one.
    let empty = dir.join("empty.parquet");
    write_parquet(&empty, &r.range(0..0).batch());
    refused(
        &["fit", s(&empty), "-o", o, "-k", "1", "--columns", "a,b"],
        &["empty.parquet", "no rows"],
        &out,
    );
    refused(
        &[
            "fit",
            s(&empty),
            "-o",
            o,
            "-k",
            "1",
            "--columns",
            "a,b",
            "--chunk-rows",
            "3",
        ],
        &["empty.parquet", "no rows"],
        &out,
    );
    let corrupt = write(&dir, "corrupt.parquet", "PAR1 not really PAR1");
    refused(
        &["fit", s(&corrupt), "-o", o, "-k", "1"],
        &["corrupt.parquet", "Parquet"],
        &out,
    );
    refused(
        &["fit", s(&dir.join("missing.arrow")), "-o", o, "-k", "1"],
        &["missing.arrow"],
        &out,
    );
    // Flags and files that do not go together.
    let csv = r.csv(&dir.join("d.csv"));
    refused(
        &["fit", s(&good), s(&csv), "-o", o, "-k", "1"],
        &["mix formats"],
        &out,
    );
    refused(
        &["fit", s(&good), "-o", o, "-k", "1", "--no-header"],
        &["--no-header"],
        &out,
    );
    refused(
        &[
            "fit",
            s(&good),
            s(&good),
            "-o",
            o,
            "--columns",
            "a,b",
            "--search-rows",
            "0",
        ],
        &["--search-rows 0", "in memory"],
        &out,
    );
    refused(
        &[
            "fit",
            s(&good),
            s(&good),
            "-o",
            o,
            "--columns",
            "a,b",
            "--family",
            "laplace",
        ],
        &["Gaussian", "laplace"],
        &out,
    );
    refused(
        &[
            "fit",
            s(&good),
            "-o",
            o,
            "-k",
            "1",
            "--chunk-rows",
            "9",
            "--trim",
            "0.1",
        ],
        &["--trim", "in memory"],
        &out,
    );
    let glob = format!("{}/nothing-*.parquet", dir.display());
    refused(
        &["fit", &glob, "-o", o, "-k", "1"],
        &["names no file"],
        &out,
    );
    // A CSV file whose header differs from the first's.
    let other_csv = write(&dir, "other.csv", "id,a,b\nr0,1,2\n");
    refused(
        &["fit", s(&csv), s(&other_csv), "-o", o, "-k", "1"],
        &["other.csv", "header differs", "label"],
        &out,
    );
}

/// `rows(n)` with holes: `a` null where `i % 7 == 3`, `b` NaN where
/// `i % 11 == 5` (and `a` is there), and, with `empty_row`, row 20 with
/// neither.
fn with_holes(n: usize, empty_row: bool) -> (Rows, Vec<Option<f64>>, Vec<Option<f64>>) {
    let r = rows(n);
    let a: Vec<Option<f64>> = (0..n)
        .map(|i| (i % 7 != 3 && !(empty_row && i == 20)).then_some(r.a[i]))
        .collect();
    let b: Vec<Option<f64>> = (0..n)
        .map(|i| {
            if empty_row && i == 20 {
                None
            } else if i % 11 == 5 && a[i].is_some() {
                Some(f64::NAN)
            } else {
                Some(r.b[i])
            }
        })
        .collect();
    (r, a, b)
}

/// The columns `id, a, label, b` with the holes: nulls (and NaN) in a
/// Parquet or Arrow IPC file, empty cells in CSV.
fn holes_batch(
    r: &Rows,
    a: &[Option<f64>],
    b: &[Option<f64>],
    label: Vec<Option<i64>>,
) -> RecordBatch {
    batch(vec![
        ("id", Arc::new(StringArray::from(r.id.clone()))),
        ("a", Arc::new(Float64Array::from(a.to_vec()))),
        ("label", Arc::new(Int64Array::from(label))),
        ("b", Arc::new(Float64Array::from(b.to_vec()))),
    ])
}

fn holes_csv(path: &Path, r: &Rows, a: &[Option<f64>], b: &[Option<f64>]) -> PathBuf {
    // Printed to round-trip exactly; a missing value (null or NaN) empty.
    let cell = |v: Option<f64>| {
        v.filter(|v| !v.is_nan())
            .map_or_else(String::new, |v| format!("{v:?}"))
    };
    let mut text = String::from("id,a,label,b\n");
    for i in 0..r.a.len() {
        text.push_str(&format!(
            "{},{},{},{}\n",
            r.id[i],
            cell(a[i]),
            r.label[i],
            cell(b[i])
        ));
    }
    std::fs::write(path, text).unwrap();
    path.to_path_buf()
}

#[test]
fn nulls_in_parquet_and_arrow_are_missing_values_as_empty_csv_cells() {
    let dir = temp_dir("columnar-missing");
    let (r, a, b) = with_holes(240, false);
    let labels: Vec<Option<i64>> = r.label.iter().copied().map(Some).collect();
    let csv = holes_csv(&dir.join("d.csv"), &r, &a, &b);
    let pq = dir.join("d.parquet");
    write_parquet(&pq, &holes_batch(&r, &a, &b, labels.clone()));
    let ipc = dir.join("d.arrow");
    write_ipc(&ipc, &holes_batch(&r, &a, &b, labels));

    let fit = |data: &Path, name: &str| {
        let out = dir.join(name);
        let text = ok(&[
            "fit",
            s(data),
            "--missing",
            "-o",
            s(&out),
            "-k",
            "2",
            "--seed",
            "3",
            "--columns",
            "a,b",
        ]);
        assert!(text.contains("missing: 53 of 480 cells"), "{text}");
        read(&out)
    };
    let from_csv = fit(&csv, "m_csv.json");
    assert_eq!(fit(&pq, "m_pq.json"), from_csv);
    assert_eq!(fit(&ipc, "m_ipc.json"), from_csv);

    let m = dir.join("m_csv.json");
    let score = |data: &Path| {
        ok(&[
            "score",
            s(&m),
            s(data),
            "--missing",
            "--keep-columns",
            "id,label",
        ])
    };
    let scores = score(&csv);
    assert_eq!(scores.lines().count(), 241);
    assert_eq!(score(&pq), scores);
    assert_eq!(score(&ipc), scores);
    // As JSON rows, and to a file.
    let json_rows = |data: &Path| ok(&["score", s(&m), s(data), "--missing", "--json"]);
    assert_eq!(json_rows(&pq), json_rows(&csv));
    let out = dir.join("scores.csv");
    ok(&[
        "score",
        s(&m),
        s(&ipc),
        "--missing",
        "-o",
        s(&out),
        "--keep-columns",
        "id,label",
    ]);
    assert_eq!(read(&out), scores);

    let impute = |data: &Path| ok(&["impute", s(&m), s(data), "--keep-columns", "id"]);
    let filled = impute(&csv);
    assert_eq!(impute(&pq), filled);
    assert_eq!(impute(&ipc), filled);
    let draws = |data: &Path| ok(&["impute", s(&m), s(data), "--draws", "3", "--seed", "7"]);
    assert_eq!(draws(&pq), draws(&csv));

    // The other commands that read missing values, through the same reader.
    let explain = |data: &Path| ok(&["explain", s(&m), s(data), "--missing", "--top", "2"]);
    assert_eq!(explain(&ipc), explain(&csv));
    let detect = |data: &Path, name: &str| {
        let out = dir.join(name);
        ok(&[
            "detect",
            s(data),
            "--missing",
            "-o",
            s(&out),
            "-k",
            "2",
            "--seed",
            "3",
            "--columns",
            "a,b",
            "--label-column",
            "label",
            "--best-f1",
            "-q",
        ]);
        read(&out)
    };
    assert_eq!(detect(&pq, "det_pq.json"), detect(&csv, "det_csv.json"));
}

#[test]
fn without_missing_nulls_are_refused_and_a_null_label_always() {
    let dir = temp_dir("columnar-missing-bad");
    let out = dir.join("model.json");
    let o = s(&out);
    let (r, a, b) = with_holes(60, false);
    let labels: Vec<Option<i64>> = (0..60).map(|i| (i != 4).then_some(r.label[i])).collect();
    let pq = dir.join("d.parquet");
    write_parquet(&pq, &holes_batch(&r, &a, &b, labels.clone()));
    let ipc = dir.join("d.arrow");
    write_ipc(&ipc, &holes_batch(&r, &a, &b, labels));
    for data in [&pq, &ipc] {
        // Without --missing: today's error, the file, the row and the column.
        let at = format!("{}, row 3", data.display());
        refused(
            &["fit", s(data), "-o", o, "-k", "1", "--columns", "a,b"],
            &[&at, "\"a\"", "missing value (null)"],
            &out,
        );
        // A null label, with --missing too.
        let at = format!("{}, row 4", data.display());
        for missing in [false, true] {
            let mut args = vec![
                "fit",
                s(data),
                "-o",
                o,
                "-k",
                "1",
                "--columns",
                "a,b",
                "--label-column",
                "label",
            ];
            if missing {
                args.push("--missing");
            }
            let needle = if missing { "missing label" } else { "\"a\"" };
            let at = if missing {
                at.clone()
            } else {
                format!("{}, row 3", data.display())
            };
            refused(&args, &[&at, needle], &out);
        }
    }
    let m = dir.join("m.json");
    let good = rows(60).parquet(&dir.join("good.parquet"));
    ok(&[
        "fit",
        s(&good),
        "-o",
        s(&m),
        "-k",
        "1",
        "--columns",
        "a,b",
        "-q",
    ]);
    let scores = dir.join("scores.csv");
    refused(
        &["score", s(&m), s(&pq), "-o", s(&scores)],
        &[&format!("{}, row 3", pq.display()), "null"],
        &scores,
    );

    // A row whose every feature is null: refused by name and row.
    let (r, a, b) = with_holes(60, true);
    let labels: Vec<Option<i64>> = r.label.iter().copied().map(Some).collect();
    let empty = dir.join("empty_row.parquet");
    write_parquet(&empty, &holes_batch(&r, &a, &b, labels));
    let at = format!("{}, row 20", empty.display());
    refused(
        &[
            "fit",
            s(&empty),
            "--missing",
            "-o",
            o,
            "-k",
            "1",
            "--columns",
            "a,b",
        ],
        &[&at, "every feature is missing"],
        &out,
    );
    refused(
        &["score", s(&m), s(&empty), "--missing", "-o", s(&scores)],
        &[&at, "every feature is missing"],
        &scores,
    );
    let filled = dir.join("filled.csv");
    refused(
        &["impute", s(&m), s(&empty), "-o", s(&filled)],
        &[&at, "every feature is missing"],
        &filled,
    );
    // CSV options do not apply.
    refused(
        &[
            "fit",
            s(&pq),
            "--missing",
            "--no-header",
            "-o",
            o,
            "-k",
            "1",
        ],
        &["--no-header"],
        &out,
    );
}
