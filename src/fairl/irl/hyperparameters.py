"""Every IRL / FA-IRL hyperparameter, its default and where the default comes from.

[S] stated by the paper, [P] from the precursor paper's public code, [D] this
repository's choice where the paper is silent (the README lists these).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np

from fairl.variants import REGIMES

METHODS = ("max_margin", "max_entropy", "fa_max_margin", "fa_max_entropy")
FAILURE_MODES = ("margin", "supervised")
FAILURE_REDUCTIONS = ("mean", "sum")
FAILURE_TRAINS = ("both", "failure_path")


@dataclass(frozen=True)
class Hyperparameters:
    margin: float = 0.1
    """M, max-margin constraint Δ ≥ M on every pair [P]."""
    temperature: float = 0.1
    """τ, Bradley-Terry temperature of max-entropy IRL [P]."""
    l2: float = 1e-4
    """L2 penalty on θ (θ_D for FA-IRL), on standardised features [D]."""
    lr: float = 0.05
    """Adam learning rate, full batch (the starting rate in the converged regime) [D]."""
    optimisation: str = "converged"
    """'converged' (run until the objective settles) or 'equal_budget' (a fixed number of Adam steps,
    the same for FA-IRL and standard IRL); see fairl.irl.optimise [D]."""
    steps: int = 100
    """Standard IRL, equal budget: Adam steps (FA-IRL's budget is rounds × steps_per_round) [D]."""
    max_steps: int = 5000
    """Converged regime: most gradient evaluations of one solve (standard IRL, FA-IRL's last round) [D]."""
    tolerance: float = 1e-7
    """Converged regime: relative objective change (Adam) or gradient ∞-norm (L-BFGS) at which a solve has
    settled; the hinge's dual solver runs to float64 precision [D]."""
    standardize: bool = True
    """Divide features by their training standard deviation before fitting (folded back into θ) [D]."""

    # FA-IRL only (paper §4)
    margin_failure: float | None = None
    """M_fail > M on failure pairs; None means 2M [D]."""
    temperature_failure: float | None = None
    """τ_fail < τ on failure pairs; None means τ/2 [D]."""
    l2_failure: float = 1e-3
    """β, L2 penalty on θ_F [S; value D]."""
    rounds: int = 100
    """T, curriculum rounds [S]."""
    steps_per_round: int = 1
    """Equal budget: Adam steps per round, failures fixed within a round; 100 × 1 matches standard IRL's budget [D]."""
    inner_steps: int = 10
    """Converged regime: most Adam steps of each round before the last (fresh Adam state per round; a round
    stops earlier when it settles); the last round runs to convergence (max_steps) [D]."""
    lambda_init: float = 10.0
    """λ_0, initial failure weight [S]."""
    lambda_decay: float = 0.05
    """κ in λ_t = λ_0 exp(-κ t) [D]."""
    fixed_lambda: bool = False
    """Ablation: λ_t = λ_0 for every round."""
    sampling_init: float = 0.2
    """p_0, share of failures sampled into S_t in round 0 [S]."""
    sampling_final: float = 0.0
    """p_T, share in the last round [S]."""
    gamma_init: float | None = None
    """γ_0, first failure threshold; None means -M (margin) or -τ (entropy) [D]."""
    gamma_final: float | None = None
    """γ_T, last failure threshold; None means M_fail (margin) or τ (entropy) [D]."""
    curriculum: bool = True
    """Ablation switch: False holds γ_t = γ_T and p_t = p_0."""
    failure_path: bool = True
    """Ablation switch: False drops R_F, so failures act on R_D alone."""
    failure_reduction: str = "mean"
    """'mean': L_fail = mean over S_t, so each failure weighs λ_t/|S_t| (the paper's L_fail(S_t) as an average,
    like L_base); 'sum': Σ over S_t / n, so the weight of the failure term shrinks with p_t [D]."""
    failure_trains: str = "both"
    """Which path L_fail trains: 'both' (R_D and R_F; L_base alone is stopped from training R_F) or
    'failure_path' (R_F only, a pure correction head) [D]."""
    failure_mode: str = "margin"
    """'margin': F_t = {Δ_i < γ_t}; 'supervised': F_t = failure_labels (ablation) [S]."""
    failure_labels: Any = None
    """Boolean array, one per pair, required by failure_mode='supervised'."""


FA_ONLY = frozenset(
    f.name
    for f in fields(Hyperparameters)
    if f.name not in {"margin", "temperature", "l2", "lr", "steps", "optimisation", "max_steps", "tolerance",
                      "standardize"}
)
STANDARD_ONLY = frozenset({"steps"})


_KINDS = {"float": (int, float, np.integer, np.floating), "int": (int, np.integer), "bool": (bool, np.bool_),
          "str": (str,)}
"""Python types a config value may have for each annotation of Hyperparameters (YAML gives int for 1, float for 1.0)."""


def _check_type(name: str, value: Any) -> None:
    """A clear error for an override of the wrong type (a YAML string "false" is not false)."""
    annotation = next(f.type for f in fields(Hyperparameters) if f.name == name)
    kind, _, optional = annotation.partition(" | ")
    if kind not in _KINDS or (optional == "None" and value is None):
        return
    is_bool = isinstance(value, (bool, np.bool_))
    if not isinstance(value, _KINDS[kind]) or (is_bool and kind != "bool"):
        wanted = {"float": "a number", "int": "an integer", "bool": "true or false", "str": "a string"}[kind]
        raise ValueError(f"{name} must be {wanted}{' or null' if optional else ''}, got {value!r} "
                         f"({type(value).__name__})")


def resolve(method: str, n_pairs: int, overrides: dict[str, Any]) -> Hyperparameters:
    """Check `overrides` against `method` and fill the defaults that depend on others."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    known = {f.name for f in fields(Hyperparameters)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(f"unknown hyperparameter(s) {unknown}; known: {sorted(known)}")
    is_fa = method.startswith("fa_")
    misplaced = sorted(set(overrides) & (STANDARD_ONLY if is_fa else FA_ONLY))
    if misplaced:
        scope = "standard IRL (use rounds × steps_per_round)" if is_fa else "FA-IRL (fa_* methods)"
        raise ValueError(f"hyperparameter(s) {misplaced} apply only to {scope}, not to {method!r}")

    for name, value in overrides.items():
        _check_type(name, value)
    hp = replace(Hyperparameters(), **overrides)
    for name in ("margin", "temperature", "lr", "tolerance"):
        if not getattr(hp, name) > 0:
            raise ValueError(f"{name} must be > 0, got {getattr(hp, name)}")
    for name, choices in (("optimisation", REGIMES), ("failure_reduction", FAILURE_REDUCTIONS),
                          ("failure_trains", FAILURE_TRAINS), ("failure_mode", FAILURE_MODES)):
        if getattr(hp, name) not in choices:
            raise ValueError(f"unknown {name} {getattr(hp, name)!r}; choose one of {choices}")
    for name in ("standardize", "fixed_lambda", "curriculum", "failure_path"):
        if not isinstance(getattr(hp, name), (bool, np.bool_)):
            raise ValueError(f"{name} must be true or false, got {getattr(hp, name)!r}")
    for name in ("l2", "l2_failure", "lambda_init", "lambda_decay"):
        if not getattr(hp, name) >= 0:
            raise ValueError(f"{name} must be ≥ 0, got {getattr(hp, name)}")
    for name in ("steps", "max_steps", "rounds", "steps_per_round", "inner_steps"):
        value = getattr(hp, name)
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    for name in ("sampling_init", "sampling_final"):
        if not 0.0 <= getattr(hp, name) <= 1.0:
            raise ValueError(f"{name} is a probability and must lie in [0, 1], got {getattr(hp, name)}")
    if not is_fa:
        return hp

    margin_failure = 2 * hp.margin if hp.margin_failure is None else hp.margin_failure
    temperature_failure = hp.temperature / 2 if hp.temperature_failure is None else hp.temperature_failure
    if margin_failure <= hp.margin:
        raise ValueError(f"margin_failure must exceed margin ({hp.margin}), got {margin_failure}")
    if not 0 < temperature_failure < hp.temperature:
        raise ValueError(
            f"temperature_failure must lie in (0, temperature={hp.temperature}), got {temperature_failure}"
        )
    objective = method.removeprefix("fa_")
    scale = hp.margin if objective == "max_margin" else hp.temperature
    gamma_init = -scale if hp.gamma_init is None else hp.gamma_init
    gamma_final = (margin_failure if objective == "max_margin" else hp.temperature) if hp.gamma_final is None else hp.gamma_final

    if hp.failure_trains == "failure_path" and not hp.failure_path:
        raise ValueError("failure_trains='failure_path' needs the failure path (failure_path=True): "
                         "with R_F disabled the failure loss would train nothing")
    labels = hp.failure_labels
    if hp.failure_mode == "supervised":
        if labels is None:
            raise ValueError("failure_mode='supervised' needs failure_labels: one boolean per pair")
        labels = np.asarray(labels)
        if labels.shape != (n_pairs,) or labels.dtype != bool:
            raise ValueError(
                f"failure_labels must be a boolean array of shape ({n_pairs},), got {labels.dtype} {labels.shape}"
            )
    elif labels is not None:
        raise ValueError("failure_labels are used only with failure_mode='supervised'")
    return replace(
        hp,
        margin_failure=float(margin_failure),
        temperature_failure=float(temperature_failure),
        gamma_init=float(gamma_init),
        gamma_final=float(gamma_final),
        failure_labels=labels,
    )
