"""``GaussianMixture``: scikit-learn's estimator, fitted by the library."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np
from . import _native
from ._base import _BaseMixture, model_from_parameters

# scikit-learn's four types, plus the library's tied axis-aligned
# structures and mclust's names for all of them.
COVARIANCE_TYPES = (
    "full", "tied", "diag", "spherical", "tied-diag", "tied-spherical",
    "VVV", "EEE", "VVI", "VII", "EEI", "EII",
)

# How each structure's covariances are stored (scikit-learn's shapes).
STORAGE = {
    "full": "full", "VVV": "full",
    "tied": "tied", "EEE": "tied",
    "diag": "diag", "VVI": "diag", "tied-diag": "diag", "EEI": "diag",
    "spherical": "spherical", "VII": "spherical",
    "tied-spherical": "spherical", "EII": "spherical",
}


def precisions(prec_chol: np.ndarray, storage: str) -> np.ndarray:
    """scikit-learn's ``precisions_`` from the Cholesky factors."""
    if storage == "full":
        return np.einsum("kij,klj->kil", prec_chol, prec_chol)
    if storage == "tied":
        return prec_chol @ prec_chol.T
    return prec_chol**2


def covariances_from_precisions(prec: np.ndarray, storage: str) -> np.ndarray:
    """Covariances from precisions (``precisions_init``)."""
    prec = np.asarray(prec, dtype=np.float64)
    if storage == "full":
        cov = np.linalg.inv(prec)
        return 0.5 * (cov + np.transpose(cov, (0, 2, 1)))
    if storage == "tied":
        cov = np.linalg.inv(prec)
        return 0.5 * (cov + cov.T)
    return 1.0 / prec


class GaussianMixture(_BaseMixture):
    """A Gaussian mixture fitted by EM: scikit-learn's
    ``sklearn.mixture.GaussianMixture`` with the same parameters, defaults
    and fitted attributes, several times faster.

    ``covariance_type`` also takes ``"tied-diag"`` and ``"tied-spherical"``
    (mclust's EEI and EII) and mclust's names. ``n_jobs`` (extra) sets the
    number of threads (default: ``mixtures.set_num_threads``, else all
    cores). ``verbose`` and ``verbose_interval`` are accepted and ignored.
    Float32 input is fitted in float32, as scikit-learn does.
    """

    _family = "gaussian"

    def __init__(
        self,
        n_components: int = 1,
        *,
        covariance_type: str = "full",
        tol: float = 1e-3,
        reg_covar: float = 1e-6,
        max_iter: int = 100,
        n_init: int = 1,
        init_params: str = "kmeans",
        weights_init: Optional[Any] = None,
        means_init: Optional[Any] = None,
        precisions_init: Optional[Any] = None,
        random_state: Any = None,
        warm_start: bool = False,
        verbose: int = 0,
        verbose_interval: int = 10,
        n_jobs: Optional[int] = None,
    ) -> None:
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval
        self.n_jobs = n_jobs

    def _storage(self) -> str:
        if self.covariance_type not in STORAGE:
            raise ValueError(
                f"covariance_type must be one of {', '.join(COVARIANCE_TYPES)}; "
                f"got {self.covariance_type!r}"
            )
        return STORAGE[self.covariance_type]

    def _start(self, X: np.ndarray) -> Optional["_native.Model"]:
        """The model EM starts from: the previous fit (warm start), or the
        one the ``*_init`` parameters describe (the parameters left out are
        estimated, as scikit-learn does, from the initializer's
        responsibilities)."""
        if self.warm_start and hasattr(self, "model_"):
            if self.model_.n_features == X.shape[1] and self.model_.n_components == self.n_components:
                return self.model_
        inits = (self.weights_init, self.means_init, self.precisions_init)
        if all(v is None for v in inits):
            return None
        storage = self._storage()
        k = self.n_components
        weights = means = covs = None
        if any(v is None for v in inits):
            resp = _native.initial_responsibilities(
                X, k, self.init_params, self._control()["seed"]
            ).astype(np.float64)
            weights, means, covs = _estimate(X.astype(np.float64), resp, self.reg_covar, storage)
        if self.weights_init is not None:
            weights = np.asarray(self.weights_init, dtype=np.float64)
        if self.means_init is not None:
            means = np.asarray(self.means_init, dtype=np.float64)
        if self.precisions_init is not None:
            covs = covariances_from_precisions(self.precisions_init, storage)
        if np.shape(means) != (k, X.shape[1]):
            raise ValueError(
                f"The parameter 'means' should have the shape of ({k}, {X.shape[1]}), "
                f"but got {np.shape(means)}"
            )
        return model_from_parameters(
            {
                "family": "gaussian",
                "covariance_type": self.covariance_type,
                "weights": weights,
                "means": means,
                "covariances": covs,
            },
            X.dtype.name,
        )

    def _fit_native(self, X: np.ndarray):
        self._storage()
        start = self._start(X)
        return _native.fit(
            X,
            self._family,
            self.covariance_type,
            int(self.n_components),
            self._control(n_init=1 if start is not None else None),
            start=start,
            n_threads=self._threads(),
        )

    def _set_attributes(self, params: dict) -> None:
        storage = STORAGE.get(params["covariance_type"], params["covariance_type"])
        self.weights_ = params["weights"]
        self.means_ = params["means"]
        self.covariances_ = params["covariances"]
        self.precisions_cholesky_ = params["precisions_cholesky"]
        self.precisions_ = precisions(self.precisions_cholesky_, storage)

    def to_sklearn(self) -> Any:
        """The fitted model as a fitted ``sklearn.mixture.GaussianMixture``
        (the tied axis-aligned structures become ``diag`` / ``spherical``)."""
        from sklearn.mixture import GaussianMixture as SkGaussianMixture

        self._n_parameters()
        storage = STORAGE[self.model_.covariance_type]
        gm = SkGaussianMixture(
            n_components=self.model_.n_components,
            covariance_type=storage,
            tol=self.tol,
            reg_covar=self.reg_covar,
            max_iter=self.max_iter,
            n_init=self.n_init,
            init_params=self.init_params,
            random_state=self.random_state,
        )
        for name in ("weights_", "means_", "covariances_", "precisions_cholesky_",
                     "precisions_", "converged_", "n_iter_", "lower_bound_",
                     "n_features_in_"):
            setattr(gm, name, getattr(self, name))
        if hasattr(self, "feature_names_in_"):
            gm.feature_names_in_ = self.feature_names_in_
        return gm


def _estimate(X: np.ndarray, resp: np.ndarray, reg: float, storage: str):
    """scikit-learn's M-step from responsibilities (for partial inits)."""
    nk = resp.sum(axis=0) + 10 * np.finfo(resp.dtype).eps
    means = resp.T @ X / nk[:, None]
    n, d = X.shape
    if storage == "full":
        covs = np.empty((len(nk), d, d))
        for k in range(len(nk)):
            diff = X - means[k]
            covs[k] = (resp[:, k] * diff.T) @ diff / nk[k]
            covs[k].flat[:: d + 1] += reg
    elif storage == "tied":
        covs = X.T @ X - (nk * means.T) @ means
        covs = covs / nk.sum()
        covs.flat[:: d + 1] += reg
    else:
        avg_x2 = resp.T @ (X * X) / nk[:, None]
        diag = avg_x2 - means**2 + reg
        covs = diag if storage == "diag" else diag.mean(axis=1)
    return nk / n, means, covs


def from_sklearn(gm: Any, **params: Any) -> GaussianMixture:
    """A fitted ``GaussianMixture`` of this package from a fitted
    ``sklearn.mixture.GaussianMixture`` (the same parameters, so the same
    ``score_samples``)."""
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(gm, "means_")
    dtype = np.asarray(gm.means_).dtype.name
    model = model_from_parameters(
        {
            "family": "gaussian",
            "covariance_type": gm.covariance_type,
            "weights": np.asarray(gm.weights_),
            "means": np.asarray(gm.means_),
            "covariances": np.asarray(gm.covariances_),
            "dtype": "f32" if dtype == "float32" else "f64",
        },
        "float32" if dtype == "float32" else "float64",
    )
    names = getattr(gm, "feature_names_in_", None)
    if names is not None:
        model = model.with_feature_names([str(n) for n in names])
    sk = gm.get_params()
    keep = {k: sk[k] for k in ("covariance_type", "tol", "reg_covar", "max_iter", "n_init",
                                "init_params", "random_state", "warm_start") if k in sk}
    keep.update(params)
    est = GaussianMixture._from_model(model, **keep)
    for name in ("converged_", "n_iter_", "lower_bound_"):
        if hasattr(gm, name):
            setattr(est, name, getattr(gm, name))
    return est
