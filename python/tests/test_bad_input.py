"""Bad input: every case is a Python exception (ValueError with the
library's message where the library finds it), never a crash or a panic."""

import numpy as np
import pytest

import mixtures
from mixtures import _native

X = np.random.default_rng(0).standard_normal((40, 3))


@pytest.mark.parametrize("bad", [
    np.array([[1.0, np.nan], [2.0, 3.0], [1.0, 1.0]]),
    np.array([[1.0, np.inf], [2.0, 3.0], [1.0, 1.0]]),
])
def test_non_finite(bad):
    with pytest.raises(ValueError):
        mixtures.GaussianMixture().fit(bad)
    with pytest.raises(ValueError):
        mixtures.Detector().fit(bad)


def test_the_library_names_the_bad_value():
    """The native layer's own check (reached without scikit-learn's)."""
    bad = X.copy()
    bad[7, 2] = np.nan
    with pytest.raises(ValueError, match="row 7"):
        _native.fit(bad, "gaussian", "full", 1,
                    {"n_init": 1, "max_iter": 10, "tol": 1e-3, "reg_covar": 1e-6,
                     "init": "kmeans", "seed": 0})


def test_wrong_shapes_and_dtypes():
    gm = mixtures.GaussianMixture(2, random_state=0).fit(X)
    with pytest.raises(ValueError):
        gm.score_samples(X[:, :2])  # wrong number of features
    with pytest.raises(ValueError):
        mixtures.GaussianMixture().fit(X[0])  # 1-D
    with pytest.raises(ValueError):
        mixtures.GaussianMixture().fit(np.array([["a", "b"], ["c", "d"]]))
    with pytest.raises((TypeError, ValueError)):
        mixtures.GaussianMixture().fit(X.astype(complex))
    with pytest.raises(ValueError):
        mixtures.GaussianMixture().fit(np.empty((0, 3)))


def test_bad_parameters_are_value_errors():
    for params in ({"n_components": 0}, {"n_components": 50}, {"tol": -1.0},
                   {"reg_covar": -1.0}, {"max_iter": 0}, {"n_init": 0},
                   {"covariance_type": "banana"}, {"init_params": "nope"},
                   {"n_components": 2, "weights_init": [0.5, 0.6],
                    "means_init": X[:2]}):
        with pytest.raises(ValueError):
            mixtures.GaussianMixture(**params).fit(X)
    with pytest.raises(ValueError):
        mixtures.LaplaceMixture(covariance_type="full").fit(X)
    with pytest.raises(ValueError):
        mixtures.StudentTMixture(degrees_of_freedom="sometimes").fit(X)
    with pytest.raises(ValueError):
        mixtures.BayesianGaussianMixture(weight_concentration_prior=-1.0).fit(X)
    for c in (0.0, 0.7, -0.1):
        with pytest.raises(ValueError):
            mixtures.Detector(contamination=c).fit(X)
    with pytest.raises(ValueError):
        mixtures.Detector(method="nope").fit(X)


def test_n_components_above_n_samples_names_both():
    with pytest.raises(ValueError, match="n_components"):
        mixtures.GaussianMixture(n_components=41).fit(X)
    with pytest.raises(ValueError):
        _native.fit(X[:3], "gaussian", "full", 5,
                    {"n_init": 1, "max_iter": 10, "tol": 1e-3, "reg_covar": 1e-6,
                     "init": "kmeans", "seed": 0})


def test_duplicate_rows_are_refused_not_crashed():
    same = np.ones((20, 2))
    with pytest.raises(ValueError):
        mixtures.GaussianMixture(2).fit(same)


def test_unfitted():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        mixtures.GaussianMixture().predict(X)
    with pytest.raises(NotFittedError):
        mixtures.Detector().decision_function(X)


def test_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        mixtures.load(str(tmp_path / "missing.json"))
    with pytest.raises(FileNotFoundError):
        _native.Model.load(str(tmp_path / "missing.json"))
    p = tmp_path / "bad.json"
    p.write_text('{"format_version": 1, "family": "gaussian", "covariance_type": "diag",'
                 ' "weights": [1.0], "means": [[0, 0]], "covariances": [[1.0, -1.0]]}')
    with pytest.raises(ValueError, match="component 0, feature 1"):
        mixtures.load(str(p))
    p.write_text("{not json")
    with pytest.raises(ValueError, match="line 1"):
        mixtures.load(str(p))
    p.write_text('{"format_version": 99, "family": "gaussian", "weights": [1]}')
    with pytest.raises(ValueError, match="version"):
        mixtures.load(str(p))
