//! The `mixtures` binary run on small CSV files: every command, the round trip
//! fit -> score -> evaluate, and every bad-input case (exit code 2 and a
//! message that says where).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh directory for one test.
fn temp_dir(name: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "mixtures-cli-{}-{}-{name}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the binary with `args`.
fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mixtures"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts success and returns stdout.
fn ok(args: &[&str]) -> String {
    let o = run(args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{args:?} failed:\n{}\n{}",
        stdout(&o),
        stderr(&o)
    );
    stdout(&o)
}

/// Asserts exit code 2, a message containing every one of `needles`, and no
/// panic; returns stderr.
fn bad(args: &[&str], needles: &[&str]) -> String {
    let o = run(args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    for n in needles {
        assert!(err.contains(n), "{args:?}: {n:?} not in {err:?}");
    }
    assert!(!err.contains("panicked"), "{err}");
    assert!(!err.contains("RUST_BACKTRACE"), "{err}");
    err
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Two clusters of normal points in (a, b) plus a few far points, with an
/// id column before and a label column between the features.
fn labelled_csv(dir: &Path) -> PathBuf {
    let mut text = String::from("id,a,label,b\n");
    for i in 0..120 {
        let t = i as f64 * 0.37;
        let (a, b) = if i % 2 == 0 {
            (t.sin(), 0.5 * t.cos())
        } else {
            (6.0 + 0.7 * t.cos(), 4.0 + 0.6 * t.sin())
        };
        text.push_str(&format!("r{i},{a},0,{b}\n"));
    }
    for (i, (a, b)) in [(15.0, -9.0), (-8.0, 12.0), (3.0, 20.0), (20.0, 20.0)]
        .iter()
        .enumerate()
    {
        text.push_str(&format!("x{i},{a},1,{b}\n"));
    }
    let p = dir.join("data.csv");
    std::fs::write(&p, text).unwrap();
    p
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

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

/// Asserts that `path` is a PNG image of `size` pixels.
fn assert_png(path: &Path, size: (u32, u32)) {
    let bytes = std::fs::read(path).unwrap();
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{} is not a PNG",
        path.display()
    );
    // The IHDR chunk follows the signature: width and height, big-endian.
    let be = |i: usize| u32::from_be_bytes(bytes[i..i + 4].try_into().unwrap());
    assert_eq!((be(16), be(20)), size, "{}", path.display());
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

/// Rows of (a, b, c) in two clusters, with a `label` column last and no id.
fn label_last_csv(dir: &Path) -> PathBuf {
    let mut text = String::from("a,b,c,label\n");
    for i in 0..80 {
        let t = i as f64 * 0.41;
        let off = if i % 2 == 0 { 0.0 } else { 8.0 };
        text.push_str(&format!(
            "{},{},{},0\n",
            off + t.sin(),
            -off + t.cos(),
            0.5 * (2.0 * t).sin()
        ));
    }
    text.push_str("30,30,30,1\n");
    write(dir, "label_last.csv", &text)
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
    assert!(err.contains("timings: load"), "{err}");
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
fn an_unwritable_output_exits_with_1() {
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
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot write"), "{}", stderr(&o));
}
