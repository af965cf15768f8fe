#!/usr/bin/env python3
"""Write scikit-learn models in the mixtures model-file format, with reference scores.

For each covariance type, fit a GaussianMixture on deterministic data, write it
with the function shown in docs/model-format.md, and store a set of query points
(some far from the data) with scikit-learn's score_samples, predict_proba and
predict on them. A Rust test loads each file and compares.

Run by hand (CI reads the committed JSON):
    python3 -m venv .venv && .venv/bin/pip install scikit-learn numpy
    .venv/bin/python tests/reference/make_model_fixtures.py crates/mixtures-dist/tests/data
"""
import argparse
import json
import os

import numpy as np
import sklearn
from sklearn.mixture import GaussianMixture


def save_for_mixtures(gm, feature_names=None):
    """The snippet of docs/model-format.md, returning the document."""
    doc = {
        "format_version": 1,
        "family": "gaussian",
        "covariance_type": gm.covariance_type,
        "weights": gm.weights_.tolist(),
        "means": gm.means_.tolist(),
        "covariances": gm.covariances_.tolist(),
    }
    if feature_names is not None:
        doc["feature_names"] = list(feature_names)
    return doc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    args = ap.parse_args()
    rng = np.random.default_rng(20261122)
    d, k = 4, 3
    centers = rng.normal(scale=4.0, size=(k, d))
    parts = []
    for c in centers:
        a = rng.normal(size=(d, d)) / np.sqrt(d)
        parts.append(rng.multivariate_normal(c, a @ a.T + 0.3 * np.eye(d), size=300))
    x = np.vstack(parts)
    queries = np.vstack([
        x[rng.choice(len(x), size=40, replace=False)],
        rng.normal(scale=10.0, size=(15, d)),
        centers + 200.0,  # far away: log-densities of order -1e4 and below
    ])
    for ct in ("full", "diag", "spherical", "tied"):
        gm = GaussianMixture(n_components=k, covariance_type=ct, random_state=0).fit(x)
        doc = save_for_mixtures(gm, feature_names=[f"f{j}" for j in range(d)])
        fixture = {
            "generator": f"scikit-learn {sklearn.__version__}, numpy {np.__version__}",
            "model": doc,
            "queries": queries.tolist(),
            "score_samples": gm.score_samples(queries).tolist(),
            "predict_proba": gm.predict_proba(queries).tolist(),
            "predict": gm.predict(queries).tolist(),
        }
        path = os.path.join(args.outdir, f"sklearn_model_{ct}.json")
        with open(path, "w") as f:
            json.dump(fixture, f)
        print("wrote", path)


if __name__ == "__main__":
    main()
