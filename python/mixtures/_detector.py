"""``Detector``: the library's anomaly detectors with PyOD's contract."""

from __future__ import annotations

import numbers
from typing import Any, Dict, Optional

import numpy as np
from scipy.special import erf
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from . import _native
from ._threads import resolve
from ._validation import (
    as_dtype,
    check_nonneg_float,
    check_positive_int,
    check_X,
    seed_of,
)

METHODS = ("auto", "mixture", "mcd")


class Detector(BaseEstimator):
    """An anomaly detector on a mixture model, with PyOD's interface.

    ``fit(X)`` fits the model and a threshold on the training scores;
    ``decision_function(X)`` gives anomaly scores (higher: more anomalous;
    ``-ln p(x)`` for one mixture, the mean scaled score for the default
    detector); ``predict(X)`` gives 1 for rows whose score reaches
    ``threshold_``, else 0. After ``fit``: ``decision_scores_`` (training
    scores), ``threshold_``, ``labels_``.

    Parameters
    ----------
    contamination : float in (0, 0.5], default 0.1
        The expected fraction of anomalies in the training data: with the
        default rule the threshold is the training scores'
        ``1 - contamination`` quantile (NumPy's linear interpolation, as
        PyOD).
    method : {"auto", "mixture", "mcd"}, default "auto"
        ``"auto"``: the library's default detector (one Gaussian, the
        minimum covariance determinant and a mixture chosen by BIC, their
        scores scaled and averaged). ``"mixture"``: one mixture of
        ``n_components`` of ``family`` with ``covariance_type``. ``"mcd"``:
        one Gaussian fitted by the minimum covariance determinant.
    threshold : str, default "contamination"
        The rule that sets the threshold: ``"contamination"``, ``"fixed"``,
        ``"best_f"``, ``"target_precision"``, ``"target_recall"``,
        ``"positive_unlabeled"``, ``"mad"``, ``"peaks_over_threshold"``.
        Their parameters go in ``threshold_params`` (docs/python.md);
        ``best_f``, ``target_*`` and ``positive_unlabeled`` need ``y`` in
        ``fit``.
    robust : bool, default False
        Outlier mode: fit, leave out the ``contamination`` fraction of
        highest-scoring rows, refit, until the left-out rows settle (at
        most ``max_rounds`` fits).
    n_jobs : int or None
        Threads (default: ``mixtures.set_num_threads``, else all cores).
    """

    def __init__(
        self,
        contamination: float = 0.1,
        *,
        method: str = "auto",
        n_components: int = 1,
        covariance_type: str = "full",
        family: str = "gaussian",
        threshold: str = "contamination",
        threshold_params: Optional[Dict[str, float]] = None,
        robust: bool = False,
        max_rounds: int = 10,
        support_fraction: Optional[float] = None,
        mcd_trials: Optional[int] = None,
        n_init: int = 1,
        max_iter: int = 100,
        tol: float = 1e-3,
        reg_covar: float = 1e-6,
        init_params: str = "kmeans",
        random_state: Any = None,
        n_jobs: Optional[int] = None,
    ) -> None:
        self.contamination = contamination
        self.method = method
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.family = family
        self.threshold = threshold
        self.threshold_params = threshold_params
        self.robust = robust
        self.max_rounds = max_rounds
        self.support_fraction = support_fraction
        self.mcd_trials = mcd_trials
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.reg_covar = reg_covar
        self.init_params = init_params
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _threads(self) -> Optional[int]:
        return resolve(self.n_jobs)

    def _setup(self) -> dict:
        c = self.contamination
        if isinstance(c, bool) or not isinstance(c, numbers.Real) or not 0 < c <= 0.5:
            raise ValueError(f"contamination must be in (0, 0.5], got: {c!r}")
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, not {self.method!r}")
        params = dict(self.threshold_params or {})
        if self.threshold == "contamination":
            params.setdefault("q", float(c))
        return {
            "method": self.method,
            "family": self.family,
            "covariance_type": self.covariance_type,
            "n_components": check_positive_int("n_components", self.n_components),
            "control": {
                "n_init": check_positive_int("n_init", self.n_init),
                "max_iter": check_positive_int("max_iter", self.max_iter),
                "tol": check_nonneg_float("tol", self.tol),
                "reg_covar": check_nonneg_float("reg_covar", self.reg_covar),
                "init": self.init_params,
                "seed": seed_of(self.random_state),
            },
            "threshold": self.threshold,
            "threshold_params": {k: float(v) for k, v in params.items()},
            "robust": float(c) if self.robust else None,
            "max_rounds": check_positive_int("max_rounds", self.max_rounds),
            "support_fraction": self.support_fraction,
            "mcd_trials": self.mcd_trials,
        }

    # -- PyOD's contract -----------------------------------------------------
    def fit(self, X: Any, y: Any = None) -> "Detector":
        """Fits the model and the threshold. ``y`` (0/1) is read only by the
        rules that need labels."""
        X = check_X(self, X, reset=True, min_samples=2)
        setup = self._setup()
        labels = None
        if y is not None and self.threshold in ("best_f", "target_precision",
                                                 "target_recall", "positive_unlabeled"):
            labels = np.ascontiguousarray(y, dtype=np.int64).reshape(-1)
        det, report = _native.fit_detector(X, setup, y=labels, n_threads=self._threads())
        self._set_fitted(det, report["training_scores"])
        self.report_ = report
        return self

    def _set_fitted(self, det: "_native.Detector", scores: np.ndarray) -> None:
        self.detector_ = det
        self.model_ = det.model
        self.decision_scores_ = np.asarray(scores, dtype=np.float64)
        self.threshold_ = float(det.threshold)
        self.labels_ = (self.decision_scores_ >= self.threshold_).astype(int)
        # PyOD's "unify" probabilities standardize by these.
        self._mu = float(np.mean(self.decision_scores_))
        self._sigma = float(np.std(self.decision_scores_))

    def _X(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "detector_")
        X = check_X(self, X, reset=False)
        return as_dtype(X, self.detector_.dtype)

    def decision_function(self, X: Any) -> np.ndarray:
        """Anomaly scores: higher is more anomalous."""
        X = self._X(X)
        return np.asarray(self.detector_.score(X, n_threads=self._threads()), dtype=np.float64)

    def predict(self, X: Any, return_confidence: bool = False) -> Any:
        """1 for rows whose score reaches ``threshold_``, else 0."""
        X = self._X(X)
        labels = self.detector_.predict(X, n_threads=self._threads())
        if return_confidence:
            return labels, self.predict_confidence(X)
        return labels

    def fit_predict(self, X: Any, y: Any = None) -> np.ndarray:
        """Fits, then returns ``labels_``."""
        return self.fit(X, y).labels_

    def predict_proba(self, X: Any, method: str = "linear", return_confidence: bool = False) -> Any:
        """Outlier probability as PyOD computes it: ``[1 - p, p]`` per row,
        ``p`` the score scaled linearly by the training scores' range
        (``"linear"``) or through the Gaussian CDF of its z-score
        (``"unify"``)."""
        scores = self.decision_function(X)
        train = self._training_scores()
        probs = np.zeros((scores.shape[0], 2))
        if method == "linear":
            lo, hi = train.min(), train.max()
            span = hi - lo if hi > lo else 1.0
            p = np.clip((scores - lo) / span, 0, 1)
        elif method == "unify":
            sigma = self._sigma if self._sigma > 0 else 1.0
            p = np.clip(erf((scores - self._mu) / (sigma * np.sqrt(2))), 0, 1)
        else:
            raise ValueError(f"method must be 'linear' or 'unify', not {method!r}")
        probs[:, 1] = p
        probs[:, 0] = 1 - p
        if return_confidence:
            return probs, self.predict_confidence(X)
        return probs

    def _training_scores(self) -> np.ndarray:
        check_is_fitted(self, "detector_")
        if self.decision_scores_.shape[0] == 0:
            raise ValueError(
                "this detector was read from a file, which keeps a summary of the training "
                "scores, not the scores; predict_proba and predict_confidence need them "
                "(tail_probability uses the summary)"
            )
        return self.decision_scores_

    def predict_confidence(self, X: Any) -> np.ndarray:
        """PyOD's confidence in each prediction (Perini et al., ExCeed)."""
        from scipy.stats import binom

        train = self._training_scores()
        n = train.shape[0]
        scores = self.decision_function(X)
        count = np.searchsorted(np.sort(train), scores, side="right")
        post = (1 + count) / (2 + n)
        c = float(self.contamination)
        conf = 1 - binom.cdf(n - int(n * c), n, post)
        pred = scores >= self.threshold_
        return np.where(pred, conf, 1 - conf)

    # -- the library's extras ------------------------------------------------
    def tail_probability(self, X: Any) -> np.ndarray:
        """The fraction of training rows scoring at least as high as each row."""
        return self.detector_.tail_probability(self._X(X), n_threads=self._threads())

    def explain(self, X: Any) -> dict:
        """Per-feature contributions to each row's score (docs/python.md)."""
        scores, comps, contrib, attribution = self.detector_.explain(
            self._X(X), n_threads=self._threads()
        )
        return {"scores": scores, "components": comps, "contributions": contrib,
                "attribution": attribution}

    def evaluate(self, X: Any, y: Any) -> dict:
        """ROC AUC, average precision and the confusion matrix at
        ``threshold_`` against 0/1 labels."""
        from .metrics import evaluate

        return evaluate(y, self.decision_function(X), self.threshold_)

    def set_threshold(self, value: float) -> "Detector":
        """Moves the threshold to ``value`` (rule ``"fixed"``)."""
        check_is_fitted(self, "detector_")
        self._set_fitted(self.detector_.with_threshold(float(value)), self.decision_scores_)
        return self

    def to_json(self, pretty: bool = False) -> str:
        """The detector file's text (docs/model-format.md)."""
        check_is_fitted(self, "detector_")
        return self.detector_.to_json(pretty)

    def save(self, path: str, pretty: bool = False) -> None:
        """Writes the detector file the command line reads
        (``mixtures score``, ``explain``, ``evaluate``)."""
        check_is_fitted(self, "detector_")
        self.detector_.save(str(path), pretty)

    @classmethod
    def load(cls, path: str) -> "Detector":
        """Reads a detector file (``mixtures detect`` writes them). Files
        keep a summary of the training scores, not the scores, so
        ``decision_scores_`` and ``labels_`` are empty."""
        return cls._from_native(_native.Detector.load(str(path)))

    @classmethod
    def _from_native(cls, det: "_native.Detector") -> "Detector":
        est = cls(method="auto" if det.is_ensemble else "mixture",
                  n_components=det.model.n_components,
                  covariance_type=det.model.covariance_type,
                  family=det.model.family)
        est.n_features_in_ = det.model.n_features
        est.detector_ = det
        est.model_ = det.model
        est.threshold_ = float(det.threshold)
        est.decision_scores_ = np.empty(0)
        est.labels_ = np.empty(0, dtype=int)
        est._mu, est._sigma = 0.0, 1.0
        return est
