"""Model and detector files interchange with the Rust library and the
command line (docs/model-format.md)."""

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from sklearn.mixture import GaussianMixture as SkGaussianMixture

import mixtures

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "crates" / "mixtures-dist" / "tests" / "data"
CLI = os.environ.get("MIXTURES_CLI")


@pytest.mark.parametrize("ct", ["full", "diag", "spherical", "tied"])
def test_reads_the_rust_tests_sklearn_files(ct):
    """The fixtures the Rust tests read: a model file written from a
    scikit-learn fit, and scikit-learn's answers on query points."""
    doc = json.loads((DATA / f"sklearn_model_{ct}.json").read_text())
    gm = mixtures.loads(json.dumps(doc["model"]))
    assert isinstance(gm, mixtures.GaussianMixture)
    np.testing.assert_array_equal(gm.means_, np.array(doc["model"]["means"]))
    q = np.array(doc["queries"])
    np.testing.assert_allclose(gm.score_samples(q), doc["score_samples"], rtol=1e-10)
    np.testing.assert_allclose(gm.predict_proba(q), doc["predict_proba"], rtol=1e-8, atol=1e-12)
    np.testing.assert_array_equal(gm.predict(q), doc["predict"])


@pytest.mark.parametrize("make", [
    lambda: mixtures.GaussianMixture(3, covariance_type="tied-diag", random_state=0),
    lambda: mixtures.LaplaceMixture(2, random_state=0),
    lambda: mixtures.StudentTMixture(2, covariance_type="diag", random_state=0),
])
def test_save_load_is_exact(blobs, tmp_path, make):
    est = make().fit(blobs)
    path = tmp_path / "m.json"
    est.save(str(path))
    back = mixtures.load(str(path))
    assert type(back) is type(est)
    np.testing.assert_array_equal(back.score_samples(blobs), est.score_samples(blobs))
    assert back.model_.covariance_type == est.model_.covariance_type


def test_sklearn_model_through_a_file(blobs, tmp_path):
    sk = SkGaussianMixture(3, covariance_type="diag", random_state=0).fit(blobs)
    path = tmp_path / "m.json"
    mixtures.from_sklearn(sk).save(str(path))
    back = mixtures.load(str(path))
    np.testing.assert_allclose(back.score_samples(blobs), sk.score_samples(blobs), rtol=1e-12)


def test_feature_names_are_stored(tmp_path):
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(np.random.default_rng(1).standard_normal((50, 2)), columns=["a", "b"])
    gm = mixtures.GaussianMixture(random_state=0).fit(X)
    path = tmp_path / "m.json"
    gm.save(str(path))
    assert json.loads(path.read_text())["feature_names"] == ["a", "b"]


def write_csv(path, X, names=None):
    names = names or [f"x{j}" for j in range(X.shape[1])]
    with open(path, "w") as f:
        f.write(",".join(names) + "\n")
        for row in X:
            f.write(",".join(repr(float(v)) for v in row) + "\n")


def read_scores(path):
    with open(path) as f:
        header = f.readline().strip().split(",")
        rows = [line.strip().split(",") for line in f if line.strip()]
    col = header.index("anomaly_score")
    return np.array([float(r[col]) for r in rows])


needs_cli = pytest.mark.skipif(
    not (CLI and Path(CLI).exists()),
    reason="MIXTURES_CLI (the mixtures binary, target/debug/mixtures) not set; python/ci.sh sets it",
)


@needs_cli
def test_the_command_lines_model_and_detector_files(blobs, tmp_path):
    train = tmp_path / "train.csv"
    write_csv(train, blobs)
    model = tmp_path / "model.json"
    subprocess.run([CLI, "fit", str(train), "-o", str(model), "-k", "3", "--covariance", "full",
                    "--quiet"], check=True)
    gm = mixtures.load(str(model))
    scores = tmp_path / "scores.csv"
    subprocess.run([CLI, "score", str(model), str(train), "-o", str(scores), "--quiet"],
                   check=True)
    np.testing.assert_allclose(-gm.score_samples(blobs), read_scores(scores), rtol=1e-12)

    det_file = tmp_path / "det.json"
    subprocess.run([CLI, "detect", str(train), "-o", str(det_file), "--contamination", "0.05",
                    "--quiet"], check=True)
    det = mixtures.load(str(det_file))
    subprocess.run([CLI, "score", str(det_file), str(train), "-o", str(scores), "--quiet"],
                   check=True)
    np.testing.assert_allclose(det.decision_function(blobs), read_scores(scores), rtol=1e-12)


@needs_cli
def test_the_command_line_reads_python_files(blobs, tmp_path):
    data = tmp_path / "data.csv"
    write_csv(data, blobs)
    scores = tmp_path / "scores.csv"
    for est in (mixtures.GaussianMixture(3, random_state=0).fit(blobs),
                mixtures.Detector(contamination=0.05).fit(blobs)):
        path = tmp_path / "py.json"
        est.save(str(path))
        subprocess.run([CLI, "score", str(path), str(data), "-o", str(scores), "--quiet"],
                       check=True)
        mine = (est.decision_function(blobs) if isinstance(est, mixtures.Detector)
                else -est.score_samples(blobs))
        np.testing.assert_allclose(mine, read_scores(scores), rtol=1e-12)
