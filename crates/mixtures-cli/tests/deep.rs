//! `mixtures deep fit|score` (built with the `deep` feature).
#![cfg(feature = "deep")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{bad, json, labelled_csv, ok, s, temp_dir, write};

/// Fit on the labelled file (the label-1 rows are left out), score it with
/// the id kept, every row in order, and the model directory's files.
#[test]
fn fit_then_score_every_row_in_order() {
    let dir = temp_dir("deep-fit");
    let data = labelled_csv(&dir);
    let model = dir.join("model");
    let out = ok(&[
        "deep",
        "fit",
        s(&data),
        "-o",
        s(&model),
        "--label-column",
        "label",
        "--columns",
        "a,b",
        "--epochs",
        "3",
        "--batch-size",
        "32",
        "--hidden",
        "8",
        "-k",
        "2",
        "--normal-only",
        "--json",
    ]);
    let v = json(&out);
    assert_eq!(v["rows"], 120);
    assert_eq!(v["epochs"], 3);
    for f in [
        "dagmm.json",
        "latent_mixture.json",
        "loss.csv",
        "loss.svg",
        "loss.png",
    ] {
        assert!(model.join(f).is_file(), "{f}");
    }
    let loss = std::fs::read_to_string(model.join("loss.csv")).unwrap();
    assert_eq!(loss.lines().count(), 4, "{loss}");
    assert!(loss.starts_with("epoch,loss,reconstruction,energy,covariance_penalty"));
    // The latent mixture is a plain model file the other commands read.
    let latent = std::fs::read_to_string(model.join("latent_mixture.json")).unwrap();
    assert_eq!(json(&latent)["family"], "gaussian");
    let scores = dir.join("scores.csv");
    ok(&[
        "deep",
        "score",
        s(&model),
        s(&data),
        "-o",
        s(&scores),
        "--keep-columns",
        "id,label",
    ]);
    let text = std::fs::read_to_string(&scores).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "id,label,energy,reconstruction_error,anomaly_score,component"
    );
    assert_eq!(lines.len(), 125);
    assert!(lines[1].starts_with("r0,0,"));
    assert!(lines[124].starts_with("x3,1,"));
    let score = |l: &str| l.split(',').nth(4).unwrap().parse::<f64>().unwrap();
    let worst_normal = lines[1..121]
        .iter()
        .map(|l| score(l))
        .fold(f64::NEG_INFINITY, f64::max);
    let best_far = lines[121..]
        .iter()
        .map(|l| score(l))
        .fold(f64::INFINITY, f64::min);
    assert!(best_far > worst_normal, "{best_far} {worst_normal}");
    // Scoring the model file itself works the same as its directory.
    let again = ok(&["deep", "score", s(&model.join("dagmm.json")), s(&data)]);
    let numbers: Vec<String> = lines
        .iter()
        .map(|l| l.splitn(3, ',').nth(2).unwrap().to_string())
        .collect();
    assert_eq!(again.lines().collect::<Vec<_>>(), numbers);
}

#[test]
fn variants_and_labelled_anomalies() {
    let dir = temp_dir("deep-variants");
    let data = labelled_csv(&dir);
    for (i, extra) in [
        &["--compression", "vae"][..],
        &["--compression", "vqvae", "--codebook-size", "8"],
        &[
            "--mixture",
            "laplace",
            "--inference",
            "energy-and-reconstruction",
        ],
        &["--labelled-anomalies"],
        &[
            "--max-grad-norm",
            "5",
            "--reconstruction",
            "feature-mean",
            "--training",
            "joint",
        ],
    ]
    .iter()
    .enumerate()
    {
        let model = dir.join(format!("m{i}"));
        let mut args = vec![
            "deep",
            "fit",
            s(&data),
            "-o",
            s(&model),
            "--label-column",
            "label",
            "--columns",
            "a,b",
            "--epochs",
            "2",
            "--batch-size",
            "32",
            "--hidden",
            "8",
            "--quiet",
        ];
        args.extend_from_slice(extra);
        ok(&args);
        let out = ok(&["deep", "score", s(&model), s(&data)]);
        assert_eq!(out.lines().count(), 125, "{extra:?}");
        if extra.contains(&"--max-grad-norm") {
            let saved = std::fs::read_to_string(model.join("dagmm.json")).unwrap();
            for field in [
                "\"max_grad_norm\":5.0",
                "\"reconstruction\":\"feature_mean\"",
                "\"decoupled\":false",
            ] {
                assert!(saved.contains(field), "{field} not in dagmm.json");
            }
        }
    }
}

#[test]
fn bad_settings_files_and_outputs_are_refused() {
    let dir = temp_dir("deep-bad");
    let data = labelled_csv(&dir);
    let m = dir.join("m");
    bad(
        &["deep", "fit", s(&data), "-o", s(&m), "--latent-dim", "0"],
        &["latent dimension"],
    );
    bad(
        &["deep", "fit", s(&data), "-o", s(&m), "-k", "0"],
        &["components"],
    );
    bad(
        &["deep", "fit", s(&data), "-o", s(&m), "--dropout", "1"],
        &["dropout"],
    );
    bad(
        &["deep", "fit", s(&data), "-o", s(&m), "--max-grad-norm", "0"],
        &["max_grad_norm"],
    );
    bad(
        &["deep", "fit", s(&data), "-o", s(&m), "--max-grad-norm", "x"],
        &["none"],
    );
    bad(
        &["deep", "fit", s(&data), "-o", s(&m), "--normal-only"],
        &["--label-column"],
    );
    bad(
        &["deep", "fit", s(&data), "-o", s(&m), "--labelled-anomalies"],
        &["--label-column"],
    );
    bad(
        &["deep", "fit", s(&data), "-o", s(&m), "--device", "tpu"],
        &["device"],
    );
    bad(&["deep", "fit", s(&data), "-o", s(&data)], &["input"]);
    let text = write(&dir, "text.csv", "a,b\n1,x\n");
    bad(&["deep", "fit", s(&text), "-o", s(&m)], &["text.csv"]);
    // A trained model, then files that are not DAGMM models.
    ok(&[
        "deep",
        "fit",
        s(&data),
        "-o",
        s(&m),
        "--label-column",
        "label",
        "--columns",
        "a,b",
        "--epochs",
        "1",
        "--quiet",
    ]);
    bad(
        &["deep", "score", s(&m.join("loss.csv")), s(&data)],
        &["loss.csv"],
    );
    bad(
        &["deep", "score", s(&m.join("latent_mixture.json")), s(&data)],
        &["dagmm"],
    );
    bad(
        &["deep", "score", s(&dir.join("none")), s(&data)],
        &["none"],
    );
    let narrow = write(&dir, "narrow.csv", "a\n1\n");
    bad(&["deep", "score", s(&m), s(&narrow)], &["narrow.csv"]);
    bad(
        &["deep", "score", s(&m), s(&data), "-o", s(&data)],
        &["input"],
    );
    // A bad cell in the scored file names it; the output is not written.
    let cell = write(&dir, "cell.csv", "id,a,label,b\nr,1,0,2\nq,1,0,zz\n");
    let out = dir.join("out.csv");
    bad(
        &["deep", "score", s(&m), s(&cell), "-o", s(&out)],
        &["cell.csv"],
    );
    assert!(!out.exists());
}
