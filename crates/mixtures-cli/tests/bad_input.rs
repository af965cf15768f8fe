//! The `mixtures` binary on bad input: every case exits with code 2 and a
//! message that says where, before any work where it can.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;

#[test]
fn a_column_named_label_is_not_a_feature() {
    let dir = temp_dir("label-column");
    let data = label_last_csv(&dir);
    let model = dir.join("m.json");
    for command in ["fit", "detect"] {
        let o = run(&[command, s(&data), "-o", s(&model), "-k", "2"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(
            stdout(&o).contains("3 features (a, b, c)"),
            "{}",
            stdout(&o)
        );
        assert!(
            stderr(&o).contains("column \"label\" is left out of the features"),
            "{}",
            stderr(&o)
        );
        let file = json(&std::fs::read_to_string(&model).unwrap());
        assert_eq!(file["feature_names"], serde_json::json!(["a", "b", "c"]));
    }
    ok(&["select", s(&data), "-k", "1..2", "-o", s(&model)]);
    let file = json(&std::fs::read_to_string(&model).unwrap());
    assert_eq!(file["feature_names"], serde_json::json!(["a", "b", "c"]));
    // Named as a label column: read as labels, no note.
    let o = run(&[
        "fit",
        s(&data),
        "-o",
        s(&model),
        "-k",
        "2",
        "--label-column",
        "label",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stderr(&o).contains("left out"), "{}", stderr(&o));
    // Asked for by --columns: a feature like any other.
    let out = ok(&[
        "fit",
        s(&data),
        "-o",
        s(&model),
        "-k",
        "1",
        "--columns",
        "a,label",
    ]);
    assert!(out.contains("2 features (a, label)"), "{out}");
    // The note is a note: --quiet silences it.
    let o = run(&["fit", s(&data), "-o", s(&model), "-k", "1", "--quiet"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stderr(&o), "");
}

#[test]
fn plot_features_pick_the_scatter_axes() {
    let dir = temp_dir("plot-features");
    let data = label_last_csv(&dir);
    let model = dir.join("m.json");
    let plots = dir.join("p");
    for command in ["fit", "detect"] {
        ok(&[
            command,
            s(&data),
            "-o",
            s(&model),
            "-k",
            "2",
            "--plot",
            s(&plots),
            "--plot-features",
            "c,a",
        ]);
        let svg = std::fs::read_to_string(plots.join("scatter.svg")).unwrap();
        assert!(svg.contains("c and a: components"), "{command}");
        assert_png(&plots.join("scatter.png"), (900, 800));
        std::fs::remove_dir_all(&plots).unwrap();
    }
    // The default: the first two features.
    ok(&[
        "fit",
        s(&data),
        "-o",
        s(&model),
        "-k",
        "2",
        "--plot",
        s(&plots),
    ]);
    let svg = std::fs::read_to_string(plots.join("scatter.svg")).unwrap();
    assert!(svg.contains("a and b: components"));

    // Bad names exit 2 naming what is wrong, before any fit or plot.
    let fresh = dir.join("never");
    let args = |features: &'static str| {
        vec![
            "detect",
            s(&data),
            "-o",
            s(&model),
            "--plot",
            s(&fresh),
            "--plot-features",
            features,
        ]
    };
    bad(&args("a,nope"), &["--plot-features", "\"nope\"", "a, b, c"]);
    bad(&args("label,a"), &["\"label\" is not a feature"]);
    bad(&args("a"), &["two feature names", "not 1"]);
    bad(&args("a,b,c"), &["two feature names", "not 3"]);
    bad(&args("b,b"), &["\"b\" twice"]);
    assert!(!fresh.exists());
    // It needs --plot.
    bad(
        &["fit", s(&data), "-o", s(&model), "--plot-features", "a,b"],
        &["--plot"],
    );
}

#[test]
fn quiet_timings_help_and_version() {
    let dir = temp_dir("flags");
    let data = labelled_csv(&dir);
    let model = dir.join("m.json");
    let o = run(&[
        "fit",
        s(&data),
        "-o",
        s(&model),
        "-k",
        "1",
        "--label-column",
        "label",
        "--timings",
        "--quiet",
        "--columns",
        "a,b",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let err = stderr(&o);
    assert!(err.contains("timings: read data"), "{err}");
    assert!(err.contains("fit"), "{err}");
    assert!(!err.contains("wrote"), "--quiet prints no notes: {err}");
    let o = run(&[
        "fit",
        s(&data),
        "-o",
        s(&model),
        "-k",
        "1",
        "--label-column",
        "label",
        "--columns",
        "a,b",
    ]);
    assert!(stderr(&o).contains("wrote"), "{}", stderr(&o));
    let help = ok(&["--help"]);
    for c in ["fit", "score", "detect", "evaluate", "select", "demo"] {
        assert!(help.contains(c), "{help}");
    }
    assert!(ok(&["--version"]).starts_with("mixtures "));
    bad(&[], &["Usage"]);
    bad(&["frobnicate"], &["unrecognized subcommand"]);
}

#[test]
fn data_too_wide_for_the_precision_is_bad_input() {
    // Spread 1e160: the squares overflow f64, so the fit refuses before any
    // work (FitError::DataScale), which is the data's fault: exit 2.
    let dir = temp_dir("scale");
    let data = write(
        &dir,
        "huge.csv",
        "a,b\n1e160,1\n-1e160,2\n3e159,3\n-2e159,5\n1e158,8\n",
    );
    let model = dir.join("m.json");
    bad(
        &["fit", s(&data), "-o", s(&model), "-k", "1"],
        &["column 0", "overflow f64"],
    );
    bad(
        &["detect", s(&data), "-o", s(&model)],
        &["column 0", "overflow f64"],
    );
}

#[test]
fn bad_input_files() {
    let dir = temp_dir("bad");
    let data = labelled_csv(&dir);
    let model = dir.join("m.json");
    ok(&[
        "fit",
        s(&data),
        "-o",
        s(&model),
        "-k",
        "2",
        "--columns",
        "a,b",
    ]);
    let out = s(&dir).to_owned() + "/out.json";

    // Missing data file.
    let missing = dir.join("missing.csv");
    bad(
        &["fit", s(&missing), "-o", &out],
        &["missing.csv", "cannot read"],
    );
    bad(&["score", s(&model), s(&missing)], &["missing.csv"]);
    // Missing model file.
    bad(
        &["score", s(&dir.join("nope.json")), s(&data)],
        &["nope.json", "cannot read"],
    );

    // A cell that is not a number: file, line and column.
    let cell = write(&dir, "cell.csv", "a,b\n1,2\n3,4\n5,oops\n");
    bad(
        &["fit", s(&cell), "-o", &out, "-k", "1"],
        &[
            "cell.csv",
            "line 4, column 2 (\"b\")",
            "\"oops\" is not a number",
        ],
    );
    // Empty cells and non-finite values are refused too.
    let empty = write(&dir, "empty.csv", "a,b\n1,\n");
    bad(
        &["fit", s(&empty), "-o", &out, "-k", "1"],
        &["line 2, column 2", "empty cell"],
    );
    let inf = write(&dir, "inf.csv", "a,b\ninf,1\n");
    bad(
        &["fit", s(&inf), "-o", &out, "-k", "1"],
        &["line 2, column 1", "not a finite number"],
    );

    // A ragged row.
    let ragged = write(&dir, "ragged.csv", "a,b\n1,2\n3,4,5\n");
    bad(
        &["fit", s(&ragged), "-o", &out],
        &["ragged.csv", "line 3", "3 fields, but the header has 2"],
    );

    // A feature column the model needs is missing; others are ignored.
    let no_b = write(&dir, "no_b.csv", "a,c\n1,2\n");
    bad(
        &["score", s(&model), s(&no_b)],
        &["no_b.csv", "no column named \"b\""],
    );
    // --columns and --label-column name columns that must exist.
    bad(
        &["fit", s(&data), "-o", &out, "--columns", "a,zz"],
        &["no column named \"zz\""],
    );
    bad(
        &["evaluate", s(&model), s(&no_b), "--label-column", "label"],
        &["no column named \"label\""],
    );
    // A label that is not 0 or 1.
    let lab = write(&dir, "lab.csv", "a,b,label\n1,2,0\n3,4,2\n");
    bad(
        &["evaluate", s(&model), s(&lab), "--label-column", "label"],
        &["line 3, column 3", "not 0 (normal) or 1 (anomaly)"],
    );

    // Unknown covariance names, for either family.
    bad(
        &[
            "fit",
            s(&data),
            "-o",
            &out,
            "--covariance",
            "bogus",
            "--columns",
            "a,b",
        ],
        &["bogus", "mclust"],
    );
    bad(
        &[
            "fit",
            s(&data),
            "-o",
            &out,
            "--family",
            "laplace",
            "--covariance",
            "VVV",
            "--columns",
            "a,b",
        ],
        &["Laplace mixtures have diag"],
    );
    // mclust names are accepted.
    ok(&[
        "fit",
        s(&data),
        "-o",
        &out,
        "-k",
        "2",
        "--covariance",
        "eei",
        "--columns",
        "a,b",
    ]);

    // Corrupt model files: truncated JSON, and a valid JSON with a bad field.
    let corrupt = write(
        &dir,
        "corrupt.json",
        "{\"format_version\": 1, \"family\": \"gaussian\", \"weights\": [1.0",
    );
    bad(
        &["score", s(&corrupt), s(&data)],
        &["corrupt.json", "not valid JSON at line 1"],
    );
    let mut doc = json(&std::fs::read_to_string(&model).unwrap());
    doc["weights"][0] = serde_json::json!(-0.5);
    let negative = write(&dir, "neg.json", &doc.to_string());
    bad(&["score", s(&negative), s(&data)], &["neg.json", "weight"]);
    bad(
        &["evaluate", s(&corrupt), s(&data), "--label-column", "label"],
        &["corrupt.json"],
    );
    bad(
        &[
            "fit",
            s(&data),
            "-o",
            &out,
            "--init",
            s(&corrupt),
            "--columns",
            "a,b",
        ],
        &["corrupt.json"],
    );

    // Empty files and header-only files.
    let nothing = write(&dir, "nothing.csv", "");
    bad(&["fit", s(&nothing), "-o", &out], &["nothing.csv", "empty"]);
    let header = write(&dir, "header.csv", "a,b\n");
    bad(&["fit", s(&header), "-o", &out], &["no data rows"]);

    // Out-of-range parameters are the user's to fix.
    bad(
        &[
            "fit",
            s(&data),
            "-o",
            &out,
            "-k",
            "2",
            "--tol",
            "-1",
            "--columns",
            "a,b",
        ],
        &["tol"],
    );
    bad(
        &["fit", s(&data), "-o", &out, "-k", "500", "--columns", "a,b"],
        &["distinct points"],
    );
    // A model of another dimension than the columns read.
    let three = write(&dir, "three.csv", "x,y,z\n1,2,3\n4,5,6\n");
    let nameless = write(
        &dir,
        "nameless.json",
        "{\"format_version\": 1, \"family\": \"gaussian\", \"covariance_type\": \"spherical\", \
         \"weights\": [1.0], \"means\": [[0.0, 0.0]], \"covariances\": [1.0]}",
    );
    bad(
        &["score", s(&nameless), s(&three)],
        &["3 columns", "2 dimensions"],
    );
    let two = write(&dir, "two.csv", "x,y\n1,2\n");
    let scored = ok(&["score", s(&nameless), s(&two)]);
    assert_eq!(scored.lines().count(), 2);
}

#[test]
fn an_output_in_a_missing_directory_is_refused_before_the_fit() {
    let dir = temp_dir("unwritable");
    let data = labelled_csv(&dir);
    let target = dir.join("no-such-dir").join("m.json");
    let o = run(&[
        "fit",
        s(&data),
        "-o",
        s(&target),
        "-k",
        "1",
        "--columns",
        "a,b",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot write"), "{}", stderr(&o));
    assert!(stderr(&o).contains("does not exist"), "{}", stderr(&o));
}

/// `MIXTURES_SIMD` caps the instruction set: an unknown level is refused
/// before any work, and every known level writes the same model, byte for byte.
#[test]
fn mixtures_simd_names_a_level_and_never_changes_the_result() {
    let dir = temp_dir("simd");
    let data = clusters_csv(&dir, 200, 0);
    let fit = |level: &str, out: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_mixtures"))
            .args(["fit", s(&data), "-k", "3", "--seed", "1", "-o"])
            .arg(dir.join(out))
            .env("MIXTURES_SIMD", level)
            .output()
            .unwrap()
    };
    let refused = fit("sse9", "never.json");
    assert_eq!(refused.status.code(), Some(2));
    let err = stderr(&refused);
    assert!(
        err.contains("MIXTURES_SIMD") && err.contains("avx512"),
        "{err}"
    );
    assert!(!dir.join("never.json").exists());
    let mut models = Vec::new();
    for level in ["baseline", "avx2", "avx512"] {
        let out = format!("{level}.json");
        let o = fit(level, &out);
        assert_eq!(o.status.code(), Some(0), "{level}: {}", stderr(&o));
        models.push(std::fs::read(dir.join(&out)).unwrap());
    }
    assert!(
        models.iter().all(|m| m == &models[0]),
        "the levels wrote different models"
    );
}
