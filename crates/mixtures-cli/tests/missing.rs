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
        &["detect", s(&data), "--missing", "-o", s(&model)],
        &["detect does not take missing values yet"],
    );
    bad(
        &[
            "evaluate",
            s(&model),
            s(&data),
            "--missing",
            "--label-column",
            "c",
        ],
        &["evaluate does not take missing values yet"],
    );
}

#[test]
fn every_family_and_the_automatic_choice_fit_incomplete_data() {
    let dir = temp_dir("missing-families");
    let data = write(&dir, "data.csv", &incomplete_csv(120, 4));
    for (family, name) in [("laplace", "laplace"), ("student-t", "student-t")] {
        let model = dir.join(format!("{name}.json"));
        ok(&[
            "fit",
            s(&data),
            "--missing",
            "--columns",
            "a,b,c",
            "--family",
            family,
            "-k",
            "2",
            "-o",
            s(&model),
        ]);
        let text = std::fs::read_to_string(&model).unwrap();
        assert!(text.contains(&format!("\"family\":\"{name}\"")), "{text}");
    }
    // No --components: BIC over the grid, on the observed-data likelihood.
    let model = dir.join("auto.json");
    let out = ok(&[
        "--json",
        "fit",
        s(&data),
        "--missing",
        "--columns",
        "a,b,c",
        "--max-components",
        "3",
        "-o",
        s(&model),
    ]);
    assert!(model.exists());
    assert!(out.contains("\"selection\""), "{out}");
}

#[test]
fn outputs_never_replace_inputs_and_are_written_whole() {
    let dir = temp_dir("missing-files");
    let data = write(&dir, "data.csv", &incomplete_csv(200, 4));
    let model = dir.join("m.json");
    ok(&[
        "fit",
        s(&data),
        "--missing",
        "-k",
        "1",
        "-o",
        s(&model),
        "--columns",
        "a,b,c",
    ]);
    for command in ["impute", "score"] {
        let mut args = vec![command, s(&model), s(&data), "-o", s(&data)];
        if command == "score" {
            args.push("--missing");
        }
        bad(&args, &["would destroy the input"]);
    }
    bad(
        &["fit", s(&data), "--missing", "-k", "1", "-o", s(&data)],
        &["would destroy the input"],
    );
    // A bad row far down: the old output stays whole, no temporary file.
    let filled = dir.join("filled.csv");
    std::fs::write(&filled, "old\n").unwrap();
    let mut text = incomplete_csv(200, 4);
    text.push_str("z,NA,,\n");
    let broken = write(&dir, "broken.csv", &text);
    bad(
        &["impute", s(&model), s(&broken), "-o", s(&filled)],
        &["data row 201"],
    );
    let scores = dir.join("scores.csv");
    std::fs::write(&scores, "old\n").unwrap();
    bad(
        &[
            "score",
            s(&model),
            s(&broken),
            "--missing",
            "-o",
            s(&scores),
        ],
        &["data row 201"],
    );
    assert_eq!(std::fs::read_to_string(&filled).unwrap(), "old\n");
    assert_eq!(std::fs::read_to_string(&scores).unwrap(), "old\n");
    let mut names: Vec<String> = std::fs::read_dir(&*dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "broken.csv",
            "data.csv",
            "filled.csv",
            "m.json",
            "scores.csv"
        ]
    );
}

#[test]
fn complete_data_with_missing_gives_todays_model() {
    // No missing cell: fit --missing is the complete-data fit.
    let dir = temp_dir("missing-complete");
    let text = incomplete_csv(300, 1_000_000).replace(",NA,", ",0.5,");
    let data = write(&dir, "data.csv", &text);
    let (m1, m2) = (dir.join("m1.json"), dir.join("m2.json"));
    let cols = ["--columns", "a,b,c"];
    let mut a = vec!["fit", s(&data), "-k", "2", "-o", s(&m1)];
    a.extend(cols);
    ok(&a);
    let mut b = vec!["fit", s(&data), "--missing", "-k", "2", "-o", s(&m2)];
    b.extend(cols);
    ok(&b);
    assert_eq!(
        std::fs::read_to_string(&m1).unwrap(),
        std::fs::read_to_string(&m2).unwrap()
    );
}

#[test]
fn student_t_and_laplace_models_score_and_impute_incomplete_rows() {
    let dir = temp_dir("missing-tail-families");
    let n = 150;
    let data = write(&dir, "data.csv", &incomplete_csv(n, 4));
    for family in ["student-t", "laplace"] {
        let model = dir.join(format!("{family}.json"));
        ok(&[
            "fit",
            s(&data),
            "--missing",
            "--columns",
            "a,b,c",
            "--family",
            family,
            "-k",
            "2",
            "-o",
            s(&model),
        ]);
        let scores = dir.join(format!("{family}-scores.csv"));
        ok(&["score", s(&model), s(&data), "--missing", "-o", s(&scores)]);
        let text = std::fs::read_to_string(&scores).unwrap();
        let mut lines = text.lines();
        assert_eq!(
            lines.next().unwrap(),
            "log_likelihood,anomaly_score,component,n_observed",
            "{family}"
        );
        let rows: Vec<Vec<String>> = lines.map(cells).collect();
        assert_eq!(rows.len(), n, "{family}");
        for r in &rows {
            let ll: f64 = r[0].parse().unwrap();
            let tail: f64 = r[1].parse().unwrap();
            assert!(
                ll.is_finite() && tail.is_finite() && tail >= 0.0,
                "{family}: {r:?}"
            );
        }
        // Row 3 misses b, row 1 misses a, row 0 is complete.
        assert_eq!(
            (&rows[0][3][..], &rows[1][3][..], &rows[3][3][..]),
            ("3", "2", "2")
        );

        let filled = dir.join(format!("{family}-filled.csv"));
        ok(&["impute", s(&model), s(&data), "-o", s(&filled)]);
        let text = std::fs::read_to_string(&filled).unwrap();
        assert_eq!(text.lines().next().unwrap(), "a,b,c", "{family}");
        assert_eq!(text.lines().count(), 1 + n, "{family}");
        for line in text.lines().skip(1) {
            for v in cells(line) {
                assert!(v.parse::<f64>().unwrap().is_finite(), "{family}: {line}");
            }
        }

        let drawn = dir.join(format!("{family}-drawn.csv"));
        ok(&[
            "impute",
            s(&model),
            s(&data),
            "-o",
            s(&drawn),
            "--draws",
            "2",
            "--seed",
            "5",
        ]);
        let text = std::fs::read_to_string(&drawn).unwrap();
        assert_eq!(text.lines().next().unwrap(), "draw,a,b,c", "{family}");
        assert_eq!(text.lines().count(), 1 + 2 * n, "{family}");
        for line in text.lines().skip(1) {
            for v in cells(line) {
                assert!(v.parse::<f64>().unwrap().is_finite(), "{family}: {line}");
            }
        }
        // Two draws differ in the missing cells (row 3 misses b) and agree
        // in the observed ones.
        let (first, second) = (
            cells(text.lines().nth(1 + 3).unwrap()),
            cells(text.lines().nth(1 + n + 3).unwrap()),
        );
        assert_ne!(first[2], second[2], "{family}");
        assert_eq!(first[1], second[1], "{family}");
    }
}
