#!/usr/bin/env python3
"""Write the scikit-learn parity fixtures of mixtures-select's variational fit.

For each weight prior (dirichlet_process, dirichlet_distribution), covariance
type (full, tied, diag, spherical) and dimension d in {2, 4}: the data, the
starting responsibilities (random rows on the simplex, shared by every case of
a dimension), and BayesianGaussianMixture's posterior and lower bound after
exactly 50 iterations started from them, with scikit-learn's default priors.

How the start is made identical: scikit-learn has no public way to start from
given responsibilities, so the script calls the estimator's own steps in the
order its `fit` does:

    bgm._check_parameters(X)          # resolves the default priors
    bgm._initialize(X, resp)          # the M-step from resp (as after k-means)
    repeat 50 times:
        log_prob_norm, log_resp = bgm._e_step(X)
        bgm._m_step(X, log_resp)
        lower_bound = bgm._compute_lower_bound(log_resp, log_prob_norm)
    bgm._set_parameters(bgm._get_parameters())   # derives weights_, as fit does

and checks that this is what `fit` computes: a second estimator whose
`_initialize_parameters` is replaced by `_initialize(X, resp)` is fitted with
tol = 0 and max_iter = 50, and its lower bound and parameters must agree.

Sample weights: scikit-learn has none, so one more case per prior type fits a
data set with repeated rows; the Rust test fits the distinct rows with the
multiplicities as weights and must find the same posterior.

Run by hand (CI reads the committed JSON):
    .venv/bin/python tests/reference/make_vb_fixtures.py \
        crates/mixtures-select/tests/data/sklearn_vb.json
"""
import argparse
import json
import warnings

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import BayesianGaussianMixture

ITERS = 50
K = 5


def make_data(d, rng, n=300):
    """Three clusters of unequal size and shape (the fit has to empty two of
    its five components)."""
    centers = rng.normal(scale=4.0, size=(3, d))
    parts = []
    for c, m in zip(centers, (0.5, 0.3, 0.2)):
        a = rng.normal(size=(d, d)) / np.sqrt(d)
        cov = a @ a.T + 0.3 * np.eye(d)
        parts.append(rng.multivariate_normal(c, cov, size=int(n * m)))
    x = np.vstack(parts)
    rng.shuffle(x)
    return x


def start(n, rng):
    return rng.dirichlet(np.ones(K), size=n)


def run_steps(x, resp, prior_type, ct):
    bgm = BayesianGaussianMixture(
        n_components=K,
        covariance_type=ct,
        weight_concentration_prior_type=prior_type,
        tol=0.0,
        max_iter=ITERS,
        reg_covar=1e-6,
        random_state=0,
    )
    bgm._check_parameters(x)
    bgm._initialize(x, resp)
    trace = []
    for _ in range(ITERS):
        log_prob_norm, log_resp = bgm._e_step(x)
        bgm._m_step(x, log_resp)
        # (a 1-element array for the tied type)
        trace.append(np.asarray(bgm._compute_lower_bound(log_resp, log_prob_norm)).item())
    # weights_ (and precisions_) are derived from the posterior when fit ends.
    bgm._set_parameters(bgm._get_parameters())
    return bgm, trace


def check_against_fit(x, resp, prior_type, ct, bgm, trace):
    """The same start through the public fit: must give the same model."""
    ref = BayesianGaussianMixture(
        n_components=K,
        covariance_type=ct,
        weight_concentration_prior_type=prior_type,
        tol=0.0,
        max_iter=ITERS,
        reg_covar=1e-6,
        random_state=0,
    )
    ref._initialize_parameters = lambda X, random_state, xp=None: ref._initialize(X, resp)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref.fit(x)
    assert ref.n_iter_ == ITERS
    assert np.isclose(ref.lower_bound_, trace[-1], rtol=1e-12, atol=0), (ref.lower_bound_, trace[-1])
    assert np.allclose(ref.means_, bgm.means_, rtol=1e-12, atol=1e-12)
    assert np.allclose(ref.covariances_, bgm.covariances_, rtol=1e-12, atol=1e-12)
    assert np.allclose(ref.weights_, bgm.weights_, rtol=1e-12, atol=1e-15)


def concentration(bgm):
    wc = bgm.weight_concentration_
    if isinstance(wc, tuple):
        return {"alpha": wc[0].tolist(), "beta": wc[1].tolist()}
    return {"dirichlet": wc.tolist()}


def case(name, x, resp, prior_type, ct, weights=None, fit_x=None):
    fit_x = x if fit_x is None else fit_x
    fit_resp = resp if weights is None else np.repeat(resp, weights, axis=0)
    bgm, trace = run_steps(fit_x, fit_resp, prior_type, ct)
    check_against_fit(fit_x, fit_resp, prior_type, ct, bgm, trace)
    dof = np.broadcast_to(bgm.degrees_of_freedom_, (K,))
    return {
        "name": name,
        "weight_prior": prior_type,
        "covariance_type": ct,
        "d": int(x.shape[1]),
        "sample_weights": None if weights is None else weights.tolist(),
        "prior": {
            "weight_concentration": float(bgm.weight_concentration_prior_),
            "mean_precision": float(bgm.mean_precision_prior_),
            "mean": bgm.mean_prior_.tolist(),
            "degrees_of_freedom": float(bgm.degrees_of_freedom_prior_),
            "covariance": np.asarray(bgm.covariance_prior_).tolist(),
        },
        "fitted": {
            "weights": bgm.weights_.tolist(),
            "means": bgm.means_.tolist(),
            "covariances": bgm.covariances_.tolist(),
            "mean_precision": bgm.mean_precision_.tolist(),
            "degrees_of_freedom": dof.tolist(),
            "weight_concentration": concentration(bgm),
        },
        "lower_bound_trace": trace,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=20261123)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    data = {d: make_data(d, rng) for d in (2, 4)}
    resp = {d: start(len(x), rng) for d, x in data.items()}
    cases = []
    for prior_type in ("dirichlet_process", "dirichlet_distribution"):
        for ct in ("full", "tied", "diag", "spherical"):
            for d in (2, 4):
                cases.append(
                    case(f"{prior_type}/{ct}/d{d}", data[d], resp[d], prior_type, ct)
                )
    # Sample weights as multiplicities: the first 120 rows of the d = 2 data,
    # repeated 1 to 3 times; scikit-learn fits the repeated rows.
    x_w = data[2][:120]
    mult = rng.integers(1, 4, size=len(x_w))
    resp_w = resp[2][:120]
    for prior_type in ("dirichlet_process", "dirichlet_distribution"):
        for ct in ("full", "diag"):
            cases.append(
                case(
                    f"{prior_type}/{ct}/weighted",
                    x_w,
                    resp_w,
                    prior_type,
                    ct,
                    weights=mult,
                    fit_x=np.repeat(x_w, mult, axis=0),
                )
            )
    out = {
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "iterations": ITERS,
        "n_components": K,
        "reg_covar": 1e-6,
        "data": {str(d): x.tolist() for d, x in data.items()},
        "responsibilities": {str(d): r.tolist() for d, r in resp.items()},
        "weighted_rows": len(x_w),
        "cases": cases,
    }
    with open(args.out, "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
