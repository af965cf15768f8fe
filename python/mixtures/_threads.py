"""The number of threads the native code runs on.

Each fit or scoring call runs in a rayon pool of the requested size (pools
are built once per size and kept). The size is, in order: the estimator's
``n_jobs``, the innermost ``with mixtures.threads(n)`` block, the value of
``mixtures.set_num_threads(n)``, else one thread per core. Results do not
depend on it: the library's reductions are the same for any thread count.
"""

from __future__ import annotations

import contextlib
import contextvars
from typing import Iterator, Optional

_default: Optional[int] = None
_scoped: contextvars.ContextVar[Optional[int]] = contextvars.ContextVar(
    "mixtures_threads", default=None
)


def _check(n: Optional[int]) -> Optional[int]:
    if n is None or n == -1:
        return None
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"the number of threads must be a positive int, -1 or None, not {n!r}")
    return n


def set_num_threads(n: Optional[int]) -> None:
    """Sets the default number of threads (None or -1: one per core)."""
    global _default
    _default = _check(n)


def get_num_threads() -> Optional[int]:
    """The number of threads a call would use now (None: one per core)."""
    scoped = _scoped.get()
    return scoped if scoped is not None else _default


@contextlib.contextmanager
def threads(n: Optional[int]) -> Iterator[None]:
    """Runs the block's fits and scoring on ``n`` threads."""
    token = _scoped.set(_check(n))
    try:
        yield
    finally:
        _scoped.reset(token)


def resolve(n_jobs: Optional[int]) -> Optional[int]:
    """The thread count for an estimator whose ``n_jobs`` is given."""
    n = _check(n_jobs)
    return n if n is not None else get_num_threads()
