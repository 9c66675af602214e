"""Paired differences between two methods, their 95% interval, and the verdict word read from it.

A difference between methods is reported as the mean of per-unit differences (unit: a seed,
which fixes the split and the initialisation for both methods; a repeat of re-RLHF, which fixes
the RL seed and the IRL seed of both rewards; or a prompt, for one re-RLHF run per reward) with a
95% interval, and the verdict comes from the interval, never from the mean:

- `holds`: the interval excludes 0 on the side the paper claims;
- `contradicted`: it excludes 0 on the other side;
- `inconclusive`: it contains 0 (or cannot be formed: fewer than two units).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

VERDICTS = ("holds", "contradicted", "inconclusive")
CONFIDENCE = 0.95


def paired_t_interval(differences, confidence: float = CONFIDENCE) -> tuple[float, float, float, int]:
    """(mean, low, high, n) of per-seed differences, Student-t interval; NaN bounds for n < 2."""
    d = np.asarray(differences, dtype=np.float64)
    d = d[np.isfinite(d)]
    n = int(d.size)
    if n == 0:
        return float("nan"), float("nan"), float("nan"), 0
    mean = float(d.mean())
    if n < 2:
        return mean, float("nan"), float("nan"), n
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * d.std(ddof=1) / np.sqrt(n))
    return mean, mean - half, mean + half, n


def verdict(low: float, high: float, better: str) -> str:
    """'holds', 'contradicted' or 'inconclusive' for a difference (method − baseline) claimed `better`."""
    if better not in ("higher", "lower"):
        raise ValueError(f"better must be 'higher' or 'lower', got {better!r}")
    if not (np.isfinite(low) and np.isfinite(high)):
        return "inconclusive"
    if low > 0:
        return "holds" if better == "higher" else "contradicted"
    if high < 0:
        return "holds" if better == "lower" else "contradicted"
    return "inconclusive"
