//! `mixtures detect --method mcd`: the minimum covariance determinant as the
//! detector's model.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;

#[test]
fn detect_with_the_minimum_covariance_determinant() {
    let dir = temp_dir("mcd");
    // A correlated cloud and a few rows off its axis.
    let mut text = String::from("a,b\n");
    for i in 0..400 {
        let t = i as f64 * 0.618_033_988_749_895;
        let (u, v) = ((t * 7.1).sin(), (t * 3.3).cos());
        text.push_str(&format!("{},{}\n", u * 3.0, u * 3.0 + 0.3 * v));
    }
    for i in 0..8 {
        let s = 1.0 + 0.1 * i as f64;
        text.push_str(&format!("{s},{}\n", -s));
    }
    let data = write(&dir, "d.csv", &text);
    let det = dir.join("det.json");
    let out = ok(&[
        "detect",
        s(&data),
        "-o",
        s(&det),
        "--method",
        "mcd",
        "--contamination",
        "0.02",
    ]);
    assert!(out.contains("gaussian mcd, 1 component"), "{out}");
    let scored = ok(&["score", s(&det), s(&data)]);
    let flags: Vec<&str> = scored
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap())
        .collect();
    assert!(
        flags[400..].iter().all(|&f| f == "1"),
        "{:?}",
        &flags[400..]
    );
    // EM settings do not apply; the support fraction is checked.
    bad(
        &[
            "detect",
            s(&data),
            "-o",
            s(&det),
            "--method",
            "mcd",
            "-k",
            "2",
        ],
        &["--components", "--method mcd"],
    );
    bad(
        &[
            "detect",
            s(&data),
            "-o",
            s(&det),
            "--method",
            "mcd",
            "--support-fraction",
            "0.3",
        ],
        &["support_fraction"],
    );
    bad(
        &[
            "detect",
            s(&data),
            "-o",
            s(&det),
            "--support-fraction",
            "0.8",
        ],
        &["--method"],
    );
    let mixture = ["--method", "mixture", "--support-fraction", "0.8"];
    let mut args = vec!["detect", s(&data), "-o", s(&det)];
    args.extend(mixture);
    bad(&args, &["--method mcd"]);
}
