"""mixtures vs scikit-learn from Python: fit and score_samples at
(100 000 rows, 16 features, 8 components), full and diag, 1 and 2 threads,
in the same run; and the binding's overhead on a 1 000-row fit.

Build the extension in release first (``pip install ./python`` or
``maturin develop --release`` in python/), then::

    python python/bench/bench.py            # --quick: 20 000 rows

Threads: scikit-learn's BLAS and OpenMP pools are limited with
threadpoolctl; ours with the estimator's ``n_jobs``. Not a timed test:
numbers depend on the machine (and on other load on it).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings

import numpy as np
from sklearn.mixture import GaussianMixture as SkGaussianMixture
from threadpoolctl import threadpool_limits

import mixtures
from mixtures import _native


def data(n: int, d: int, k: int, seed: int = 0) -> np.ndarray:
    """benches/compare/compare.py's generator: means ~ N(0, 2² I),
    covariances s (A Aᵀ + 0.2 I) with A_ij ~ N(0, 1/d), s ~ U(0.5, 1.5),
    weights ~ Dirichlet(5); overlapping groups, so EM takes tens of
    iterations."""
    rng = np.random.default_rng([seed, n, d, k])
    weights = rng.dirichlet(np.full(k, 5.0))
    means = rng.normal(0.0, 2.0, size=(k, d))
    covs = np.empty((k, d, d))
    for j in range(k):
        a = rng.normal(0.0, 1.0 / np.sqrt(d), size=(d, d))
        covs[j] = rng.uniform(0.5, 1.5) * (a @ a.T + 0.2 * np.eye(d))
    counts = rng.multinomial(n, weights)
    parts = [means[j] + rng.standard_normal((counts[j], d)) @ np.linalg.cholesky(covs[j]).T
             for j in range(k)]
    return np.ascontiguousarray(np.concatenate(parts)[rng.permutation(n)])


def best(f, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def start_of(X, k, cov):
    """One k-means start given to both (weights_init, means_init,
    precisions_init): the same EM iterations, so equal iteration counts."""
    sk = SkGaussianMixture(k, covariance_type=cov, max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk.fit(X)
    return {"weights_init": sk.weights_, "means_init": sk.means_,
            "precisions_init": sk.precisions_}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="20 000 rows instead of 100 000")
    ap.add_argument("--threads", default="1,2")
    args = ap.parse_args()
    if not _native.release_build():
        print("WARNING: the extension is a debug build; build it in release to time it")
    n, d, k = (20_000 if args.quick else 100_000), 16, 8
    X = data(n, d, k)
    print(f"data: {n} x {d}, k = {k}, float64; tol 1e-3, max_iter 100, init k-means "
          f"(load average before: {os.getloadavg()[0]:.2f})")
    header = ("cov", "thr", "start", "sk fit s", "sk it", "mx fit s", "mx it", "fit x",
              "sk/it ms", "mx/it ms", "per-it x")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    score_rows = []
    for cov in ("full", "diag"):
        start = start_of(X, k, cov)
        for t in (int(s) for s in args.threads.split(",")):
            for kind, extra in (("own k-means", {}),
                                ("own k-means++", {"init_params": "k-means++"}),
                                ("same start", start),
                                ("same start, 20 it", dict(start, tol=0.0, max_iter=20))):
                common = dict(n_components=k, covariance_type=cov, tol=1e-3, max_iter=100,
                              random_state=0)
                common.update(extra)
                with threadpool_limits(limits=t), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    sk = SkGaussianMixture(**common)
                    sk_s = best(lambda: sk.fit(X), 2)
                ours = mixtures.GaussianMixture(**common, n_jobs=t)
                mx_s = best(lambda: ours.fit(X), 2)
                row = (cov, t, kind, f"{sk_s:.2f}", sk.n_iter_, f"{mx_s:.3f}", ours.n_iter_,
                       f"{sk_s / mx_s:.1f}", f"{1e3 * sk_s / sk.n_iter_:.1f}",
                       f"{1e3 * mx_s / ours.n_iter_:.2f}",
                       f"{(sk_s / sk.n_iter_) / (mx_s / ours.n_iter_):.1f}")
                print("| " + " | ".join(str(c) for c in row) + " |", flush=True)
            with threadpool_limits(limits=t):
                sk_score = best(lambda: sk.score_samples(X), 3)
            mx_score = best(lambda: ours.score_samples(X), 5)
            np.testing.assert_allclose(ours.score_samples(X), sk.score_samples(X), rtol=1e-6)
            score_rows.append((cov, t, sk_score, mx_score))
    print()
    print("| cov | thr | sk score_samples ms | mx score_samples ms | x |")
    print("|---|---|---|---|---|")
    for cov, t, a, b in score_rows:
        print(f"| {cov} | {t} | {1e3 * a:.1f} | {1e3 * b:.2f} | {a / b:.1f} |")

    print(f"\nload average after the table: {os.getloadavg()[0]:.2f}")

    # Overhead of the binding: the Python call's wall time minus the same
    # fit timed inside Rust (the data set's copy and the EM, measured by the
    # native function itself), median of 200 fits of 1 000 rows.
    small = data(1000, 16, 8, seed=1)
    for t in (1, 2):
        est = mixtures.GaussianMixture(8, covariance_type="full", random_state=0, n_jobs=t)
        est.fit(small)
        walls, natives = [], []
        for _ in range(200):
            w = time.perf_counter()
            est.fit(small)
            walls.append(time.perf_counter() - w)
            natives.append(est.report_["native_seconds"])
        noop = best(_native.noop, 1000)
        overhead = [a - b for a, b in zip(walls, natives)]
        print(f"\n1 000-row fit (16 features, k = 8, full, {t} thread(s), {est.n_iter_} iterations): "
              f"Python call {1e3 * statistics.median(walls):.3f} ms, inside Rust "
              f"{1e3 * statistics.median(natives):.3f} ms, overhead (median of the "
              f"differences) {1e3 * statistics.median(overhead):.3f} ms; "
              f"a no-op native call {1e6 * noop:.2f} us")


if __name__ == "__main__":
    main()
