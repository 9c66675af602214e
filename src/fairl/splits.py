"""The one train/test split of preference pairs, on a random stream of its own.

The stream is `default_rng([seed, SPLIT_STREAM])`, never `default_rng(seed)`: a data generator
seeded with the same `seed` draws from `default_rng(seed)`, and a split on that same stream is
correlated with what the generator drew (on the synthetic benchmark it put 21% hard pairs in
train and 64–67% in test instead of 30% each).
"""

from __future__ import annotations

import numpy as np

SPLIT_STREAM = 2
"""Second word of the split's seed sequence; the synthetic benchmark's i.i.d. outputs use 1."""


def train_test_split(n: int, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded disjoint index split; the test part has round(test_fraction · n) items."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction}")
    order = np.random.default_rng([seed, SPLIT_STREAM]).permutation(n)
    n_test = int(round(test_fraction * n))
    if n_test < 2 or n - n_test < 2:
        raise ValueError(f"a split of {n} items at test_fraction={test_fraction} leaves fewer than 2 on one side")
    return np.sort(order[n_test:]), np.sort(order[:n_test])
