"""``BayesianGaussianMixture``: scikit-learn's variational Gaussian mixture."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from . import _native
from ._base import _BaseMixture
from ._gaussian import STORAGE, precisions


class BayesianGaussianMixture(_BaseMixture):
    """scikit-learn's ``BayesianGaussianMixture`` (variational inference with
    a Dirichlet process or distribution on the weights and Normal-Wishart
    priors), same parameters and fitted attributes.

    One difference: ``predict``, ``predict_proba`` and ``score_samples``
    evaluate the plug-in mixture (``weights_``, ``means_``,
    ``covariances_``), a proper density, where scikit-learn uses the
    variational expectation of the log-likelihood. ``warm_start`` is not
    supported (refused when True).
    """

    _family = "gaussian"

    def __init__(
        self,
        *,
        n_components: int = 1,
        covariance_type: str = "full",
        tol: float = 1e-3,
        reg_covar: float = 1e-6,
        max_iter: int = 100,
        n_init: int = 1,
        init_params: str = "kmeans",
        weight_concentration_prior_type: str = "dirichlet_process",
        weight_concentration_prior: Optional[float] = None,
        mean_precision_prior: Optional[float] = None,
        mean_prior: Optional[Any] = None,
        degrees_of_freedom_prior: Optional[float] = None,
        covariance_prior: Optional[Any] = None,
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
        self.weight_concentration_prior_type = weight_concentration_prior_type
        self.weight_concentration_prior = weight_concentration_prior
        self.mean_precision_prior = mean_precision_prior
        self.mean_prior = mean_prior
        self.degrees_of_freedom_prior = degrees_of_freedom_prior
        self.covariance_prior = covariance_prior
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval
        self.n_jobs = n_jobs

    def _fit_native(self, X: np.ndarray):
        if self.warm_start:
            raise ValueError("warm_start is not supported by BayesianGaussianMixture here")
        cp = self.covariance_prior
        priors = {
            "weight_concentration_prior_type": self.weight_concentration_prior_type,
            "weight_concentration_prior": self.weight_concentration_prior,
            "mean_precision_prior": self.mean_precision_prior,
            "mean_prior": None if self.mean_prior is None
            else np.ascontiguousarray(self.mean_prior, dtype=np.float64).reshape(-1),
            "degrees_of_freedom_prior": self.degrees_of_freedom_prior,
            "covariance_prior": None if cp is None else np.asarray(cp, dtype=np.float64),
        }
        return _native.fit_variational(
            X, int(self.n_components), self.covariance_type, self._control(), priors,
            n_threads=self._threads(),
        )

    def _finish_fit(self, model: "_native.Model", report: dict) -> None:
        super()._finish_fit(model, report)
        # The variational fit's objective is its lower bound (ELBO).
        self.lower_bound_ = float(report.get("lower_bound", self.lower_bound_))
        for name in ("weight_concentration", "mean_precision", "degrees_of_freedom"):
            setattr(self, name + "_", report[name])
        for name in ("weight_concentration_prior", "mean_precision_prior", "mean_prior",
                     "degrees_of_freedom_prior", "covariance_prior"):
            setattr(self, name + "_", report[name])

    def _set_attributes(self, params: dict) -> None:
        storage = STORAGE.get(params["covariance_type"], params["covariance_type"])
        self.weights_ = params["weights"]
        self.means_ = params["means"]
        self.covariances_ = params["covariances"]
        self.precisions_cholesky_ = params["precisions_cholesky"]
        self.precisions_ = precisions(self.precisions_cholesky_, storage)
