"""Failure sets F_t and their sampled subsets S_t (paper §4.2).

A failure is a pair the current reward misorders or scores nearly equally, Δ_i < γ_t
(margin mode), or a pair an external classifier flagged (supervised mode, an ablation).
"""

from __future__ import annotations

import torch


def find_failures(delta: torch.Tensor, gamma: float) -> torch.Tensor:
    """F_t as a boolean mask: Δ_i < γ_t."""
    return delta < gamma


def sample_failures(failures: torch.Tensor, rate: float, generator: torch.Generator) -> torch.Tensor:
    """S_t ⊂ F_t: each failure kept independently with probability p_t.

    A random draw is taken for every pair, failure or not, so the stream of random
    numbers (and hence the result for a given seed) does not depend on |F_t|.
    """
    draws = torch.rand(failures.shape, generator=generator)
    return failures & (draws < rate)
