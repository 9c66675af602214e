"""Failure-Aware IRL (paper §4, Algorithm 1) on precomputed pair differences.

Reward R = R_D + R_F, linear on features. Per round t = 0..T-1:

    Δ_i     = R(o_i+) - R(o_i-)                       (current reward, no gradient)
    F_t     = {i : Δ_i < γ_t}                          (or the supervised labels)
    S_t     ⊂ F_t, each failure kept with prob. p_t
    L_t     = L_base(all pairs; M or τ) + λ_t · L_fail(S_t; M_fail or τ_fail) + β‖θ_F‖² + l2‖θ_D‖²

L_base sees R_D + stopgrad(R_F): the base path fits every pair given the current
correction, and R_F gets gradient from failure pairs only (and its L2 penalty).
Everything is vectorised over pairs. Differences arrive transposed, `diff_t` of shape
(d, n) and contiguous: then Δ = θ @ diff_t and its backward are both fast row-major
products (autograd's backward of the (n, d) @ (d, 2) layout was ~8× slower on CPU).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import torch

from fairl.irl.failure_set import find_failures, sample_failures
from fairl.irl.hyperparameters import Hyperparameters
from fairl.irl.lambda_schedule import LambdaSchedule
from fairl.irl.losses import OBJECTIVES

PairLoss = Callable[[torch.Tensor], torch.Tensor]


def fa_irl_loss(
    delta_d: torch.Tensor,
    delta_f: torch.Tensor,
    sampled: torch.Tensor,
    base_loss: PairLoss,
    failure_loss: PairLoss,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(L_base, L_fail) before weighting and regularisation.

    L_base = mean_i base_loss(Δ_D,i + sg(Δ_F,i)) over all pairs;
    L_fail = mean_{i ∈ S_t} failure_loss(Δ_D,i + Δ_F,i), and 0 when S_t is empty.
    """
    loss_base = base_loss(delta_d + delta_f.detach()).mean()
    if bool(sampled.any()):
        loss_fail = failure_loss((delta_d + delta_f)[sampled]).mean()
    else:
        loss_fail = delta_d.new_zeros(())
    return loss_base, loss_fail


def kaiming_uniform(dim: int, generator: torch.Generator) -> torch.Tensor:
    """Kaiming-uniform init of a d → 1 linear map (PyTorch's nn.Linear default, a=√5):
    U(-1/√d, 1/√d), so early rewards are near zero."""
    bound = 1.0 / np.sqrt(dim)
    return ((torch.rand(dim, generator=generator, dtype=torch.float32) * 2 - 1) * bound).requires_grad_()


def train_standard(diff_t: torch.Tensor, objective: str, hp: Hyperparameters, generator: torch.Generator):
    """Standard max-margin / max-entropy IRL: minimise mean pair loss + l2‖θ‖², full batch.

    The objective is convex, so the optimiser changes speed, not the answer: L-BFGS for
    the smooth max-entropy loss, Adam for the hinge (where L-BFGS's curvature model breaks).
    """
    theta = kaiming_uniform(diff_t.shape[0], generator)
    pair_loss = _pair_loss(objective, hp, strict=False)
    losses = []

    def objective_value() -> torch.Tensor:
        loss = pair_loss(theta @ diff_t).mean() + hp.l2 * theta.dot(theta)
        losses.append(loss.item())
        return loss

    if hp.optimizer == "lbfgs":
        optimiser = torch.optim.LBFGS(
            [theta], lr=1.0, max_iter=hp.steps, max_eval=2 * hp.steps, history_size=10,
            tolerance_grad=1e-6, tolerance_change=1e-9, line_search_fn="strong_wolfe",
        )

        def closure() -> torch.Tensor:
            optimiser.zero_grad(set_to_none=True)
            loss = objective_value()
            loss.backward()
            return loss

        optimiser.step(closure)
    else:
        optimiser = torch.optim.Adam([theta], lr=hp.lr)
        for _ in range(hp.steps):
            optimiser.zero_grad(set_to_none=True)
            objective_value().backward()
            optimiser.step()
    history = pd.DataFrame({"evaluation": np.arange(len(losses)), "loss": losses})
    return theta.detach(), torch.zeros_like(theta).detach(), history


def train_fa_irl(diff_t: torch.Tensor, objective: str, hp: Hyperparameters, generator: torch.Generator):
    """FA-IRL. Returns (θ_D, θ_F, per-round history)."""
    dim = diff_t.shape[0]
    theta_d = kaiming_uniform(dim, generator)
    theta_f = kaiming_uniform(dim, generator)
    if hp.failure_path:
        params = [theta_d, theta_f]
        pair_deltas = lambda: torch.stack([theta_d, theta_f]) @ diff_t  # noqa: E731
    else:
        theta_f = torch.zeros(dim)  # R_F disabled: a constant zero, never optimised
        params = [theta_d]
        pair_deltas = lambda: torch.stack([theta_d @ diff_t, torch.zeros(diff_t.shape[1])])  # noqa: E731
    optimiser = torch.optim.Adam(params, lr=hp.lr)
    base_loss = _pair_loss(objective, hp, strict=False)
    failure_loss = _pair_loss(objective, hp, strict=True)
    schedule = LambdaSchedule(
        rounds=hp.rounds,
        gamma_init=hp.gamma_init,
        gamma_final=hp.gamma_final,
        lambda_init=hp.lambda_init,
        lambda_decay=hp.lambda_decay,
        sampling_init=hp.sampling_init,
        sampling_final=hp.sampling_final,
        curriculum=hp.curriculum,
        fixed_lambda=hp.fixed_lambda,
    )
    gammas, lambdas, rates = schedule.gamma(), schedule.lam(), schedule.sampling_rate()
    labels = None if hp.failure_labels is None else torch.as_tensor(hp.failure_labels)

    rows = []
    for t in range(hp.rounds):
        for step in range(hp.steps_per_round):
            optimiser.zero_grad(set_to_none=True)
            deltas = pair_deltas()
            if step == 0:  # F_t and S_t from the reward as it stands at the start of round t
                delta = (deltas[0] + deltas[1]).detach()
                failures = labels if hp.failure_mode == "supervised" else find_failures(delta, float(gammas[t]))
                sampled = sample_failures(failures, float(rates[t]), generator)
            loss_base, loss_fail = fa_irl_loss(deltas[0], deltas[1], sampled, base_loss, failure_loss)
            loss = loss_base + float(lambdas[t]) * loss_fail + hp.l2 * theta_d.dot(theta_d)
            if hp.failure_path:
                loss = loss + hp.l2_failure * theta_f.dot(theta_f)
            loss.backward()
            optimiser.step()
        rows.append(
            {
                "round": t,
                "gamma": float(gammas[t]),
                "lambda": float(lambdas[t]),
                "sampling_rate": float(rates[t]),
                "n_failures": int(failures.sum()),
                "n_sampled": int(sampled.sum()),
                "train_accuracy": float((delta > 0).double().mean()),
                "loss_base": loss_base.item(),
                "loss_fail": loss_fail.item(),
            }
        )
    return theta_d.detach(), theta_f.detach(), pd.DataFrame(rows)


def _pair_loss(objective: str, hp: Hyperparameters, strict: bool) -> PairLoss:
    loss = OBJECTIVES[objective]
    if objective == "max_margin":
        constant = hp.margin_failure if strict else hp.margin
    else:
        constant = hp.temperature_failure if strict else hp.temperature
    return lambda delta: loss(delta, constant)
