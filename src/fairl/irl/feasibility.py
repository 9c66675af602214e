"""Theorem 1 (paper §4.4): tightened failure margins shrink the feasible reward set.

Each pair i is a linear constraint θᵀd_i ≥ m_i on θ, with d_i = h(o_i+) - h(o_i-).
Standard IRL asks m_i = M for every pair; FA-IRL asks m_i = M_fail > M on failures.
Hence F_FA ⊆ F, and the inclusion is strict whenever some θ meets a failure
constraint with slack in [M, M_fail).
"""

from __future__ import annotations

import numpy as np


def constraint_margins(n_pairs: int, failures: np.ndarray, margin: float, margin_failure: float) -> np.ndarray:
    """m_i: M for ordinary pairs, M_fail for failure pairs."""
    margins = np.full(n_pairs, float(margin))
    margins[np.asarray(failures, dtype=bool)] = margin_failure
    return margins


def is_feasible(theta: np.ndarray, diff: np.ndarray, margins: np.ndarray) -> bool:
    """Whether θ satisfies θᵀd_i ≥ m_i for every pair."""
    return bool(np.all(diff @ theta >= margins))
