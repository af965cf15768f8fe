//! The `mixtures` binary run on small CSV files: every command, and the
//! round trip fit -> score -> evaluate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;

#[test]
fn round_trip_fit_score_evaluate() {
    let dir = temp_dir("round-trip");
    let data = labelled_csv(&dir);
    let model = dir.join("model.json");
    let out = ok(&[
        "fit",
        s(&data),
        "-o",
        s(&model),
        "-k",
        "2",
        "--label-column",
        "label",
        "--columns",
        "a,b",
        "--seed",
        "3",
        "--n-init",
        "2",
    ]);
    assert!(out.contains("2 components"), "{out}");
    let file = json(&std::fs::read_to_string(&model).unwrap());
    assert_eq!(file["feature_names"], serde_json::json!(["a", "b"]));
    assert_eq!(file["dtype"], "f64");

    // The id and label columns are ignored; the features are found by name.
    let scores = dir.join("scores.csv");
    ok(&["score", s(&model), s(&data), "-o", s(&scores)]);
    let text = std::fs::read_to_string(&scores).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("log_likelihood,anomaly_score,component"));
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|c| c.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 124);
    for r in &rows {
        assert_eq!(r[0], -r[1]);
        assert!(r[2] == 0.0 || r[2] == 1.0);
    }
    // The far points (the last four rows) score highest.
    let worst_normal = rows[..120].iter().map(|r| r[1]).fold(f64::MIN, f64::max);
    assert!(rows[120..].iter().all(|r| r[1] > worst_normal));
    // Alternating clusters get alternating components.
    assert_ne!(rows[0][2], rows[1][2]);

    // Standard output gives the same rows.
    assert_eq!(ok(&["score", s(&model), s(&data)]), text);

    let out = ok(&["evaluate", s(&model), s(&data), "--label-column", "label"]);
    assert!(out.contains("ROC AUC 1.0000"), "{out}");
    assert!(out.contains("best F1"), "{out}");
    let v = json(&ok(&[
        "evaluate",
        s(&model),
        s(&data),
        "--label-column",
        "label",
        "--json",
    ]));
    assert_eq!(v["roc_auc"], 1.0);
    assert_eq!(v["f1"], 1.0);
    assert_eq!(v["confusion"]["true_positives"], 4);
}

#[test]
fn fit_chooses_the_model_without_components() {
    let dir = temp_dir("auto");
    let data = labelled_csv(&dir);
    let model = dir.join("model.json");
    let v = json(&ok(&[
        "fit",
        s(&data),
        "-o",
        s(&model),
        "--columns",
        "a,b",
        "--max-components",
        "4",
        "--json",
    ]));
    assert_eq!(v["selection"]["criterion"], "bic");
    assert_eq!(v["selection"]["candidates"], 16);
    let k = v["components"].as_u64().unwrap();
    assert!((2..=4).contains(&k), "{v}");
    let text = ok(&[
        "fit",
        s(&data),
        "-o",
        s(&model),
        "--columns",
        "a,b",
        "--max-components",
        "3",
        "--covariance",
        "diag",
    ]);
    assert!(text.contains("chose k = "), "{text}");
    assert!(text.contains("3 candidates"), "{text}");
}

#[test]
fn warm_start_precision_family_and_delimiter() {
    let dir = temp_dir("warm");
    let data = labelled_csv(&dir);
    let model = dir.join("model.json");
    ok(&[
        "fit",
        s(&data),
        "-o",
        s(&model),
        "-k",
        "2",
        "--label-column",
        "label",
        "--columns",
        "a,b",
    ]);
    // --init: the columns come from the model's feature names.
    let warm = dir.join("warm.json");
    let out = ok(&[
        "fit",
        s(&data),
        "-o",
        s(&warm),
        "--init",
        s(&model),
        "--columns",
        "a,b",
    ]);
    assert!(out.contains("2 components"), "{out}");
    bad(
        &[
            "fit",
            s(&data),
            "-o",
            s(&warm),
            "--init",
            s(&model),
            "-k",
            "3",
            "--columns",
            "a,b",
        ],
        &["--init model has 2 components"],
    );
    bad(
        &[
            "fit",
            s(&data),
            "-o",
            s(&warm),
            "--init",
            s(&model),
            "--family",
            "laplace",
            "--columns",
            "a,b",
        ],
        &["gaussian"],
    );

    // f32 fits write dtype f32, and score reads it back in f32.
    let m32 = dir.join("m32.json");
    ok(&[
        "fit",
        s(&data),
        "-o",
        s(&m32),
        "-k",
        "2",
        "--columns",
        "a,b",
        "--precision",
        "f32",
    ]);
    assert_eq!(
        json(&std::fs::read_to_string(&m32).unwrap())["dtype"],
        "f32"
    );
    let scored = ok(&["score", s(&m32), s(&data)]);
    assert_eq!(scored.lines().count(), 125);

    // Laplace, semicolon-separated.
    let semi = write(
        &dir,
        "semi.csv",
        &std::fs::read_to_string(&data).unwrap().replace(',', ";"),
    );
    let lap = dir.join("laplace.json");
    let v = json(&ok(&[
        "fit",
        s(&semi),
        "-o",
        s(&lap),
        "-k",
        "2",
        "--family",
        "laplace",
        "--covariance",
        "spherical",
        "--columns",
        "a,b",
        "--delimiter",
        ";",
        "--json",
    ]));
    assert_eq!(v["family"], "laplace");
    assert_eq!(v["structure"], "laplace-spherical");
    ok(&["score", s(&lap), s(&semi), "--delimiter", ";"]);
}

#[test]
fn detect_writes_a_detector_that_score_and_evaluate_read() {
    let dir = temp_dir("detect");
    let data = labelled_csv(&dir);
    let det = dir.join("detector.json");
    let v = json(&ok(&[
        "detect",
        s(&data),
        "-o",
        s(&det),
        "-k",
        "2",
        "--label-column",
        "label",
        "--contamination",
        "0.04",
        "--json",
        "--columns",
        "a,b",
    ]));
    assert_eq!(v["rule"], "contamination");
    assert_eq!(v["rounds"].as_u64().map(|r| r >= 1), Some(true));
    // The four far points are the robust fit's left-out rows and the flagged ones.
    assert_eq!(v["excluded"], 4);
    assert_eq!(v["evaluation"]["recall"], 1.0);
    let file = json(&std::fs::read_to_string(&det).unwrap());
    assert_eq!(file["threshold"]["rule"], "contamination");

    let scored = ok(&["score", s(&det), s(&data)]);
    let mut lines = scored.lines();
    assert_eq!(
        lines.next(),
        Some("log_likelihood,anomaly_score,component,is_anomaly")
    );
    let flags: Vec<&str> = lines.map(|l| l.rsplit(',').next().unwrap()).collect();
    assert_eq!(flags[120..], ["1", "1", "1", "1"]);

    let out = ok(&["evaluate", s(&det), s(&data), "--label-column", "label"]);
    assert!(
        out.contains("from the detector file: contamination"),
        "{out}"
    );

    // A fixed threshold, and the best F1 on labels.
    let fixed = dir.join("fixed.json");
    let v = json(&ok(&[
        "detect",
        s(&data),
        "-o",
        s(&fixed),
        "-k",
        "2",
        "--label-column",
        "label",
        "--threshold",
        "12.5",
        "--json",
        "--columns",
        "a,b",
    ]));
    assert_eq!(v["threshold"], 12.5);
    let best = dir.join("best.json");
    let v = json(&ok(&[
        "detect",
        s(&data),
        "-o",
        s(&best),
        "-k",
        "2",
        "--label-column",
        "label",
        "--best-f1",
        "--json",
        "--columns",
        "a,b",
    ]));
    assert_eq!(v["evaluation"]["f1"], 1.0);
    // --best-f1 needs labels; the rules exclude each other.
    bad(
        &[
            "detect",
            s(&data),
            "-o",
            s(&best),
            "--best-f1",
            "--columns",
            "a,b",
        ],
        &["--label-column"],
    );
    bad(
        &[
            "detect",
            s(&data),
            "-o",
            s(&best),
            "--threshold",
            "1",
            "--contamination",
            "0.1",
            "--columns",
            "a,b",
        ],
        &["cannot be used with"],
    );
    bad(
        &[
            "detect",
            s(&data),
            "-o",
            s(&best),
            "--contamination",
            "0.9",
            "--label-column",
            "label",
            "--columns",
            "a,b",
        ],
        &["contamination"],
    );
}

#[test]
fn select_prints_the_table_and_writes_the_choice() {
    let dir = temp_dir("select");
    let data = labelled_csv(&dir);
    let model = dir.join("best.json");
    let plots = dir.join("plots");
    let out = ok(&[
        "select",
        s(&data),
        "--components",
        "1..3",
        "--covariance",
        "all",
        "--criterion",
        "icl",
        "--label-column",
        "label",
        "--columns",
        "a,b",
        "-o",
        s(&model),
        "--plot",
        s(&plots),
    ]);
    assert!(out.contains("gaussian tied-spherical (EII)"), "{out}");
    assert!(out.contains("chose k = "), "{out}");
    assert!(model.exists());
    assert!(plots.join("selection.svg").exists());
    let v = json(&ok(&[
        "select",
        s(&data),
        "-k",
        "1,2",
        "--columns",
        "a,b",
        "--json",
    ]));
    assert_eq!(v["cells"].as_array().map(Vec::len), Some(8));
    assert_eq!(v["criterion"], "bic");
    bad(&["select", s(&data), "-k", "3..1"], &["empty range"]);
    bad(
        &[
            "select",
            s(&data),
            "--family",
            "laplace",
            "--covariance",
            "tied",
            "--columns",
            "a,b",
        ],
        &["Laplace"],
    );
}

#[test]
fn demo_runs_the_whole_path_and_writes_plots() {
    let dir = temp_dir("demo");
    let out_dir = dir.join("out");
    let o = run(&["demo", "-o", s(&out_dir), "--samples", "300", "--timings"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("ROC AUC"), "{out}");
    assert!(out.contains("chose k = "), "{out}");
    assert!(stderr(&o).contains("timings: select"), "{}", stderr(&o));
    for f in [
        "train.csv",
        "test.csv",
        "detector.json",
        "scatter.svg",
        "scores.svg",
        "roc.svg",
        "precision_recall.svg",
        "selection.svg",
        "lower_bound.svg",
        "scatter.png",
        "scores.png",
        "roc.png",
        "precision_recall.png",
        "selection.png",
        "lower_bound.png",
    ] {
        let p = out_dir.join(f);
        assert!(p.exists(), "{} missing", p.display());
    }
    // Deterministic: the same seed gives the same data, model and numbers.
    let again = dir.join("again");
    let o2 = run(&["demo", "-o", s(&again), "--samples", "300", "--quiet"]);
    assert_eq!(
        stdout(&o2).replace(s(&again), "DIR"),
        out.replace(s(&out_dir), "DIR")
    );
    assert_eq!(
        std::fs::read(again.join("test.csv")).unwrap(),
        std::fs::read(out_dir.join("test.csv")).unwrap()
    );
    let svg = std::fs::read_to_string(out_dir.join("scatter.svg")).unwrap();
    assert!(svg.starts_with("<svg"), "{}", &svg[..40.min(svg.len())]);
    assert_png(&out_dir.join("scatter.png"), (900, 800));
    // The default detector is judged too.
    assert!(
        out.contains("the default detector (Detector::auto"),
        "{out}"
    );
    // The commands it prints run as printed on the files it wrote, and never
    // take the label column for a feature.
    let commands: Vec<&str> = out
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("mixtures "))
        .collect();
    assert_eq!(commands.len(), 4, "{out}");
    for line in commands {
        let line = line.split("   (").next().unwrap();
        assert!(line.contains("--label-column label"), "{line}");
        let args: Vec<&str> = line.split_whitespace().skip(1).collect();
        let printed = ok(&args);
        assert!(
            !printed.contains("features (x, y, label)"),
            "{line}: {printed}"
        );
    }
}

#[test]
fn plots_of_fit_detect_and_evaluate() {
    let dir = temp_dir("plots");
    let data = labelled_csv(&dir);
    let (model, det, plots) = (dir.join("m.json"), dir.join("d.json"), dir.join("p"));
    ok(&[
        "fit",
        s(&data),
        "-o",
        s(&model),
        "-k",
        "2",
        "--label-column",
        "label",
        "--plot",
        s(&plots),
        "--quiet",
        "--columns",
        "a,b",
    ]);
    assert!(plots.join("lower_bound.svg").exists());
    assert!(plots.join("scatter.svg").exists());
    ok(&[
        "detect",
        s(&data),
        "-o",
        s(&det),
        "-k",
        "2",
        "--label-column",
        "label",
        "--plot",
        s(&plots.join("d")),
        "--columns",
        "a,b",
    ]);
    assert!(plots.join("d/scores.svg").exists());
    ok(&[
        "evaluate",
        s(&det),
        s(&data),
        "--label-column",
        "label",
        "--plot",
        s(&plots.join("e")),
    ]);
    assert!(plots.join("e/roc.svg").exists());
    assert!(plots.join("e/precision_recall.svg").exists());
    for f in ["lower_bound", "scatter", "d/scores", "d/scatter", "e/roc"] {
        let png = plots.join(format!("{f}.png"));
        assert!(png.exists(), "{} missing", png.display());
    }
    assert_png(&plots.join("lower_bound.png"), (900, 650));
    assert_png(&plots.join("e/roc.png"), (700, 650));
}

#[test]
fn detect_fits_the_default_detector_without_components() {
    let dir = temp_dir("default-detector");
    let data = labelled_csv(&dir);
    let det = dir.join("det.json");
    let base = [
        "detect",
        s(&data),
        "-o",
        s(&det),
        "--label-column",
        "label",
        "--columns",
        "a,b",
    ];
    let with = |extra: &[&'static str]| -> Vec<&str> {
        base.iter().copied().chain(extra.iter().copied()).collect()
    };
    let o = run(&with(&[]));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains("default detector (Detector::auto, features standardized): chose k = "),
        "{text}"
    );
    assert!(text.contains("tied"), "{text}");
    // The far points score above every normal row.
    assert!(text.contains("ROC AUC 1.0000"), "{text}");

    let v = json(&ok(&with(&["--json", "--max-components", "4"])));
    assert_eq!(v["selection"]["rule"], "Detector::auto");
    // k in {1, 2, 3, 4} x (tied, tied-diag): 124 rows are 25 per feature.
    assert_eq!(v["selection"]["candidates"], 8);
    assert_eq!(v["family"], "gaussian");
    let k = v["selection"]["k"].as_u64().unwrap();
    assert!((1..=4).contains(&k), "{v}");
    // The file is a detector the other commands read.
    ok(&["evaluate", s(&det), s(&data), "--label-column", "label"]);

    // A robust fit refits through the same rule.
    let v = json(&ok(&with(&["--json", "--contamination", "0.04"])));
    assert_eq!(v["selection"]["rule"], "Detector::auto");
    assert_eq!(v["excluded"], 4);

    // A fixed model is fitted exactly as asked: no default detector.
    let v = json(&ok(&with(&["--json", "-k", "2"])));
    assert_eq!(v["selection"], serde_json::Value::Null);
    assert_eq!(v["components"], 2);
    assert_eq!(v["structure"], "full");
    let v = json(&ok(&with(&[
        "--json",
        "--covariance",
        "diag",
        "--max-components",
        "3",
    ])));
    assert_eq!(v["selection"]["rule"], "grid");
    assert_eq!(v["selection"]["candidates"], 3);
    assert_eq!(v["structure"], "diag");
    let v = json(&ok(&with(&["--json", "--family", "laplace"])));
    assert_eq!(v["family"], "laplace");

    // EM flags the default detector does not take are refused, not ignored.
    for (flag, value) in [
        ("--max-iter", "5"),
        ("--tol", "0.1"),
        ("--reg-covar", "0.01"),
    ] {
        bad(&with(&[flag, value]), &[flag, "default detector"]);
    }
    bad(&with(&["--max-components", "0"]), &["--max-components"]);
}
