//! Metrics against scikit-learn: ROC AUC, average precision, both curves, and the
//! confusion-matrix metrics at several thresholds, on cases with and without
//! ties, to 1e-12. Fixtures: tests/reference/make_metric_fixtures.py (run by
//! hand; the JSON is committed).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use mixtures_anomaly::{
    ConfusionMatrix, OperatingPoints, average_precision, precision_recall_curve, roc_auc, roc_curve,
};
use serde_json::Value;

const TOL: f64 = 1e-12;

fn cases() -> Vec<Value> {
    let text = include_str!("data/sklearn_metrics.json");
    let doc: Value = serde_json::from_str(text).unwrap();
    doc["cases"].as_array().unwrap().clone()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn labels(v: &Value) -> Vec<u8> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| u8::try_from(x.as_u64().unwrap()).unwrap())
        .collect()
}

fn close(name: &str, what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{name}: {what} length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= TOL,
            "{name}: {what}[{i}] = {g}, scikit-learn {w}"
        );
    }
}

#[test]
fn roc_auc_and_average_precision_match_scikit_learn() {
    for c in cases() {
        let name = c["name"].as_str().unwrap();
        let (s, y) = (floats(&c["scores"]), labels(&c["labels"]));
        let auc = roc_auc(&s, &y).unwrap();
        let ap = average_precision(&s, &y).unwrap();
        close(name, "roc_auc", &[auc], &[c["roc_auc"].as_f64().unwrap()]);
        close(
            name,
            "average_precision",
            &[ap],
            &[c["average_precision"].as_f64().unwrap()],
        );
        // The same in f32 where the scores are exactly representable keeps
        // the ranking, so the ranks-only metrics agree too.
        let s32: Vec<f32> = s.iter().map(|&v| v as f32).collect();
        if s32.iter().zip(&s).all(|(&a, &b)| f64::from(a) == b) {
            assert_eq!(roc_auc(&s32, &y).unwrap(), auc, "{name}: f32 AUC");
        }
    }
}

#[test]
fn curves_match_scikit_learn() {
    for c in cases() {
        let name = c["name"].as_str().unwrap();
        let (s, y) = (floats(&c["scores"]), labels(&c["labels"]));
        let roc = roc_curve(&s, &y).unwrap();
        assert!(roc.thresholds[0].is_infinite());
        close(
            name,
            "roc thresholds",
            &roc.thresholds[1..],
            &floats(&c["roc_thresholds"]),
        );
        close(
            name,
            "fpr",
            &roc.false_positive_rate,
            &floats(&c["roc_fpr"]),
        );
        close(name, "tpr", &roc.true_positive_rate, &floats(&c["roc_tpr"]));

        // scikit-learn lists the precision–recall curve by increasing
        // threshold and appends (precision 1, recall 0); ours decreases from
        // that point.
        let pr = precision_recall_curve(&s, &y).unwrap();
        let rev = |v: Vec<f64>| v.into_iter().rev().collect::<Vec<f64>>();
        assert!(pr.thresholds[0].is_infinite());
        close(
            name,
            "pr thresholds",
            &pr.thresholds[1..],
            &rev(floats(&c["pr_thresholds"])),
        );
        close(
            name,
            "precision",
            &pr.precision,
            &rev(floats(&c["pr_precision"])),
        );
        close(name, "recall", &pr.recall, &rev(floats(&c["pr_recall"])));
    }
}

#[test]
fn confusion_metrics_match_scikit_learn() {
    for c in cases() {
        let name = c["name"].as_str().unwrap();
        let (s, y) = (floats(&c["scores"]), labels(&c["labels"]));
        for at in c["at_threshold"].as_array().unwrap() {
            let t = at["threshold"].as_f64().unwrap();
            let cm = ConfusionMatrix::at_threshold(&s, &y, t).unwrap();
            let count = |k: &str| usize::try_from(at[k].as_u64().unwrap()).unwrap();
            assert_eq!(
                cm,
                ConfusionMatrix {
                    true_positives: count("tp"),
                    false_positives: count("fp"),
                    true_negatives: count("tn"),
                    false_negatives: count("fn"),
                },
                "{name} at {t}"
            );
            let pred: Vec<u8> = s.iter().map(|&v| u8::from(v >= t)).collect();
            assert_eq!(ConfusionMatrix::from_predictions(&pred, &y).unwrap(), cm);
            let want = |k: &str| at[k].as_f64().unwrap();
            let what = format!("at {t}");
            close(name, &what, &[cm.precision()], &[want("precision")]);
            close(name, &what, &[cm.recall()], &[want("recall")]);
            close(name, &what, &[cm.f1()], &[want("f1")]);
            close(name, &what, &[cm.f_beta(0.5)], &[want("f0_5")]);
            close(name, &what, &[cm.f_beta(2.0)], &[want("f2")]);
        }
    }
}

#[test]
fn operating_points_give_the_same_curves_as_the_functions() {
    for c in cases() {
        let (s, y) = (floats(&c["scores"]), labels(&c["labels"]));
        let points = OperatingPoints::new(&s, &y).unwrap();
        assert_eq!(points.roc_curve().unwrap(), roc_curve(&s, &y).unwrap());
        assert_eq!(points.roc_auc().unwrap(), roc_auc(&s, &y).unwrap());
        assert_eq!(points.positives(), y.iter().filter(|&&l| l == 1).count());
        assert_eq!(points.positives() + points.negatives(), s.len());
    }
}
