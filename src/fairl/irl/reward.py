"""A linear reward on frozen features, R(o) = θᵀh(o) + b, possibly dual-path.

FA-IRL's reward is R = R_D + R_F with R_D(o) = θ_Dᵀh(o) + b_D and R_F(o) = θ_Fᵀh(o) + b_F.
A single-path reward (standard IRL, or FA-IRL without R_F) has θ_F = 0.

Pairwise losses see only differences Δ, in which b_D and b_F cancel, so the biases are
not identifiable from preferences. We fix them so each path has zero mean over the
training outputs; this makes rewards from different fits comparable at a glance and
changes no metric (all metrics here are shift-invariant).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairl.io import atomic_save_npz


@dataclass
class LinearReward:
    method: str
    theta_d: np.ndarray
    bias_d: float
    theta_f: np.ndarray
    bias_f: float
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    history: pd.DataFrame | None = None
    calibration: dict[str, float] | None = None
    convergence: dict[str, Any] | None = None
    """How the optimisation ended (fairl.irl.optimise.Solve of the last solve, and the regime)."""

    @property
    def dim(self) -> int:
        return int(self.theta_d.shape[0])

    @property
    def theta(self) -> np.ndarray:
        """θ = θ_D + θ_F: the whole reward is linear in h as well."""
        return self.theta_d + self.theta_f

    @property
    def bias(self) -> float:
        return self.bias_d + self.bias_f

    def _check(self, h: np.ndarray) -> np.ndarray:
        h = np.asarray(h, dtype=np.float64)
        if h.ndim == 1:
            h = h[None, :]
        if h.ndim != 2 or h.shape[1] != self.dim:
            raise ValueError(
                f"features must have shape (n, {self.dim}) to score with this reward, got {h.shape}"
            )
        if not np.isfinite(h).all():
            raise ValueError("features contain NaN or inf; fix the feature stage before scoring")
        return h

    def score(self, h: np.ndarray) -> np.ndarray:
        """R(o) for every row of h, as float64 of shape (n,)."""
        h = self._check(h)
        return h @ self.theta + self.bias

    def score_paths(self, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(R_D(o), R_F(o)) for every row of h."""
        h = self._check(h)
        return h @ self.theta_d + self.bias_d, h @ self.theta_f + self.bias_f

    def affine(self, scale: float, shift: float = 0.0) -> "LinearReward":
        """scale·R + shift, with scale > 0: the same preferences, ranking and STARC class."""
        if not (np.isfinite(scale) and scale > 0 and np.isfinite(shift)):
            raise ValueError(f"an affine transform of a reward needs a finite scale > 0 and a finite shift, "
                             f"got scale={scale}, shift={shift}")
        return LinearReward(self.method, scale * self.theta_d, scale * self.bias_d + shift, scale * self.theta_f,
                            scale * self.bias_f, self.hyperparameters, self.seed, self.history,
                            {"scale": float(scale), "shift": float(shift)}, self.convergence)

    def save(self, path: str | Path) -> None:
        """Write parameters to `path` (.npz) with hyperparameters, seed and calibration as JSON inside."""
        meta = {"method": self.method, "seed": self.seed, "hyperparameters": self.hyperparameters,
                "calibration": self.calibration, "convergence": self.convergence}
        arrays = {"theta_d": self.theta_d, "theta_f": self.theta_f, "biases": np.array([self.bias_d, self.bias_f]),
                  "meta": np.array(json.dumps(meta, default=_jsonable))}
        atomic_save_npz(path, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> "LinearReward":
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            return cls(
                method=meta["method"],
                theta_d=data["theta_d"],
                bias_d=float(data["biases"][0]),
                theta_f=data["theta_f"],
                bias_f=float(data["biases"][1]),
                hyperparameters=meta["hyperparameters"],
                seed=meta["seed"],
                calibration=meta.get("calibration"),
                convergence=meta.get("convergence"),
            )


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return f"<array shape={value.shape}>"
    raise TypeError(f"cannot serialise {type(value).__name__}")
