"""Full-batch minimisation with a recorded convergence: every reported reward says how far its
optimiser got.

Two regimes (`Hyperparameters.optimisation`):

- **converged**: run until the objective settles. The smooth max-entropy objective goes to
  L-BFGS (strong-Wolfe line search) until the gradient norm or the relative change falls
  below the tolerance. The standard hinge, mean max(0, M − θᵀd_i) + l2‖θ‖², is a linear SVM
  without intercept: it is not differentiable at Δ = M, where no gradient norm vanishes and
  first-order methods crawl (full-batch Adam with a halving rate ended 2.8× above the optimum
  on the LM pairs, n < d), so it is solved exactly in its dual, a box-constrained quadratic
  (`hinge_dual`, scipy's L-BFGS-B), polished in the primal, and the duality gap is recorded. What has no single
  objective (an FA-IRL round with failures: R_D and R_F follow different losses) goes to
  full-batch Adam whose learning rate halves each time the objective fails to improve by
  `tolerance` (relative) over `PATIENCE` steps; it has settled when the rate has halved
  `HALVINGS` times.
- **equal_budget**: a fixed number of plain Adam steps at a constant learning rate, the same
  number for FA-IRL and its standard objective, so a difference between them is not a
  difference in how long each was optimised.

Each solve returns a `Solve`: gradient evaluations, final objective, relative change over the
last window, gradient norm at the end, and whether it settled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import torch
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

PATIENCE = 50
"""Steps without a relative improvement of `tolerance` before Adam's learning rate halves."""
HALVINGS = 12
"""Halvings of the learning rate (to lr / 4096) after which an Adam solve has settled."""

Objective = Callable[[], torch.Tensor]


class Adam:
    """Adam (Kingma & Ba 2015) for the IRL solvers: torch.optim.Adam's CPU update (single-tensor, no weight decay,
    no amsgrad), the same operations in the same order, so the iterates are bit-identical (tests/test_optimise.py).

    Why not torch.optim.Adam itself: constructing any torch.optim optimiser imports torch._dynamo, 2 s of every
    irl and synthetic job's start. `lr` may be changed between steps (the halving schedule below).
    """

    def __init__(self, params: list[torch.Tensor], lr: float, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8):
        self.params, self.lr, self.betas, self.eps = params, lr, betas, eps
        self.exp_avg = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in params]
        self.exp_avg_sq = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in params]
        self.steps = [0] * len(params)
        """Per parameter, like torch's state["step"]: a parameter without a gradient is skipped and not counted."""

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        beta1, beta2 = self.betas
        for i, param in enumerate(self.params):
            if param.grad is None:
                continue
            grad = param.grad
            self.steps[i] += 1
            self.exp_avg[i].lerp_(grad, 1 - beta1)
            self.exp_avg_sq[i].mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            step = float(self.steps[i])
            step_size = self.lr / (1 - beta1**step)
            denom = (self.exp_avg_sq[i].sqrt() / (1 - beta2**step) ** 0.5).add_(self.eps)
            param.addcdiv_(self.exp_avg[i], denom, value=-step_size)


@dataclass(frozen=True)
class Solve:
    evaluations: int
    """Objective and gradient evaluations used."""
    objective: float
    """Objective value at the returned parameters."""
    relative_change: float
    """Relative decrease of the objective over the last PATIENCE evaluations (L-BFGS: its last step;
    the hinge's dual solver: the relative duality gap, an upper bound on the distance to the optimum)."""
    grad_norm: float
    """Norm of the gradient at the returned parameters (for the hinge, of the subgradient torch takes)."""
    settled: bool
    """Converged regime: the stopping rule fired before the step budget ran out; equal budget: False."""

    def record(self, prefix: str = "") -> dict[str, float | int | bool]:
        return {f"{prefix}{k}": v for k, v in asdict(self).items()}


def _grad_norm(params: list[torch.Tensor], objective: Objective) -> tuple[float, float]:
    for p in params:
        p.grad = None
    value = objective()
    value.backward()
    norm = torch.sqrt(sum(p.grad.double().square().sum() for p in params if p.grad is not None)).item()
    for p in params:
        p.grad = None
    return value.item(), norm


def adam_steps(optimiser: Adam, params: list[torch.Tensor], objective: Objective, steps: int) -> Solve:
    """`steps` plain Adam steps on `objective` (equal-budget regime); `optimiser` keeps its state."""
    history = []
    for _ in range(steps):
        optimiser.zero_grad()
        value = objective()
        value.backward()
        optimiser.step()
        history.append(value.item())
    final, norm = _grad_norm(params, objective)
    return Solve(steps, final, _relative(history, final), norm, settled=False)


def adam_until_settled(params: list[torch.Tensor], objective: Objective, lr: float, max_steps: int,
                       tolerance: float) -> Solve:
    """Fresh Adam with a halving learning rate, until it has halved HALVINGS times or max_steps ran out.

    Returns the best iterate seen (the hinge's objective is not monotone under Adam).
    """
    optimiser = Adam(params, lr=lr)
    best, best_params, since, halvings, history = float("inf"), None, 0, 0, []
    steps = 0
    while steps < max_steps and halvings < HALVINGS:
        optimiser.zero_grad()
        value = objective()
        current = value.item()
        if current < best:
            if current < best - tolerance * abs(best):
                since = 0
            best, best_params = current, [p.detach().clone() for p in params]
        value.backward()
        optimiser.step()
        steps += 1
        history.append(best)
        since += 1
        if since >= PATIENCE:
            halvings, since = halvings + 1, 0
            optimiser.lr /= 2
    with torch.no_grad():
        for p, b in zip(params, best_params or [p.detach().clone() for p in params]):
            p.copy_(b)
    final, norm = _grad_norm(params, objective)
    return Solve(steps, final, _relative(history, final), norm, settled=halvings >= HALVINGS)


def lbfgs(theta: torch.Tensor, evaluate: Callable[[], tuple[float, torch.Tensor]], max_iter: int, max_eval: int,
          tolerance_grad: float, tolerance_change: float, history_size: int = 10) -> int:
    """Minimise over the 1-D leaf tensor `theta`, in place, by L-BFGS with the strong-Wolfe line search; returns the
    iterations taken. `evaluate()` returns the objective at the current θ and its gradient, (float, 1-D tensor): a
    fresh tensor each call, never written to afterwards (the history keeps references to earlier gradients; torch
    copies them, `lbfgs_until_converged` sets θ.grad to None before each backward instead).

    This is torch.optim.LBFGS's iteration (minFunc's, lr = 1) for one parameter tensor: the same operations in the
    same order, so the iterates are bit-identical (tests/test_optimise.py), and its line search is torch's own
    (`torch.optim.lbfgs._strong_wolfe`, private in the pinned torch). Stops on ‖∇‖∞ ≤ tolerance_grad, a directional
    derivative above −tolerance_change, a step or objective change ≤ tolerance_change, max_iter or max_eval.

    Why not torch.optim.LBFGS itself: as for Adam, constructing it imports torch._dynamo, 1.5 s of the first solve
    in every process (an irl job's max-entropy variants pay it once per job).
    """
    from torch.optim.lbfgs import _strong_wolfe

    def along(start: torch.Tensor, t, direction: torch.Tensor) -> tuple[float, torch.Tensor]:
        """The line search's probe: the objective and gradient at start + t·direction, θ left at start."""
        theta.add_(direction, alpha=t)
        value, grad = evaluate()
        theta.copy_(start)
        return value, grad

    with torch.no_grad():
        loss, grad = evaluate()
        evaluations = 1
        if grad.abs().max() <= tolerance_grad:
            return 0
        steps, grad_changes, rho = [], [], []  # s_k = θ_{k+1} − θ_k, y_k = ∇_{k+1} − ∇_k, 1 / (y_k·s_k)
        alpha = [None] * history_size
        direction = step_length = previous_grad = None
        h_diag = 1  # scale of the initial inverse Hessian, y·s / y·y
        iteration = 0
        while iteration < max_iter:
            iteration += 1
            if iteration == 1:
                direction = grad.neg()
            else:
                y = grad.sub(previous_grad)
                s = direction.mul(step_length)
                ys = y.dot(s)
                if ys > 1e-10:  # curvature condition: keep the pair
                    if len(steps) == history_size:
                        steps.pop(0), grad_changes.pop(0), rho.pop(0)
                    grad_changes.append(y)
                    steps.append(s)
                    rho.append(1.0 / ys)
                    h_diag = ys / y.dot(y)
                # two-loop recursion: direction = −H∇ with the last history_size pairs
                q = grad.neg()
                for i in range(len(steps) - 1, -1, -1):
                    alpha[i] = steps[i].dot(q) * rho[i]
                    q.add_(grad_changes[i], alpha=-alpha[i])
                direction = r = torch.mul(q, h_diag)
                for i in range(len(steps)):
                    beta = grad_changes[i].dot(r) * rho[i]
                    r.add_(steps[i], alpha=alpha[i] - beta)
            if previous_grad is None:
                previous_grad = grad.clone(memory_format=torch.contiguous_format)
            else:
                previous_grad.copy_(grad)
            previous_loss = loss
            step_length = min(1.0, 1.0 / grad.abs().sum()) if iteration == 1 else 1.0
            gtd = grad.dot(direction)
            if gtd > -tolerance_change:
                break
            start = theta.clone(memory_format=torch.contiguous_format)
            loss, grad, step_length, used = _strong_wolfe(along, start, step_length, direction, loss, grad, gtd,
                                                          max_ls=max_eval - evaluations)
            theta.add_(direction, alpha=step_length)
            evaluations += used
            if iteration == max_iter or evaluations >= max_eval or grad.abs().max() <= tolerance_grad:
                break
            if direction.mul(step_length).abs().max() <= tolerance_change or abs(loss - previous_loss) < tolerance_change:
                break
    return iteration


def lbfgs_until_converged(theta: torch.Tensor, objective: Objective, max_steps: int, tolerance: float) -> Solve:
    """L-BFGS (strong Wolfe) until ‖∇‖∞ ≤ tolerance or a step changes the objective by ≤ tolerance²."""
    history = []

    def evaluate() -> tuple[float, torch.Tensor]:
        theta.grad = None
        with torch.enable_grad():
            value = objective()
            value.backward()
        history.append(value.item())
        return history[-1], theta.grad.view(-1)

    iterations = lbfgs(theta, evaluate, max_iter=max_steps, max_eval=2 * max_steps, tolerance_grad=tolerance,
                       tolerance_change=tolerance**2)
    final, norm = _grad_norm([theta], objective)
    return Solve(len(history), final, _relative(history[-2:], final), norm, settled=iterations < max_steps)


def hinge_dual(theta: torch.Tensor, diff_t: torch.Tensor, margin: float, l2: float, max_steps: int, lr: float,
               tolerance: float) -> Solve:
    """θ ← argmin_θ P(θ) = mean_i max(0, M − θᵀd_i) + l2‖θ‖² (in place), with a certificate.

    First the dual, max_α D(α) = M·Σα_i − l2‖θ(α)‖², θ(α) = Σ α_i d_i / (2·l2), 0 ≤ α_i ≤ 1/n,
    by L-BFGS-B; then Adam with a halving rate polishes θ(α) in the primal, from lr/16, and the
    better of the two is kept. The dual is exact where n < d (where primal Adam crawls); the polish
    closes the last 1e-4 where n ≫ d and many α_i sit at a bound. Since D(α) ≤ min P ≤ P(θ), the
    recorded relative_change is the relative duality gap (P(θ) − D(α)) / P(θ): an upper bound on
    how far θ is from the optimum.
    """
    if not l2 > 0:
        raise ValueError("the converged hinge is solved in its dual, which needs l2 > 0; set l2 > 0 "
                         "or use optimisation='equal_budget'")
    d = diff_t.double().numpy()  # (dim, n)
    n = d.shape[1]

    def negative_dual(alpha: np.ndarray) -> tuple[float, np.ndarray]:
        th = d @ alpha / (2 * l2)
        return -(margin * alpha.sum() - l2 * th @ th), -(margin - th @ d)

    def primal(th: np.ndarray) -> float:
        return float(np.maximum(0.0, margin - th @ d).mean() + l2 * th @ th)

    # ftol = 0: run until no step reduces the dual in float64 (ftol = 1e-14 stopped at a 2e-3 gap on the LM pairs).
    # One BLAS thread: run to ftol = 0, the solve amplifies the last bits of a multi-threaded d @ α (which
    # depend on the thread count) into ~1e-4 differences of θ and 20% more or fewer evaluations; pinned, the
    # same data give the same θ under any OPENBLAS_NUM_THREADS (Snakemake sets it to a rule's threads).
    with threadpool_limits(limits=1, user_api="blas"):
        result = minimize(negative_dual, np.zeros(n), jac=True, method="L-BFGS-B", bounds=[(0.0, 1.0 / n)] * n,
                          options={"maxiter": max_steps, "maxfun": 2 * max_steps, "ftol": 0.0, "gtol": 1e-12,
                                   "maxcor": 50})
    dual_value = -float(result.fun)
    with torch.no_grad():
        theta.copy_(torch.from_numpy(d @ result.x / (2 * l2)).to(theta.dtype))
    polish = adam_until_settled([theta], lambda: torch.clamp(margin - theta @ diff_t, min=0.0).mean()
                                + l2 * theta.dot(theta), lr / 16, max_steps, tolerance)
    final = primal(theta.detach().double().numpy())
    gap = (final - dual_value) / max(abs(final), 1e-12)
    # settled: the polish's stopping rule fired (the dual's own flag also reports line-search failures
    # at float64 precision); the gap says how close that is to the optimum
    return Solve(int(result.nfev) + polish.evaluations, final, float(gap), polish.grad_norm, settled=polish.settled)


def _relative(history: list[float], final: float) -> float:
    """Relative decrease from the value PATIENCE evaluations ago (or the first one) to `final`."""
    if not history:
        return float("nan")
    before = history[-PATIENCE] if len(history) >= PATIENCE else history[0]
    return float((before - final) / max(abs(final), 1e-12))
