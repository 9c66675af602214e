"""STARC distance between two rewards over text (Skalse et al., arXiv 2309.15257).

    d(R1, R2) = ½ ‖s(R1) - s(R2)‖₂,   s(R) = c(R) / ‖c(R)‖₂

In this single-step (bandit) setting the canonicalisation c removes any per-prompt
shift, the only potential shaping a one-step episode admits:

    c(R)(x, y) = R(x, y) - mean_{y' ∈ Y(x)} R(x, y')

with Y(x) the evaluated completions of prompt x. Without prompt groups, c centres
globally. The ½ puts d in [0, 1]: 0 for R2 = aR1 + c_x (a > 0), 1 for R2 = -R1, and
≈ √2/2 for independent rewards.
"""

from __future__ import annotations

import numpy as np


def canonicalise(reward: np.ndarray, groups: np.ndarray | None = None) -> np.ndarray:
    """c(R): subtract the mean reward of each prompt group (or the global mean)."""
    if groups is None:
        return reward - reward.mean()
    _, index, counts = np.unique(groups, return_inverse=True, return_counts=True)
    means = np.bincount(index, weights=reward) / counts
    return reward - means[index]


def starc_distance(r_a, r_b, groups=None) -> float:
    """STARC distance in [0, 1] between two rewards evaluated on the same outputs."""
    r_a = _as_reward(r_a, "r_a")
    r_b = _as_reward(r_b, "r_b")
    if r_a.shape != r_b.shape:
        raise ValueError(f"r_a and r_b must score the same outputs, got {r_a.shape[0]} and {r_b.shape[0]} values")
    if groups is not None:
        groups = np.asarray(groups)
        if groups.shape != r_a.shape:
            raise ValueError(f"groups must give one prompt id per output ({r_a.shape[0]}), got shape {groups.shape}")
        if np.unique(groups).size == groups.size:
            raise ValueError(
                "every prompt group holds a single output, so per-prompt canonicalisation leaves nothing; "
                "pass groups=None to centre globally"
            )
    standardised = []
    for name, reward in (("r_a", r_a), ("r_b", r_b)):
        centred = canonicalise(reward, groups)
        norm = np.linalg.norm(centred)
        # relative to the reward's own size: float32 rounding (~1e-7) must not pass for a ranking
        if not norm > 1e-6 * max(np.linalg.norm(reward), 1e-300):
            where = "within every prompt group" if groups is not None else "over all outputs"
            raise ValueError(f"{name} is constant {where}; STARC is undefined for a reward that ranks nothing")
        standardised.append(centred / norm)
    return float(0.5 * np.linalg.norm(standardised[0] - standardised[1]))


def _as_reward(values, name: str) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one reward per output), got shape {values.shape}")
    if values.size < 2:
        raise ValueError(f"{name} needs at least 2 outputs, got {values.size}")
    if not np.isfinite(values).all():
        raise ValueError(f"{name} contains NaN or inf")
    return values
