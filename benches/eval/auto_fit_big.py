"""The data set of issue 19's automatic-fit timing: 2 000 000 rows x 20 features
from a mixture of five Gaussians with full, correlated covariances of different
shapes and unequal weights (seed 19), written as CSV with a header row.

usage: python3 benches/eval/auto_fit_big.py OUT.csv [ROWS]

Then time the automatic fit (BIC over k = 1..8 and the four covariance types):
    /usr/bin/time -v target/release/mixtures fit OUT.csv -o model.json
"""
import sys

import numpy as np

out = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 2_000_000
d, k = 20, 5
rng = np.random.default_rng(19)
weights = np.array([0.35, 0.25, 0.2, 0.12, 0.08])
means = rng.normal(0.0, 4.0, size=(k, d))
# Each component's covariance: a random rotation of variances spread over
# two orders of magnitude, so that the shapes differ and correlate features.
covs = []
for j in range(k):
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    var = np.exp(rng.uniform(np.log(0.1), np.log(10.0), size=d))
    covs.append((q * var) @ q.T)
z = rng.choice(k, size=n, p=weights)
x = np.empty((n, d))
for j in range(k):
    idx = np.where(z == j)[0]
    x[idx] = rng.multivariate_normal(means[j], covs[j], size=len(idx))
hdr = ",".join(f"x{j}" for j in range(d))
np.savetxt(out, x, delimiter=",", header=hdr, comments="", fmt="%.6g")
