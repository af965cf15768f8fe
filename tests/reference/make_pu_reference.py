#!/usr/bin/env python3
"""The logistic figures of positive_unlabeled_fits_the_logistic_model_by_maximum_likelihood.

crates/mixtures-anomaly/tests/thresholds.rs draws normal scores N(0, 1) and
anomalies N(4, 1) at a prior of 0.1, labels a fraction 0.3 of the anomalies,
and compares the PositiveUnlabeled rule (Elkan and Noto, 2008) with
scikit-learn on many more points of the same model: an unpenalized
LogisticRegression of the label on the score gives g(s); c is the mean of g
over the labelled points and the threshold solves g(s) = c / 2. Prints c and
the threshold (the test allows 0.03 and 0.25 around 0.250 and 3.44, its own
sample being 20 000 points), and the Bayes boundary 2 + ln 9 / 4 for contrast.
NumPy draws its own sample (not the test's), so the figures agree to sampling
error only; with 200 000 points they move by about 0.005 and 0.02 between
seeds, which the second line shows.

Run by hand (the test holds the numbers):
    .venv/bin/python tests/reference/make_pu_reference.py
"""
import math

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression


def estimate(seed, n=200_000, prior=0.1, c=0.3):
    rng = np.random.default_rng(seed)
    anomaly = rng.random(n) < prior
    s = rng.normal(size=n) + 4.0 * anomaly
    y = anomaly & (rng.random(n) < c)
    lr = LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000)
    lr.fit(s[:, None], y)
    g = lr.predict_proba(s[:, None])[:, 1]
    c_hat = g[y].mean()
    b0, b1 = lr.intercept_[0], lr.coef_[0, 0]
    p = c_hat / 2.0
    threshold = (math.log(p / (1.0 - p)) - b0) / b1
    return c_hat, threshold


def main():
    print(f"// scikit-learn {sklearn.__version__}")
    for seed in [20261123, 1]:
        c_hat, threshold = estimate(seed)
        print(f"seed {seed}: c = {c_hat:.3f}, threshold = {threshold:.2f}")
    print(f"Bayes boundary 2 + ln 9 / 4 = {2 + math.log(9) / 4:.2f}")


if __name__ == "__main__":
    main()
