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


def train_test_split(n: int, test_fraction: float, seed: int,
                     groups: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Seeded disjoint index split; the test part has round(test_fraction · n) items. With `groups` (one label per
    item: the prompt of each pair) whole groups are split instead, round(test_fraction · number of groups) of them
    to test, so no group has items on both sides; groups of one item each give the ungrouped split."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction}")
    if groups is None:
        labels, n_units = np.arange(n), n
    else:
        groups = np.asarray(groups)
        if groups.shape != (n,):
            raise ValueError(f"groups must give one label per item ({n}), got shape {groups.shape}")
        _, first, labels = np.unique(groups, return_index=True, return_inverse=True)
        labels = np.argsort(np.argsort(first))[labels]  # groups numbered in order of first appearance
        n_units = len(first)
    order = np.random.default_rng([seed, SPLIT_STREAM]).permutation(n_units)
    n_test = int(round(test_fraction * n_units))
    unit = "groups" if groups is not None else "items"
    if n_test < 2 or n_units - n_test < 2:
        raise ValueError(f"a split of {n_units} {unit} at test_fraction={test_fraction} leaves fewer than 2 on one side")
    in_test = np.zeros(n_units, bool)
    in_test[order[:n_test]] = True
    return np.flatnonzero(~in_test[labels]), np.flatnonzero(in_test[labels])
