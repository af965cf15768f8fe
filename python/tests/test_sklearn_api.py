"""get_params/set_params, clone, pickling, Pipeline, GridSearchCV, dtypes
and layouts, warm starts, the other families."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import mixtures

ALL = [
    lambda: mixtures.GaussianMixture(3, random_state=0),
    lambda: mixtures.GaussianMixture(3, covariance_type="tied-spherical", random_state=0),
    lambda: mixtures.BayesianGaussianMixture(n_components=4, random_state=0),
    lambda: mixtures.LaplaceMixture(3, random_state=0),
    lambda: mixtures.StudentTMixture(3, random_state=0),
]


@pytest.mark.parametrize("make", ALL)
def test_pickle_round_trip_is_exact(blobs, make):
    est = make().fit(blobs)
    back = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(back.score_samples(blobs), est.score_samples(blobs))
    np.testing.assert_array_equal(back.predict_proba(blobs), est.predict_proba(blobs))
    assert back.get_params() == est.get_params()


@pytest.mark.parametrize("make", ALL)
def test_clone_and_params(make):
    est = make()
    c = clone(est)
    assert c.get_params() == est.get_params()
    c.set_params(max_iter=7)
    assert c.max_iter == 7 and est.max_iter != 7


def test_float32_fits_in_float32_and_layout_does_not_matter(blobs):
    X32 = blobs.astype(np.float32)
    gm32 = mixtures.GaussianMixture(3, random_state=0).fit(X32)
    assert gm32.model_.dtype == "float32" and gm32.means_.dtype == np.float32
    assert gm32.score_samples(X32).dtype == np.float32
    c = mixtures.GaussianMixture(3, random_state=0).fit(np.ascontiguousarray(blobs))
    f = mixtures.GaussianMixture(3, random_state=0).fit(np.asfortranarray(blobs))
    s = mixtures.GaussianMixture(3, random_state=0).fit(np.repeat(blobs, 2, axis=1)[:, ::2])
    np.testing.assert_array_equal(c.means_, f.means_)
    np.testing.assert_array_equal(c.means_, s.means_)
    ints = mixtures.GaussianMixture(2, random_state=0).fit((blobs * 10).astype(np.int64))
    assert ints.model_.dtype == "float64"


def test_results_do_not_depend_on_threads(blobs):
    one = mixtures.GaussianMixture(3, n_init=2, random_state=1, n_jobs=1).fit(blobs)
    with mixtures.threads(2):
        two = mixtures.GaussianMixture(3, n_init=2, random_state=1).fit(blobs)
    np.testing.assert_array_equal(one.means_, two.means_)
    mixtures.set_num_threads(1)
    try:
        assert mixtures.get_num_threads() == 1
        with mixtures.threads(2):
            assert mixtures.get_num_threads() == 2
        assert mixtures.get_num_threads() == 1
    finally:
        mixtures.set_num_threads(None)
    with pytest.raises(ValueError):
        mixtures.set_num_threads(0)


def test_pipeline_and_grid_search(blobs):
    pipe = make_pipeline(StandardScaler(), mixtures.GaussianMixture(random_state=0))
    grid = GridSearchCV(
        pipe,
        {"gaussianmixture__n_components": [1, 2, 3],
         "gaussianmixture__covariance_type": ["full", "diag", "tied-diag"]},
        cv=KFold(3, shuffle=True, random_state=0),
    ).fit(blobs)
    assert grid.best_params_["gaussianmixture__n_components"] == 3
    assert np.isfinite(grid.score(blobs))


def test_warm_start_continues_from_the_previous_fit(blobs):
    gm = mixtures.GaussianMixture(3, max_iter=2, warm_start=True, random_state=0)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gm.fit(blobs)
        first = gm.lower_bound_
        gm.fit(blobs)
    assert gm.lower_bound_ >= first - 1e-12


def test_partial_inits(blobs):
    means = blobs[[0, 250, 450]]
    gm = mixtures.GaussianMixture(3, means_init=means, random_state=0).fit(blobs)
    assert gm.converged_ and len(set(gm.predict(blobs))) == 3


def test_sample_and_explain(blobs):
    gm = mixtures.GaussianMixture(3, covariance_type="diag", random_state=0).fit(blobs)
    X, y = gm.sample(50)
    assert X.shape == (50, 4) and y.shape == (50,) and set(y) <= {0, 1, 2}
    e = gm.explain(blobs[:5])
    assert e["contributions"].shape == (5, 4) and e["attribution"] == "exact"
    np.testing.assert_allclose(e["scores"], -gm.score_samples(blobs[:5]), rtol=1e-10)


def test_bayesian_attributes(blobs):
    b = mixtures.BayesianGaussianMixture(
        n_components=6, weight_concentration_prior_type="dirichlet_distribution",
        random_state=0).fit(blobs)
    assert b.weight_concentration_.shape == (6,)
    assert b.mean_prior_.shape == (4,) and b.covariance_prior_.shape == (4, 4)
    assert np.isclose(b.weights_.sum(), 1.0)


def test_student_t_fixed_dof_and_laplace_spherical(blobs):
    t = mixtures.StudentTMixture(3, degrees_of_freedom=4.0, random_state=0).fit(blobs)
    np.testing.assert_array_equal(t.degrees_of_freedom_, [4.0, 4.0, 4.0])
    lap = mixtures.LaplaceMixture(3, covariance_type="spherical", random_state=0).fit(blobs)
    assert lap.scales_.shape == (3,)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("order", ["C", "F"])
def test_input_reaches_the_native_code_without_a_copy(blobs, dtype, order):
    from mixtures._validation import check_X

    X = np.asarray(blobs, dtype=dtype, order=order)
    X.setflags(write=False)  # read-only arrays are read in place too
    gm = mixtures.GaussianMixture(2, random_state=0)
    assert np.shares_memory(check_X(gm, X, reset=True), X)
    gm.fit(X)
    assert gm.score_samples(X).shape == (len(X),)


def test_the_gil_is_released_during_a_fit():
    """Another Python thread runs while the native fit is in progress."""
    import threading
    import time

    X = np.random.default_rng(3).standard_normal((4000, 8))
    span = {}

    def work():
        gm = mixtures.GaussianMixture(4, max_iter=15, tol=0.0, random_state=0)
        span["start"] = time.perf_counter()
        gm.fit(X)
        span["end"] = time.perf_counter()

    t = threading.Thread(target=work)
    ticks = []
    t.start()
    while t.is_alive():
        ticks.append(time.perf_counter())
        time.sleep(0.001)
    t.join()
    duration = span["end"] - span["start"]
    inside = [x for x in ticks if span["start"] + 0.2 * duration < x < span["end"] - 0.2 * duration]
    assert duration > 0.05 and len(inside) > 3
