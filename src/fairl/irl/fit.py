"""`fit_reward`: the one entry point to every reward-extraction method."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np
import torch

from fairl.irl.fa_irl import train_fa_irl, train_standard
from fairl.irl.hyperparameters import resolve
from fairl.irl.reward import LinearReward


def fit_reward(h_pos, h_neg, method: str, seed: int = 0, **hyperparameters: Any) -> LinearReward:
    """Fit a linear reward R(o) = θᵀh(o) + b to preference pairs (h_pos[i] ≻ h_neg[i]).

    method: "max_margin", "max_entropy", "fa_max_margin" or "fa_max_entropy".
    hyperparameters: any field of `fairl.irl.hyperparameters.Hyperparameters`.
    The same inputs and seed give bit-identical parameters on the same machine.
    """
    h_pos, h_neg = validate_pairs(h_pos, h_neg)
    hp = resolve(method, len(h_pos), hyperparameters)

    # Standardise on the training outputs; the mean cancels in Δ, the scale is folded back into θ.
    # In float32 torch and per half (no concatenation): numpy's concatenate + std cost more than
    # the whole L-BFGS fit at n = 20,000, d = 1024.
    pos, neg = torch.from_numpy(h_pos).float(), torch.from_numpy(h_neg).float()
    n = 2 * len(h_pos)
    mean = (h_pos.sum(axis=0, dtype=np.float64) + h_neg.sum(axis=0, dtype=np.float64)) / n  # float64: it sets the biases
    if hp.standardize:
        centre = torch.from_numpy(mean).float()
        # torch sums float32 by cascades: accurate enough for a scale, and fast
        var = ((pos - centre).square().sum(0) + (neg - centre).square().sum(0)).double() / n
        scale = torch.where(var > 0, var.sqrt(), 1.0)  # a constant feature has Δ = 0 in every pair: any scale will do
    else:
        scale = torch.ones(h_pos.shape[1], dtype=torch.float64)
    diff_t = ((pos - neg) / scale.float()).T.contiguous()  # (d, n): see fairl.irl.fa_irl on why transposed
    scale = scale.numpy()

    generator = torch.Generator().manual_seed(int(seed))
    objective = method.removeprefix("fa_")
    train = train_fa_irl if method.startswith("fa_") else train_standard
    theta_d, theta_f, history, solve = train(diff_t, objective, hp, generator)

    theta_d = theta_d.double().numpy() / scale
    theta_f = theta_f.double().numpy() / scale
    recorded = {k: v for k, v in asdict(hp).items() if k != "failure_labels"}
    if hp.failure_labels is not None:
        recorded["n_failure_labels"] = int(np.sum(hp.failure_labels))
    return LinearReward(
        method=method,
        theta_d=theta_d,
        bias_d=-float(mean @ theta_d),
        theta_f=theta_f,
        bias_f=-float(mean @ theta_f),
        hyperparameters=recorded,
        seed=int(seed),
        history=history,
        convergence={"optimisation": hp.optimisation, **solve.record(),
                     "gradient_evaluations": int(history["evaluations"].sum()) if "evaluations" in history
                     else int(solve.evaluations)},
    )


def validate_pairs(h_pos, h_neg) -> tuple[np.ndarray, np.ndarray]:
    """Both (n, d), n ≥ 2, finite. Returned as they are when both are writable C-contiguous float32 arrays (as the
    LM features are), else as float64 arrays (a read-only array would make torch.from_numpy warn).

    Why not always float64: the fit works in float32, and converting 20,000 × 1024 features to float64 and back cost
    a third of the whole L-BFGS fit. Both routes give bit-identical rewards (tests/test_fit.py): float32 → float64 is
    exact, and summing a C-contiguous array over its rows accumulates each column in the same order in either dtype.
    """
    h_pos, h_neg = np.asarray(h_pos), np.asarray(h_neg)
    if not all(h.dtype == np.float32 and h.flags.c_contiguous and h.flags.writeable for h in (h_pos, h_neg)):
        h_pos, h_neg = np.asarray(h_pos, dtype=np.float64), np.asarray(h_neg, dtype=np.float64)
    if h_pos.ndim != 2 or h_neg.ndim != 2:
        raise ValueError(f"h_pos and h_neg must be 2-D (pairs × features), got {h_pos.shape} and {h_neg.shape}")
    if h_pos.shape != h_neg.shape:
        raise ValueError(f"h_pos and h_neg must have the same shape, got {h_pos.shape} and {h_neg.shape}")
    if h_pos.shape[0] < 2:
        raise ValueError(f"need at least 2 preference pairs to fit a reward, got {h_pos.shape[0]}")
    if h_pos.shape[1] < 1:
        raise ValueError("features have zero dimensions")
    for name, array in (("h_pos", h_pos), ("h_neg", h_neg)):
        bad = ~np.isfinite(array)
        if bad.any():
            rows = np.flatnonzero(bad.any(axis=1))
            raise ValueError(f"{name} contains NaN or inf in {len(rows)} row(s), first at row {rows[0]}")
    return h_pos, h_neg
