"""Percentile-bootstrap 95% intervals of a share and of a paired difference of shares, resampling items."""

from __future__ import annotations

import numpy as np


def bootstrap_share(toxic: np.ndarray, n_boot: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    """(share, 2.5th, 97.5th percentile) of the mean of a boolean array, resampling items."""
    toxic = np.asarray(toxic, dtype=np.float64)
    if toxic.size == 0:
        raise ValueError("no generations to evaluate")
    index = np.random.default_rng(seed).integers(0, toxic.size, size=(n_boot, toxic.size))
    means = toxic[index].mean(axis=1)
    return float(toxic.mean()), float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def bootstrap_difference(toxic_a: np.ndarray, toxic_b: np.ndarray, n_boot: int = 2000,
                         seed: int = 0) -> tuple[float, float, float]:
    """share(a) - share(b) with a paired bootstrap: both policies answered the same prompts."""
    a, b = np.asarray(toxic_a, dtype=np.float64), np.asarray(toxic_b, dtype=np.float64)
    if a.shape != b.shape or a.size == 0:
        raise ValueError(f"paired toxicity arrays must have the same non-zero length, got {a.shape} and {b.shape}")
    index = np.random.default_rng(seed).integers(0, a.size, size=(n_boot, a.size))
    diffs = a[index].mean(axis=1) - b[index].mean(axis=1)
    return float(a.mean() - b.mean()), float(np.percentile(diffs, 2.5)), float(np.percentile(diffs, 97.5))
