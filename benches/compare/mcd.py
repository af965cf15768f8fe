#!/usr/bin/env python3
"""FastMCD here against scikit-learn's MinCovDet on the same data.

Writes contaminated Gaussian data (n x d, 5 % of the rows shifted by 20 in
every feature; numpy seed 0) to a CSV file, times MinCovDet (random_state 0,
best of --repeats), runs `cargo run --release --example mcd_timing` on the
same file, and prints both wall times, their ratio, and both MCD objectives
(ln det of the maximum-likelihood scatter of the raw support).

    .venv/bin/python benches/compare/mcd.py --n 100000 --d 16 --repeats 1
"""
import argparse
import json
import os
import subprocess
import tempfile
import time

import numpy as np
from sklearn.covariance import MinCovDet


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=100_000)
    p.add_argument("--d", type=int, default=16)
    p.add_argument("--repeats", type=int, default=1)
    a = p.parse_args()
    rng = np.random.default_rng(0)
    m = rng.normal(size=(a.d, a.d))
    cov = m @ m.T + a.d * np.eye(a.d)
    x = rng.multivariate_normal(np.zeros(a.d), cov, size=a.n)
    out = a.n // 20
    x[:out] = rng.normal(size=(out, a.d)) + 20.0
    path = os.path.join(tempfile.mkdtemp(), "mcd.csv")
    np.savetxt(path, x, delimiter=",", fmt="%.17g")

    best = float("inf")
    for _ in range(a.repeats):
        t = time.perf_counter()
        fit = MinCovDet(random_state=0).fit(x)
        best = min(best, time.perf_counter() - t)
    s = x[fit.raw_support_]
    c = s - s.mean(axis=0)
    sk_objective = float(np.linalg.slogdet(c.T @ c / len(s))[1])

    root = os.path.join(os.path.dirname(__file__), "..", "..")
    line = subprocess.run(
        ["cargo", "run", "--release", "--quiet", "--example", "mcd_timing", "--",
         path, str(a.repeats)],
        cwd=root, check=True, capture_output=True, text=True).stdout
    ours = json.loads(line)
    print(json.dumps({
        "n": a.n, "d": a.d,
        "sklearn_seconds": best, "mixtures_seconds": ours["seconds"],
        "speedup": best / ours["seconds"],
        "sklearn_objective": sk_objective, "mixtures_objective": ours["objective"],
        "mixtures_threads": ours["threads"],
    }))


if __name__ == "__main__":
    main()
