//! Metrics: AUC against the pairwise definition and average precision against
//! its definition (proptest), edge cases, and bad input.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use mixtures_anomaly::{
    AnomalyError, ConfusionMatrix, OperatingPoints, ScoreReference, average_precision, evaluate,
    precision_recall_curve, roc_auc, roc_curve,
};
use proptest::prelude::*;

/// P(anomaly scores higher than normal point), ties one half, over all pairs.
fn pairwise_auc(s: &[f64], y: &[u8]) -> f64 {
    let (mut num, mut den) = (0.0, 0.0);
    for (i, &a) in s.iter().enumerate() {
        for (j, &b) in s.iter().enumerate() {
            if y[i] == 1 && y[j] == 0 {
                den += 1.0;
                num += if a > b {
                    1.0
                } else if a == b {
                    0.5
                } else {
                    0.0
                };
            }
        }
    }
    num / den
}

/// Σ over anomalies of the precision at their score, divided by the number of
/// anomalies: with ties, all points at or above the anomaly's score count.
fn definitional_ap(s: &[f64], y: &[u8]) -> f64 {
    let p = y.iter().filter(|&&l| l == 1).count() as f64;
    s.iter()
        .zip(y)
        .filter(|&(_, &l)| l == 1)
        .map(|(&t, _)| ConfusionMatrix::at_threshold(s, y, t).unwrap().precision())
        .sum::<f64>()
        / p
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn auc_and_ap_equal_their_definitions(
        raw in prop::collection::vec((0u8..15, prop::bool::weighted(0.3)), 2..150),
    ) {
        let s: Vec<f64> = raw.iter().map(|&(v, _)| f64::from(v) - 7.0).collect();
        let mut y: Vec<u8> = raw.iter().map(|&(_, a)| u8::from(a)).collect();
        y[0] = 1;
        y[1] = 0;
        let auc = roc_auc(&s, &y).unwrap();
        prop_assert!((auc - pairwise_auc(&s, &y)).abs() < 1e-12);
        let ap = average_precision(&s, &y).unwrap();
        prop_assert!((ap - definitional_ap(&s, &y)).abs() < 1e-12);
        // Reversing the scores reflects the AUC.
        let neg: Vec<f64> = s.iter().map(|v| -v).collect();
        prop_assert!((roc_auc(&neg, &y).unwrap() - (1.0 - auc)).abs() < 1e-12);
        // Curves are monotone and end at (1, 1) and recall 1.
        let roc = roc_curve(&s, &y).unwrap();
        prop_assert!(roc.false_positive_rate.windows(2).all(|w| w[0] <= w[1]));
        prop_assert!(roc.true_positive_rate.windows(2).all(|w| w[0] <= w[1]));
        prop_assert_eq!(roc.false_positive_rate.last().copied(), Some(1.0));
        let pr = precision_recall_curve(&s, &y).unwrap();
        prop_assert_eq!(pr.recall.last().copied(), Some(1.0));
        prop_assert!(pr.thresholds.windows(2).all(|w| w[0] > w[1]));
    }
}

#[test]
fn confusion_matrix_edge_cases() {
    let none = ConfusionMatrix::at_threshold(&[1.0, 2.0], &[0, 1], 5.0).unwrap();
    assert_eq!(
        (none.precision(), none.recall(), none.f1()),
        (0.0, 0.0, 0.0)
    );
    assert_eq!(none.accuracy(), 0.5);
    let empty = ConfusionMatrix::default();
    assert_eq!(
        (empty.f1(), empty.accuracy(), empty.false_positive_rate()),
        (0.0, 0.0, 0.0)
    );
    let all = ConfusionMatrix::at_threshold(&[1.0, 2.0, 3.0], &[0, 1, 1], 0.0).unwrap();
    assert_eq!((all.recall(), all.false_positive_rate()), (1.0, 1.0));
    assert!((all.precision() - 2.0 / 3.0).abs() < 1e-15);
    // F-beta from the counts equals the harmonic-mean formula.
    let cm = ConfusionMatrix {
        true_positives: 3,
        false_positives: 2,
        true_negatives: 10,
        false_negatives: 4,
    };
    for beta in [0.5, 1.0, 2.0] {
        let (p, r) = (cm.precision(), cm.recall());
        let want = (1.0 + beta * beta) * p * r / (beta * beta * p + r);
        assert!((cm.f_beta(beta) - want).abs() < 1e-15);
    }
    assert!(cm.f_beta(f64::NAN).is_nan());
    assert_eq!((cm.positives(), cm.negatives(), cm.flagged()), (7, 12, 5));
}

#[test]
fn metrics_refuse_bad_input() {
    assert_eq!(
        roc_auc(&[1.0, 2.0], &[1, 1]).unwrap_err(),
        AnomalyError::NoNormals {
            needed_by: "ROC AUC".into()
        }
    );
    assert!(matches!(
        roc_auc(&[1.0, 2.0], &[0, 0]),
        Err(AnomalyError::NoAnomalies { .. })
    ));
    assert!(matches!(
        average_precision(&[1.0, 2.0], &[0, 0]),
        Err(AnomalyError::NoAnomalies { .. })
    ));
    assert!(matches!(
        roc_curve(&[1.0, 2.0], &[0, 0]),
        Err(AnomalyError::NoAnomalies { .. })
    ));
    assert_eq!(
        roc_auc(&[1.0, f64::NAN], &[0, 1]).unwrap_err(),
        AnomalyError::NanScore { index: 1 }
    );
    assert_eq!(
        roc_auc::<f64, u8>(&[], &[]).unwrap_err(),
        AnomalyError::NoScores
    );
    assert_eq!(
        roc_auc(&[1.0, 2.0], &[0]).unwrap_err(),
        AnomalyError::LabelsLength {
            expected: 2,
            found: 1
        }
    );
    assert!(matches!(
        roc_auc(&[1.0, 2.0], &[0, 3]),
        Err(AnomalyError::InvalidLabel {
            what: "labels",
            index: 1,
            ..
        })
    ));
    match ConfusionMatrix::from_predictions(&[0, 7], &[0, 1]).unwrap_err() {
        AnomalyError::InvalidLabel { what, index, .. } => {
            assert_eq!((what, index), ("predictions", 1))
        }
        e => panic!("{e:?}"),
    }
    assert!(ConfusionMatrix::from_predictions(&[0, 1, 1], &[0, 1]).is_err());
    // Infinite scores rank; AUC is defined.
    assert_eq!(
        roc_auc(&[f64::NEG_INFINITY, 1.0, f64::INFINITY], &[0, 0, 1]).unwrap(),
        1.0
    );
    // Labels as booleans or floats.
    assert_eq!(roc_auc(&[1.0, 2.0], &[false, true]).unwrap(), 1.0);
    assert_eq!(roc_auc(&[1.0, 2.0], &[0.0, 1.0]).unwrap(), 1.0);
    // Positive and negative zero are one score.
    let p = OperatingPoints::new(&[0.0, -0.0, 1.0], &[1, 0, 0]).unwrap();
    assert_eq!(p.len(), 2);
}

#[test]
fn evaluate_counts_at_the_threshold() {
    let s = [0.1, 0.4, 0.35, 0.8, 0.8];
    let y = [0, 0, 1, 1, 0];
    for t in [0.0, 0.35, 0.36, 0.8, 0.9] {
        let ev = evaluate(&s, &y, t).unwrap();
        assert_eq!(
            ev.confusion,
            ConfusionMatrix::at_threshold(&s, &y, t).unwrap(),
            "at {t}"
        );
        assert_eq!(ev.roc_auc, roc_auc(&s, &y).unwrap());
        assert_eq!(ev.average_precision, average_precision(&s, &y).unwrap());
    }
}

#[test]
fn score_reference_tail_probabilities() {
    let r = ScoreReference::new(&[3.0, 1.0, 2.0, 2.0]).unwrap();
    assert_eq!(r.sorted_scores(), &[1.0, 2.0, 2.0, 3.0]);
    assert_eq!(
        r.tail_probabilities(&[0.0, 1.0, 2.0, 2.5, 3.0, 9.0]),
        vec![1.0, 1.0, 0.75, 0.25, 0.25, 0.0]
    );
    assert!(r.tail_probability(f64::NAN).is_nan());
    assert!(ScoreReference::<f64>::new(&[]).is_err());
}
