"""Anomaly-detection metrics with scikit-learn's conventions (labels: 1 =
anomaly, 0 = normal; scores: higher is more anomalous), computed by the
library, and the threshold rules on scores you already have."""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

import numpy as np

from . import _native


def _args(y_true: Any, scores: Any) -> Tuple[np.ndarray, np.ndarray]:
    s = np.ascontiguousarray(scores, dtype=np.float64).reshape(-1)
    y = np.asarray(y_true)
    if y.dtype == bool:
        y = y.astype(np.int64)
    y = np.ascontiguousarray(y, dtype=np.int64).reshape(-1)
    if s.shape != y.shape:
        raise ValueError(f"{y.shape[0]} labels for {s.shape[0]} scores")
    return s, y


def roc_auc_score(y_true: Any, y_score: Any) -> float:
    """ROC AUC (as ``sklearn.metrics.roc_auc_score``)."""
    return _native.roc_auc(*_args(y_true, y_score))


def average_precision_score(y_true: Any, y_score: Any) -> float:
    """Average precision (as ``sklearn.metrics.average_precision_score``)."""
    return _native.average_precision(*_args(y_true, y_score))


def roc_curve(y_true: Any, y_score: Any) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(fpr, tpr, thresholds)``."""
    return _native.roc_curve(*_args(y_true, y_score))


def precision_recall_curve(y_true: Any, y_score: Any) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(precision, recall, thresholds)``."""
    return _native.precision_recall_curve(*_args(y_true, y_score))


def evaluate(y_true: Any, y_score: Any, threshold: float) -> Dict[str, float]:
    """ROC AUC, average precision, and the confusion matrix, precision,
    recall, F1 at ``threshold`` (rows with ``score >= threshold`` flagged)."""
    return _native.evaluate(*_args(y_true, y_score), float(threshold))


def fit_threshold(
    scores: Any, rule: str = "contamination", y_true: Optional[Any] = None, **params: float
) -> Tuple[float, str, Dict[str, float]]:
    """Fits a threshold rule on scores: ``(value, rule, parameters)``.
    ``fit_threshold(s, "contamination", q=0.05)``, ``fit_threshold(s,
    "best_f", y, beta=1)``, ``fit_threshold(s, "mad", k=4.45)``, ..."""
    s = np.ascontiguousarray(scores, dtype=np.float64).reshape(-1)
    y = None if y_true is None else _args(y_true, s)[1]
    return _native.fit_threshold(s, rule, {k: float(v) for k, v in params.items()}, y)
