"""The other families: Laplace and Student-t mixtures, with parameters
named in scikit-learn's style."""

from __future__ import annotations

from typing import Any, Optional, Union

import numpy as np

from . import _native
from ._base import _BaseMixture


class _WarmStart:
    def _start(self, X: np.ndarray) -> Optional["_native.Model"]:
        if self.warm_start and hasattr(self, "model_"):
            m = self.model_
            if m.n_features == X.shape[1] and m.n_components == self.n_components and m.dtype == X.dtype.name:
                return m
        return None


class LaplaceMixture(_WarmStart, _BaseMixture):
    """A mixture of Laplace (double exponential) distributions fitted by
    exact EM (weighted medians and mean absolute deviations): heavier tails
    than a Gaussian's, robust to outlying rows.

    ``covariance_type`` is the scale structure: ``"diag"`` (a scale per
    component and feature) or ``"spherical"`` (one per component). Fitted
    attributes: ``weights_``, ``means_`` (the locations), ``scales_``.
    """

    _family = "laplace"

    def __init__(
        self,
        n_components: int = 1,
        *,
        covariance_type: str = "diag",
        tol: float = 1e-3,
        reg_covar: float = 1e-6,
        max_iter: int = 100,
        n_init: int = 1,
        init_params: str = "kmeans",
        random_state: Any = None,
        warm_start: bool = False,
        n_jobs: Optional[int] = None,
    ) -> None:
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.random_state = random_state
        self.warm_start = warm_start
        self.n_jobs = n_jobs

    def _fit_native(self, X: np.ndarray):
        start = self._start(X)
        return _native.fit(
            X, "laplace", self.covariance_type, int(self.n_components),
            self._control(n_init=1 if start is not None else None),
            start=start, n_threads=self._threads(),
        )

    def _set_attributes(self, params: dict) -> None:
        self.weights_ = params["weights"]
        self.means_ = params["means"]
        self.scales_ = params["scales"]


class StudentTMixture(_WarmStart, _BaseMixture):
    """A mixture of multivariate Student-t distributions fitted by ECM:
    Gaussian-shaped components with heavy tails, whose degrees of freedom
    are estimated (``degrees_of_freedom="per_component"`` or ``"shared"``)
    or fixed (a number). ``covariance_type`` as for ``GaussianMixture``.
    Fitted attributes: ``weights_``, ``means_``, ``covariances_`` (the
    scale matrices), ``degrees_of_freedom_``.
    """

    _family = "student-t"

    def __init__(
        self,
        n_components: int = 1,
        *,
        covariance_type: str = "full",
        degrees_of_freedom: Union[str, float] = "per_component",
        initial_dof: Optional[float] = None,
        tol: float = 1e-3,
        reg_covar: float = 1e-6,
        max_iter: int = 100,
        n_init: int = 1,
        init_params: str = "kmeans",
        random_state: Any = None,
        warm_start: bool = False,
        n_jobs: Optional[int] = None,
    ) -> None:
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.degrees_of_freedom = degrees_of_freedom
        self.initial_dof = initial_dof
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.random_state = random_state
        self.warm_start = warm_start
        self.n_jobs = n_jobs

    def _fit_native(self, X: np.ndarray):
        start = self._start(X)
        return _native.fit(
            X, "student-t", self.covariance_type, int(self.n_components),
            self._control(n_init=1 if start is not None else None),
            start=start, degrees_of_freedom=self.degrees_of_freedom,
            initial_dof=self.initial_dof, n_threads=self._threads(),
        )

    def _set_attributes(self, params: dict) -> None:
        self.weights_ = params["weights"]
        self.means_ = params["means"]
        self.covariances_ = params["covariances"]
        self.degrees_of_freedom_ = params["degrees_of_freedom"]
