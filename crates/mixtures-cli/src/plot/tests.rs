//! The plots drawn into a temporary directory and read back as SVG text: the
//! bounded scatter, integer ticks, legend entries, the operating point and
//! the notes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use super::*;

/// A fresh directory for one test, removed when the test passes (kept when
/// it fails, to look at).
struct TempDir(PathBuf);

impl std::ops::Deref for TempDir {
    type Target = PathBuf;
    fn deref(&self) -> &PathBuf {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// A fresh directory for one test.
fn temp_dir(name: &str) -> TempDir {
    let dir = std::env::temp_dir().join(format!("mixtures-plot-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    TempDir(dir)
}

fn svg(dir: &Path, stem: &str) -> String {
    std::fs::read_to_string(dir.join(format!("{stem}.svg"))).unwrap()
}

/// The contents of every `<text>` element (plotters writes each on its own
/// line between the tags).
fn texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let body = &t[t.find('>')? + 1..];
            Some(body[..body.find("</text>")?].trim().to_owned())
        })
        .collect()
}

/// Markers drawn as red rings: the flagged points (and one legend sample).
fn red_rings(svg: &str) -> usize {
    svg.matches(r##"r="5" opacity="1" fill="none" stroke="#DC281E""##)
        .count()
}

/// `n` rows in two features: a blob around the origin with every `every`-th
/// row far out and flagged.
fn large(n: usize, every: usize) -> (Vec<(f64, f64)>, Vec<u8>) {
    let mut points = Vec::with_capacity(n);
    let mut flags = Vec::with_capacity(n);
    for i in 0..n {
        let t = i as f64 * 0.618_034;
        let r = (i % 1000) as f64 / 1000.0;
        let far = i % every == every - 1;
        let s = if far { 8.0 + r } else { 2.0 * r };
        points.push((s * t.cos(), s * t.sin()));
        flags.push(u8::from(far));
    }
    (points, flags)
}

#[test]
fn a_scatter_of_300_000_rows_stays_small_and_keeps_every_flagged_point() {
    let (points, flags) = large(300_000, 243);
    let flagged = flags.iter().filter(|&&f| f == 1).count();
    assert_eq!(flagged, 1_234);
    let s = Scatter {
        axes: ("a", "b"),
        points,
        flagged: Some(&flags),
        n_features: 2,
        ..Scatter::default()
    };
    let dir = temp_dir("large");
    scatter(&dir, &s).unwrap();
    let text = svg(&dir, "scatter");
    let bytes = text.len();
    // 20 000 markers at about 100 bytes each.
    assert!(bytes < 3_000_000, "{bytes} bytes");
    // Every flagged point, plus the legend's sample ring.
    assert_eq!(red_rings(&text), flagged + 1);
    let notes = texts(&text);
    assert!(
        notes.iter().any(|t| t
            == "20\u{2009}000 of 300\u{2009}000 points shown (a fixed random sample); \
                all 1\u{2009}234 flagged points kept"),
        "{notes:?}"
    );
    // The same picture as every point drawn would be, for the record: what
    // the bound saves (printed with --nocapture).
    let every = temp_dir("large-every");
    scatter::scatter_bounded(&every, &s, usize::MAX, usize::MAX).unwrap();
    let before = svg(&every, "scatter").len();
    eprintln!("scatter of 300 000 rows: {before} bytes with every point, {bytes} sampled");
    assert!(before > 10 * bytes);
    let png = std::fs::metadata(dir.join("scatter.png")).unwrap().len();
    assert!(png < 1_000_000, "{png}");
}

#[test]
fn flagged_points_beyond_the_bound_are_spread_and_said() {
    let (points, flags) = large(60_000, 2);
    let s = Scatter {
        axes: ("a", "b"),
        points,
        flagged: Some(&flags),
        n_features: 2,
        ..Scatter::default()
    };
    let dir = temp_dir("many-flagged");
    scatter(&dir, &s).unwrap();
    let text = svg(&dir, "scatter");
    assert_eq!(red_rings(&text), sample::MAX_MARKED + 1);
    assert!(
        texts(&text)
            .iter()
            .any(|t| t.contains("15\u{2009}000 of 30\u{2009}000 flagged points shown")),
    );
}

#[test]
fn scatter_legend_names_regions_and_means_and_notes_the_other_features() {
    let flags = [0u8, 1, 0];
    let s = Scatter {
        axes: ("a", "b"),
        points: vec![(0.0, 0.0), (3.0, 3.0), (0.5, -0.5)],
        flagged: Some(&flags),
        outlines: vec![
            vec![(-1.0, 0.0), (0.0, 1.0), (1.0, 0.0), (-1.0, 0.0)],
            vec![(2.0, 0.0), (3.0, 1.0), (4.0, 0.0), (2.0, 0.0)],
        ],
        centres: vec![(0.0, 0.0), (3.0, 0.0)],
        n_features: 5,
        ..Scatter::default()
    };
    let dir = temp_dir("legend");
    scatter(&dir, &s).unwrap();
    let t = texts(&svg(&dir, "scatter"));
    // One legend entry for all outlines, one for the means.
    assert_eq!(
        t.iter().filter(|x| *x == "component 95 % region").count(),
        1
    );
    assert_eq!(t.iter().filter(|x| *x == "component mean").count(), 1);
    assert!(t.contains(&"points are flagged on all 5 features, not only the 2 shown".to_owned()));
    // All points drawn: no sample note.
    assert!(!t.iter().any(|x| x.contains("points shown")));

    // Two features: nothing to say about the others.
    let two = Scatter { n_features: 2, ..s };
    scatter(&dir, &two).unwrap();
    assert!(
        !texts(&svg(&dir, "scatter"))
            .iter()
            .any(|x| x.contains("features, not only"))
    );
}

#[test]
fn iterations_and_k_have_integer_ticks() {
    let dir = temp_dir("ticks");
    lower_bound(&dir, &[100.0, 150.0, 190.0, 200.0]).unwrap();
    let t = texts(&svg(&dir, "lower_bound"));
    for k in ["1", "2", "3", "4"] {
        assert!(t.contains(&k.to_owned()), "{k} not in {t:?}");
    }
    // No fractional iteration, and no tick outside the iterations run.
    assert!(
        !t.iter().any(|x| x.contains(".5") || x == "0" || x == "5"),
        "{t:?}"
    );

    let lines = vec![CriterionLine {
        label: "full".to_owned(),
        points: vec![(1.0, 10.5), (2.0, 9.0), (3.0, 9.5)],
    }];
    criterion(&dir, "bic", &lines, (2.0, 9.0)).unwrap();
    let t = texts(&svg(&dir, "selection"));
    for k in ["1", "2", "3"] {
        assert!(t.contains(&k.to_owned()), "{k} not in {t:?}");
    }
    assert!(
        !t.iter()
            .any(|x| ["1.5", "2.5", "0", "4"].contains(&x.as_str())),
        "{t:?}"
    );
    assert!(t.contains(&"chosen".to_owned()));
}

#[test]
fn the_operating_point_is_marked_on_the_curves() {
    let dir = temp_dir("operating");
    let pts = [(0.0, 0.0), (0.1, 0.8), (1.0, 1.0)];
    let op = OperatingPoint {
        threshold: 2.5,
        at: (0.1, 0.8),
    };
    unit_curve(
        &dir,
        "roc",
        "ROC",
        ("false positive rate", "true positive rate (recall)"),
        &pts,
        true,
        Some(op),
    )
    .unwrap();
    let text = svg(&dir, "roc");
    assert!(texts(&text).contains(&"threshold 2.5: FPR 0.100, TPR 0.800".to_owned()));
    // The marker and its legend sample.
    assert_eq!(
        text.matches(r##"r="7" opacity="1" fill="#DC281E""##)
            .count(),
        1
    );
    unit_curve(&dir, "roc", "ROC", ("x", "y"), &pts, true, None).unwrap();
    assert!(
        !texts(&svg(&dir, "roc"))
            .iter()
            .any(|t| t.starts_with("threshold"))
    );
}

#[test]
fn long_curves_are_thinned() {
    let pts: Vec<(f64, f64)> = (0..=100_000)
        .map(|i| (i as f64 / 100_000.0, (i as f64 / 100_000.0).sqrt()))
        .collect();
    let dir = temp_dir("thin");
    unit_curve(&dir, "roc", "ROC", ("x", "y"), &pts, true, None).unwrap();
    let bytes = svg(&dir, "roc").len();
    assert!(bytes < 200_000, "{bytes}");
}

#[test]
fn long_names_and_large_numbers_fit_their_space() {
    let long = format!("a_feature_with_a_very_long_name_{}", "x".repeat(200));
    let short = fit_text(&long, AXIS_DESC, 400);
    assert!(text_width(&short, AXIS_DESC) <= 400);
    assert!(short.starts_with("a_feature") && short.ends_with("xxx") && short.contains('…'));
    assert_eq!(fit_text("short", AXIS_DESC, 400), "short");

    // The y label area holds the widest tick label of the range and the
    // axis name.
    for range in [
        -2.5e9..3.1e9,
        123_456.0..123_457.0,
        -0.000_12..0.000_31,
        0.0..1.0,
    ] {
        let area = y_label_area(&range);
        for v in [range.start, range.end, 0.5 * (range.start + range.end)] {
            let label = tick(v, &range);
            assert!(label.chars().count() <= 12, "{label}");
            assert!(
                text_width(&label, TICK_LABEL) + AXIS_DESC.1 + 10 < area,
                "{label}"
            );
        }
    }
    // Ticks a tenth of the range apart are told apart.
    let r = 123_456.0..123_457.0;
    assert_ne!(tick(123_456.1, &r), tick(123_456.2, &r));

    // Drawn: the names are shortened, never cut at the picture's edge.
    let s = Scatter {
        axes: (&long, &long),
        points: vec![(-2.5e9, 1e12), (3.1e9, -1e12)],
        n_features: 2,
        ..Scatter::default()
    };
    let dir = temp_dir("long");
    scatter(&dir, &s).unwrap();
    let t = texts(&svg(&dir, "scatter"));
    assert!(!t.iter().any(|x| x.contains(&long)));
    assert!(t.iter().filter(|x| x.contains('…')).count() >= 3, "{t:?}");
}

#[test]
fn counts_are_grouped_and_numbers_are_short() {
    assert_eq!(group(0), "0");
    assert_eq!(group(999), "999");
    assert_eq!(group(1_234), "1\u{2009}234");
    assert_eq!(group(2_000_000), "2\u{2009}000\u{2009}000");
    assert_eq!(number(2.5), "2.5");
    assert_eq!(number(43.587_61), "43.5876");
    assert_eq!(number(1e-300), "1.000e-300");
}

#[test]
fn histogram_ticks_of_few_rows_are_distinct() {
    // One row per bin at most: the count axis spans 0..1.1, and its ticks
    // need a decimal to be told apart.
    let dir = temp_dir("histogram");
    score_histogram(&dir, &[10.0, 15.0, 20.0], None, Some(18.0)).unwrap();
    let t = texts(&svg(&dir, "scores"));
    let counts: Vec<&String> = t
        .iter()
        .filter(|x| x.parse::<f64>().is_ok_and(|v| (0.0..=1.1).contains(&v)))
        .collect();
    assert!(counts.len() >= 3, "{t:?}");
    let mut unique = counts.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), counts.len(), "{t:?}");
    assert!(t.contains(&"threshold 18.000".to_owned()), "{t:?}");
}

#[test]
fn a_range_narrow_for_its_magnitude_is_labelled_from_an_offset() {
    // A log-likelihood that changes in its ninth digit.
    let dir = temp_dir("offset");
    lower_bound(&dir, &[-3.604_900_910_0, -3.604_900_909_9]).unwrap();
    let t = texts(&svg(&dir, "lower_bound"));
    let name = t
        .iter()
        .find(|x| x.starts_with("mean log-likelihood"))
        .unwrap();
    assert!(name.contains("(ticks: offset from -3.604900910"), "{name}");
    let ticks: Vec<&String> = t.iter().filter(|x| x.contains("e-")).collect();
    assert!(ticks.len() >= 3, "{t:?}");
    let mut unique = ticks.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ticks.len(), "{t:?}");
    assert!(ticks.iter().all(|x| x.len() <= 10), "{ticks:?}");
    // An ordinary range has no offset.
    assert_eq!(axis_name("x", &(0.0..5.0)), "x");
}
