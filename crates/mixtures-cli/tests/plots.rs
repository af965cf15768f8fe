//! The plots the binary writes, read back as SVG text: the bounded scatter
//! with its note, the legend entries, the operating point on the curves,
//! integer ticks, and the note that flags come from every feature.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;

use common::{clusters_csv, ok, s, temp_dir};

/// The contents of every `<text>` element of `dir/stem.svg`.
fn texts(dir: &Path, stem: &str) -> Vec<String> {
    let svg = std::fs::read_to_string(dir.join(format!("{stem}.svg"))).unwrap();
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let body = &t[t.find('>')? + 1..];
            Some(body[..body.find("</text>")?].trim().to_owned())
        })
        .collect()
}

fn has(texts: &[String], pred: impl Fn(&str) -> bool) -> bool {
    texts.iter().any(|t| pred(t))
}

#[test]
fn detect_plots_carry_legends_the_operating_point_and_the_feature_note() {
    let dir = temp_dir("detect-plots");
    let data = clusters_csv(&dir, 80, 4);
    let plots = dir.join("plots");
    ok(&[
        "detect",
        s(&data),
        "-o",
        s(&dir.join("det.json")),
        "-k",
        "3",
        "--label-column",
        "label",
        "--contamination",
        "0.02",
        "--plot",
        s(&plots),
        "-q",
    ]);
    let scatter = texts(&plots, "scatter");
    for entry in [
        "component 95 % region",
        "component mean",
        "flagged (score &gt;= threshold)",
    ] {
        assert!(scatter.contains(&entry.to_owned()), "{entry}: {scatter:?}");
    }
    assert!(
        scatter.contains(&"points are flagged on all 3 features, not only the 2 shown".to_owned())
    );
    // 244 rows: all drawn, no sample note.
    assert!(!has(&scatter, |t| t.contains("points shown")));
    let roc = texts(&plots, "roc");
    assert!(
        has(&roc, |t| t.starts_with("threshold ")
            && t.contains(": FPR ")
            && t.contains(", TPR ")),
        "{roc:?}"
    );
    let pr = texts(&plots, "precision_recall");
    assert!(
        has(&pr, |t| t.starts_with("threshold ")
            && t.contains(": recall ")
            && t.contains(", precision ")),
        "{pr:?}"
    );
}

#[test]
fn fit_and_select_plots_have_integer_ticks() {
    let dir = temp_dir("ticks");
    let data = clusters_csv(&dir, 40, 0);
    let plots = dir.join("plots");
    ok(&[
        "fit",
        s(&data),
        "-o",
        s(&dir.join("m.json")),
        "-k",
        "3",
        "--plot",
        s(&plots),
        "-q",
    ]);
    let t = texts(&plots, "lower_bound");
    assert!(t.contains(&"1".to_owned()), "{t:?}");
    // Iteration ticks are whole numbers: none is written with a fraction
    // between 0 and the iterations run (the y ticks are log-likelihoods,
    // below zero here, or differences from an offset in scientific
    // notation, signed).
    assert!(
        !has(&t, |x| !x.contains('e')
            && !x.starts_with('+')
            && x.parse::<f64>()
                .is_ok_and(|v| v > 0.0 && v.fract() != 0.0 && v < 100.0)),
        "{t:?}"
    );
    ok(&[
        "select",
        s(&data),
        "-k",
        "1..4",
        "--covariance",
        "diag",
        "--plot",
        s(&plots),
        "-q",
    ]);
    let t = texts(&plots, "selection");
    for k in ["1", "2", "3", "4"] {
        assert!(t.contains(&k.to_owned()), "{k}: {t:?}");
    }
    assert!(
        !has(&t, |x| ["0.5", "1.5", "2.5", "3.5"].contains(&x)),
        "{t:?}"
    );
}

#[test]
fn a_large_file_gives_a_bounded_scatter_with_every_flagged_point() {
    // 30 000 rows: more than the 20 000 points a scatter draws.
    let dir = temp_dir("large");
    let data = clusters_csv(&dir, 10_000, 0);
    let plots = dir.join("plots");
    ok(&[
        "detect",
        s(&data),
        "-o",
        s(&dir.join("det.json")),
        "-k",
        "3",
        "--covariance",
        "diag",
        "--contamination",
        "0.01",
        "--plot",
        s(&plots),
        "-q",
    ]);
    let t = texts(&plots, "scatter");
    let note = t
        .iter()
        .find(|x| x.contains("points shown"))
        .unwrap_or_else(|| panic!("{t:?}"));
    assert!(
        note.starts_with("20\u{2009}000 of 30\u{2009}000 points shown"),
        "{note}"
    );
    assert!(note.contains("flagged points kept"), "{note}");
    let size = std::fs::metadata(plots.join("scatter.svg")).unwrap().len();
    assert!(size < 3_000_000, "{size}");
}
