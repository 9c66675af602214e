"""The FA-IRL curriculum over T rounds: failure threshold γ_t, failure weight λ_t,
failure sampling rate p_t (paper §4.3, Algorithm 1).

- γ_t rises linearly from γ_0 to γ_T. With γ_0 < 0 only confidently misordered pairs
  (Δ < γ_0) count as failures at first; later, near-ties (0 ≤ Δ < γ_T) join them.
- λ_t = λ_0 · exp(-κ t), from λ_0 = 10 [paper]; κ is this repository's choice.
- p_t falls linearly from p_0 = 20% to p_T = 0% [paper; linear is our choice].

Without curriculum γ_t = γ_T and p_t = p_0 for every round; with `fixed_lambda`, λ_t = λ_0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LambdaSchedule:
    rounds: int
    gamma_init: float
    gamma_final: float
    lambda_init: float
    lambda_decay: float
    sampling_init: float
    sampling_final: float
    curriculum: bool = True
    fixed_lambda: bool = False

    def progress(self) -> np.ndarray:
        """t / (T - 1) for t = 0..T-1 (a single round counts as the end)."""
        if self.rounds == 1:
            return np.ones(1)
        return np.arange(self.rounds) / (self.rounds - 1)

    def gamma(self) -> np.ndarray:
        if not self.curriculum:
            return np.full(self.rounds, self.gamma_final)
        return self.gamma_init + (self.gamma_final - self.gamma_init) * self.progress()

    def lam(self) -> np.ndarray:
        if self.fixed_lambda:
            return np.full(self.rounds, self.lambda_init)
        return self.lambda_init * np.exp(-self.lambda_decay * np.arange(self.rounds))

    def sampling_rate(self) -> np.ndarray:
        if not self.curriculum:
            return np.full(self.rounds, self.sampling_init)
        return self.sampling_init + (self.sampling_final - self.sampling_init) * self.progress()
