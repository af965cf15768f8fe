"""scikit-learn's estimator checks on every estimator of the package."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

import mixtures

ESTIMATORS = [
    mixtures.GaussianMixture(),
    mixtures.GaussianMixture(covariance_type="tied-diag"),
    mixtures.BayesianGaussianMixture(),
    mixtures.LaplaceMixture(),
    mixtures.StudentTMixture(),
    mixtures.Detector(),
    mixtures.Detector(method="mixture", n_components=2, covariance_type="diag"),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    # check_array_api_input is skipped by scikit-learn itself unless
    # SCIPY_ARRAY_API=1 and array-api-strict are installed; the native code
    # reads NumPy arrays only.
    check(estimator)
