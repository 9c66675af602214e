"""Failure-Aware IRL (paper §4, Algorithm 1) on precomputed pair differences.

Reward R = R_D + R_F, linear on features. Per round t = 0..T-1:

    Δ_i     = R(o_i+) - R(o_i-)                       (current reward, no gradient)
    F_t     = {i : Δ_i < γ_t}                          (or the supervised labels)
    S_t     ⊂ F_t, each failure kept with prob. p_t
    L_t     = L_base(all pairs; M or τ) + λ_t · L_fail(S_t; M_fail or τ_fail) + β‖θ_F‖² + l2‖θ_D‖²

L_base sees R_D + stopgrad(R_F): the base path fits every pair given the current
correction, and R_F gets gradient from failure pairs only (and its L2 penalty). Two readings
the paper leaves open are hyperparameters: whether L_fail also trains R_D (`failure_trains`)
and whether it averages over S_t or sums over S_t / n (`failure_reduction`).
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
from fairl.irl.optimise import Adam, adam_steps, adam_until_settled, hinge_dual, lbfgs_until_converged

PairLoss = Callable[[torch.Tensor], torch.Tensor]


def fa_irl_loss(
    delta_d: torch.Tensor,
    delta_f: torch.Tensor,
    sampled: torch.Tensor,
    base_loss: PairLoss,
    failure_loss: PairLoss,
    reduction: str = "mean",
    trains: str = "both",
) -> tuple[torch.Tensor, torch.Tensor]:
    """(L_base, L_fail) before weighting and regularisation.

    L_base = mean_i base_loss(Δ_D,i + sg(Δ_F,i)) over all n pairs;
    L_fail = mean_{i ∈ S_t} failure_loss(Δ_D,i + Δ_F,i)        (reduction 'mean'), or
             Σ_{i ∈ S_t} failure_loss(Δ_D,i + Δ_F,i) / n        (reduction 'sum'), and 0 when S_t is empty.
    With trains='failure_path' L_fail sees sg(Δ_D) + Δ_F: failures train R_F alone.
    """
    loss_base = base_loss(delta_d + delta_f.detach()).mean()
    if bool(sampled.any()):
        d = delta_d if trains == "both" else delta_d.detach()
        per_pair = failure_loss((d + delta_f)[sampled])
        loss_fail = per_pair.mean() if reduction == "mean" else per_pair.sum() / delta_d.numel()
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

    Returns (θ, θ_F = 0, per-evaluation history, Solve). Converged: L-BFGS for the smooth
    max-entropy loss, the exact dual solver for the hinge (fairl.irl.optimise); equal budget:
    `steps` Adam steps.
    """
    theta = kaiming_uniform(diff_t.shape[0], generator)
    losses = []
    solve = minimise_standard(theta, diff_t, objective, hp, losses)
    history = pd.DataFrame({"evaluation": np.arange(len(losses)), "loss": losses})
    return theta.detach(), torch.zeros_like(theta).detach(), history, solve


def minimise_standard(theta: torch.Tensor, diff_t: torch.Tensor, objective: str, hp: Hyperparameters,
                      losses: list[float] | None = None, max_steps: int | None = None):
    """Minimise the standard objective over θ in place (from its current value); returns the Solve.
    Converged regime: at most `max_steps` (default hp.max_steps) evaluations."""
    max_steps = hp.max_steps if max_steps is None else max_steps
    pair_loss = _pair_loss(objective, hp, strict=False)

    def objective_value() -> torch.Tensor:
        loss = pair_loss(theta @ diff_t).mean() + hp.l2 * theta.dot(theta)
        if losses is not None:
            losses.append(loss.item())
        return loss

    if hp.optimisation == "equal_budget":
        return adam_steps(Adam([theta], lr=hp.lr), [theta], objective_value, hp.steps)
    if objective == "max_entropy":
        return lbfgs_until_converged(theta, objective_value, max_steps, hp.tolerance)
    return hinge_dual(theta, diff_t, hp.margin, hp.l2, max_steps, hp.lr, hp.tolerance)


def train_fa_irl(diff_t: torch.Tensor, objective: str, hp: Hyperparameters, generator: torch.Generator):
    """FA-IRL. Returns (θ_D, θ_F, per-round history, Solve of the last round).

    Equal budget: `steps_per_round` Adam steps per round, one Adam state over all rounds.
    Converged: each round starts a fresh Adam state (so the large early failure gradients do
    not shrink every later step) and runs until it settles or `inner_steps` run out; the last
    round runs to convergence. With p_T = 0 the last round has no sampled failure and is solved
    exactly: θ_F = 0 and θ_D by standard IRL's solver, so a converged FA-IRL ends on standard
    IRL's solution.
    """
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
    shared = Adam(params, lr=hp.lr) if hp.optimisation == "equal_budget" else None
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
        with torch.no_grad():  # F_t and S_t from the reward as it stands at the start of round t
            deltas = pair_deltas()
            delta = deltas[0] + deltas[1]
        failures = labels if hp.failure_mode == "supervised" else find_failures(delta, float(gammas[t]))
        sampled = sample_failures(failures, float(rates[t]), generator)
        weight = float(lambdas[t])

        def round_losses(sampled=sampled):
            deltas = pair_deltas()
            return fa_irl_loss(deltas[0], deltas[1], sampled, base_loss, failure_loss,
                               hp.failure_reduction, hp.failure_trains)

        def round_objective(weight=weight, round_losses=round_losses) -> torch.Tensor:
            loss_base, loss_fail = round_losses()
            loss = loss_base + weight * loss_fail + hp.l2 * theta_d.dot(theta_d)
            return loss + hp.l2_failure * theta_f.dot(theta_f) if hp.failure_path else loss

        if shared is not None:
            solve = adam_steps(shared, params, round_objective, hp.steps_per_round)
        elif t == hp.rounds - 1 and not bool(sampled.any()) and hp.l2_failure > 0:
            # The last round has no failure term (p_T = 0): R_F's objective is β‖θ_F‖², minimised exactly
            # at θ_F = 0, and R_D's is then the standard objective, solved by standard IRL's solver.
            with torch.no_grad():
                theta_d += theta_f
                theta_f.zero_()
            solve = minimise_standard(theta_d, diff_t, objective, hp)
        else:
            budget = hp.max_steps if t == hp.rounds - 1 else hp.inner_steps
            solve = adam_until_settled(params, round_objective, hp.lr, budget, hp.tolerance)
        with torch.no_grad():
            loss_base, loss_fail = round_losses()
        rows.append(
            {
                "round": t,
                "gamma": float(gammas[t]),
                "lambda": weight,
                "sampling_rate": float(rates[t]),
                "n_failures": int(failures.sum()),
                "n_sampled": int(sampled.sum()),
                "train_accuracy": float((delta > 0).double().mean()),
                "loss_base": loss_base.item(),
                "loss_fail": loss_fail.item(),
                **solve.record(),
            }
        )
    return theta_d.detach(), theta_f.detach(), pd.DataFrame(rows), solve


def _pair_loss(objective: str, hp: Hyperparameters, strict: bool) -> PairLoss:
    loss = OBJECTIVES[objective]
    if objective == "max_margin":
        constant = hp.margin_failure if strict else hp.margin
    else:
        constant = hp.temperature_failure if strict else hp.temperature
    return lambda delta: loss(delta, constant)
