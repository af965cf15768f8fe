"""The PyOD contract of mixtures.Detector, every threshold rule, the
default detector, explanations and metrics."""

import pickle

import numpy as np
import pytest
from sklearn import metrics as skm

import mixtures
from mixtures import metrics


@pytest.fixture
def contaminated():
    """500 normal rows and 25 far ones (labels 1), shuffled."""
    rng = np.random.default_rng(7)
    normal = rng.standard_normal((500, 3)) @ np.array([[1, 0.5, 0], [0, 1, 0.3], [0, 0, 0.7]])
    far = rng.uniform(-8, 8, (25, 3))
    far[:, 0] += 9
    X = np.vstack([normal, far])
    y = np.r_[np.zeros(500, int), np.ones(25, int)]
    order = rng.permutation(len(y))
    return X[order], y[order]


@pytest.mark.parametrize("method", ["auto", "mixture", "mcd"])
def test_pyod_contract(contaminated, method):
    X, y = contaminated
    det = mixtures.Detector(contamination=0.05, method=method, n_components=2, random_state=0)
    assert det.fit(X) is det
    n = len(X)
    assert det.decision_scores_.shape == (n,)
    assert det.labels_.shape == (n,) and set(det.labels_) <= {0, 1}
    # PyOD's threshold: the training scores' 1 - contamination percentile.
    assert det.threshold_ == pytest.approx(np.percentile(det.decision_scores_, 95), rel=1e-12)
    np.testing.assert_array_equal(det.labels_, (det.decision_scores_ >= det.threshold_).astype(int))
    np.testing.assert_allclose(det.decision_function(X), det.decision_scores_, rtol=1e-12)
    np.testing.assert_array_equal(det.predict(X), det.labels_)
    proba = det.predict_proba(X)
    assert proba.shape == (n, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert ((proba >= 0) & (proba <= 1)).all()
    unify = det.predict_proba(X, method="unify")
    assert ((unify >= 0) & (unify <= 1)).all()
    labels, conf = det.predict(X, return_confidence=True)
    assert conf.shape == (n,) and ((conf >= 0) & (conf <= 1)).all()
    np.testing.assert_array_equal(det.fit_predict(X), det.labels_)
    # The far rows score higher.
    assert metrics.roc_auc_score(y, det.decision_scores_) > 0.95


def test_default_detector_is_an_ensemble(contaminated):
    X, _ = contaminated
    det = mixtures.Detector(contamination=0.05).fit(X)
    assert det.detector_.is_ensemble
    parts = det.detector_.parts()
    assert [p["name"] for p in parts][:2] == ["gaussian", "mcd"]
    assert det.tail_probability(X).shape == (len(X),)
    e = det.explain(X[:4])
    assert e["contributions"].shape == (4, 3)


RULES = [
    ("contamination", {"q": 0.05}, False),
    ("fixed", {"value": 6.0}, False),
    ("best_f", {"beta": 1.0}, True),
    ("target_precision", {"precision": 0.9}, True),
    ("target_recall", {"recall": 0.9}, True),
    ("positive_unlabeled", {"ranks": 1.0}, True),
    ("mad", {"k": 4.45}, False),
    ("peaks_over_threshold", {"rate": 0.01}, False),
]


@pytest.mark.parametrize("rule,params,needs_labels", RULES)
def test_every_threshold_rule(contaminated, rule, params, needs_labels):
    X, y = contaminated
    assert rule in mixtures.THRESHOLD_RULES
    det = mixtures.Detector(method="mixture", threshold=rule, threshold_params=params,
                            random_state=0)
    det.fit(X, y if needs_labels else None)
    assert np.isfinite(det.threshold_)
    assert det.detector_.rule.startswith(rule)
    value, name, _ = metrics.fit_threshold(det.decision_scores_, rule,
                                           y if needs_labels else None, **params)
    assert value == pytest.approx(det.threshold_, rel=1e-12)


def test_labelled_rule_without_labels_is_a_value_error(contaminated):
    X, _ = contaminated
    with pytest.raises(ValueError, match="label"):
        mixtures.Detector(method="mixture", threshold="best_f").fit(X)


def test_unknown_rule_and_parameter(contaminated):
    X, _ = contaminated
    with pytest.raises(ValueError, match="unknown threshold rule"):
        mixtures.Detector(threshold="nope").fit(X)
    with pytest.raises(ValueError, match="takes"):
        mixtures.Detector(threshold="mad", threshold_params={"q": 1}).fit(X)


def test_robust_mode_leaves_out_the_far_rows(contaminated):
    X, y = contaminated
    det = mixtures.Detector(contamination=0.05, method="mixture", robust=True,
                            random_state=0).fit(X)
    assert det.report_["rounds"] >= 2
    left_out = np.zeros(len(X), bool)
    left_out[det.report_["excluded"]] = True
    assert left_out[y == 1].mean() > 0.9


def test_metrics_equal_scikit_learn(contaminated):
    X, y = contaminated
    s = mixtures.Detector(method="mixture").fit(X).decision_scores_
    assert metrics.roc_auc_score(y, s) == pytest.approx(skm.roc_auc_score(y, s), rel=1e-12)
    assert metrics.average_precision_score(y, s) == pytest.approx(
        skm.average_precision_score(y, s), rel=1e-12)
    p, r, t = metrics.precision_recall_curve(y, s)
    assert len(p) == len(r) == len(t) + 1 or len(p) == len(r)
    e = metrics.evaluate(y, s, np.percentile(s, 95))
    pred = (s >= np.percentile(s, 95)).astype(int)
    assert e["f1"] == pytest.approx(skm.f1_score(y, pred))
    assert e["precision"] == pytest.approx(skm.precision_score(y, pred))


def test_detector_pickles_and_saves(contaminated, tmp_path):
    X, _ = contaminated
    for det in (mixtures.Detector(contamination=0.05).fit(X),
                mixtures.Detector(method="mixture", n_components=2).fit(X)):
        back = pickle.loads(pickle.dumps(det))
        np.testing.assert_array_equal(back.decision_function(X), det.decision_function(X))
        path = tmp_path / "det.json"
        det.save(path)
        loaded = mixtures.load(str(path))
        assert isinstance(loaded, mixtures.Detector)
        assert loaded.threshold_ == det.threshold_
        np.testing.assert_array_equal(loaded.decision_function(X), det.decision_function(X))
        np.testing.assert_array_equal(loaded.predict(X), det.predict(X))
        np.testing.assert_allclose(loaded.tail_probability(X), det.tail_probability(X))
        with pytest.raises(ValueError, match="training scores"):
            loaded.predict_proba(X)


def test_set_threshold(contaminated):
    X, _ = contaminated
    det = mixtures.Detector(method="mixture").fit(X)
    det.set_threshold(100.0)
    assert det.threshold_ == 100.0 and det.detector_.rule == "fixed"
    assert det.predict(X).sum() == 0


def test_mixture_detector_scores_are_minus_log_density(contaminated):
    """PyOD's GMM detector scores -score_samples; so does method="mixture"."""
    X, _ = contaminated
    det = mixtures.Detector(method="mixture", n_components=2, random_state=3).fit(X)
    gm = mixtures.GaussianMixture(2, random_state=3).fit(X)
    np.testing.assert_allclose(det.decision_scores_, -gm.score_samples(X), rtol=1e-12)
