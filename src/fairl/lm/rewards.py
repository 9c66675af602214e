"""The rewards RLHF optimises, as callables (prompts, completions) -> one float per completion.

- ground truth r*: the judge's non-toxic logit of the completion;
- an extracted reward (re-RLHF, paper §5): the fitted linear head R(o) = θᵀh(o) + b on the
  frozen features h of prompt + completion, computed by the base policy exactly as for IRL.
"""

from __future__ import annotations

import numpy as np

from fairl.devices import autocast
from fairl.irl import LinearReward
from fairl.lm.features import feature_texts, mean_pooled_features
from fairl.lm.policies import load_policy


class GroundTruthReward:
    def __init__(self, judge):
        self.judge = judge

    def __call__(self, prompts: list[str], completions: list[str]) -> np.ndarray:
        return np.asarray(self.judge.reward(list(completions)), dtype=np.float64)


class ExtractedReward:
    """R(o) on the features the features stage computes: the same encoder, text, batch size and token limit
    (pass the features stage's `batch_size` and `max_tokens`) and precision."""

    def __init__(self, reward: LinearReward, encoder_dir: str, device: str = "auto", batch_size: int = 16,
                 max_tokens: int = 128, precision: str = "fp32"):
        self.reward = reward
        self.model, self.tokenizer = load_policy(encoder_dir, device=device)
        if self.model.config.hidden_size != reward.dim:
            raise ValueError(
                f"the extracted reward expects {reward.dim}-dim features but {encoder_dir} has hidden size "
                f"{self.model.config.hidden_size}: it was fitted on another encoder's features"
            )
        self.batch_size, self.max_tokens, self.precision = batch_size, max_tokens, precision

    def __call__(self, prompts: list[str], completions: list[str]) -> np.ndarray:
        texts = feature_texts(prompts, completions)
        with autocast(self.precision, self.model.device):
            features = mean_pooled_features(self.model, self.tokenizer, texts, self.batch_size, self.max_tokens)
        return self.reward.score(features)
