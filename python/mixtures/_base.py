"""What every mixture estimator shares: fit through the native module,
then scikit-learn's methods on the fitted model."""

from __future__ import annotations

import json
from typing import Any, Optional, Tuple

import numpy as np
from sklearn.base import BaseEstimator, DensityMixin
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


class _BaseMixture(DensityMixin, BaseEstimator):
    """Fitting and evaluation common to the mixture estimators.

    Subclasses set ``_family`` and implement ``_fit_native`` (the native
    call) and ``_set_attributes`` (scikit-learn's fitted attributes from
    the model's parameters).
    """

    _family = "gaussian"

    # -- helpers -----------------------------------------------------------
    def _threads(self) -> Optional[int]:
        return resolve(getattr(self, "n_jobs", None))

    def _control(self, n_init: Optional[int] = None) -> dict:
        return {
            "n_init": check_positive_int("n_init", self.n_init if n_init is None else n_init),
            "max_iter": check_positive_int("max_iter", self.max_iter),
            "tol": check_nonneg_float("tol", self.tol),
            "reg_covar": check_nonneg_float("reg_covar", self.reg_covar),
            "init": self.init_params,
            "seed": seed_of(self.random_state),
        }

    def _check_n_components(self, X: np.ndarray) -> None:
        k = check_positive_int("n_components", self.n_components)
        if X.shape[0] < k:
            raise ValueError(
                f"Expected n_samples >= n_components but got n_components = {k}, "
                f"n_samples = {X.shape[0]}"
            )

    def _model_X(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "model_")
        X = check_X(self, X, reset=False)
        return as_dtype(X, self.model_.dtype)

    def _finish_fit(self, model: "_native.Model", report: dict) -> None:
        self.model_ = model
        self.report_ = report
        self.converged_ = bool(report["converged"])
        self.n_iter_ = int(report["n_iter"])
        trace = report["lower_bound_trace"]
        self.lower_bounds_ = list(trace)
        # scikit-learn's lower_bound_: the mean log-likelihood computed in
        # the last E-step (before the last M-step).
        self.lower_bound_ = float(trace[-1]) if trace else float(report["log_likelihood"])
        self._set_attributes(model.parameters())

    def _set_attributes(self, params: dict) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- scikit-learn's API --------------------------------------------------
    def fit(self, X: Any, y: Any = None) -> "_BaseMixture":
        """Fits the mixture to the rows of X (float32 input fits in float32)."""
        self._fit(X)
        return self

    def _fit(self, X: Any) -> np.ndarray:
        X = check_X(self, X, reset=True, min_samples=2)
        self._check_n_components(X)
        model, report = self._fit_native(X)
        self._finish_fit(model, report)
        return X

    def fit_predict(self, X: Any, y: Any = None) -> np.ndarray:
        """Fits, then labels the training rows with their most likely component."""
        X = self._fit(X)
        return self.model_.predict(X, n_threads=self._threads())

    def score_samples(self, X: Any) -> np.ndarray:
        """ln p(x) of every row."""
        X = self._model_X(X)
        return self.model_.log_prob(X, n_threads=self._threads())

    def score(self, X: Any, y: Any = None) -> float:
        """The mean log-likelihood of the rows."""
        return float(np.mean(self.score_samples(X)))

    def predict(self, X: Any) -> np.ndarray:
        """The most likely component of every row."""
        X = self._model_X(X)
        return self.model_.predict(X, n_threads=self._threads())

    def predict_proba(self, X: Any) -> np.ndarray:
        """The responsibilities: the posterior probability of each component."""
        X = self._model_X(X)
        return self.model_.log_prob_and_responsibilities(X, n_threads=self._threads())[1]

    def sample(self, n_samples: int = 1) -> Tuple[np.ndarray, np.ndarray]:
        """``n_samples`` points drawn from the model, and their components."""
        check_is_fitted(self, "model_")
        if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
            raise ValueError(
                f"Invalid value for 'n_samples': {n_samples!r}. The sampling requires at "
                "least one sample."
            )
        return self.model_.sample(int(n_samples), seed_of(self.random_state))

    def _n_parameters(self) -> int:
        check_is_fitted(self, "model_")
        return int(self.model_.n_parameters)

    def bic(self, X: Any) -> float:
        """Bayesian information criterion (lower is better), as scikit-learn's."""
        X = self._model_X(X)
        return -2 * self.score(X) * X.shape[0] + self._n_parameters() * np.log(X.shape[0])

    def aic(self, X: Any) -> float:
        """Akaike information criterion (lower is better), as scikit-learn's."""
        X = self._model_X(X)
        return -2 * self.score(X) * X.shape[0] + 2 * self._n_parameters()

    def explain(self, X: Any) -> dict:
        """Per-feature contributions to each row's anomaly score ``-ln p(x)``
        under its most likely component (see docs/python.md)."""
        X = self._model_X(X)
        scores, comps, contrib, attribution = self.model_.explain(X, n_threads=self._threads())
        return {
            "scores": scores,
            "components": comps,
            "contributions": contrib,
            "attribution": attribution,
        }

    # -- files ---------------------------------------------------------------
    def to_json(self, pretty: bool = False) -> str:
        """The fitted model as the text of a model file (docs/model-format.md)."""
        check_is_fitted(self, "model_")
        return self.model_.to_json(pretty)

    def save(self, path: str, pretty: bool = False) -> None:
        """Writes the model file the command line reads (``mixtures score``)."""
        check_is_fitted(self, "model_")
        model = self.model_
        names = getattr(self, "feature_names_in_", None)
        if names is not None and model.feature_names is None:
            model = model.with_feature_names([str(n) for n in names])
        model.save(str(path), pretty)

    @classmethod
    def _from_model(cls, model: "_native.Model", **params: Any) -> "_BaseMixture":
        est = cls(n_components=model.n_components, **params)
        est.model_ = model
        est.n_features_in_ = model.n_features
        # The file's feature names stay in the model (and are saved again),
        # but are not feature_names_in_: scikit-learn would then warn on
        # every NumPy array scored.
        est.converged_ = True
        est.n_iter_ = 0
        est.lower_bound_ = float("nan")
        est.lower_bounds_ = []
        est._set_attributes(model.parameters())
        return est


def model_from_parameters(doc: dict, dtype: str = "float64") -> "_native.Model":
    """A native model from a model-file dict whose arrays may be NumPy's."""

    def plain(v: Any) -> Any:
        return v.tolist() if isinstance(v, np.ndarray) else v

    doc = {k: plain(v) for k, v in doc.items()}
    doc.setdefault("format_version", 1)
    return _native.Model.from_json(json.dumps(doc), dtype)
