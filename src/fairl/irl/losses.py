"""Per-pair IRL objectives on reward differences Δ_i = R(o_i+) - R(o_i-).

Both return one loss per pair (the caller takes the mean), so FA-IRL can apply a
stricter constant to a subset of pairs without a Python loop.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def max_margin_loss(delta: torch.Tensor, margin: float) -> torch.Tensor:
    """Hinge on the preference margin: max(0, M - Δ)."""
    return torch.clamp(margin - delta, min=0.0)


def max_entropy_loss(delta: torch.Tensor, temperature: float) -> torch.Tensor:
    """Bradley-Terry negative log-likelihood at temperature τ: -log σ(Δ/τ).

    Computed with log-sigmoid, which is exact for large |Δ/τ| where log(sigmoid(.))
    underflows to -inf.
    """
    return -F.logsigmoid(delta / temperature)


OBJECTIVES = {"max_margin": max_margin_loss, "max_entropy": max_entropy_loss}
