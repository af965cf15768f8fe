"""Reading model and detector files into estimators."""

from __future__ import annotations

import json
from typing import Any, Union

from . import _native
from ._bayesian import BayesianGaussianMixture  # noqa: F401 (re-exported type)
from ._detector import Detector
from ._families import LaplaceMixture, StudentTMixture
from ._gaussian import GaussianMixture

_BY_FAMILY = {
    "gaussian": GaussianMixture,
    "laplace": LaplaceMixture,
    "student-t": StudentTMixture,
}


def _estimator(model: "_native.Model") -> Any:
    cls = _BY_FAMILY[model.family]
    return cls._from_model(model, covariance_type=model.covariance_type)


def loads(text: str) -> Union[GaussianMixture, LaplaceMixture, StudentTMixture, Detector]:
    """An estimator from the text of a model or detector file."""
    try:
        is_detector = "threshold" in json.loads(text)
    except (ValueError, TypeError):
        is_detector = False
    if is_detector:
        return Detector._from_native(_native.Detector.from_json(text))
    return _estimator(_native.Model.from_json(text))


def load(path: str) -> Union[GaussianMixture, LaplaceMixture, StudentTMixture, Detector]:
    """A fitted estimator from a model file (``GaussianMixture``,
    ``LaplaceMixture`` or ``StudentTMixture`` by its family) or a
    ``Detector`` from a detector file, as the command line writes them."""
    try:
        with open(path, encoding="utf-8-sig") as f:
            text = f.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"no such file: {path}") from None
    return loads(text)
