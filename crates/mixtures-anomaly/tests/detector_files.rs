//! Detector files: compact by default (indented on request), a bounded
//! summary of the training scores with a tested error bound, older files
//! with every score still read, infinities written as `"inf"`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::{dataset, normal, rng};
use mixtures_anomaly::{AnyDetector, Detector, REFERENCE_QUANTILES, ScoreReference, Threshold};
use mixtures_dist::{Covariances, Gaussian, GaussianMixtureModel, Mixture};
use mixtures_em::GaussianMixture;

/// The exact tail probability, `#{sᵢ >= s} / n`, by counting.
fn exact_tail(scores: &[f64], s: f64) -> f64 {
    scores.iter().filter(|&&v| v >= s).count() as f64 / scores.len() as f64
}

/// Scores with many ties (rounded to 0.01) and a heavy right tail.
fn scores(n: usize, seed: u64) -> Vec<f64> {
    let mut r = rng(seed);
    (0..n)
        .map(|_| {
            let z: f64 = normal(&mut r);
            (z * z * 100.0).round() / 100.0
        })
        .collect()
}

/// Every probe: each distinct score, the points between neighbours, and
/// beyond both ends.
fn probes(s: &[f64]) -> Vec<f64> {
    let mut d = s.to_vec();
    d.sort_by(f64::total_cmp);
    d.dedup();
    let mut p = d.clone();
    p.extend(d.windows(2).map(|w| 0.5 * (w[0] + w[1])));
    p.extend([d[0] - 1.0, d[d.len() - 1] + 1.0]);
    p
}

#[test]
fn a_summary_is_within_its_bound_of_the_exact_tail_probability() {
    for n in [REFERENCE_QUANTILES + 1, 10_000, 123_457] {
        let s = scores(n, n as u64);
        let r = ScoreReference::new(&s).unwrap();
        assert!(!r.is_exact());
        assert_eq!((r.len(), r.sorted_scores().len()), (n, REFERENCE_QUANTILES));
        let bound = r.max_error();
        assert!(bound < 1.0 / 8192.0, "{bound}");
        let mut worst = 0.0f64;
        for p in probes(&s) {
            let err = (r.tail_probability(p) - exact_tail(&s, p)).abs();
            worst = worst.max(err);
            assert!(err <= bound + 1e-15, "n {n}, s {p}: {err} > {bound}");
        }
        // The bound is not loose by orders of magnitude.
        assert!(worst > bound / 10.0, "n {n}: worst {worst}, bound {bound}");
    }
}

#[test]
fn up_to_the_limit_every_score_is_kept_and_exact() {
    let s = scores(REFERENCE_QUANTILES, 5);
    let r = ScoreReference::new(&s).unwrap();
    assert!(r.is_exact());
    assert_eq!(r.max_error(), 0.0);
    for p in probes(&s) {
        assert_eq!(r.tail_probability(p), exact_tail(&s, p));
    }
}

fn unit_model() -> GaussianMixtureModel<f64> {
    let g = Gaussian::new(
        faer::mat![[0.0]],
        Covariances::Full(vec![faer::mat![[1.0]]]),
    )
    .unwrap();
    Mixture::new(vec![1.0], g).unwrap()
}

#[test]
fn files_with_every_score_are_still_read() {
    let text = include_str!("data/detector_every_score.json");
    let d = AnyDetector::<f64>::from_json(text).unwrap();
    let r = d.reference().unwrap();
    assert!(r.is_exact());
    assert_eq!(r.len(), 5);
    assert_eq!(r.tail_probability(1.0), 0.6);
    assert_eq!(r.tail_probability(1.4), 0.4);
    // Written again, it holds the summary (here every score).
    let v: serde_json::Value = serde_json::from_str(&d.to_json()).unwrap();
    assert!(v["threshold"].get("reference_scores").is_none());
    assert_eq!(v["threshold"]["reference"]["n"], 5);

    // An old file with more scores than the summary keeps is summarized on
    // reading, within the same bound.
    let s = scores(20_000, 3);
    let mut v: serde_json::Value = serde_json::from_str(text).unwrap();
    v["threshold"]["reference_scores"] = s.clone().into();
    let d = AnyDetector::<f64>::from_json(&v.to_string()).unwrap();
    let r = d.reference().unwrap();
    assert_eq!(
        (r.len(), r.sorted_scores().len()),
        (20_000, REFERENCE_QUANTILES)
    );
    for p in probes(&s) {
        assert!((r.tail_probability(p) - exact_tail(&s, p)).abs() <= r.max_error() + 1e-15);
    }
}

#[test]
fn the_summary_round_trips_and_infinite_scores_are_inf() {
    let mut s = scores(9_000, 8);
    s.push(f64::INFINITY);
    let d = Detector::from_parts(unit_model(), Threshold::new(3.0, "fixed", []).unwrap())
        .with_reference(ScoreReference::new(&s).unwrap());
    let text = d.to_json();
    assert!(text.contains(r#","inf"]"#), "{}", &text[text.len() - 80..]);
    let back = Detector::<f64, GaussianMixtureModel<f64>>::from_json(&text).unwrap();
    assert_eq!(back, d);
    assert_eq!(
        back.reference().unwrap().sorted_scores().last(),
        Some(&f64::INFINITY)
    );
    // A malformed summary is a typed error naming the field.
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["threshold"]["reference"]["n"] = 3.into();
    let e = AnyDetector::<f64>::from_json(&v.to_string()).unwrap_err();
    assert!(e.to_string().contains("threshold.reference"), "{e}");
}

#[test]
fn files_are_compact_bounded_and_pretty_on_request() {
    // 60 000 training rows: every score would be over a megabyte.
    let mut r = rng(4);
    let rows: Vec<Vec<f64>> = (0..60_000)
        .map(|_| vec![normal(&mut r), 2.0 * normal(&mut r)])
        .collect();
    let d = Detector::params(GaussianMixture::params(2).seed(1))
        .fit(&dataset(&rows))
        .unwrap()
        .detector;
    let compact = d.to_json();
    assert!(!compact.contains('\n'));
    assert!(compact.len() < 100_000, "{} bytes", compact.len());
    let pretty = d.to_json_pretty();
    assert!(pretty.contains("\n  "));
    let a: serde_json::Value = serde_json::from_str(&compact).unwrap();
    let b: serde_json::Value = serde_json::from_str(&pretty).unwrap();
    assert_eq!(a, b);
    let dir = std::env::temp_dir().join(format!("mixtures-detector-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    d.save(dir.join("c.json")).unwrap();
    d.save_pretty(dir.join("p.json")).unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.join("c.json")).unwrap(),
        compact
    );
    assert_eq!(std::fs::read_to_string(dir.join("p.json")).unwrap(), pretty);
    let back = AnyDetector::<f64>::load(dir.join("p.json")).unwrap();
    assert_eq!(back, d.clone().into_any());
    std::fs::remove_dir_all(&dir).unwrap();
}
