"""Prints the chi-square quantiles that crates/mixtures-core/src/chi2.rs tests
against (QUANTILES: p, degrees of freedom, scipy.stats.chi2.ppf(p, k)).

Run: python3 tests/reference/make_chi2_fixtures.py   (numpy, scipy)
"""
from scipy.stats import chi2

CASES = [(0.5, 1.0), (0.975, 1.0), (0.5, 16.0), (0.975, 16.0), (0.025, 3.0),
         (0.999999, 2.0), (1e-10, 5.0), (0.5, 1000.0)]

for p, k in CASES:
    print(f"        ({p!r}, {k!r}, {float(chi2.ppf(p, k))!r}),")
