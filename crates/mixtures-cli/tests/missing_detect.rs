//! Detectors on data with missing values on the command line (issue 22):
//! `detect --missing` writes a detector on tail scores, which `score`,
//! `evaluate` and `explain` judge rows by with or without missing cells;
//! `select --missing` compares candidates on the observed-data likelihood.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;

/// `n` rows of three correlated features and a label; every 25th row is
/// far off (label 1); cells are left empty on a fixed pattern (about 20 %,
/// never a whole row). With `complete`, no cell is left out.
fn data(n: usize, complete: bool) -> String {
    let mut text = String::from("a,b,c,label\n");
    for i in 0..n {
        let t = i as f64 * 0.37;
        let anomaly = i % 25 == 7;
        let shift = if anomaly { 6.0 } else { 0.0 };
        let a = t.sin() * 2.0 + 0.2 * (3.1 * t).cos();
        let b = 0.9 * a + 0.25 * (1.7 * t).sin() - shift;
        let c = 0.5 * a - 0.3 * (2.3 * t).cos() + shift;
        let mut cells = [format!("{a}"), format!("{b}"), format!("{c}")];
        if !complete {
            if i % 5 == 1 {
                cells[0] = String::new();
            }
            if i % 7 == 3 {
                cells[1] = "NA".to_owned();
            }
            if i % 11 == 5 && i % 5 != 1 {
                cells[2] = String::new();
            }
        }
        text.push_str(&format!(
            "{},{},{},{}\n",
            cells[0],
            cells[1],
            cells[2],
            u8::from(anomaly)
        ));
    }
    text
}

#[test]
fn a_detector_on_tail_scores_judges_rows_with_and_without_missing_cells() {
    let dir = temp_dir("missing-detect");
    let train = write(&dir, "train.csv", &data(600, false));
    let complete = write(&dir, "complete.csv", &data(300, true));
    let det = dir.join("det.json");
    let out = ok(&[
        "detect",
        s(&train),
        "--missing",
        "-o",
        s(&det),
        "--label-column",
        "label",
        "-k",
        "1",
        "--contamination",
        "0.04",
    ]);
    assert!(out.contains("tail score"), "{out}");
    assert!(out.contains("outlier (contamination 0.04"), "{out}");
    assert!(out.contains("missing: "), "{out}");
    let file = json(&std::fs::read_to_string(&det).unwrap());
    assert_eq!(
        file["threshold"]["score"],
        serde_json::json!("negative_log_tail_probability")
    );
    assert_eq!(file["feature_names"], serde_json::json!(["a", "b", "c"]));

    // score --missing writes is_anomaly from the detector's threshold.
    let scores = dir.join("scores.csv");
    ok(&["score", s(&det), s(&train), "--missing", "-o", s(&scores)]);
    let text = std::fs::read_to_string(&scores).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "log_likelihood,anomaly_score,component,n_observed,is_anomaly"
    );
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect();
    let flagged: Vec<usize> = (0..rows.len()).filter(|&i| rows[i][4] == "1").collect();
    let planted = flagged.iter().filter(|&&i| i % 25 == 7).count();
    assert!(
        planted >= 20,
        "{planted} of {} flagged: {flagged:?}",
        flagged.len()
    );

    // Complete data: the same detector, its tail scores (not -ln p).
    let scores = dir.join("complete_scores.csv");
    ok(&["score", s(&det), s(&complete), "-o", s(&scores)]);
    let text = std::fs::read_to_string(&scores).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "log_likelihood,anomaly_score,component,is_anomaly"
    );
    let first: Vec<f64> = lines
        .next()
        .unwrap()
        .split(',')
        .map(|v| v.parse().unwrap())
        .collect();
    assert!(
        first[1] >= 0.0 && (first[1] + first[0]).abs() > 1e-6,
        "{first:?}"
    );

    // evaluate: the detector's threshold, on either file.
    let out = ok(&[
        "--json",
        "evaluate",
        s(&det),
        s(&train),
        "--missing",
        "--label-column",
        "label",
    ]);
    let v = json(&out);
    assert!(v["roc_auc"].as_f64().unwrap() > 0.95, "{out}");
    assert!(
        v["threshold_source"]
            .as_str()
            .unwrap()
            .starts_with("from the detector file"),
        "{out}"
    );
    let out = ok(&[
        "--json",
        "evaluate",
        s(&det),
        s(&complete),
        "--label-column",
        "label",
    ]);
    assert!(json(&out)["roc_auc"].as_f64().unwrap() > 0.95, "{out}");

    // A plain model: tail scores, the best F1 on the labels.
    let model = dir.join("model.json");
    ok(&[
        "fit",
        s(&train),
        "--missing",
        "-k",
        "1",
        "--label-column",
        "label",
        "-o",
        s(&model),
    ]);
    let out = ok(&[
        "evaluate",
        s(&model),
        s(&train),
        "--missing",
        "--label-column",
        "label",
    ]);
    assert!(out.contains("best F1 on these labels"), "{out}");

    // --best-f1: the threshold chosen on the labels of the training data.
    let best = dir.join("best.json");
    let out = ok(&[
        "detect",
        s(&train),
        "--missing",
        "-o",
        s(&best),
        "--label-column",
        "label",
        "-k",
        "1",
        "--best-f1",
    ]);
    assert!(out.contains("(best_f, beta = 1)"), "{out}");

    // explain --missing: the observed features only, flags from the tail score.
    let out = ok(&[
        "--json",
        "explain",
        s(&det),
        s(&train),
        "--missing",
        "--rows",
        "1",
        "--top",
        "1",
    ]);
    let v = json(&out);
    let names: Vec<&str> = v["rows"][0]["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{out}");
    assert!(!names.contains(&"a"), "{out}");
    assert_eq!(v["rows"][1]["is_anomaly"], serde_json::json!(1), "{out}");
    assert_eq!(v["rows"][1]["row"].as_u64().unwrap() % 25, 7, "{out}");

    // The exported scorer computes -ln p(x): a tail detector is refused.
    bad(
        &["export", s(&det), "--to", "rust"],
        &["cannot be exported yet"],
    );
}

#[test]
fn the_automatic_choice_and_select_use_the_observed_data_likelihood() {
    let dir = temp_dir("missing-select");
    let train = write(&dir, "train.csv", &data(500, false));
    let det = dir.join("det.json");
    let out = ok(&[
        "detect",
        s(&train),
        "--missing",
        "-o",
        s(&det),
        "--label-column",
        "label",
        "--max-components",
        "2",
    ]);
    assert!(out.contains("chose k = "), "{out}");
    // Without --components or --max-components: one component.
    let out = ok(&[
        "detect",
        s(&train),
        "--missing",
        "-o",
        s(&det),
        "--label-column",
        "label",
    ]);
    assert!(out.contains("gaussian full, 1 component"), "{out}");
    let sel = dir.join("sel.json");
    let out = ok(&[
        "--json",
        "select",
        s(&train),
        "--missing",
        "--label-column",
        "label",
        "-k",
        "1..3",
        "--covariance",
        "full,diag",
        "-o",
        s(&sel),
    ]);
    let v = json(&out);
    assert_eq!(v["cells"].as_array().unwrap().len(), 6);
    assert!(sel.exists());
    let text = ok(&[
        "select",
        s(&train),
        "--missing",
        "--label-column",
        "label",
        "-k",
        "1",
    ]);
    assert!(text.contains("observed-data likelihood"), "{text}");
    // Without --missing an empty cell is today's error.
    bad(
        &["select", s(&train), "--label-column", "label", "-k", "1"],
        &["empty cell"],
    );
}
