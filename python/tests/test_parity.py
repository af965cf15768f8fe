"""Parity with scikit-learn's GaussianMixture from identical initial
parameters: the same EM, so the same fit to 1e-8 relative."""

import numpy as np
import pytest
from sklearn.mixture import GaussianMixture as SkGaussianMixture

import mixtures

RTOL = 1e-8


def initial(X, k, covariance_type, seed=3):
    """A deliberately rough start: random rows as means, the data's
    covariance for every component."""
    rng = np.random.default_rng(seed)
    means = X[rng.choice(len(X), k, replace=False)]
    weights = np.full(k, 1.0 / k)
    cov = np.cov(X.T) + 1e-6 * np.eye(X.shape[1])
    if covariance_type == "full":
        prec = np.array([np.linalg.inv(cov * (1 + 0.1 * j)) for j in range(k)])
    elif covariance_type == "tied":
        prec = np.linalg.inv(cov)
    elif covariance_type == "diag":
        prec = np.array([1.0 / (np.diag(cov) * (1 + 0.1 * j)) for j in range(k)])
    else:
        prec = np.array([1.0 / (np.mean(np.diag(cov)) * (1 + 0.1 * j)) for j in range(k)])
    return weights, means, prec


@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical", "tied"])
@pytest.mark.parametrize("k", [2, 3])
def test_same_fit_as_scikit_learn(blobs, covariance_type, k):
    X = blobs
    w, m, p = initial(X, k, covariance_type)
    common = dict(n_components=k, covariance_type=covariance_type, weights_init=w,
                  means_init=m, precisions_init=p, tol=1e-6, max_iter=500)
    sk = SkGaussianMixture(**common).fit(X)
    ours = mixtures.GaussianMixture(**common).fit(X)
    assert ours.n_iter_ == sk.n_iter_
    assert ours.converged_ == sk.converged_
    np.testing.assert_allclose(ours.lower_bound_, sk.lower_bound_, rtol=RTOL)
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_", "precisions_"):
        np.testing.assert_allclose(getattr(ours, name), getattr(sk, name), rtol=RTOL,
                                   atol=1e-12, err_msg=name)
    np.testing.assert_allclose(ours.score_samples(X), sk.score_samples(X), rtol=RTOL)
    np.testing.assert_allclose(ours.predict_proba(X), sk.predict_proba(X), rtol=RTOL, atol=1e-12)
    np.testing.assert_array_equal(ours.predict(X), sk.predict(X))
    np.testing.assert_allclose(ours.bic(X), sk.bic(X), rtol=RTOL)
    np.testing.assert_allclose(ours.aic(X), sk.aic(X), rtol=RTOL)
    np.testing.assert_allclose(ours.score(X), sk.score(X), rtol=RTOL)


@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical", "tied"])
def test_a_few_iterations_match_too(blobs, covariance_type):
    """Stopped by max_iter before convergence: the same intermediate state."""
    w, m, p = initial(blobs, 3, covariance_type, seed=5)
    common = dict(n_components=3, covariance_type=covariance_type, weights_init=w,
                  means_init=m, precisions_init=p, max_iter=3)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk = SkGaussianMixture(**common).fit(blobs)
    ours = mixtures.GaussianMixture(**common).fit(blobs)
    assert not ours.converged_ and ours.n_iter_ == sk.n_iter_ == 3
    np.testing.assert_allclose(ours.means_, sk.means_, rtol=RTOL)
    np.testing.assert_allclose(ours.covariances_, sk.covariances_, rtol=RTOL)
    np.testing.assert_allclose(ours.lower_bound_, sk.lower_bound_, rtol=RTOL)


def test_from_and_to_sklearn(blobs):
    sk = SkGaussianMixture(3, covariance_type="full", random_state=0).fit(blobs)
    ours = mixtures.from_sklearn(sk)
    np.testing.assert_allclose(ours.score_samples(blobs), sk.score_samples(blobs), rtol=1e-12)
    back = ours.to_sklearn()
    np.testing.assert_allclose(back.score_samples(blobs), sk.score_samples(blobs), rtol=1e-12)
    np.testing.assert_array_equal(back.predict(blobs), sk.predict(blobs))


def test_random_init_quality_matches(blobs):
    """From their own k-means starts the two need not agree digit for digit
    (different k-means), but both find the three groups."""
    sk = SkGaussianMixture(3, random_state=0).fit(blobs)
    ours = mixtures.GaussianMixture(3, random_state=0).fit(blobs)
    assert abs(ours.score(blobs) - sk.score(blobs)) < 1e-3
