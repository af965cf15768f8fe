"""Input checks shared by the estimators: scikit-learn's own
``validate_data`` (so that errors read as scikit-learn users expect), then
the array handed to the native code as it is when it is float32 or float64
(read in place, C or Fortran order) and converted once otherwise."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import validate_data

FLOATS = [np.float64, np.float32]


def check_X(est: Any, X: Any, *, reset: bool, min_samples: int = 1) -> np.ndarray:
    """X as a float32 or float64 2-D array, without copying one that is."""
    return validate_data(
        est, X, reset=reset, dtype=FLOATS, ensure_min_samples=min_samples
    )


def as_dtype(X: np.ndarray, dtype: str) -> np.ndarray:
    """X in the model's precision (no copy when it already is)."""
    return X if X.dtype == dtype else X.astype(dtype)


def seed_of(random_state: Any) -> int:
    """A u64 seed: an int is used as it is (seed 7 is the Rust library's
    seed 7), None draws from NumPy's global generator as scikit-learn does,
    a RandomState gives its next draw."""
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state must be >= 0, not {random_state}")
        return int(random_state) & 0xFFFF_FFFF_FFFF_FFFF
    rs = check_random_state(random_state)
    return int(rs.randint(np.iinfo(np.int32).max))


def check_positive_int(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, not {value!r}")
    return int(value)


def check_nonneg_float(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
        raise ValueError(f"{name} must be a number >= 0, not {value!r}")
    return float(value)
