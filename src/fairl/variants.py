"""An IRL variant (a named method with hyperparameter overrides), its file names, its design (role and
ablation label) and the one way to fit it.

The synthetic benchmark and the LM chain both fit variants × optimisation regimes × seeds
through `fit_variant`, so the two cannot drift in how a variant is turned into a fit. The
Snakefile imports `slug` and `reward_file` from here (this module imports no torch at load).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from fairl.irl import LinearReward

REGIMES = ("converged", "equal_budget")
"""How long a reward is optimised (fairl.irl.optimise): to a recorded convergence, or for a fixed
number of Adam steps that is the same for FA-IRL and its standard objective."""


def slug(name: str) -> str:
    """A file-name-safe form of a variant name."""
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_")


@dataclass(frozen=True)
class Variant:
    name: str
    """Label in tables and figures."""
    method: str
    """One of fairl.irl.METHODS."""
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    """Overrides of fairl.irl.Hyperparameters; failure_mode='supervised' takes the caller's failure labels."""

    @classmethod
    def from_config(cls, spec: dict[str, Any]) -> "Variant":
        return cls(spec["name"], spec["method"], dict(spec.get("hyperparameters") or {}))


def check_variants(specs: list[dict[str, Any]], section: str) -> dict[str, dict[str, Any]]:
    """The variants of a config section by file slug, each checked as its fit will check it.

    Run by the Snakefile when it builds the DAG, so a misspelt or mistyped hyperparameter (a YAML
    `failure_path: "false"` is a string, not false) stops the dry run with the variant named, instead
    of failing in the irl job after RLHF, pairs and features, or training a variant its label misdescribes.
    """
    from fairl.irl.hyperparameters import resolve  # numpy only: the Snakefile imports no torch

    slugs: dict[str, dict[str, Any]] = {}
    for spec in specs:
        variant = Variant.from_config(spec)
        file_slug = slug(variant.name)
        if file_slug in slugs:
            raise ValueError(f"{section}: variants {slugs[file_slug]['name']!r} and {variant.name!r} share the file "
                             f"name {file_slug!r}; rename one")
        hp = dict(variant.hyperparameters)
        for key, why in (("optimisation", "list the regimes in the config's 'regimes' instead"),
                         ("failure_labels", "they come from the pairs' evaluation judge (failure_mode: supervised)")):
            if key in hp:
                raise ValueError(f"{section}: variant {variant.name!r} sets {key!r}; {why}")
        if hp.get("failure_mode") == "supervised":
            hp["failure_labels"] = np.zeros(1, dtype=bool)  # stands in for the labels the fit is given
        try:
            resolve(variant.method, 1, hp)
        except ValueError as error:
            raise ValueError(f"{section}: variant {variant.name!r}: {error}") from None
        slugs[file_slug] = spec
    return slugs


ABLATION_KEYS = ("lambda_init", "fixed_lambda", "failure_path", "curriculum", "failure_mode", "failure_reduction",
                 "failure_trains")
"""The FA-IRL hyperparameters the paper's ablations switch (§5); any other override is a setting, not an ablation."""


def _paper_defaults():
    """The paper's FA-IRL hyperparameters, what an ablation departs from (imported here: fairl.irl.hyperparameters
    reads REGIMES from this module)."""
    from fairl.irl.hyperparameters import Hyperparameters

    return Hyperparameters()


def variant_design(variants: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per configured IRL variant: objective, the ablation switches, a label, its base.

    role: 'irl' (standard objective), 'fa_irl' (FA-IRL with the paper's defaults on every
    ablation switch) or 'ablation'; base_variant: the standard-IRL variant of the same
    objective an FA variant is measured against.
    """
    defaults = _paper_defaults()
    rows = []
    for variant in variants:
        hp = variant.get("hyperparameters") or {}
        method = variant["method"]
        is_fa = method.startswith("fa_")
        switches = {key: hp.get(key, getattr(defaults, key)) for key in ABLATION_KEYS}
        is_ablation = is_fa and any(switches[k] != getattr(defaults, k) for k in ABLATION_KEYS)
        rows.append({
            "variant": variant["name"], "method": method, "objective": method.removeprefix("fa_"),
            "role": ("ablation" if is_ablation else "fa_irl") if is_fa else "irl",
            "ablation": ablation_label(switches) if is_fa else "standard IRL",
            "lambda_init": float(switches["lambda_init"]),
            "lambda_schedule": "fixed" if switches["fixed_lambda"] else "decayed",
            "failure_path": bool(switches["failure_path"]), "curriculum": bool(switches["curriculum"]),
            "failure_mode": switches["failure_mode"], "failure_reduction": switches["failure_reduction"],
            "failure_trains": switches["failure_trains"],
        })
    design = pd.DataFrame(rows)
    if design.empty:
        raise ValueError("the config lists no IRL variants")
    standard = design[design["role"] == "irl"].drop_duplicates("objective").set_index("objective")["variant"]
    design["base_variant"] = [standard.get(o) if r != "irl" else None for o, r in zip(design["objective"], design["role"])]
    return design


def ablation_label(switches: dict[str, Any]) -> str:
    """'full FA-IRL' or what the variant switches off or changes, e.g. 'λ=5 fixed, no R_F'."""
    defaults = _paper_defaults()
    parts = []
    lam = float(switches["lambda_init"])
    if switches["fixed_lambda"]:
        parts.append(f"λ={lam:g} fixed")
    elif lam != defaults.lambda_init:
        parts.append(f"λ₀={lam:g} decayed")
    if not switches["failure_path"]:
        parts.append("no R_F")
    if not switches["curriculum"]:
        parts.append("no curriculum")
    if switches["failure_mode"] != defaults.failure_mode:
        parts.append(f"{switches['failure_mode']} failures")
    if switches["failure_reduction"] != defaults.failure_reduction:
        parts.append("L_fail = Σ over S_t / n" if switches["failure_reduction"] == "sum" else "L_fail = mean over S_t")
    if switches["failure_trains"] != defaults.failure_trains:
        parts.append("L_fail trains R_F only" if switches["failure_trains"] == "failure_path" else "L_fail trains both")
    return ", ".join(parts) or "full FA-IRL"


def fit_variant(variant: Variant, h_pos: np.ndarray, h_neg: np.ndarray, seed: int, regime: str,
                failure_labels: np.ndarray | None = None) -> LinearReward:
    """Fit `variant` on training pairs in optimisation `regime` (fairl.irl.optimise).

    A variant that sets `optimisation` itself is rejected: the regime is an axis of the study,
    like the seed, so every variant is fitted in every configured regime.
    """
    if regime not in REGIMES:
        raise ValueError(f"unknown optimisation regime {regime!r}; choose one of {REGIMES}")
    hp = dict(variant.hyperparameters)
    if "optimisation" in hp:
        raise ValueError(f"variant {variant.name!r} sets 'optimisation'; list the regimes in the config's "
                         "'regimes' instead, so every variant is fitted in each")
    if hp.get("failure_mode") == "supervised":
        if failure_labels is None:
            raise ValueError(f"variant {variant.name!r} uses supervised failures, but no failure labels were given")
        hp["failure_labels"] = failure_labels
    from fairl.irl import fit_reward  # torch: imported where a fit happens, not by the Snakefile

    return fit_reward(h_pos, h_neg, variant.method, seed=seed, optimisation=regime, **hp)


def convergence_columns(reward: LinearReward) -> dict[str, Any]:
    """How a fit's optimisation ended, as metric columns (fairl.irl.optimise.Solve of its last solve)."""
    c = reward.convergence
    return {"converged": bool(c["settled"]), "gradient_evaluations": int(c["gradient_evaluations"]),
            "final_objective": c["objective"], "final_relative_change": c["relative_change"],
            "final_grad_norm": c["grad_norm"]}


def reward_file(prefix: str, regime: str, seed: int) -> str:
    """The file one fitted reward is saved to: `<prefix>_<regime>_seed<seed>.npz` (prefix: directory/slug)."""
    return f"{prefix}_{regime}_seed{seed}.npz"
