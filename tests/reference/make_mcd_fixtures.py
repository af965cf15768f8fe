#!/usr/bin/env python3
"""Write the scikit-learn MinCovDet fixtures of mixtures-em's MCD tests.

Each case: contaminated Gaussian data, the support fraction (null: the
default), and scikit-learn's raw support, the log-determinant of the
maximum-likelihood scatter of that support (the MCD objective), its raw
location and covariance (before the consistency factor, as scikit-learn
reports them), and its reweighted location, covariance and support. FastMCD
is a random search: `raw_log_det_by_seed` holds the objective scikit-learn
reaches with random_state 0..9, whose spread is the yardstick.

Run by hand (CI reads the committed JSON):
    .venv/bin/python tests/reference/make_mcd_fixtures.py \
        crates/mixtures-em/tests/data/sklearn_mcd.json
"""
import argparse
import json

import numpy as np
import sklearn
from sklearn.covariance import MinCovDet


def objective(x, m):
    """ln det of the maximum-likelihood scatter of the raw support."""
    s = x[m.raw_support_]
    centred = s - s.mean(axis=0)
    return float(np.linalg.slogdet(centred.T @ centred / len(s))[1])


def case(name, n, d, frac_out, shift, support_fraction, seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(d, d))
    cov = a @ a.T + d * np.eye(d)
    x = rng.multivariate_normal(rng.normal(size=d) * 3, cov, size=n)
    n_out = int(frac_out * n)
    if n_out:
        x[:n_out] = rng.normal(size=(n_out, d)) * 0.5 + shift
    m = MinCovDet(support_fraction=support_fraction, random_state=seed).fit(x)
    by_seed = [objective(x, MinCovDet(support_fraction=support_fraction,
                                      random_state=r).fit(x))
               for r in range(10)]
    return {
        "name": name,
        "x": x.tolist(),
        "support_fraction": support_fraction,
        "raw_support": m.raw_support_.tolist(),
        "raw_log_det": objective(x, m),
        "raw_log_det_by_seed": by_seed,
        "raw_location": m.raw_location_.tolist(),
        "raw_covariance": m.raw_covariance_.tolist(),
        "location": m.location_.tolist(),
        "covariance": m.covariance_.tolist(),
        "support": m.support_.tolist(),
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    out = p.parse_args().out
    cases = [
        case("small, 15% shifted", 150, 3, 0.15, 12.0, None, 1),
        case("clean", 400, 2, 0.0, 0.0, None, 2),
        case("nested, 20% cluster", 1000, 4, 0.2, 15.0, None, 3),
        case("nested, 10% cluster, d=5", 2000, 5, 0.1, -20.0, None, 4),
        case("support fraction 0.75", 500, 3, 0.1, 10.0, 0.75, 5),
        case("far outliers, d=2", 300, 2, 0.1, 50.0, None, 6),
        case("support fraction 0.9, nested", 900, 2, 0.05, 30.0, 0.9, 7),
    ]
    with open(out, "w") as f:
        json.dump({"sklearn": sklearn.__version__, "cases": cases}, f)


if __name__ == "__main__":
    main()
