#!/usr/bin/env python3
"""Write the scikit-learn parity fixtures of mixtures-em.

For each covariance type (full, tied, diag, spherical), dimension d in {2, 8}
and number of components k in {1, 3}: the data, the initial weights, means and
covariances, and scikit-learn's GaussianMixture parameters after exactly 50 EM
iterations (tol = 0, n_init = 1, reg_covar = 1e-6) started from them.

Run by hand (CI reads the committed JSON):
    python3 -m venv .venv && .venv/bin/pip install scikit-learn numpy
    .venv/bin/python tests/reference/make_em_fixtures.py \
        crates/mixtures-em/tests/data/sklearn_em.json
"""
import argparse
import json
import warnings

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

ITERS = 50


def make_data(d, rng, n=400):
    """Three overlapping elliptical clusters (EM has work to do for 50 iterations)."""
    centers = rng.normal(scale=3.0, size=(3, d))
    parts = []
    for c, m in zip(centers, (0.5, 0.3, 0.2)):
        a = rng.normal(size=(d, d)) / np.sqrt(d)
        cov = a @ a.T + 0.5 * np.eye(d)
        parts.append(rng.multivariate_normal(c, cov, size=int(n * m)))
    x = np.vstack(parts)
    rng.shuffle(x)
    return x


def initial(x, k, ct, rng):
    n, d = x.shape
    idx = rng.choice(n, size=k, replace=False)
    means = x[idx] + rng.normal(scale=0.5, size=(k, d))
    weights = rng.dirichlet(np.ones(k) * 5.0)
    var = x.var(axis=0)
    if ct == "full":
        covs = []
        for _ in range(k):
            a = rng.normal(size=(d, d)) * 0.3
            covs.append(np.diag(var) + a @ a.T)
        cov = np.array(covs)
        prec = np.linalg.inv(cov)
    elif ct == "tied":
        a = rng.normal(size=(d, d)) * 0.3
        cov = np.diag(var) + a @ a.T
        prec = np.linalg.inv(cov)
    elif ct == "diag":
        cov = np.array([var * rng.uniform(0.5, 1.5, size=d) for _ in range(k)])
        prec = 1.0 / cov
    else:
        cov = var.mean() * rng.uniform(0.5, 1.5, size=k)
        prec = 1.0 / cov
    return weights, means, cov, prec


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=20261122)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    datasets = {d: make_data(d, rng) for d in (2, 8)}
    cases = []
    for ct in ("full", "tied", "diag", "spherical"):
        for d in (2, 8):
            for k in (1, 3):
                x = datasets[d]
                w0, m0, c0, p0 = initial(x, k, ct, rng)
                gm = GaussianMixture(
                    n_components=k,
                    covariance_type=ct,
                    tol=0.0,
                    max_iter=ITERS,
                    n_init=1,
                    reg_covar=1e-6,
                    weights_init=w0,
                    means_init=m0,
                    precisions_init=p0,
                    random_state=0,
                )
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    gm.fit(x)
                assert gm.n_iter_ == ITERS
                cases.append(
                    {
                        "covariance_type": ct,
                        "d": d,
                        "k": k,
                        "init": {
                            "weights": w0.tolist(),
                            "means": m0.tolist(),
                            "covariances": c0.tolist(),
                        },
                        "fitted": {
                            "weights": gm.weights_.tolist(),
                            "means": gm.means_.tolist(),
                            "covariances": gm.covariances_.tolist(),
                        },
                        # Mean log-likelihood of the last E-step (before the last
                        # M-step), and of the final model.
                        "lower_bound": float(gm.lower_bound_),
                        "final_score": float(gm.score(x)),
                    }
                )
    out = {
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "iterations": ITERS,
        "reg_covar": 1e-6,
        "data": {str(d): x.tolist() for d, x in datasets.items()},
        "cases": cases,
    }
    with open(args.out, "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
