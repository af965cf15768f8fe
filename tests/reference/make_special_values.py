#!/usr/bin/env python3
"""SciPy's special functions for the table in crates/mixtures-core/src/special.rs.

Prints the `SCIPY` table of its tests, (x, ψ(x), ln Γ(x)) from
`scipy.special.digamma` and `gammaln` (1.4616321449683622 is the minimum of Γ,
where ψ crosses zero), and the two `betaln` values of its `beta` test, as Rust
literals (shortest repr of each double) to compare with the committed ones.

Run by hand (the test holds the numbers):
    .venv/bin/python tests/reference/make_special_values.py
"""
import scipy
from scipy.special import betaln, digamma, gammaln

XS = [
    1e-10,
    0.001,
    0.1,
    0.5,
    1.0,
    1.4616321449683622,
    2.0,
    2.5,
    3.0,
    7.25,
    10.0,
    33.3,
    100.0,
    1e5,
    1e10,
    -0.5,
    -2.5,
    -7.3,
    12.0,
]


def main():
    print(f"// SciPy {scipy.__version__}")
    for x in XS:
        print(f"({x!r}, {float(digamma(x))!r}, {float(gammaln(x))!r}),")
    for a, b in [(0.3, 7.5), (120.0, 3.25)]:
        print(f"betaln({a!r}, {b!r}) = {float(betaln(a, b))!r}")


if __name__ == "__main__":
    main()
