"""Mixture models (Gaussian, Laplace, Student-t) and anomaly detection,
fitted in Rust: scikit-learn-compatible estimators and a PyOD-compatible
detector. See docs/python.md."""

from . import metrics
from ._bayesian import BayesianGaussianMixture
from ._detector import Detector
from ._families import LaplaceMixture, StudentTMixture
from ._gaussian import GaussianMixture, from_sklearn
from ._io import load, loads
from ._native import THRESHOLD_RULES, __version__
from ._threads import get_num_threads, set_num_threads, threads

__all__ = [
    "BayesianGaussianMixture",
    "Detector",
    "GaussianMixture",
    "LaplaceMixture",
    "StudentTMixture",
    "THRESHOLD_RULES",
    "from_sklearn",
    "get_num_threads",
    "load",
    "loads",
    "metrics",
    "set_num_threads",
    "threads",
    "__version__",
]
