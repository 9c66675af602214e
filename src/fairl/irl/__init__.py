"""Reward extraction by inverse RL: standard max-margin / max-entropy IRL and FA-IRL.

The names below are loaded on first use (PEP 562), so `fairl.irl.hyperparameters` can be imported
(the Snakefile validates variants with it when it builds the DAG) without importing torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {"fit_reward": "fairl.irl.fit", "LinearReward": "fairl.irl.reward",
          "Hyperparameters": "fairl.irl.hyperparameters", "METHODS": "fairl.irl.hyperparameters"}

__all__ = list(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'fairl.irl' has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)
