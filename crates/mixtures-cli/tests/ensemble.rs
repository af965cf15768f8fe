//! The default detector's file from the command line: an ensemble whose
//! score `score`, `evaluate` and `explain` all use, and which a reader of
//! models sees as its mixture.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;

/// The `anomaly_score`, `log_likelihood` and `is_anomaly` columns of a scored CSV.
fn scored(text: &str) -> Vec<(f64, f64, u8)> {
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| head.iter().position(|h| *h == name).unwrap();
    let (a, l, f) = (
        col("anomaly_score"),
        col("log_likelihood"),
        col("is_anomaly"),
    );
    lines
        .map(|line| {
            let v: Vec<&str> = line.split(',').collect();
            (
                v[a].parse().unwrap(),
                v[l].parse().unwrap(),
                v[f].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn the_default_detector_file_is_an_ensemble_every_command_scores_alike() {
    let dir = temp_dir("ensemble");
    let data = labelled_csv(&dir);
    let det = dir.join("det.json");
    let args = [
        "detect",
        s(&data),
        "-o",
        s(&det),
        "--label-column",
        "label",
        "--columns",
        "a,b",
    ];
    let text = ok(&args);
    assert!(text.contains("ensemble: the mean of 3 scores"), "{text}");
    assert!(text.contains("  mcd: gaussian (1 components)"), "{text}");
    let v = json(&ok(&[&args[..], &["--json"]].concat()));
    let parts: Vec<&str> = v["ensemble"]["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(parts, ["gaussian", "mcd", "mixture"]);

    let file = json(&std::fs::read_to_string(&det).unwrap());
    assert_eq!(file["threshold"]["score"], "ensemble_mean_scaled_score");
    assert_eq!(file["ensemble"]["parts"].as_array().unwrap().len(), 3);
    let threshold = file["threshold"]["value"].as_f64().unwrap();

    // `score`: the ensemble's score, minus it as the log-likelihood, flags
    // at the threshold; the anomalies (the last 4 rows) score highest.
    let out = dir.join("s.csv");
    ok(&["score", s(&det), s(&data), "-o", s(&out)]);
    let rows = scored(&std::fs::read_to_string(&out).unwrap());
    assert_eq!(rows.len(), 124);
    for &(a, l, f) in &rows {
        assert_eq!(a, -l);
        assert_eq!(f, u8::from(a >= threshold));
    }
    let normal_max = rows[..120].iter().map(|r| r.0).fold(f64::MIN, f64::max);
    assert!(rows[120..].iter().all(|r| r.0 > normal_max));

    // A model file of the main part alone scores −ln p of the mixture: other
    // numbers, which the detector's threshold is not about.
    let mut main = file.clone();
    main.as_object_mut().unwrap().remove("ensemble");
    main.as_object_mut().unwrap().remove("threshold");
    let model = write(&dir, "main.json", &main.to_string());
    let out2 = dir.join("s2.csv");
    ok(&["score", s(&model), s(&data), "-o", s(&out2)]);
    let text2 = std::fs::read_to_string(&out2).unwrap();
    let head: Vec<&str> = text2.lines().next().unwrap().split(',').collect();
    let a = head.iter().position(|h| *h == "anomaly_score").unwrap();
    let main_scores: Vec<f64> = text2
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(a).unwrap().parse().unwrap())
        .collect();
    assert!(
        rows.iter()
            .zip(&main_scores)
            .any(|(r, m)| (r.0 - m).abs() > 1e-6)
    );

    // `evaluate` and `explain` judge the same scores.
    let e = json(&ok(&[
        "evaluate",
        s(&det),
        s(&data),
        "--label-column",
        "label",
        "--json",
    ]));
    assert_eq!(e["roc_auc"], 1.0);
    assert_eq!(e["anomalies"], 4);
    let x = json(&ok(&[
        "explain",
        s(&det),
        s(&data),
        "--rows",
        "121,0",
        "--json",
    ]));
    let xr = x["rows"].as_array().unwrap();
    for (r, i) in xr.iter().zip([121, 0]) {
        let got = r["score"].as_f64().unwrap();
        assert!((got - rows[i].0).abs() <= 1e-9 * got.abs().max(1.0));
        assert_eq!(r["is_anomaly"], u64::from(rows[i].2));
    }
}

#[test]
fn mcd_trials_belongs_to_the_mcd() {
    let dir = temp_dir("ensemble-flags");
    let data = labelled_csv(&dir);
    let det = dir.join("det.json");
    let base = ["detect", s(&data), "-o", s(&det), "--columns", "a,b"];
    bad(
        &[&base[..], &["--mcd-trials", "5"]].concat(),
        &["--mcd-trials", "--method"],
    );
    let v = json(&ok(&[
        &base[..],
        &["--method", "mcd", "--mcd-trials", "5", "--json"],
    ]
    .concat()));
    assert_eq!(v["structure"], "mcd");
    bad(
        &[&base[..], &["--method", "mcd", "--mcd-trials", "0"]].concat(),
        &["n_trials"],
    );
}
