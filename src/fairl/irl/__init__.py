"""Reward extraction by inverse RL: standard max-margin / max-entropy IRL and FA-IRL."""

from fairl.irl.fit import fit_reward
from fairl.irl.hyperparameters import METHODS, Hyperparameters
from fairl.irl.reward import LinearReward

__all__ = ["fit_reward", "LinearReward", "Hyperparameters", "METHODS"]
