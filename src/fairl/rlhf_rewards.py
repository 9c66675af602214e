"""The rewards RLHF optimises, as callables (prompts, completions) -> one float per completion.

- ground truth r*: the judge's non-toxic logit of the completion;
- an extracted reward (re-RLHF, paper §5): the fitted linear head R(o) = θᵀh(o) + b on the
  frozen features h of prompt + completion, computed by the base policy exactly as for IRL.
"""

from __future__ import annotations

import numpy as np

from fairl.features import mean_pooled_features
from fairl.irl import LinearReward
from fairl.policies import load_policy


class GroundTruthReward:
    def __init__(self, judge):
        self.judge = judge

    def __call__(self, prompts: list[str], completions: list[str]) -> np.ndarray:
        return np.asarray(self.judge.reward(list(completions)), dtype=np.float64)


class ExtractedReward:
    def __init__(self, reward: LinearReward, encoder_dir: str, device: str = "auto", batch_size: int = 16,
                 max_tokens: int = 128):
        self.reward = reward
        self.model, self.tokenizer = load_policy(encoder_dir, device=device)
        if self.model.config.hidden_size != reward.dim:
            raise ValueError(
                f"the extracted reward expects {reward.dim}-dim features but {encoder_dir} has hidden size "
                f"{self.model.config.hidden_size}: it was fitted on another encoder's features"
            )
        self.batch_size, self.max_tokens = batch_size, max_tokens

    def __call__(self, prompts: list[str], completions: list[str]) -> np.ndarray:
        texts = [p + c for p, c in zip(prompts, completions, strict=True)]
        return self.reward.score(mean_pooled_features(self.model, self.tokenizer, texts, self.batch_size, self.max_tokens))
