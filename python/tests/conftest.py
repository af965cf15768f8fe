import numpy as np
import pytest


@pytest.fixture
def blobs():
    """Three well-separated groups in 4 dimensions (600 rows)."""
    rng = np.random.default_rng(42)
    centres = np.array([[0.0, 0.0, 0.0, 0.0], [6.0, 3.0, 0.0, -2.0], [-4.0, 5.0, 3.0, 1.0]])
    scales = [1.0, 0.6, 1.4]
    parts = [c + s * rng.standard_normal((200, 4)) @ np.diag([1.0, 0.8, 1.2, 0.9])
             for c, s in zip(centres, scales)]
    return np.vstack(parts)
