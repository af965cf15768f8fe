//! `mixtures explain` (per-feature contributions of chosen rows) and `fit
//! --variational` (a variational Bayesian Gaussian mixture), run through the
//! binary on small CSV files.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{bad, clusters_csv, json, ok, s, temp_dir};

/// The contributions of one explained row, in the order printed.
fn contributions(row: &serde_json::Value) -> Vec<(String, f64)> {
    row["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["name"].as_str().unwrap().to_owned(),
                f["contribution"].as_f64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn explain_ranks_the_feature_that_makes_a_row_anomalous() {
    let dir = temp_dir("explain");
    let data = clusters_csv(&dir, 100, 3);
    let det = dir.join("det.json");
    ok(&[
        "detect",
        s(&data),
        "-o",
        s(&det),
        "-k",
        "3",
        "--covariance",
        "diag",
        "--contamination",
        "0.01",
        "--columns",
        "a,b,c",
        "-q",
    ]);

    // Row 301 is far out in c only; row 0 is an ordinary point.
    let out = json(&ok(&[
        "explain",
        s(&det),
        s(&data),
        "--rows",
        "301,0",
        "--json",
    ]));
    assert_eq!(out["command"], "explain");
    assert_eq!(out["attribution"], "exact");
    assert!(out["threshold"].as_f64().is_some());
    let rows = out["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["row"], 301);
    assert_eq!(rows[0]["is_anomaly"], 1);
    assert_eq!(rows[1]["row"], 0);
    assert_eq!(rows[1]["is_anomaly"], 0);
    let far = contributions(&rows[0]);
    assert_eq!(far.len(), 3);
    assert_eq!(far[0].0, "c", "{far:?}");
    assert!(far[0].1 > 10.0 * far[1].1, "{far:?}");
    for row in rows {
        let c = contributions(row);
        assert!(c.windows(2).all(|w| w[0].1 >= w[1].1), "{c:?}");
        // Diagonal components: the contributions and the baseline add up to
        // the score.
        let sum: f64 = c.iter().map(|x| x.1).sum::<f64>() + row["baseline"].as_f64().unwrap();
        let score = row["score"].as_f64().unwrap();
        assert!(
            (sum - score).abs() <= 1e-9 * score.abs().max(1.0),
            "{sum} {score}"
        );
    }
    assert!(rows[0]["score"].as_f64().unwrap() > rows[1]["score"].as_f64().unwrap());

    // --top: the highest scores, highest first, after the rows named.
    let out = json(&ok(&[
        "explain",
        s(&det),
        s(&data),
        "--top",
        "3",
        "--top-features",
        "1",
        "--json",
    ]));
    let rows = out["rows"].as_array().unwrap();
    let mut which: Vec<u64> = rows.iter().map(|r| r["row"].as_u64().unwrap()).collect();
    let scores: Vec<f64> = rows.iter().map(|r| r["score"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    which.sort_unstable();
    assert_eq!(which, [300, 301, 302]);
    assert!(
        rows.iter()
            .all(|r| contributions(r) == [("c".to_owned(), contributions(r)[0].1)])
    );
    let out = json(&ok(&[
        "explain",
        s(&det),
        s(&data),
        "--rows",
        "5",
        "--top",
        "1",
        "--json",
    ]));
    let which: Vec<u64> = out["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["row"].as_u64().unwrap())
        .collect();
    assert_eq!(which[0], 5);
    assert!((300..=302).contains(&which[1]), "{which:?}");

    // Text: the score, the flag and the features in order.
    let text = ok(&["explain", s(&det), s(&data), "--rows", "301"]);
    assert!(text.contains("row 301: score "), "{text}");
    assert!(text.contains(", flagged, component "), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    let header = lines
        .iter()
        .position(|l| l.trim_start().starts_with("feature"))
        .unwrap();
    assert!(lines[header + 1].trim_start().starts_with('c'), "{text}");
}

#[test]
fn explain_a_plain_model_and_full_covariance() {
    let dir = temp_dir("explain-model");
    let data = clusters_csv(&dir, 60, 2);
    let model = dir.join("m.json");
    ok(&[
        "fit",
        s(&data),
        "-o",
        s(&model),
        "-k",
        "3",
        "--columns",
        "a,b,c",
        "-q",
    ]);
    let out = json(&ok(&[
        "explain",
        s(&model),
        s(&data),
        "--rows",
        "180",
        "--json",
    ]));
    assert_eq!(out["attribution"], "conditional");
    assert!(out["threshold"].is_null());
    let row = &out["rows"][0];
    assert!(row["is_anomaly"].is_null());
    assert_eq!(contributions(row)[0].0, "c");
    let text = ok(&["explain", s(&model), s(&data), "--rows", "180"]);
    assert!(text.contains("no threshold"), "{text}");
    assert!(!text.contains(", flagged"), "{text}");
    assert!(!text.contains("not flagged"), "{text}");
}

#[test]
fn explain_refuses_bad_rows_and_flags() {
    let dir = temp_dir("explain-bad");
    let data = clusters_csv(&dir, 20, 1);
    let model = dir.join("m.json");
    ok(&[
        "fit",
        s(&data),
        "-o",
        s(&model),
        "-k",
        "2",
        "--columns",
        "a,b,c",
        "-q",
    ]);
    let (m, d) = (s(&model), s(&data));
    bad(&["explain", m, d], &["--rows", "--top"]);
    bad(
        &["explain", m, d, "--rows", "61"],
        &["--rows 61", "61 rows", "from 0"],
    );
    bad(&["explain", m, d, "--rows", "x"], &["--rows"]);
    bad(&["explain", m, d, "--top", "0"], &["--top 0"]);
    bad(
        &["explain", m, d, "--top", "1", "--top-features", "0"],
        &["--top-features 0"],
    );
    let other = dir.join("other.csv");
    std::fs::write(&other, "a,b\n1,2\n").unwrap();
    bad(&["explain", m, s(&other), "--top", "1"], &["c"]);
    bad(
        &["explain", s(&dir.join("missing.json")), d, "--top", "1"],
        &["missing.json"],
    );
}

#[test]
fn variational_fit_drops_the_components_the_data_do_not_need() {
    let dir = temp_dir("variational");
    let data = clusters_csv(&dir, 150, 0);
    let model = dir.join("vb.json");
    let out = json(&ok(&[
        "fit",
        s(&data),
        "-o",
        s(&model),
        "--variational",
        "-k",
        "6",
        "--covariance",
        "diag",
        "--weight-concentration-prior",
        "0.01",
        "--json",
        "-q",
    ]));
    assert_eq!(out["variational"], true);
    assert_eq!(out["max_components"], 6);
    assert_eq!(out["weight_prior"], "dirichlet_process");
    assert_eq!(out["weight_concentration_prior"], 0.01);
    let weights = out["weights"].as_array().unwrap();
    assert_eq!(weights.len(), 6);
    let kept = out["kept_components"].as_array().unwrap().len();
    let dropped = out["dropped_components"].as_array().unwrap().len();
    assert_eq!(kept, 3, "{out}");
    assert_eq!(kept + dropped, 6);
    assert_eq!(out["components"], 3);
    // The model file holds the kept components, weights summing to one, and
    // the other commands read it.
    let file = json(&std::fs::read_to_string(&model).unwrap());
    let w: Vec<f64> = file["weights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(w.len(), 3);
    assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    assert!(w.iter().all(|&x| x > 0.2), "{w:?}");
    ok(&[
        "score",
        s(&model),
        s(&data),
        "-o",
        s(&dir.join("scores.csv")),
    ]);

    // Every component kept when asked; the text says what was dropped.
    let all = dir.join("all.json");
    let text = ok(&[
        "fit",
        s(&data),
        "-o",
        s(&all),
        "--variational",
        "-k",
        "6",
        "--covariance",
        "diag",
        "--weight-concentration-prior",
        "0.01",
        "--keep-all-components",
        "-q",
    ]);
    assert!(
        text.contains("dropped: none (--keep-all-components)"),
        "{text}"
    );
    let file = json(&std::fs::read_to_string(&all).unwrap());
    assert_eq!(file["weights"].as_array().unwrap().len(), 6);
    let text = ok(&[
        "fit",
        s(&data),
        "-o",
        s(&model),
        "--variational",
        "-k",
        "6",
        "--covariance",
        "diag",
        "--weight-concentration-prior",
        "0.01",
        "-q",
    ]);
    assert!(text.contains("dropped: "), "{text}");
    assert!(
        text.contains("weight spread over the kept components"),
        "{text}"
    );

    // The Dirichlet distribution prior and the other priors are taken.
    let out = json(&ok(&[
        "fit",
        s(&data),
        "-o",
        s(&model),
        "--variational",
        "-k",
        "4",
        "--weight-concentration-prior-type",
        "dirichlet_distribution",
        "--mean-precision-prior",
        "0.5",
        "--degrees-of-freedom-prior",
        "5",
        "--mean-prior",
        "1,2,0",
        "--weight-threshold",
        "0.05",
        "--json",
        "-q",
    ]));
    assert_eq!(out["weight_prior"], "dirichlet_distribution");
    assert_eq!(out["mean_precision_prior"], 0.5);
    assert_eq!(out["degrees_of_freedom_prior"], 5.0);
    assert_eq!(out["weight_threshold"], 0.05);
}

/// Borrowed arguments.
fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

#[test]
fn variational_fit_refuses_flags_that_do_not_apply() {
    let dir = temp_dir("variational-bad");
    let data = clusters_csv(&dir, 20, 0);
    let (d, o) = (s(&data), dir.join("m.json"));
    let o = s(&o);
    let fit = |extra: &[&str]| -> Vec<String> {
        ["fit", d, "-o", o]
            .iter()
            .chain(extra)
            .map(|a| (*a).to_owned())
            .collect()
    };
    bad(
        &strs(&fit(&["--weight-concentration-prior", "0.1"])),
        &["--variational"],
    );
    bad(&strs(&fit(&["--keep-all-components"])), &["--variational"]);
    bad(
        &strs(&fit(&["--variational", "--family", "laplace"])),
        &["--family", "Gaussian"],
    );
    bad(
        &strs(&fit(&["--variational", "--max-components", "4"])),
        &["--max-components", "-k"],
    );
    bad(
        &strs(&fit(&["--variational", "--covariance", "tied-diag"])),
        &["--covariance", "full, tied"],
    );
    bad(
        &strs(&fit(&[
            "--variational",
            "--weight-concentration-prior",
            "-1",
        ])),
        &["weight_concentration"],
    );
    bad(
        &strs(&fit(&["--variational", "--mean-precision-prior", "0"])),
        &["mean_precision"],
    );
    bad(
        &strs(&fit(&["--variational", "--weight-threshold", "1"])),
        &["weight_threshold"],
    );
    bad(
        &strs(&fit(&["--variational", "-k", "0"])),
        &["n_components"],
    );
    bad(
        &strs(&fit(&["--variational", "--mean-prior", "1,2"])),
        &["--mean-prior", "3 features"],
    );
    bad(
        &strs(&fit(&[
            "--variational",
            "--degrees-of-freedom-prior",
            "0.5",
        ])),
        &["degrees_of_freedom"],
    );
    bad(
        &strs(&fit(&[
            "--variational",
            "--weight-concentration-prior-type",
            "uniform",
        ])),
        &["dirichlet-process"],
    );
    bad(
        &strs(&fit(&["--variational", "-k", "4611686018427387904"])),
        &["more components than the 60 rows"],
    );
    let init = dir.join("init.json");
    ok(&["fit", d, "-o", s(&init), "-k", "2", "-q"]);
    bad(
        &strs(&fit(&["--variational", "--init", s(&init)])),
        &["--init"],
    );
    assert!(!std::path::Path::new(o).exists());
}
