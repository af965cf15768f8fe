//! `--noise`, `--noise-volume` and `--trim` on `fit` and `detect`, and the
//! Student-t family from the command line: what they write, and the flags
//! and values they refuse.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;

/// 300 rows around the origin, then 30 spread over a wide square.
fn contaminated(dir: &std::path::Path) -> std::path::PathBuf {
    let mut text = String::from("a,b\n");
    for i in 0..300 {
        let t = i as f64 * 0.618_033_988_749_895;
        text.push_str(&format!("{},{}\n", (t * 7.1).sin(), (t * 3.3).cos()));
    }
    for i in 0..30 {
        let t = i as f64 * 0.754_877_666_246_692_7;
        text.push_str(&format!(
            "{},{}\n",
            40.0 * (t.fract() - 0.5),
            40.0 * ((2.0 * t).fract() - 0.5)
        ));
    }
    write(dir, "d.csv", &text)
}

#[test]
fn fit_with_noise_writes_it_and_score_labels_it() {
    let dir = temp_dir("robust_noise");
    let data = contaminated(&dir);
    let model = dir.join("m.json");
    let out = ok(&["fit", s(&data), "-o", s(&model), "-k", "1", "--noise"]);
    assert!(out.contains("and uniform noise of weight"), "{out}");
    let m = json(&std::fs::read_to_string(&model).unwrap());
    let w = m["noise"]["weight"].as_f64().unwrap();
    assert!(w > 0.05 && w < 0.12, "{w}");
    assert_eq!(m["noise"]["lower"].as_array().unwrap().len(), 2);
    let scored = ok(&["score", s(&model), s(&data)]);
    let labels: Vec<&str> = scored
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap())
        .collect();
    // Component 0 for the cloud, 1 (one past the last) for the noise.
    assert!(labels[..300].iter().all(|l| *l == "0"));
    assert!(labels[300..].iter().filter(|l| **l == "1").count() >= 25);
    let out = ok(&[
        "fit",
        s(&data),
        "-o",
        s(&model),
        "-k",
        "1",
        "--noise-volume",
        "5000",
        "--json",
    ]);
    assert!(
        json(&out)["n_parameters"].as_u64() == Some(2 + 3 + 1),
        "{out}"
    );
}

#[test]
fn fit_with_trim_and_the_student_t_family() {
    let dir = temp_dir("robust_trim");
    let data = contaminated(&dir);
    let model = dir.join("m.json");
    let out = ok(&["fit", s(&data), "-o", s(&model), "-k", "1", "--trim", "0.1"]);
    assert!(out.contains("weight kept, 297 of 330"), "{out}");
    let m = json(&std::fs::read_to_string(&model).unwrap());
    // The trimmed variance is that of the cloud (about 1/2), not of the
    // square's spread.
    let v = m["covariances"][0][0][0].as_f64().unwrap();
    assert!(v < 1.0, "{v}");
    let out = ok(&[
        "fit",
        s(&data),
        "-o",
        s(&model),
        "-k",
        "1",
        "--family",
        "student-t",
    ]);
    assert!(out.contains("student-t full, 1 component"), "{out}");
    let m = json(&std::fs::read_to_string(&model).unwrap());
    assert!(m["degrees_of_freedom"][0].as_f64().unwrap() < 10.0, "{m}");
    // The grid takes them for every cell.
    let out = ok(&[
        "select",
        s(&data),
        "-k",
        "1..2",
        "--family",
        "student-t",
        "--covariance",
        "full,diag",
        "--noise",
        "--trim",
        "0.05",
        "-o",
        s(&model),
    ]);
    assert!(out.contains("student-t"), "{out}");
    let m = json(&std::fs::read_to_string(&model).unwrap());
    assert!(m["noise"]["weight"].as_f64().unwrap() > 0.0, "{m}");
}

#[test]
fn bad_robust_flags_are_refused() {
    let dir = temp_dir("robust_bad");
    let data = contaminated(&dir);
    let model = dir.join("m.json");
    let fit = |extra: &[&str], needles: &[&str]| {
        let mut args = vec!["fit", s(&data), "-o", s(&model), "-k", "1"];
        args.extend_from_slice(extra);
        bad(&args, needles);
    };
    fit(&["--trim", "0.5"], &["trim", "[0, 0.5)"]);
    fit(&["--trim", "-0.1"], &["trim"]);
    fit(&["--trim", "nan"], &["trim"]);
    fit(
        &["--noise-volume", "0"],
        &["noise_volume", "positive and finite"],
    );
    fit(&["--noise-volume", "inf"], &["noise_volume"]);
    // The default detector and the MCD set their own model.
    for extra in [["--trim", "0.1"], ["--noise-volume", "10"]] {
        let mut args = vec!["detect", s(&data), "-o", s(&model)];
        args.extend_from_slice(&extra);
        bad(&args, &[extra[0]]);
        args.extend_from_slice(&["--method", "mcd"]);
        bad(&args, &[extra[0]]);
    }
    bad(
        &["detect", s(&data), "-o", s(&model), "--noise"],
        &["--noise"],
    );
    // A warm start keeps its own noise component.
    ok(&["fit", s(&data), "-o", s(&model), "-k", "1"]);
    let again = dir.join("m2.json");
    bad(
        &[
            "fit",
            s(&data),
            "-o",
            s(&again),
            "--init",
            s(&model),
            "--noise",
        ],
        &["--noise does nothing with --init"],
    );
    // The variational fit takes neither.
    bad(
        &[
            "fit",
            s(&data),
            "-o",
            s(&again),
            "--variational",
            "--trim",
            "0.1",
        ],
        &["trim"],
    );
}
