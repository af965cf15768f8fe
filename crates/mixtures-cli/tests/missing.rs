//! Missing values on the command line (issue 22): `fit --missing`,
//! `score --missing`, `impute`; without `--missing`, today's errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;

/// `n` rows of two correlated features `a, b` and a third `c` (an id
/// column first), rows `every - 1` modulo `every` missing `b` (empty) and
/// rows 1 modulo `every + 1` missing `a` (`NA`).
fn incomplete_csv(n: usize, every: usize) -> String {
    let mut text = String::from("id,a,b,c\n");
    for i in 0..n {
        let t = i as f64 * 0.61;
        let (a, c) = (t.sin() * 2.0 + (i % 3) as f64, (1.3 * t).cos());
        let b = 0.8 * a + 0.3 * (2.1 * t).sin();
        let a = if i % (every + 1) == 1 {
            "NA".to_owned()
        } else {
            format!("{a}")
        };
        let b = if i % every == every - 1 {
            String::new()
        } else {
            format!("{b}")
        };
        text.push_str(&format!("r{i},{a},{b},{c}\n"));
    }
    text
}

fn cells(line: &str) -> Vec<String> {
    line.split(',').map(str::to_owned).collect()
}

#[test]
fn fit_score_and_impute_round_trip() {
    let dir = temp_dir("missing-round-trip");
    let data = write(&dir, "data.csv", &incomplete_csv(400, 5));
    let model = dir.join("m.json");
    let out = ok(&[
        "fit",
        s(&data),
        "--missing",
        "-k",
        "2",
        "-o",
        s(&model),
        "--columns",
        "a,b,c",
    ]);
    assert!(out.contains("missing: "), "{out}");
    assert!(out.contains("3 features (a, b, c)"), "{out}");
    // The model file is a normal model file: plain `score` reads it.
    let file = json(&std::fs::read_to_string(&model).unwrap());
    assert_eq!(file["feature_names"], serde_json::json!(["a", "b", "c"]));

    let scores = dir.join("scores.csv");
    ok(&[
        "score",
        s(&model),
        s(&data),
        "--missing",
        "-o",
        s(&scores),
        "--keep-columns",
        "id",
    ]);
    let text = std::fs::read_to_string(&scores).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "id,log_likelihood,anomaly_score,component,n_observed"
    );
    let rows: Vec<Vec<String>> = lines.map(cells).collect();
    assert_eq!(rows.len(), 400);
    // Row 4 misses b, row 1 misses a, row 0 is complete.
    assert_eq!(rows[0][4], "3");
    assert_eq!(rows[1][4], "2");
    assert_eq!(rows[4][4], "2");
    for r in &rows {
        let ll: f64 = r[1].parse().unwrap();
        let tail: f64 = r[2].parse().unwrap();
        assert!(ll.is_finite() && tail.is_finite() && tail >= 0.0, "{r:?}");
    }

    let filled = dir.join("filled.csv");
    ok(&[
        "impute",
        s(&model),
        s(&data),
        "-o",
        s(&filled),
        "--keep-columns",
        "id",
    ]);
    let original = std::fs::read_to_string(&data).unwrap();
    let text = std::fs::read_to_string(&filled).unwrap();
    assert_eq!(text.lines().next().unwrap(), "id,a,b,c");
    for (a, b) in original.lines().zip(text.lines()).skip(1) {
        let (a, b) = (cells(a), cells(b));
        assert_eq!(a[0], b[0]);
        for j in 1..4 {
            let v: f64 = b[j].parse().unwrap();
            assert!(v.is_finite());
            if a[j] != "NA" && !a[j].is_empty() {
                // Observed cells read back to the same number, bit for bit.
                let x: f64 = a[j].parse().unwrap();
                assert_eq!(x.to_bits(), v.to_bits(), "{a:?} {b:?}");
            }
        }
    }
    // The filled file has no missing cell: plain `score` reads it.
    ok(&["score", s(&model), s(&filled), "-o", s(&dir.join("s2.csv"))]);

    // Draws: one file, a draw column, every row once per draw; the same
    // seed gives the same file.
    let drawn = dir.join("drawn.csv");
    ok(&[
        "impute",
        s(&model),
        s(&data),
        "-o",
        s(&drawn),
        "--draws",
        "3",
        "--seed",
        "7",
    ]);
    let text = std::fs::read_to_string(&drawn).unwrap();
    assert_eq!(text.lines().next().unwrap(), "draw,a,b,c");
    assert_eq!(text.lines().count(), 1 + 3 * 400);
    assert!(text.lines().nth(1 + 2 * 400).unwrap().starts_with("2,"));
    let again = dir.join("again.csv");
    ok(&[
        "impute",
        s(&model),
        s(&data),
        "-o",
        s(&again),
        "--draws",
        "3",
        "--seed",
        "7",
    ]);
    assert_eq!(text, std::fs::read_to_string(&again).unwrap());
}

#[test]
fn missing_tokens_are_configurable() {
    let dir = temp_dir("missing-tokens");
    let text = incomplete_csv(200, 4).replace(",NA,", ",?,");
    let data = write(&dir, "data.csv", &text);
    let model = dir.join("m.json");
    // `?` is not a default token: an error naming the cell.
    bad(
        &[
            "fit",
            s(&data),
            "--missing",
            "-k",
            "1",
            "-o",
            s(&model),
            "--columns",
            "a,b,c",
        ],
        &["\"?\" is not a number", "column 2"],
    );
    ok(&[
        "fit",
        s(&data),
        "--missing",
        "--missing-tokens",
        "?",
        "-k",
        "1",
        "-o",
        s(&model),
        "--columns",
        "a,b,c",
    ]);
    // --missing-tokens alone is a usage error (it needs --missing).
    let o = run(&[
        "fit",
        s(&data),
        "--missing-tokens",
        "?",
        "-k",
        "1",
        "-o",
        s(&model),
    ]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn without_missing_the_errors_are_todays() {
    let dir = temp_dir("missing-absent");
    let data = write(&dir, "data.csv", &incomplete_csv(50, 4));
    let model = dir.join("m.json");
    bad(
        &[
            "fit",
            s(&data),
            "-k",
            "1",
            "-o",
            s(&model),
            "--columns",
            "a,b,c",
        ],
        &["line 3, column 2", "\"NA\" is not a number"],
    );
    let text = incomplete_csv(50, 4).replace(",NA,", ",1.5,");
    let data = write(&dir, "data2.csv", &text);
    bad(
        &[
            "fit",
            s(&data),
            "-k",
            "1",
            "-o",
            s(&model),
            "--columns",
            "a,b,c",
        ],
        &["line 5, column 3", "empty cell"],
    );
}

#[test]
fn bad_incomplete_data_is_refused() {
    let dir = temp_dir("missing-bad");
    let model = dir.join("m.json");
    // A row with nothing observed.
    let mut text = incomplete_csv(100, 4);
    text.push_str("last,NA,,\n");
    let data = write(&dir, "empty-row.csv", &text);
    bad(
        &[
            "fit",
            s(&data),
            "--missing",
            "-k",
            "1",
            "-o",
            s(&model),
            "--columns",
            "a,b,c",
        ],
        &["data row 101", "every feature is missing"],
    );
    // A column never observed.
    let mut text = String::from("a,b\n");
    for i in 0..30 {
        text.push_str(&format!("{i},\n"));
    }
    let data = write(&dir, "blind.csv", &text);
    bad(
        &["fit", s(&data), "--missing", "-k", "1", "-o", s(&model)],
        &["column \"b\" has no observed value"],
    );
    assert!(!model.exists());
    // What does not take missing values yet says so.
    let data = write(&dir, "data.csv", &incomplete_csv(100, 4));
    bad(
        &[
            "fit",
            s(&data),
            "--missing",
            "-o",
            s(&model),
            "--columns",
            "a,b,c",
            "-k",
            "1",
            "--trim",
            "0.1",
        ],
        &["--trim is not supported"],
    );
    bad(
        &[
            "detect",
            s(&data),
            "--missing",
            "-o",
            s(&model),
            "--method",
            "mcd",
        ],
        &["--method mcd is not supported with missing values"],
    );
    bad(
        &["select", s(&data), "--missing", "--trim", "0.1"],
        &["--trim is not supported with missing values"],
    );
    assert!(!model.exists());
}
