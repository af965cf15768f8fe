//! `mixtures export`: a detector as a C header that compiles and flags the
//! rows `mixtures score` flags, the default detector (an ensemble) as Rust
//! and compact JSON, and the refusals (a model that overflows f32, a bad
//! prefix, an output over the input).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::Command;

use common::*;

const DRIVER: &str = r#"
#include <stdio.h>
#include "detector.h"
int main(void)
{
    double x[SENSOR_DIM];
    while (scanf("%lf,%*[^,],%lf", &x[0], &x[1]) == 2) {
        printf("%d %d %.17g\n", sensor_is_anomaly(x), sensor_component(x),
               sensor_anomaly_score(x) + sensor_log_prob(x));
    }
    return 0;
}
"#;

/// The C compiler, or `None` (the reason printed) when there is none;
/// under CI its absence fails.
fn compiler() -> Option<String> {
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_owned());
    if Command::new(&cc)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return Some(cc);
    }
    assert!(
        !std::env::var("CI").is_ok_and(|v| v == "true"),
        "no C compiler ({cc}); CI needs one"
    );
    eprintln!("skipped: no C compiler ({cc})");
    None
}

#[test]
fn a_detector_exported_to_c_flags_what_score_flags() {
    let dir = temp_dir("export-c");
    let data = labelled_csv(&dir);
    let det = dir.join("detector.json");
    ok(&[
        "detect",
        s(&data),
        "-o",
        s(&det),
        "-k",
        "2",
        "--covariance",
        "full",
        "--columns",
        "a,b",
        "--label-column",
        "label",
        "--contamination",
        "0.05",
        "-q",
    ]);
    let header = dir.join("detector.h");
    ok(&[
        "export",
        s(&det),
        "--to",
        "c",
        "--prefix",
        "sensor",
        "--precision",
        "f64",
        "-o",
        s(&header),
        "-q",
    ]);
    let text = std::fs::read_to_string(&header).unwrap();
    for needle in [
        "#define SENSOR_DIM 2",
        "static inline double sensor_log_prob(const double *x)",
        "static inline double sensor_anomaly_score(const double *x)",
        "static inline int sensor_is_anomaly(const double *x)",
        "static inline int sensor_component(const double *x)",
        "#define SENSOR_THRESHOLD",
    ] {
        assert!(text.contains(needle), "{needle} not in the header");
    }
    assert!(!text.contains("malloc") && !text.contains("inf,"));
    // f32 too: `float` throughout.
    let text32 = ok(&["export", s(&det), "--to", "c", "--precision", "f32"]);
    assert!(text32.contains("static inline float mixtures_log_prob(const float *x)"));

    let scores = ok(&["score", s(&det), s(&data), "--keep-columns", "id"]);
    let expected: Vec<(String, String)> = scores
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[4].to_owned(), f[3].to_owned()) // is_anomaly, component
        })
        .collect();
    let Some(cc) = compiler() else { return };
    std::fs::write(dir.join("driver.c"), DRIVER).unwrap();
    let exe = dir.join("driver");
    let out = Command::new(&cc)
        .args(["-std=c99", "-Wall", "-Wextra", "-pedantic", "-Werror", "-o"])
        .arg(&exe)
        .arg(dir.join("driver.c"))
        .arg("-lm")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The data's `a,label,b` columns after the id: the driver skips the label.
    let rows: String = std::fs::read_to_string(&data)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split_once(',').unwrap().1.to_owned() + "\n")
        .collect();
    let input = write(&dir, "rows.txt", &rows);
    let out = Command::new(&exe)
        .stdin(std::fs::File::open(&input).unwrap())
        .output()
        .unwrap();
    let got: Vec<(String, String)> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            // A plain model's log-density is minus its score.
            assert_eq!(f[2].parse::<f64>().unwrap(), 0.0);
            (f[0].to_owned(), f[1].to_owned())
        })
        .collect();
    assert_eq!(got, expected);
    assert!(got.iter().any(|(a, _)| a == "1"));
}

#[test]
fn the_default_detector_exports_as_rust_and_compact_json() {
    let dir = temp_dir("export-ensemble");
    let data = clusters_csv(&dir, 60, 3);
    let det = dir.join("detector.json");
    ok(&[
        "detect",
        s(&data),
        "-o",
        s(&det),
        "--label-column",
        "label",
        "-q",
    ]);
    let rust = ok(&["export", s(&det), "--to", "rust", "--precision", "f32"]);
    for needle in [
        "pub const DIM: usize = 3;",
        "pub const THRESHOLD: f32 =",
        "pub static SCORER: Scorer<'static, f32> = match Scorer::ensemble(&PARTS,",
        "pub const FEATURES: [&str; 3] = [\"a\", \"b\", \"c\"];",
    ] {
        assert!(rust.contains(needle), "{needle} not in:\n{rust}");
    }
    let out = dir.join("arrays.json");
    let summary = ok(&[
        "export",
        s(&det),
        "--to",
        "json-compact",
        "-o",
        s(&out),
        "--json",
    ]);
    assert_eq!(json(&summary)["to"], "json-compact");
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.lines().count(), 1, "compact: one line");
    let doc = json(&text);
    assert_eq!(doc["kind"], "ensemble");
    assert_eq!(doc["format"], "mixtures-score");
    assert_eq!(doc["precision"], "f64");
    assert!(doc["parts"].as_array().unwrap().len() >= 2);
    assert!(doc["threshold"].is_number());
}

#[test]
fn a_model_that_overflows_f32_is_refused_naming_the_parameter() {
    let dir = temp_dir("export-f32");
    let model = write(
        &dir,
        "big.json",
        r#"{"format_version": 1, "family": "gaussian", "covariance_type": "diag",
            "weights": [1.0], "means": [[1e39, 0.0]], "covariances": [[1.0, 1.0]]}"#,
    );
    let out = dir.join("big.h");
    bad(
        &[
            "export",
            s(&model),
            "--to",
            "c",
            "--precision",
            "f32",
            "-o",
            s(&out),
        ],
        &["big.json", "f32", "means"],
    );
    assert!(!out.exists(), "nothing is written");
    // In f64 it fits.
    ok(&["export", s(&model), "--to", "c", "-o", s(&out), "-q"]);
    assert!(std::fs::read_to_string(&out).unwrap().contains("1e39"));
    // A covariance positive definite in f64 whose f32 rounding is singular.
    let near = write(
        &dir,
        "near.json",
        r#"{"format_version": 1, "family": "gaussian", "covariance_type": "full",
            "weights": [1.0], "means": [[0.0, 0.0]],
            "covariances": [[[1.0, 0.9999999999], [0.9999999999, 1.0]]]}"#,
    );
    bad(
        &["export", s(&near), "--to", "rust", "--precision", "f32"],
        &["near.json", "f32", "component 0"],
    );
}

#[test]
fn bad_prefixes_and_outputs_over_the_input_are_refused() {
    let dir = temp_dir("export-bad");
    let data = labelled_csv(&dir);
    let model = dir.join("model.json");
    ok(&[
        "fit",
        s(&data),
        "-o",
        s(&model),
        "-k",
        "2",
        "--columns",
        "a,b",
        "-q",
    ]);
    bad(
        &["export", s(&model), "--to", "c", "--prefix", "9lives"],
        &["--prefix", "9lives"],
    );
    bad(
        &["export", s(&model), "--to", "c", "-o", s(&model)],
        &["is the input"],
    );
    let header = ok(&["export", s(&model), "--to", "c"]);
    assert!(header.contains("#define MIXTURES_DIM 2"));
    assert!(!header.contains("is_anomaly"), "a model has no threshold");
}
