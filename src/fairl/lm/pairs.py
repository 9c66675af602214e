"""Preference pairs: for each pair-construction prompt, o+ from the aligned policy, o- from the base.

With k completions per prompt, each policy samples k completions of every prompt and the j-th of the
aligned policy's is paired with the j-th of the base's: k pairs per prompt, a prompt's rows adjacent.

Stored per pair: prompt id and text, both completions, r* of both, the evaluation
judge's toxicity of both, and the T→NT flag (base toxic, aligned not, at threshold 0.5).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fairl.lm.generation import GenerationConfig, generate
from fairl.lm.stage_files import PAIRS_COLUMNS
from fairl.lm.toxicity import TOXIC_THRESHOLD


def build_pairs(prompts: pd.DataFrame, base, aligned, tokenizer, ground_truth, judge,
                config: GenerationConfig, seed: int,
                completions_per_prompt: int = 1) -> tuple[pd.DataFrame, dict[str, float]]:
    """(pairs table, generation throughput of each policy in tokens/s). `base` and `aligned` are models
    sharing `tokenizer`; `ground_truth` defines r*, `judge` labels toxicity."""
    if prompts.empty:
        raise ValueError("no pair-construction prompts: the prompts file has an empty 'pairs' split")
    if completions_per_prompt < 1:
        raise ValueError(f"completions_per_prompt must be at least 1, got {completions_per_prompt}")
    prompts = prompts.loc[prompts.index.repeat(completions_per_prompt)]
    texts = prompts["text"].tolist()
    neg = generate(base, tokenizer, texts, config, seed, desc="base completions")
    pos = generate(aligned, tokenizer, texts, config, seed, desc="aligned completions")
    pairs = pd.DataFrame({
        "prompt_id": prompts["prompt_id"].to_numpy(),
        "prompt": texts,
        "completion_aligned": pos.texts,
        "completion_base": neg.texts,
        "reward_aligned": ground_truth.reward(pos.texts),
        "reward_base": ground_truth.reward(neg.texts),
        "toxicity_aligned": judge.toxicity(pos.texts),
        "toxicity_base": judge.toxicity(neg.texts),
    })
    pairs["t_to_nt"] = (pairs["toxicity_base"] >= TOXIC_THRESHOLD) & (pairs["toxicity_aligned"] < TOXIC_THRESHOLD)
    for column in ("reward_aligned", "reward_base", "toxicity_aligned", "toxicity_base"):
        if not np.isfinite(pairs[column]).all():
            raise ValueError(f"the judge returned NaN or inf in {column}")
    assert list(pairs.columns) == PAIRS_COLUMNS, "fairl.lm.stage_files.PAIRS_COLUMNS is the contract of pairs.parquet"
    return pairs, {"base_tokens_per_second": neg.tokens_per_second, "aligned_tokens_per_second": pos.tokens_per_second}
