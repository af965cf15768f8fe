#!/usr/bin/env python3
"""Reference values of ranking and confusion metrics from scikit-learn.

For a set of score/label cases (continuous scores, heavy ties, all scores equal,
perfect and reversed separation, a single anomaly), store the scores, the labels
and scikit-learn's roc_auc_score, average_precision_score, roc_curve
(drop_intermediate=False), precision_recall_curve, and, at a few thresholds
(flag score >= t), the confusion matrix, precision, recall and F-beta. A Rust
test (crates/mixtures-anomaly/tests/sklearn_metrics.rs) compares to 1e-12.

JSON has no infinity: roc_curve's first threshold (+inf) is left out of
"roc_thresholds" (the Rust side writes it first, as scikit-learn does).

Run by hand (CI reads the committed JSON):
    .venv/bin/python tests/reference/make_metric_fixtures.py crates/mixtures-anomaly/tests/data
"""
import argparse
import json
import os

import numpy as np
import sklearn
from sklearn.metrics import (
    average_precision_score,
    confusion_matrix,
    fbeta_score,
    precision_recall_curve,
    precision_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)


def cases(rng):
    n = 300
    yield "continuous", rng.normal(size=n) + 1.5 * (y := (rng.random(n) < 0.1)), y
    y = rng.random(400) < 0.2
    yield "integer_ties", np.floor(rng.normal(size=400) * 2 + 2 * y), y
    y = rng.random(200) < 0.3
    yield "coarse_ties", np.round(rng.random(200) + 0.3 * y, 1), y
    y = np.array([0, 1, 0, 1, 1, 0, 0, 0], dtype=bool)
    yield "all_equal", np.full(8, 2.5), y
    y = np.array([0, 0, 0, 0, 1, 1], dtype=bool)
    yield "separated", np.array([0.1, 0.2, 0.3, 0.4, 0.9, 1.0]), y
    yield "reversed", np.array([1.0, 0.9, 0.8, 0.7, 0.2, 0.1]), y
    y = np.zeros(50, dtype=bool)
    y[17] = True
    yield "single_anomaly", rng.normal(size=50), y
    y = rng.random(1000) < 0.05
    s = rng.exponential(size=1000) + 2.0 * y
    yield "large_negative_scores", -1e3 + s, y


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    args = ap.parse_args()
    rng = np.random.default_rng(20261123)
    out = []
    for name, scores, labels in cases(rng):
        y = labels.astype(int)
        fpr, tpr, roc_t = roc_curve(y, scores, drop_intermediate=False)
        assert np.isinf(roc_t[0])
        prec, rec, pr_t = precision_recall_curve(y, scores)
        at = []
        for t in np.unique(np.quantile(scores, [0.0, 0.5, 0.9, 1.0]).tolist() + [scores.max() + 1.0]):
            pred = (scores >= t).astype(int)
            tn, fp, fn, tp = confusion_matrix(y, pred, labels=[0, 1]).ravel()
            at.append({
                "threshold": float(t),
                "tp": int(tp), "fp": int(fp), "tn": int(tn), "fn": int(fn),
                "precision": precision_score(y, pred, zero_division=0),
                "recall": recall_score(y, pred, zero_division=0),
                "f1": fbeta_score(y, pred, beta=1.0, zero_division=0),
                "f0_5": fbeta_score(y, pred, beta=0.5, zero_division=0),
                "f2": fbeta_score(y, pred, beta=2.0, zero_division=0),
            })
        out.append({
            "name": name,
            "scores": scores.tolist(),
            "labels": y.tolist(),
            "roc_auc": roc_auc_score(y, scores),
            "average_precision": average_precision_score(y, scores),
            "roc_fpr": fpr.tolist(),
            "roc_tpr": tpr.tolist(),
            "roc_thresholds": roc_t[1:].tolist(),
            "pr_precision": prec.tolist(),
            "pr_recall": rec.tolist(),
            "pr_thresholds": pr_t.tolist(),
            "at_threshold": at,
        })
    doc = {"generator": f"scikit-learn {sklearn.__version__}, numpy {np.__version__}", "cases": out}
    path = os.path.join(args.outdir, "sklearn_metrics.json")
    with open(path, "w") as f:
        json.dump(doc, f)
    print("wrote", path, "with", len(out), "cases")


if __name__ == "__main__":
    main()
