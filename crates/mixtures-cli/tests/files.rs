//! What the CLI guarantees about files and streams (docs/cli.md, "What the
//! CLI guarantees about your files"): an output never replaces an input,
//! outputs are checked before the work, inputs are read once (pipes, FIFOs,
//! standard input), a file without a header is not fitted silently, scores
//! stream, numbers read back, and absurd counts are refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use common::*;

/// Runs the binary with `input` on its standard input.
fn run_with_stdin(args: &[&str], input: &[u8]) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mixtures"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let bytes = input.to_vec();
    // Written from a thread so that a child that stops reading early (or
    // writes a lot first) cannot deadlock the test.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&bytes);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

/// Two features, `rows` rows of a smooth cloud.
fn cloud(rows: usize) -> String {
    let mut text = String::from("a,b\n");
    for i in 0..rows {
        let t = i as f64 * 0.61;
        text.push_str(&format!("{},{}\n", t.sin() * 2.0, (1.3 * t).cos()));
    }
    text
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn an_output_that_is_an_input_is_refused_before_any_work() {
    let dir = temp_dir("same-file");
    let data = labelled_csv(&dir);
    let original = std::fs::read(&data).unwrap();
    let model = dir.join("m.json");
    ok(&[
        "fit",
        s(&data),
        "-o",
        s(&model),
        "-k",
        "1",
        "--columns",
        "a,b",
    ]);
    let model_text = std::fs::read(&model).unwrap();
    // The same file under another spelling, and through a symbolic link.
    let respelled = dir.join(".").join("data.csv");
    let link = dir.join("link.csv");
    std::os::unix::fs::symlink(&data, &link).unwrap();
    for out in [&data, &respelled, &link] {
        let o = s(out);
        let cols = ["--columns", "a,b"];
        for args in [
            vec!["fit", s(&data), "-o", o, "-k", "1"],
            vec!["detect", s(&data), "-o", o, "-k", "1"],
            vec!["select", s(&data), "-k", "1", "-o", o],
        ] {
            let mut args = args;
            args.extend(cols);
            bad(&args, &["is the input", "would destroy the input"]);
        }
        bad(&["score", s(&model), s(&data), "-o", o], &["is the input"]);
    }
    bad(
        &["score", s(&model), s(&data), "-o", s(&model)],
        &["is the input"],
    );
    bad(
        &[
            "fit",
            s(&data),
            "-o",
            s(&model),
            "--init",
            s(&model),
            "--columns",
            "a,b",
        ],
        &["is the input"],
    );
    assert_eq!(std::fs::read(&data).unwrap(), original);
    assert_eq!(std::fs::read(&model).unwrap(), model_text);
}

#[test]
fn outputs_are_checked_before_the_fit() {
    let dir = temp_dir("late");
    let data = labelled_csv(&dir);
    let missing = dir.join("missing").join("m.json");
    let err = bad(
        &["fit", s(&data), "-o", s(&missing), "--columns", "a,b"],
        &["cannot write", "does not exist"],
    );
    // Refused before the data were read and the model chosen.
    assert!(!err.contains("choosing the model"), "{err}");
    let err = bad(
        &["detect", s(&data), "-o", s(&dir), "--columns", "a,b"],
        &["is a directory"],
    );
    assert!(!err.contains("fitting"), "{err}");
    // A plot directory under a file cannot be made.
    let under_file = data.join("plots");
    bad(
        &[
            "fit",
            s(&data),
            "-o",
            s(&dir.join("m.json")),
            "-k",
            "1",
            "--plot",
            s(&under_file),
        ],
        &["is not a directory"],
    );
    assert!(!dir.join("m.json").exists());
}

#[test]
fn a_failed_score_leaves_the_old_output_whole() {
    let dir = temp_dir("atomic");
    let train = write(&dir, "train.csv", &cloud(300));
    let model = dir.join("m.json");
    ok(&["fit", s(&train), "-o", s(&model), "-k", "2"]);
    let scores = dir.join("scores.csv");
    std::fs::write(&scores, "old scores\n").unwrap();
    // A bad cell after more than one chunk of rows: some rows were scored and
    // written to the temporary file when the error is found.
    let mut text = cloud(70_000);
    text.push_str("1,oops\n");
    let data = write(&dir, "big.csv", &text);
    bad(
        &["score", s(&model), s(&data), "-o", s(&scores)],
        &["line 70002, column 2"],
    );
    assert_eq!(std::fs::read_to_string(&scores).unwrap(), "old scores\n");
    // No temporary file is left behind.
    assert_eq!(
        files_in(&dir),
        ["big.csv", "m.json", "scores.csv", "train.csv"]
    );
}

#[test]
fn standard_input_pipes_and_fifos_are_read_once() {
    let dir = temp_dir("streams");
    let text = cloud(10_000)
        .replace("a,b\n", "a,b,label\n")
        .replace('\n', ",0\n");
    let text = text.replacen("a,b,label,0\n", "a,b,label\n", 1);
    let model = dir.join("m.json");
    // Standard input, with and without --columns: every row, the header's
    // names (the label column left out by name).
    for extra in [&[][..], &["--columns", "a,b"][..]] {
        let mut args = vec!["fit", "-", "-o", s(&model), "-k", "2", "--json"];
        args.extend(extra);
        let o = run_with_stdin(&args, text.as_bytes());
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let v = json(&stdout(&o));
        assert_eq!(v["rows"], 10_000);
        assert_eq!(v["features"], serde_json::json!(["a", "b"]));
    }
    // A FIFO (what `<(cat data.csv)` gives): opened and read once.
    let fifo = dir.join("fifo.csv");
    let status = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(status.success());
    let (fifo2, text2) = (fifo.clone(), text.clone());
    let writer = std::thread::spawn(move || {
        std::fs::OpenOptions::new()
            .write(true)
            .open(&fifo2)
            .unwrap()
            .write_all(text2.as_bytes())
            .unwrap();
    });
    let v = json(&ok(&[
        "fit",
        s(&fifo),
        "-o",
        s(&model),
        "-k",
        "2",
        "--json",
    ]));
    writer.join().unwrap();
    assert_eq!(v["rows"], 10_000);
    assert_eq!(v["features"], serde_json::json!(["a", "b"]));
    // Scores of standard input; the model and the data cannot both be `-`.
    let o = run_with_stdin(&["score", s(&model), "-"], text.as_bytes());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), 10_001);
    bad(
        &["score", "-", "-"],
        &["only one input can come from standard input"],
    );
    // Messages call it standard input.
    let o = run_with_stdin(&["fit", "-", "-o", s(&model), "-k", "1"], b"a,b\n1,x\n");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("standard input: line 2, column 2"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_file_without_a_header_needs_no_header() {
    let dir = temp_dir("no-header");
    let body: String = cloud(200)
        .lines()
        .skip(1)
        .map(|l| format!("{l}\n"))
        .collect();
    let data = write(&dir, "headless.csv", &body);
    let model = dir.join("m.json");
    bad(
        &["fit", s(&data), "-o", s(&model), "-k", "1"],
        &["is all numbers", "--no-header"],
    );
    assert!(!model.exists());
    let v = json(&ok(&[
        "fit",
        s(&data),
        "-o",
        s(&model),
        "-k",
        "1",
        "--no-header",
        "--json",
    ]));
    // Every line is a row, and the columns are f0, f1.
    assert_eq!(v["rows"], 200);
    assert_eq!(v["features"], serde_json::json!(["f0", "f1"]));
    let scored = ok(&["score", s(&model), s(&data), "--no-header"]);
    assert_eq!(scored.lines().count(), 201);
    ok(&[
        "fit",
        s(&data),
        "-o",
        s(&model),
        "-k",
        "1",
        "--no-header",
        "--columns",
        "f1",
    ]);
}

#[test]
fn flags_that_would_do_nothing_are_refused() {
    let dir = temp_dir("unused-flags");
    let data = write(&dir, "d.csv", &cloud(100));
    let model = dir.join("m.json");
    ok(&["fit", s(&data), "-o", s(&model), "-k", "2"]);
    let out = s(&dir.join("n.json")).to_owned();
    bad(
        &[
            "fit",
            s(&data),
            "-o",
            &out,
            "-k",
            "2",
            "--family",
            "laplace",
            "--reg-covar",
            "1e-3",
        ],
        &["--reg-covar", "Laplace"],
    );
    bad(
        &[
            "select",
            s(&data),
            "--family",
            "laplace",
            "--reg-covar",
            "1e-3",
        ],
        &["--reg-covar", "Laplace"],
    );
    bad(
        &[
            "fit",
            s(&data),
            "-o",
            &out,
            "--init",
            s(&model),
            "--n-init",
            "3",
        ],
        &["--n-init", "--init"],
    );
    bad(
        &[
            "detect",
            s(&data),
            "-o",
            &out,
            "-k",
            "2",
            "--max-components",
            "5",
        ],
        &["--max-components", "--components"],
    );
}

#[test]
fn score_streams_keeps_columns_and_writes_round_trip_numbers() {
    let dir = temp_dir("score-stream");
    let train = write(&dir, "train.csv", &cloud(400));
    let model = dir.join("m.json");
    ok(&["fit", s(&train), "-o", s(&model), "-k", "2"]);
    // More rows than one chunk, ids with a comma and a quote, labels.
    let mut text = String::from("id,a,b,label\n");
    let rows = 70_000;
    for i in 0..rows {
        let t = i as f64 * 0.61;
        let id = if i == 5 {
            "\"x, \"\"5\"\"\"".to_owned()
        } else {
            format!("r{i}")
        };
        text.push_str(&format!(
            "{id},{},{},{}\n",
            t.sin() * 2.0,
            (1.3 * t).cos(),
            i % 2
        ));
    }
    text.push_str("far,1e6,-1e6,1\n");
    let data = write(&dir, "test.csv", &text);
    let scores = dir.join("scores.csv");
    ok(&[
        "score",
        s(&model),
        s(&data),
        "-o",
        s(&scores),
        "--keep-columns",
        "id,label",
    ]);
    let out = std::fs::read_to_string(&scores).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), rows + 2);
    assert_eq!(lines[0], "id,label,log_likelihood,anomaly_score,component");
    assert!(lines[1].starts_with("r0,0,"), "{}", lines[1]);
    assert!(lines[6].starts_with("\"x, \"\"5\"\"\",1,"), "{}", lines[6]);
    // A huge score is written in exponent form, and reads back to what the
    // JSON output says.
    let last = lines[rows + 1];
    assert!(last.starts_with("far,1,-"), "{last}");
    let score: f64 = last.split(',').nth(3).unwrap().parse().unwrap();
    assert!(score > 1e10 && last.len() < 80, "{last}");
    // The JSON stream carries the same rows and numbers.
    let v = json(&ok(&[
        "score",
        s(&model),
        s(&data),
        "--json",
        "--keep-columns",
        "id",
    ]));
    let list = v["rows"].as_array().unwrap();
    assert_eq!(list.len(), rows + 1);
    assert_eq!(v["rows_scored"], rows + 1);
    assert_eq!(list[rows]["id"], "far");
    assert_eq!(list[rows]["anomaly_score"].as_f64().unwrap(), score);
    // A kept column may not take an output column's name; one that is not
    // there is named.
    let clash = write(&dir, "clash.csv", "a,b,component\n1,2,3\n");
    bad(
        &["score", s(&model), s(&clash), "--keep-columns", "component"],
        &["--keep-columns component"],
    );
    bad(
        &["score", s(&model), s(&data), "--keep-columns", "nope"],
        &["no column named \"nope\" (from --keep-columns)"],
    );
    // --timings names each phase once, summed over the chunks.
    let o = run(&["score", s(&model), s(&data), "-o", s(&scores), "--timings"]);
    let err = stderr(&o);
    let line = err.lines().find(|l| l.starts_with("timings:")).unwrap();
    for phase in ["read model", "read data", "score"] {
        assert_eq!(line.matches(&format!("{phase} ")).count(), 1, "{line}");
    }
}

#[test]
fn tiny_numbers_are_printed_short() {
    let dir = temp_dir("numbers");
    let data = write(&dir, "d.csv", &cloud(300));
    let out = ok(&[
        "detect",
        s(&data),
        "-o",
        s(&dir.join("d.json")),
        "-k",
        "1",
        "--contamination",
        "1e-300",
    ]);
    assert!(out.contains("contamination 1e-300"), "{out}");
    assert!(!out.contains("0000000000"), "{out}");
}

#[test]
fn messages_for_common_mistakes() {
    let dir = temp_dir("messages");
    let model = dir.join("m.json");
    // A semicolon file read with the default delimiter.
    let semi = write(&dir, "semi.csv", "a;b\n1;2\n3;4\n");
    bad(
        &["fit", s(&semi), "-o", s(&model), "-k", "1"],
        &["--delimiter ';'"],
    );
    let semi3 = write(&dir, "semi3.csv", "a;b,c\n1;2,3\n");
    bad(
        &["fit", s(&semi3), "-o", s(&model), "-k", "1"],
        &["--delimiter ';'"],
    );
    // An unbalanced quote is named as such, not as a ragged row.
    let quote = write(&dir, "quote.csv", "a,b\n1,2\n\"3,4\n5,6\n");
    bad(
        &["fit", s(&quote), "-o", s(&model), "-k", "1"],
        &["line 3", "quote left open"],
    );
    // --columns names are trimmed as the header is.
    let data = write(&dir, "d.csv", &cloud(50));
    ok(&[
        "fit",
        s(&data),
        "-o",
        s(&model),
        "-k",
        "1",
        "--columns",
        " a , b",
    ]);
    // A model file with a byte-order mark is read; a top-level array is
    // named as such.
    let text = std::fs::read_to_string(&model).unwrap();
    let bom = write(&dir, "bom.json", &format!("\u{feff}{text}"));
    ok(&["score", s(&bom), s(&data)]);
    let array = write(&dir, "array.json", &format!("[{text}]"));
    bad(
        &["score", s(&array), s(&data)],
        &["JSON array", "one JSON object"],
    );
    // Duplicate feature names are the model file's fault, not --columns'.
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut dup = v.clone();
    dup["feature_names"] = serde_json::json!(["a", "a"]);
    let dup_path = write(&dir, "dup.json", &dup.to_string());
    let err = bad(
        &["score", s(&dup_path), s(&data)],
        &["feature_names", "\"a\" twice"],
    );
    assert!(!err.contains("--columns"), "{err}");
}

#[test]
fn absurd_counts_are_refused_up_front() {
    let dir = temp_dir("counts");
    let data = write(&dir, "d.csv", &cloud(50));
    let model = dir.join("m.json");
    let m = s(&model);
    for args in [
        vec!["fit", s(&data), "-o", m, "-k", "4611686018427387904"],
        vec!["detect", s(&data), "-o", m, "-k", "4611686018427387904"],
        vec!["select", s(&data), "-k", "4611686018427387904"],
        vec!["select", s(&data), "-k", "1..18446744073709551615"],
        vec![
            "fit",
            s(&data),
            "-o",
            m,
            "-k",
            "1",
            "--n-init",
            "18446744073709551615",
        ],
        vec!["fit", s(&data), "-o", m, "-k", "1", "--n-init", "100000000"],
        vec![
            "detect",
            s(&data),
            "-o",
            m,
            "--n-init",
            "18446744073709551615",
        ],
        vec![
            "select",
            s(&data),
            "-k",
            "1",
            "--n-init",
            "18446744073709551615",
        ],
    ] {
        let started = std::time::Instant::now();
        let err = bad(&args, &[]);
        assert!(!err.contains("internal error"), "{args:?}: {err}");
        // Refused, not attempted (seconds would mean work was done).
        assert!(
            started.elapsed().as_secs() < 20,
            "{args:?} took {:?}",
            started.elapsed()
        );
    }
    let demo = dir.join("demo");
    bad(
        &["demo", "-o", s(&demo), "--samples", "18446744073709551615"],
        &["--samples"],
    );
    assert!(!model.exists());
}

#[test]
fn files_are_compact_unless_pretty_and_infinities_are_strings() {
    let dir = temp_dir("pretty");
    let data = write(&dir, "d.csv", &cloud(200));
    let model = dir.join("m.json");
    ok(&["fit", s(&data), "-o", s(&model), "-k", "2"]);
    let compact = std::fs::read_to_string(&model).unwrap();
    assert_eq!(compact.trim_end().lines().count(), 1, "{compact}");
    ok(&["fit", s(&data), "-o", s(&model), "-k", "2", "--pretty"]);
    let pretty = std::fs::read_to_string(&model).unwrap();
    assert!(pretty.lines().count() > 10);
    // The same model either way.
    assert_eq!(json(&compact), json(&pretty));
    // A row so far out that its density underflows: -inf, in one convention.
    let far = write(&dir, "far.csv", "a,b\n0.5,0.5\n1e200,1e200\n");
    let v = json(&ok(&["score", s(&model), s(&far), "--json"]));
    assert_eq!(v["rows"][1]["log_likelihood"], "-inf");
    assert_eq!(v["rows"][1]["anomaly_score"], "inf");
    let csv = ok(&["score", s(&model), s(&far)]);
    assert!(
        csv.lines().nth(2).unwrap().starts_with("-inf,inf,"),
        "{csv}"
    );
}
