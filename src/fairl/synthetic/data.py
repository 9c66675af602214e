"""Preference data with a known linear ground-truth reward r*(o) = θ*ᵀh(o).

Each pair is one prompt x with two completions a, b:

    h_a = c_x + m + d/2,   h_b = c_x + m - d/2,   P(a ≻ b) = σ(β · θ*ᵀd)

c_x ~ N(0, s²I) is a prompt offset (removed by per-prompt STARC), m ~ N(0, I) the
content both completions share, β the Boltzmann rationality. The difference d makes
the problem non-identifiable on purpose:

- easy pairs: d = a·v + small noise, a large, along one direction v with
  cos(v, θ*) = `easy_cosine`. Preferences are near-certain, and *every* θ with
  θᵀv > 0 fits them: they say almost nothing about θ* beyond one direction.
- hard (near-boundary) pairs, a share `hard_fraction`: d = P⊥z + t·θ*, z ~ N(0, I),
  t ~ N(0, hard_gap²). The completions differ a lot in features but little in reward,
  so preferences are noisy and these pairs are what pins θ* down.

Two generators of the benchmark use this: 'boltzmann' (noisy labels: many failures are pairs
whose label is simply wrong) and 'boundary' (`noiseless`, a minority of hard pairs: the easy
direction fits most pairs, and the correctly labelled boundary pairs a reward misorders are
exactly the ones that pin θ* down, the case FA-IRL is built for).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SyntheticConfig:
    n_pairs: int = 4000
    """Number of preference pairs (one prompt each)."""
    dim: int = 32
    """Feature dimension d."""
    hard_fraction: float = 0.3
    """Share of near-boundary pairs."""
    rationality: float = 5.0
    """β: preferences are Boltzmann in β·Δr*; larger is less noisy."""
    easy_gap: float = 4.0
    """Typical reward gap θ*ᵀd of easy pairs."""
    easy_cosine: float = 0.5
    """cos(v, θ*) of the one direction easy pairs differ along."""
    hard_gap: float = 0.3
    """Standard deviation of the reward gap of hard pairs."""
    prompt_scale: float = 1.0
    """Standard deviation of the per-prompt offset c_x."""
    noiseless: bool = False
    """Label every pair by the sign of its true reward gap (β → ∞): then every failure of a reward is a
    correctly labelled pair it gets wrong, so failures are informative by design."""


@dataclass(frozen=True)
class SyntheticPreferences:
    h_pos: np.ndarray
    h_neg: np.ndarray
    theta_star: np.ndarray
    is_hard: np.ndarray

    @property
    def r_pos(self) -> np.ndarray:
        return self.h_pos @ self.theta_star

    @property
    def r_neg(self) -> np.ndarray:
        return self.h_neg @ self.theta_star

    def subset(self, index: np.ndarray) -> "SyntheticPreferences":
        return SyntheticPreferences(self.h_pos[index], self.h_neg[index], self.theta_star, self.is_hard[index])


def make_synthetic_preferences(config: SyntheticConfig, seed: int) -> SyntheticPreferences:
    if config.n_pairs < 2 or config.dim < 2:
        raise ValueError(f"need n_pairs ≥ 2 and dim ≥ 2, got {config.n_pairs} and {config.dim}")
    if not 0.0 <= config.hard_fraction <= 1.0:
        raise ValueError(f"hard_fraction must lie in [0, 1], got {config.hard_fraction}")
    if not 0.0 < config.easy_cosine <= 1.0:
        raise ValueError(f"easy_cosine must lie in (0, 1], got {config.easy_cosine}")
    rng = np.random.default_rng(seed)
    n, d = config.n_pairs, config.dim

    theta_star = _unit(rng.standard_normal(d))
    other = _unit(_orthogonal(rng.standard_normal(d), theta_star))
    v = config.easy_cosine * theta_star + np.sqrt(1 - config.easy_cosine**2) * other

    is_hard = np.zeros(n, dtype=bool)
    is_hard[rng.permutation(n)[: int(round(config.hard_fraction * n))]] = True

    # easy: along v, reward gap around easy_gap (either sign), a little isotropic noise
    size = config.easy_gap / config.easy_cosine * rng.uniform(0.5, 1.5, n) * rng.choice([-1.0, 1.0], n)
    diff = size[:, None] * v + 0.1 * rng.standard_normal((n, d)) / np.sqrt(d)
    # hard: large reward-neutral difference plus a small reward gap
    z = rng.standard_normal((n, d))
    z -= np.outer(z @ theta_star, theta_star)
    hard_diff = z + np.outer(config.hard_gap * rng.standard_normal(n), theta_star)
    diff[is_hard] = hard_diff[is_hard]

    centre = config.prompt_scale * rng.standard_normal((n, d)) + rng.standard_normal((n, d))
    h_a, h_b = centre + diff / 2, centre - diff / 2
    draws = rng.random(n)  # drawn in both modes, so the features are the same for a seed
    gap = diff @ theta_star
    a_preferred = gap > 0 if config.noiseless else draws < _sigmoid(config.rationality * gap)
    h_pos = np.where(a_preferred[:, None], h_a, h_b)
    h_neg = np.where(a_preferred[:, None], h_b, h_a)
    return SyntheticPreferences(h_pos, h_neg, theta_star, is_hard)


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x)


def _orthogonal(x: np.ndarray, direction: np.ndarray) -> np.ndarray:
    return x - (x @ direction) * direction


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.tanh(x / 2))
