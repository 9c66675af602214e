"""Sampling completions from a policy.

Batched: prompts left-padded together, KV cache on, `torch.inference_mode`; the prompt
is stripped by tokens (everything past the padded prompt length), never by string
replacement, which breaks when decoding does not round-trip the prompt text.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from tqdm.auto import tqdm


@dataclass(frozen=True)
class GenerationConfig:
    max_new_tokens: int = 30
    """New tokens per completion [precursor: 30 for pairs]."""
    temperature: float = 0.7
    """Sampling temperature [precursor]."""
    batch_size: int = 16
    """Prompts per generate() call."""
    max_prompt_tokens: int = 64
    """Longer prompts are truncated to their first `max_prompt_tokens` tokens (the tokenizer's right-side truncation)."""


@dataclass(frozen=True)
class Completions:
    texts: list[str]
    new_tokens: int
    """Sampled tokens before each completion's eos, summed: what throughput counts."""
    seconds: float
    token_ids: list[list[int]] | None = None
    """The sampled tokens of each completion, up to and including its first eos token; nothing after it
    (generate() pads a finished sequence, and the pad token need not be the eos token: Pythia's is not)."""

    @property
    def tokens_per_second(self) -> float:
        return self.new_tokens / self.seconds if self.seconds > 0 else float("nan")


@torch.inference_mode()
def generate(model, tokenizer, prompts: list[str], config: GenerationConfig, seed: int,
             desc: str = "generating") -> Completions:
    """One sampled completion per prompt, batched; deterministic for a seed, model and batch size."""
    if tokenizer.padding_side != "left":
        raise ValueError("batched generation needs a left-padding tokenizer; load it with fairl.lm.policies.load_tokenizer")
    texts, token_ids, new_tokens = [], [], 0
    start = time.perf_counter()
    for index in tqdm(range(0, len(prompts), config.batch_size), desc=desc, unit="batch", leave=False):
        batch = prompts[index:index + config.batch_size]
        torch.manual_seed(seed + index)  # per batch: a rerun from any batch reproduces it
        encoded = tokenizer(batch, return_tensors="pt", padding=True, truncation=True,
                            max_length=config.max_prompt_tokens).to(model.device)
        output = model.generate(
            **encoded,
            do_sample=True,
            temperature=config.temperature,
            top_k=0,
            top_p=1.0,
            max_new_tokens=config.max_new_tokens,
            use_cache=True,
            pad_token_id=tokenizer.pad_token_id,
        )
        generated = output[:, encoded["input_ids"].shape[1]:]
        texts.extend(tokenizer.batch_decode(generated, skip_special_tokens=True))
        for row in generated.tolist():
            sampled = sampled_tokens(row, tokenizer.eos_token_id, tokenizer.pad_token_id)
            new_tokens += len(sampled) - (bool(sampled) and sampled[-1] == tokenizer.eos_token_id)  # eos not counted
            token_ids.append(sampled)
    return Completions(texts, new_tokens, time.perf_counter() - start, token_ids)


def sampled_tokens(row: list[int], eos_token_id: int | None, pad_token_id: int | None) -> list[int]:
    """The tokens a policy sampled in one generated row: up to and including the first eos. generate() fills
    the rest of a finished row with the pad token; where pad ≠ eos (Pythia: eos 0, pad 1) those pads follow
    the eos, and where pad = eos the first pad is the eos. A row that never ended is kept whole."""
    for index, token in enumerate(row):
        if token == eos_token_id or token == pad_token_id:
            return row[:index + 1] if token == eos_token_id else row[:index]
    return row


def generate_naive(model, tokenizer, prompts: list[str], config: GenerationConfig, seed: int) -> Completions:
    """One prompt at a time: the baseline the batched throughput is measured against."""
    return generate(model, tokenizer, prompts, GenerationConfig(config.max_new_tokens, config.temperature, 1,
                                                                config.max_prompt_tokens), seed, desc="naive")
