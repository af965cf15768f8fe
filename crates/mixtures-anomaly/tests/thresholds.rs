//! Threshold rules: known values, exactness of BestF against a brute-force
//! search (proptest), label-based targets, positive-unlabelled learning, MAD,
//! peaks over threshold, and the typed errors of bad input.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::{normal, rng};
use mixtures_anomaly::{
    AnomalyError, BestF, ConfusionMatrix, Contamination, Fixed, Mad, PeaksOverThreshold,
    PositiveUnlabeled, ScoreSet, TargetPrecision, TargetRecall, Threshold, ThresholdRule,
};
use proptest::prelude::*;
use rand::Rng;

fn fit<R: ThresholdRule<f64>>(rule: &R, s: &[f64]) -> Result<f64, AnomalyError> {
    Threshold::fit(rule, &ScoreSet::new(s)?).map(|t| t.value())
}

fn fit_labelled<R: ThresholdRule<f64>>(rule: &R, s: &[f64], y: &[u8]) -> Result<f64, AnomalyError> {
    Threshold::fit(rule, &ScoreSet::labelled(s, y)?).map(|t| t.value())
}

#[test]
fn contamination_is_numpys_linear_quantile() {
    // numpy.percentile(1..=100, 95) = 95.05.
    let s: Vec<f64> = (1..=100).map(f64::from).collect();
    let t = fit(&Contamination(0.05), &s).unwrap();
    assert!((t - 95.05).abs() < 1e-12, "{t}");
    let th = Threshold::fit(&Contamination(0.05), &ScoreSet::new(&s).unwrap()).unwrap();
    assert_eq!(th.predict(&s).iter().filter(|&&f| f == 1).count(), 5);
    assert_eq!(th.rule(), "contamination");
    assert_eq!(th.parameters()["q"], 0.05);
    // q = 0.5 is the median; on a point it is that point (flagged, >=).
    assert_eq!(fit(&Contamination(0.5), &[3.0, 1.0, 2.0]).unwrap(), 2.0);
    // One score: the threshold is that score.
    assert_eq!(fit(&Contamination(0.1), &[7.0]).unwrap(), 7.0);
    // The same in f32.
    let s32: Vec<f32> = s.iter().map(|&v| v as f32).collect();
    let t32 = Threshold::fit(&Contamination(0.05), &ScoreSet::new(&s32).unwrap()).unwrap();
    assert!((f64::from(t32.value()) - 95.05).abs() < 1e-5);
}

#[test]
fn contamination_outside_its_range_is_refused() {
    let s = [1.0, 2.0, 3.0];
    for q in [0.0, -0.1, 0.51, 1.0, f64::NAN, f64::INFINITY] {
        match fit(&Contamination(q), &s) {
            Err(AnomalyError::InvalidParameter { name, .. }) => assert_eq!(name, "contamination"),
            other => panic!("q = {q}: {other:?}"),
        }
    }
    assert!(fit(&Contamination(0.5), &s).is_ok());
}

#[test]
fn fixed_is_the_value() {
    assert_eq!(fit(&Fixed(2.5), &[1.0]).unwrap(), 2.5);
    assert!(matches!(
        fit(&Fixed(f64::NAN), &[1.0]),
        Err(AnomalyError::InvalidParameter { .. })
    ));
    assert!(matches!(
        fit(&Fixed(f64::INFINITY), &[1.0]),
        Err(AnomalyError::InvalidParameter { .. })
    ));
}

#[test]
fn bad_scores_and_labels_are_typed_errors() {
    assert_eq!(
        ScoreSet::<f64>::new(&[]).unwrap_err(),
        AnomalyError::NoScores
    );
    assert_eq!(
        ScoreSet::new(&[1.0, f64::NAN]).unwrap_err(),
        AnomalyError::NanScore { index: 1 }
    );
    assert_eq!(
        ScoreSet::labelled(&[1.0, 2.0], &[0, 1, 1]).unwrap_err(),
        AnomalyError::LabelsLength {
            expected: 2,
            found: 3
        }
    );
    match ScoreSet::labelled(&[1.0, 2.0], &[0, 2]).unwrap_err() {
        AnomalyError::InvalidLabel { what, index, value } => {
            assert_eq!((what, index, value.as_str()), ("labels", 1, "2"));
        }
        e => panic!("{e:?}"),
    }
    assert!(ScoreSet::labelled(&[1.0, 2.0], &[0.0, 0.5]).is_err());
    assert!(ScoreSet::labelled(&[1.0, 2.0], &[false, true]).is_ok());
    assert!(ScoreSet::labelled(&[1.0, 2.0], &[-1i32, 1]).is_err());
    // Infinite scores rank, but a quantile of them is refused.
    let s = [1.0, f64::INFINITY];
    assert!(matches!(
        fit(&Contamination(0.1), &s),
        Err(AnomalyError::NonFiniteScore { index: 1, .. })
    ));
    // Label rules need labels, and an anomaly among them.
    assert!(matches!(
        fit(&BestF::f1(), &[1.0, 2.0]),
        Err(AnomalyError::LabelsRequired { .. })
    ));
    for rule in [
        &BestF::f1() as &dyn ThresholdRule<f64>,
        &TargetPrecision(0.9),
        &TargetRecall(0.9),
        &PositiveUnlabeled::new(),
    ] {
        let e = Threshold::fit(
            rule,
            &ScoreSet::labelled(&[1.0, 2.0, 3.0], &[0, 0, 0]).unwrap(),
        )
        .unwrap_err();
        assert!(
            matches!(e, AnomalyError::NoAnomalies { .. }),
            "{}: {e:?}",
            rule.name()
        );
        assert!(e.to_string().contains("no anomaly"), "{e}");
    }
    assert!(matches!(
        fit_labelled(&BestF { beta: 0.0 }, &[1.0], &[1]),
        Err(AnomalyError::InvalidParameter { name: "beta", .. })
    ));
    assert!(matches!(
        fit_labelled(&TargetPrecision(1.5), &[1.0], &[1]),
        Err(AnomalyError::InvalidParameter { .. })
    ));
    assert!(matches!(
        fit_labelled(&TargetRecall(0.0), &[1.0], &[1]),
        Err(AnomalyError::InvalidParameter { .. })
    ));
}

#[test]
fn best_f_keeps_tied_scores_together() {
    // Splitting the tie at 5.0 would separate the anomaly from the normal point;
    // the threshold cannot, so it flags both (F1 = 2·2/(2·2+1) = 0.8) or
    // neither of them (F1 of {9} alone = 2/3).
    let s = [1.0, 5.0, 5.0, 9.0];
    let y = [0, 0, 1, 1];
    let t = fit_labelled(&BestF::f1(), &s, &y).unwrap();
    assert_eq!(t, 5.0);
    let cm = ConfusionMatrix::at_threshold(&s, &y, t).unwrap();
    assert!((cm.f1() - 0.8).abs() < 1e-15);
    // With beta = 0.5 precision matters more: {9} alone (F = 1) wins.
    assert_eq!(fit_labelled(&BestF { beta: 0.5 }, &s, &y).unwrap(), 9.0);
}

/// The best F-beta threshold by trying every distinct score and recounting the
/// confusion matrix from scratch (O(n²)); ties in F go to the highest threshold.
fn brute_force(s: &[f64], y: &[u8], beta: f64) -> (f64, f64) {
    let mut distinct = s.to_vec();
    distinct.sort_by(|a, b| b.total_cmp(a));
    distinct.dedup();
    let mut best = (f64::NAN, f64::NEG_INFINITY);
    for &t in &distinct {
        let f = ConfusionMatrix::at_threshold(s, y, t).unwrap().f_beta(beta);
        if f > best.1 {
            best = (t, f);
        }
    }
    best
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn best_f_equals_brute_force(
        raw in prop::collection::vec((0u8..12, prop::bool::weighted(0.25)), 1..120),
        beta in prop::sample::select(vec![0.5, 1.0, 2.0, 0.1, 3.7]),
        spread in prop::bool::ANY,
    ) {
        // Coarse values give many ties; `spread` mixes in a continuous part.
        let s: Vec<f64> = raw.iter().enumerate()
            .map(|(i, &(v, _))| f64::from(v) * 0.25 + if spread { i as f64 * 1e-3 } else { 0.0 })
            .collect();
        let mut y: Vec<u8> = raw.iter().map(|&(_, a)| u8::from(a)).collect();
        y[0] = 1; // at least one anomaly
        let t = fit_labelled(&BestF { beta }, &s, &y).unwrap();
        let (bt, bf) = brute_force(&s, &y, beta);
        prop_assert_eq!(t, bt);
        let f = ConfusionMatrix::at_threshold(&s, &y, t).unwrap().f_beta(beta);
        prop_assert_eq!(f, bf);
    }

    #[test]
    fn targets_are_the_extreme_thresholds_that_reach_them(
        raw in prop::collection::vec((0u8..10, prop::bool::weighted(0.3)), 2..80),
        target in 0.05f64..1.0,
    ) {
        let s: Vec<f64> = raw.iter().map(|&(v, _)| f64::from(v)).collect();
        let mut y: Vec<u8> = raw.iter().map(|&(_, a)| u8::from(a)).collect();
        y[0] = 1;
        let mut distinct = s.clone();
        distinct.sort_by(f64::total_cmp);
        distinct.dedup();
        let cm = |t: f64| ConfusionMatrix::at_threshold(&s, &y, t).unwrap();
        // Recall: the highest threshold reaching the target.
        let tr = fit_labelled(&TargetRecall(target), &s, &y).unwrap();
        let want = distinct.iter().rev().find(|&&t| cm(t).recall() >= target).copied();
        prop_assert_eq!(Some(tr), want);
        // Precision: the lowest threshold reaching it, or an error.
        let want = distinct.iter().find(|&&t| cm(t).precision() >= target).copied();
        match fit_labelled(&TargetPrecision(target), &s, &y) {
            Ok(tp) => prop_assert_eq!(Some(tp), want),
            Err(AnomalyError::TargetUnreachable { best, .. }) => {
                prop_assert!(want.is_none());
                prop_assert!(best < target);
            }
            Err(e) => prop_assert!(false, "{e:?}"),
        }
    }
}

#[test]
fn target_precision_and_recall_on_a_small_case() {
    let s = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6];
    let y = [0, 1, 0, 1, 0, 1];
    // Flag >= 0.6: precision 1, recall 1/3. >= 0.4: 2/3, 2/3. >= 0.2: 3/5, 1.
    assert_eq!(fit_labelled(&TargetPrecision(1.0), &s, &y).unwrap(), 0.6);
    assert_eq!(fit_labelled(&TargetPrecision(0.6), &s, &y).unwrap(), 0.2);
    assert_eq!(fit_labelled(&TargetRecall(0.5), &s, &y).unwrap(), 0.4);
    assert_eq!(fit_labelled(&TargetRecall(1.0), &s, &y).unwrap(), 0.2);
    // The best anomaly scores lowest: precision 1 is out of reach.
    let e = fit_labelled(&TargetPrecision(1.0), &[1.0, 2.0], &[1, 0]).unwrap_err();
    assert_eq!(
        e,
        AnomalyError::TargetUnreachable {
            metric: "precision",
            target: 1.0,
            best: 0.5
        }
    );
}

/// Normal scores N(0, 1), anomalies N(4, 1) at `prior`; a fraction `c` of the
/// anomalies is labelled. Returns the scores, the labels and which points
/// are anomalies.
fn pu_data(seed: u64, n: usize, prior: f64, c: f64) -> (Vec<f64>, Vec<u8>, Vec<bool>) {
    let mut r = rng(seed);
    let mut s = Vec::with_capacity(n);
    let mut y = Vec::with_capacity(n);
    let mut truth = Vec::with_capacity(n);
    for _ in 0..n {
        let anomaly = r.random::<f64>() < prior;
        s.push(normal(&mut r) + if anomaly { 4.0 } else { 0.0 });
        y.push(u8::from(anomaly && r.random::<f64>() < c));
        truth.push(anomaly);
    }
    (s, y, truth)
}

#[test]
fn positive_unlabeled_fits_the_logistic_model_by_maximum_likelihood() {
    let (s, y, _) = pu_data(11, 20_000, 0.1, 0.3);
    let est = PositiveUnlabeled::new()
        .estimate(&ScoreSet::labelled(&s, &y).unwrap())
        .unwrap();
    // The score equations of the penalized logistic likelihood: Σ (y − g) = 0
    // and Σ (y − g) s = λ sd² b, where the ridge λ = 1e-6 n acts on the slope
    // of the standardized scores (sd b).
    let g: Vec<f64> = s
        .iter()
        .map(|&v| 1.0 / (1.0 + (-(est.intercept + est.slope * v)).exp()))
        .collect();
    let r0: f64 = y.iter().zip(&g).map(|(&l, g)| f64::from(l) - g).sum();
    let r1: f64 = y
        .iter()
        .zip(&g)
        .zip(&s)
        .map(|((&l, g), v)| (f64::from(l) - g) * v)
        .sum();
    let n = s.len() as f64;
    let mean = s.iter().sum::<f64>() / n;
    let var = s.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    let ridge_term = 1e-6 * n * var * est.slope;
    assert!(
        r0.abs() < 1e-5 && (r1 - ridge_term).abs() < 1e-5,
        "{r0} {r1} {ridge_term}"
    );
    assert!(est.slope > 0.0 && est.iterations < 30, "{est:?}");
    // c = mean of g over the labelled points; the threshold solves g = c/2.
    let n_lab = y.iter().filter(|&&l| l == 1).count() as f64;
    let c: f64 = g
        .iter()
        .zip(&y)
        .filter(|&(_, &l)| l == 1)
        .map(|(g, _)| g)
        .sum::<f64>()
        / n_lab;
    assert!((c - est.c).abs() < 1e-12);
    let g_t = 1.0 / (1.0 + (-(est.intercept + est.slope * est.threshold)).exp());
    assert!((g_t - c / 2.0).abs() < 1e-9);
    // Elkan and Noto's estimate of c is biased low when the classes overlap
    // (the logistic g cannot level off at c): scikit-learn's unpenalized
    // LogisticRegression on 200 000 such points gives c ≈ 0.25 and a
    // threshold ≈ 3.44 (the Bayes boundary is 2 + ln 9 / 4 = 2.55;
    // tests/reference/make_pu_reference.py at the workspace root).
    assert!((est.c - 0.25).abs() < 0.03, "{est:?}");
    assert!((est.threshold - 3.44).abs() < 0.25, "{est:?}");
    assert_eq!(
        fit_labelled(&PositiveUnlabeled::new(), &s, &y).unwrap(),
        est.threshold
    );
    // The same in f32.
    let s32: Vec<f32> = s.iter().map(|&v| v as f32).collect();
    let e32 = PositiveUnlabeled::new()
        .estimate(&ScoreSet::labelled(&s32, &y).unwrap())
        .unwrap();
    assert!((e32.threshold - est.threshold).abs() < 1e-4);
}

#[test]
fn positive_unlabeled_handles_separation_and_refuses_reversed_scores() {
    // Every labelled anomaly above every unlabelled point: the plain
    // likelihood has no maximum, the ridge keeps the fit finite.
    let mut s: Vec<f64> = (0..100).map(|i| f64::from(i) * 0.01).collect();
    let mut y = vec![0u8; 100];
    s.extend([5.0, 5.5, 6.0]);
    y.extend([1, 1, 1]);
    let est = PositiveUnlabeled::new()
        .estimate(&ScoreSet::labelled(&s, &y).unwrap())
        .unwrap();
    assert!(
        est.threshold.is_finite() && est.threshold > 0.99 && est.threshold < 5.0,
        "{est:?}"
    );
    assert!(est.c > 0.9, "{est:?}");
    // Labelled anomalies scoring lowest: no sensible threshold.
    let rev: Vec<f64> = s.iter().map(|v| -v).collect();
    let e = fit_labelled(&PositiveUnlabeled::new(), &rev, &y).unwrap_err();
    assert!(matches!(e, AnomalyError::NoThreshold { .. }), "{e:?}");
    // Everything labelled, or all scores equal.
    assert!(matches!(
        fit_labelled(&PositiveUnlabeled::new(), &[1.0, 2.0], &[1, 1]),
        Err(AnomalyError::NoNormals { .. })
    ));
    assert!(matches!(
        fit_labelled(&PositiveUnlabeled::new(), &[1.0, 1.0, 1.0], &[1, 0, 0]),
        Err(AnomalyError::NoThreshold { .. })
    ));
}

#[test]
fn mad_is_median_plus_k_raw_mads() {
    // Median 3; |s − 3| = [2, 1, 0, 1, 97], median 1.
    let s = [1.0, 2.0, 3.0, 4.0, 100.0];
    assert_eq!(fit(&Mad(3.0), &s).unwrap(), 6.0);
    assert_eq!(fit(&Mad(0.0), &s).unwrap(), 3.0);
    // Even count: medians average the middle pair. Median 2.5; deviations
    // [1.5, 0.5, 0.5, 1.5], MAD 1.
    assert_eq!(fit(&Mad(2.0), &[1.0, 2.0, 3.0, 4.0]).unwrap(), 4.5);
    assert!(matches!(
        fit(&Mad(3.0), &[1.0, 1.0, 1.0, 9.0]),
        Err(AnomalyError::NoThreshold { .. })
    ));
    assert!(matches!(
        fit(&Mad(-1.0), &s),
        Err(AnomalyError::InvalidParameter { .. })
    ));
}

#[test]
fn peaks_over_threshold_extrapolates_the_tail() {
    let mut r = rng(3);
    // Exponential scores: P(S > t) = e^{-t}; the 1e-4 tail is at ln 1e4 ≈ 9.21,
    // beyond what 20 000 points resolve well.
    let s: Vec<f64> = (0..20_000)
        .map(|_| -(1.0 - r.random::<f64>()).ln())
        .collect();
    let pot = PeaksOverThreshold::new(1e-4);
    let fit_exp = pot.fit_tail(&ScoreSet::new(&s).unwrap()).unwrap();
    assert!(fit_exp.shape.abs() < 0.15, "{fit_exp:?}");
    assert!((fit_exp.threshold - 1e4f64.ln()).abs() < 1.0, "{fit_exp:?}");
    assert_eq!(fit_exp.exceedances, 400);
    // A generalized Pareto tail with ξ = 0.3, σ = 1: P(S > t) = (1 + 0.3 t)^(-1/0.3).
    let xi = 0.3;
    let s: Vec<f64> = (0..20_000)
        .map(|_| ((1.0 - r.random::<f64>()).powf(-xi) - 1.0) / xi)
        .collect();
    let want = ((1e-4f64).powf(-xi) - 1.0) / xi;
    let g = pot.fit_tail(&ScoreSet::new(&s).unwrap()).unwrap();
    assert!((g.shape - xi).abs() < 0.2, "{g:?}");
    assert!((g.threshold / want - 1.0).abs() < 0.35, "{g:?} vs {want}");
    // A bounded tail: uniform scores, ξ = −1 is outside the range searched,
    // the fit stays at the boundary and below the maximum plus a little.
    let s: Vec<f64> = (0..5_000).map(|_| r.random::<f64>()).collect();
    let g = pot.fit_tail(&ScoreSet::new(&s).unwrap()).unwrap();
    assert!(
        g.shape < 0.0 && g.threshold < 1.1 && g.threshold > 0.98,
        "{g:?}"
    );
    // Parameters and too few exceedances.
    assert!(matches!(
        fit(&PeaksOverThreshold::new(0.05), &s),
        Err(AnomalyError::InvalidParameter { name: "rate", .. })
    ));
    assert!(matches!(
        fit(
            &PeaksOverThreshold {
                rate: 1e-3,
                level: 1.0
            },
            &s
        ),
        Err(AnomalyError::InvalidParameter { name: "level", .. })
    ));
    assert!(matches!(
        fit(&pot, &s[..100]),
        Err(AnomalyError::NoThreshold { .. })
    ));
}

#[test]
fn thresholds_are_finite() {
    // A best-F threshold at an infinite score cannot be stored.
    let e = fit_labelled(&BestF::f1(), &[1.0, f64::INFINITY], &[0, 1]).unwrap_err();
    assert!(
        matches!(e, AnomalyError::NonFiniteThreshold { .. }),
        "{e:?}"
    );
    assert!(Threshold::new(f64::NAN, "x", []).is_err());
}

#[test]
fn positive_unlabeled_on_ranks_depends_only_on_the_order_and_survives_heavy_tails() {
    let (s, y, truth) = pu_data(12, 20_000, 0.1, 0.3);
    let flagged = |scores: &[f64], t: f64| scores.iter().map(|&v| v >= t).collect::<Vec<_>>();
    let f1 = |pred: &[bool]| {
        let tp = pred.iter().zip(&truth).filter(|&(&p, &t)| p && t).count() as f64;
        let np = pred.iter().filter(|&&p| p).count() as f64;
        let nt = truth.iter().filter(|&&t| t).count() as f64;
        2.0 * tp / (np + nt)
    };
    let rule = PositiveUnlabeled::on_ranks();
    assert!(rule.uses_ranks());
    assert_eq!(
        ThresholdRule::<f64>::name(&rule),
        "positive_unlabeled_ranks"
    );
    let t = fit_labelled(&rule, &s, &y).unwrap();
    let base = flagged(&s, t);
    assert!(f1(&base) > 0.75, "{}", f1(&base));
    // A strictly increasing transform with a heavy upper tail: the same
    // points are flagged on ranks.
    let heavy: Vec<f64> = s.iter().map(|&v| (3.0 * v).exp()).collect();
    let th = fit_labelled(&rule, &heavy, &y).unwrap();
    assert_eq!(flagged(&heavy, th), base);
    // On values, the tail dominates the standardization and the rule flags
    // nearly every point.
    let tv = fit_labelled(&PositiveUnlabeled::new(), &heavy, &y).unwrap();
    let on_values = flagged(&heavy, tv);
    let share = on_values.iter().filter(|&&p| p).count() as f64 / s.len() as f64;
    assert!(share > 0.5, "{share}");
    // The threshold lies strictly between the scores on either side.
    assert!(!s.contains(&t));
}
