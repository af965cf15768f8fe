#!/usr/bin/env python3
"""pomegranate 0.14.9's side of compare.py --pomegranate (full covariance, f64).

Runs under .venv-pomegranate's Python (numpy < 2), never under compare.py's.
Reads the data file (little-endian f64, N x D, row-major) and the initial model
file (weights, means, covariances) that compare.py writes for the other sides,
and fits GeneralMixtureModel of MultivariateGaussianDistribution from exactly
those parameters.

EM work per fit, from pomegranate/gmm.pyx: with max_iterations = M the loop runs
M + 1 passes; pass 0's M-step (from_summaries) has no statistics and leaves the
initial parameters alone, so a fit is M + 1 E-steps (summarize) and M M-steps,
the same as scikit-learn's max_iter = M (M E- and M-steps and a final E-step).
stop_threshold = -inf, so no early stop. n_jobs joblib threads each summarize
one row batch of n // n_jobs + n % n_jobs rows (log_probability's own split;
with one job the whole data set is one batch); the caller sets the BLAS pools to
one thread so the process uses n_jobs threads in all. pomegranate adds no
reg_covar to the covariances (scikit-learn adds 1e-6 to their diagonals).

Prints one JSON line: fit_s (median of REPEATS fits of ITERS iterations after a
warm-up), s_per_iter = fit_s / ITERS (as compare.py does for the other sides),
fit1_s and s_per_iter_marginal = (fit_s - fit1_s) / (ITERS - 1), log_prob_s
(median log_probability on all rows), mean_loglik, iterations (M-steps done, from
the history). Writes the fitted weights, means and covariances to OUT.

usage: pomegranate_side.py DATA N D INIT ITERS THREADS REPEATS OUT
"""

import json
import statistics
import sys
import time

import numpy as np
import pomegranate
from pomegranate import GeneralMixtureModel, MultivariateGaussianDistribution


def main():
    data, n, d, init_path, iters, threads, repeats, out = sys.argv[1:9]
    n, d, iters, threads, repeats = int(n), int(d), int(iters), int(threads), int(repeats)
    x = np.fromfile(data, dtype="<f8").reshape(n, d)
    with open(init_path) as f:
        doc = json.load(f)
    if doc["covariance_type"] != "full":
        sys.exit("pomegranate_side.py: full covariance only")
    weights = np.asarray(doc["weights"], dtype=np.float64)
    means = np.asarray(doc["means"], dtype=np.float64)
    covs = np.asarray(doc["covariances"], dtype=np.float64)
    batch = None if threads <= 1 else n // threads + n % threads

    def model():
        return GeneralMixtureModel(
            [MultivariateGaussianDistribution(means[j].copy(), covs[j].copy())
             for j in range(len(weights))],
            weights=weights.copy(),
        )

    def fit(m_iters):
        m = model()  # built outside the clock
        t0 = time.perf_counter()
        _, hist = m.fit(x, stop_threshold=float("-inf"), max_iterations=m_iters,
                        batch_size=batch, n_jobs=threads, return_history=True)
        return time.perf_counter() - t0, m, len(hist.epochs)

    def median_fit(m_iters):
        fit(m_iters)  # warm-up
        runs = [fit(m_iters) for _ in range(repeats)]
        return statistics.median(r[0] for r in runs), runs[-1][1], runs[-1][2]

    fit_s, gm, done = median_fit(iters)
    fit1_s = median_fit(1)[0] if iters > 1 else fit_s

    gm.log_probability(x, n_jobs=threads)  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        logp = gm.log_probability(x, n_jobs=threads)
        times.append(time.perf_counter() - t0)

    with open(out, "w") as f:
        json.dump({
            "weights": np.exp(np.asarray(gm.weights)).tolist(),
            "means": [np.asarray(c.parameters[0]).tolist() for c in gm.distributions],
            "covariances": [np.asarray(c.parameters[1]).tolist() for c in gm.distributions],
        }, f)
    print(json.dumps({
        "fit_s": fit_s,
        "iterations": done,
        "s_per_iter": fit_s / iters,
        "fit1_s": fit1_s,
        "s_per_iter_marginal": (fit_s - fit1_s) / (iters - 1) if iters > 1 else None,
        "log_prob_s": statistics.median(times),
        "mean_loglik": float(np.mean(logp)),
        "n_jobs": threads,
        "batch_size": batch,
        "pomegranate": pomegranate.__version__,
        "numpy": np.__version__,
    }))


if __name__ == "__main__":
    main()
