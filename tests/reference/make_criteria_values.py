#!/usr/bin/env python3
"""scikit-learn's information criteria for crates/mixtures-select/tests/criteria.rs.

Prints, as Rust literals to compare with the constants of that test:

- SKLEARN_COUNTS: `GaussianMixture(n_components=k, covariance_type=t)._n_parameters()`
  with means of shape (k, d), for full, tied, diag and spherical;
- the log-likelihood (`score(X) * n`), `bic(X)` and `aic(X)` of a fixed
  two-component model on eight points (values_match_sklearn), its parameters
  set by hand (weights_, means_, covariances_, precisions_cholesky_) instead of
  fitted, full and spherical.

Run by hand (the test holds the numbers):
    .venv/bin/python tests/reference/make_criteria_values.py
"""
import numpy as np
import sklearn
from sklearn.mixture import GaussianMixture

X = np.array(
    [
        [0.0, 0.5],
        [1.0, -0.3],
        [-0.7, 0.2],
        [5.0, 5.5],
        [6.1, 4.8],
        [5.4, 6.2],
        [0.3, 0.1],
        [5.9, 5.1],
    ]
)
WEIGHTS = np.array([0.45, 0.55])
MEANS = np.array([[0.1, 0.2], [5.5, 5.4]])


def fixed(covariance_type, covariances):
    gm = GaussianMixture(n_components=2, covariance_type=covariance_type)
    gm.weights_ = WEIGHTS
    gm.means_ = MEANS
    gm.covariances_ = covariances
    if covariance_type == "full":
        gm.precisions_cholesky_ = np.array(
            [np.linalg.inv(np.linalg.cholesky(c)).T for c in covariances]
        )
    else:
        gm.precisions_cholesky_ = 1.0 / np.sqrt(covariances)
    return gm


def main():
    print(f"// scikit-learn {sklearn.__version__}")
    print("const SKLEARN_COUNTS: [((usize, usize), [usize; 4]); 4] = [")
    for k, d in [(1, 1), (3, 2), (3, 4), (5, 10)]:
        counts = []
        for t in ["full", "tied", "diag", "spherical"]:
            gm = GaussianMixture(n_components=k, covariance_type=t)
            gm.means_ = np.zeros((k, d))
            counts.append(str(gm._n_parameters()))
        print(f"    (({k}, {d}), [{', '.join(counts)}]),")
    print("];")
    full = fixed(
        "full",
        np.array([[[1.0, 0.3], [0.3, 0.5]], [[0.8, -0.2], [-0.2, 1.2]]]),
    )
    spherical = fixed("spherical", np.array([0.6, 0.9]))
    n = X.shape[0]
    for name, gm in [("full", full), ("spherical", spherical)]:
        print(
            f"{name}: log_likelihood {gm.score(X) * n!r} "
            f"bic {gm.bic(X)!r} aic {gm.aic(X)!r}"
        )


if __name__ == "__main__":
    main()
